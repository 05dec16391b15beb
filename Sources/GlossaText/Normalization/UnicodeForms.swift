import CICUShim

/// Plain Unicode normalization forms through ICU (no cleanup).
public enum UnicodeForms {
    /// Normalizes UTF-16 code units; lone surrogates pass through as ICU treats them.
    public static func normalize(_ units: [UInt16], form: Normalizer.Form) -> [UInt16] {
        guard form != .none, !units.isEmpty else { return units }
        let icuForm = form.icuForm
        // ICU fails only on allocation or a bad form, neither of which callers can fix.
        return (try? ICU.transform(units) { src, len, dst, cap, status in
            glossa_normalize(icuForm, src, len, dst, cap, &status)
        }) ?? units
    }

    /// `text` in `form`, through ICU alone.
    public static func normalize(_ text: String, form: Normalizer.Form) -> String {
        String(utf16Units: normalize(text.utf16Array, form: form))
    }
}
