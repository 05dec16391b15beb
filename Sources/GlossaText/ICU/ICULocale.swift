import CICUShim

/// Locale strings as ICU's C API wants them.
enum ICULocale {
    /// ICU locale id for a BCP-47 tag ("zh-Hant-TW" -> "zh_Hant_TW") or an ICU id (kept,
    /// canonicalized). ICU reads some tags in either form but not all (`-u-` keywords, case
    /// locales), so callers convert once. Unparseable input is returned as given: ICU then
    /// falls back to root behaviour, as it would for any unknown locale.
    static func canonical(_ locale: String) -> String {
        guard !locale.isEmpty else { return "" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 160) { buffer in
            var status: Int32 = 0
            let n = glossa_locale_canonical(locale, buffer.baseAddress!, 160, &status)
            guard status <= 0, n >= 0, n < 160 else { return locale }
            return String(cString: buffer.baseAddress!)
        }
    }

    /// Lowercased language subtag: "tr" for "tr-TR", "az_Latn", "TR".
    static func language(_ locale: String) -> String {
        String(locale.prefix { $0 != "-" && $0 != "_" && $0 != "@" }).lowercased()
    }

    /// `locale` with an ICU keyword added ("en" + ss=standard -> "en@ss=standard") unless the
    /// locale already sets that keyword.
    static func adding(keyword: String, value: String, to locale: String) -> String {
        if locale.contains(keyword + "=") { return locale }
        return locale + (locale.contains("@") ? ";" : "@") + keyword + "=" + value
    }
}
