import GlossaText; print(ICU.version)
