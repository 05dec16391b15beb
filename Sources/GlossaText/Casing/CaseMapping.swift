import CICUShim

/// Locale-aware case mapping through ICU.
///
/// Swift's `uppercased()` and `lowercased()` use the root rules only; languages that need
/// their own go through here: Turkish and Azerbaijani dotted and dotless i, Greek accent
/// removal in uppercase, Lithuanian dot above kept on lowercase i with accents, Dutch IJ in
/// titlecase. Final sigma and ß -> SS hold in every locale. `locale` is a BCP-47 tag or an
/// ICU id; unknown locales get the root rules.
public enum CaseMapping {
    public static func uppercased(_ text: String, locale: String) -> String {
        map(text, locale: locale, glossa_to_upper)
    }

    public static func lowercased(_ text: String, locale: String) -> String {
        map(text, locale: locale, glossa_to_lower)
    }

    /// First letter of each word (ICU's word boundaries for the locale) in titlecase, the rest
    /// lowercased.
    public static func titlecased(_ text: String, locale: String) -> String {
        map(text, locale: locale, glossa_to_title)
    }

    /// Full case folding, for caseless matching; not for display. Only Turkish and Azerbaijani
    /// fold differently (I -> ı, İ -> i); other locales share the default folding.
    public static func caseFolded(_ text: String, locale: String) -> String {
        let turkic: Int32 = usesTurkicFolding(locale) ? 1 : 0
        return transform(text) { src, length, dst, capacity, status in
            glossa_fold_case(turkic, src, length, dst, capacity, &status)
        }
    }

    /// Whether `locale` is Turkish or Azerbaijani, the languages with Turkic i folding.
    static func usesTurkicFolding(_ locale: String) -> Bool {
        let language = ICULocale.language(ICULocale.canonical(locale))
        return language == "tr" || language == "az"
    }

    private typealias LocaleCall = (UnsafePointer<CChar>?, UnsafePointer<UInt16>?, Int32,
                                    UnsafeMutablePointer<UInt16>?, Int32, UnsafeMutablePointer<Int32>?) -> Int32

    private static func map(_ text: String, locale: String, _ call: LocaleCall) -> String {
        let id = ICULocale.canonical(locale)
        return transform(text) { src, length, dst, capacity, status in
            call(id, src, length, dst, capacity, &status)
        }
    }

    private static func transform(
        _ text: String,
        _ call: (UnsafePointer<UInt16>, Int32, UnsafeMutablePointer<UInt16>, Int32, inout Int32) -> Int32
    ) -> String {
        guard !text.isEmpty else { return text }
        let units = text.utf16Array
        // Case mapping fails only on allocation or over-long input; the text is then kept.
        guard let mapped = try? ICU.transform(units, call) else { return text }
        return String(utf16Units: mapped)
    }
}
