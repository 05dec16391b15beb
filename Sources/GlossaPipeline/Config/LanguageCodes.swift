import GlossaText

/// Which language and script codes a pipeline definition may name: those language
/// identification can put in a record's metadata.
enum LanguageCodes {
    /// "und"; a Qwen3 language's BCP-47 tag ("de", "zh-Hant"), its language subtag ("zh"), or
    /// the tag with one of the language's scripts ("sr-Latn"); a lid.176 label that stands
    /// for several of them ("ar", "fa", "bh"). Case-insensitive, "_" accepted for "-".
    static func isKnownLanguage(_ code: String) -> Bool {
        let tag = code.lowercased().replacingOccurrences(of: "_", with: "-")
        if tag == "und" { return true }
        if LanguageRegistry.language(bcp47: tag) != nil { return true }
        if !LanguageRegistry.languages(lid176Label: tag).isEmpty { return true }
        return known.contains(tag)
    }

    private static let known: Set<String> = {
        var tags = Set<String>()
        for language in LanguageRegistry.all {
            let tag = language.bcp47.lowercased()
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            tags.insert(primary)
            for script in language.scripts { tags.insert(primary + "-" + script.lowercased()) }
        }
        return tags
    }()

    /// Whether text tagged `source` is already in `target`: the same tag, or `target` plus a
    /// subtag ("zh-Hant" is "zh"; "zh-Hant" is not "zh-Hans"). Case-insensitive.
    static func sameLanguage(_ source: String, _ target: String) -> Bool {
        let s = source.lowercased().replacingOccurrences(of: "_", with: "-"), t = target.lowercased()
        return s == t || s.hasPrefix(t + "-")
    }

    /// An ISO 15924 code as the detector writes it ("Latn", "Hans", "Jpan").
    static func isKnownScript(_ code: String) -> Bool {
        ScriptDetector.isScriptCode(code)
    }
}
