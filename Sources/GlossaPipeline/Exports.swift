// Pipeline users read and write records as GlossaIO's JSON values.
@_exported import GlossaIO
