// The 119 languages and dialects Qwen3 supports, with their codes, scripts, family and
// lid.176 (fastText language-ID) coverage. Order and grouping follow the Qwen3 release notes
// (see notes/language-id.md, "Qwen3's 119 languages and dialects").

/// Language family, as grouped in the Qwen3 release notes.
public enum LanguageFamily: String, Sendable, Codable, CaseIterable {
    case indoEuropean, sinoTibetan, afroAsiatic, austronesian, dravidian, turkic, taiKadai,
        uralic, austroasiatic, other
}

/// How the fastText lid.176 model covers a language.
public enum LID176Coverage: Sendable, Hashable, Codable {
    /// lid.176 has a label for this language itself.
    case own(String)
    /// lid.176 only has a label for a parent (macro)language, e.g. `bh` for Bhojpuri.
    case parent(String)
    /// lid.176 cannot identify this language.
    case none

    /// The lid.176 label (without `__label__`), own or parent; nil when there is none.
    public var label: String? {
        switch self {
        case .own(let label), .parent(let label): return label
        case .none: return nil
        }
    }
}

/// One of the 119 supported languages.
public struct Language: Sendable, Hashable, Codable {
    /// Unique id, FLORES-200 style without the script unless needed: "eng", "zho_Hans", "arb".
    public let code: String
    /// English name.
    public let name: String
    /// ISO 639-3 code ("zho" for both Chinese entries).
    public let iso639_3: String
    /// Shortest correct BCP-47 tag, unique across the registry.
    public let bcp47: String
    /// ISO 15924 script codes, primary first.
    public let scripts: [String]
    public let family: LanguageFamily
    public let lid176: LID176Coverage

    public init(
        code: String, name: String, iso639_3: String, bcp47: String, scripts: [String],
        family: LanguageFamily, lid176: LID176Coverage
    ) {
        self.code = code
        self.name = name
        self.iso639_3 = iso639_3
        self.bcp47 = bcp47
        self.scripts = scripts
        self.family = family
        self.lid176 = lid176
    }
}

/// Lookup tables over the 119 languages.
public enum LanguageRegistry {
    /// All 119 languages, in the order of the Qwen3 release notes.
    public static let all: [Language] = table

    /// The language with this registry code ("eng", "zho_Hant"); exact match.
    public static func language(code: String) -> Language? {
        byCode[code]
    }

    /// The language with this BCP-47 tag; case-insensitive, "_" accepted for "-".
    public static func language(bcp47: String) -> Language? {
        byBCP47[normalizeTag(bcp47)]
    }

    /// Languages with this ISO 639-3 code (two for "zho"); case-insensitive.
    public static func languages(iso639_3: String) -> [Language] {
        byISO639_3[iso639_3.lowercased()] ?? []
    }

    /// Languages lid.176 reports under this label: own matches first, then languages that only
    /// have it as a parent label. Accepts the label with or without the `__label__` prefix.
    public static func languages(lid176Label: String) -> [Language] {
        var label = Substring(lid176Label)
        if label.hasPrefix(labelPrefix) { label = label.dropFirst(labelPrefix.count) }
        return byLID176[String(label)] ?? []
    }

    // MARK: - Indexes

    private static let labelPrefix = "__label__"

    private static func normalizeTag(_ tag: String) -> String {
        String(tag.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    private static let byCode: [String: Language] =
        Dictionary(all.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })

    private static let byBCP47: [String: Language] =
        Dictionary(all.map { (normalizeTag($0.bcp47), $0) }, uniquingKeysWith: { first, _ in first })

    private static let byISO639_3: [String: [Language]] =
        Dictionary(grouping: all, by: { $0.iso639_3 })

    private static let byLID176: [String: [Language]] = {
        var index: [String: [Language]] = [:]
        for language in all { if case .own(let l) = language.lid176 { index[l, default: []].append(language) } }
        for language in all { if case .parent(let l) = language.lid176 { index[l, default: []].append(language) } }
        return index
    }()

    // MARK: - Data

    private static func lang(
        _ code: String, _ name: String, _ bcp47: String, _ scripts: [String],
        _ family: LanguageFamily, _ lid176: LID176Coverage, iso: String? = nil
    ) -> Language {
        Language(
            code: code, name: name, iso639_3: iso ?? code, bcp47: bcp47, scripts: scripts,
            family: family, lid176: lid176)
    }

    private static let table: [Language] = {
        let ie = LanguageFamily.indoEuropean, st = LanguageFamily.sinoTibetan
        let aa = LanguageFamily.afroAsiatic, an = LanguageFamily.austronesian
        let dr = LanguageFamily.dravidian, tu = LanguageFamily.turkic
        let tk = LanguageFamily.taiKadai, ur = LanguageFamily.uralic
        let ax = LanguageFamily.austroasiatic, ot = LanguageFamily.other
        return [
            // Indo-European (67)
            lang("eng", "English", "en", ["Latn"], ie, .own("en")),
            lang("fra", "French", "fr", ["Latn"], ie, .own("fr")),
            lang("por", "Portuguese", "pt", ["Latn"], ie, .own("pt")),
            lang("deu", "German", "de", ["Latn"], ie, .own("de")),
            lang("ron", "Romanian", "ro", ["Latn"], ie, .own("ro")),
            lang("swe", "Swedish", "sv", ["Latn"], ie, .own("sv")),
            lang("dan", "Danish", "da", ["Latn"], ie, .own("da")),
            lang("bul", "Bulgarian", "bg", ["Cyrl"], ie, .own("bg")),
            lang("rus", "Russian", "ru", ["Cyrl"], ie, .own("ru")),
            lang("ces", "Czech", "cs", ["Latn"], ie, .own("cs")),
            lang("ell", "Greek", "el", ["Grek"], ie, .own("el")),
            lang("ukr", "Ukrainian", "uk", ["Cyrl"], ie, .own("uk")),
            lang("spa", "Spanish", "es", ["Latn"], ie, .own("es")),
            lang("nld", "Dutch", "nl", ["Latn"], ie, .own("nl")),
            lang("slk", "Slovak", "sk", ["Latn"], ie, .own("sk")),
            lang("hrv", "Croatian", "hr", ["Latn"], ie, .own("hr")),
            lang("pol", "Polish", "pl", ["Latn"], ie, .own("pl")),
            lang("lit", "Lithuanian", "lt", ["Latn"], ie, .own("lt")),
            lang("nob", "Norwegian Bokmål", "nb", ["Latn"], ie, .own("no")),
            lang("nno", "Norwegian Nynorsk", "nn", ["Latn"], ie, .own("nn")),
            lang("pes", "Persian", "fa", ["Arab"], ie, .own("fa")),
            lang("slv", "Slovenian", "sl", ["Latn"], ie, .own("sl")),
            lang("guj", "Gujarati", "gu", ["Gujr"], ie, .own("gu")),
            lang("lvs", "Latvian", "lv", ["Latn"], ie, .own("lv")),
            lang("ita", "Italian", "it", ["Latn"], ie, .own("it")),
            lang("oci", "Occitan", "oc", ["Latn"], ie, .own("oc")),
            lang("npi", "Nepali", "ne", ["Deva"], ie, .own("ne")),
            lang("mar", "Marathi", "mr", ["Deva"], ie, .own("mr")),
            lang("bel", "Belarusian", "be", ["Cyrl"], ie, .own("be")),
            lang("srp", "Serbian", "sr", ["Cyrl", "Latn"], ie, .own("sr")),
            lang("ltz", "Luxembourgish", "lb", ["Latn"], ie, .own("lb")),
            lang("vec", "Venetian", "vec", ["Latn"], ie, .own("vec")),
            lang("asm", "Assamese", "as", ["Beng"], ie, .own("as")),
            lang("cym", "Welsh", "cy", ["Latn"], ie, .own("cy")),
            lang("szl", "Silesian", "szl", ["Latn"], ie, .none),
            lang("ast", "Asturian", "ast", ["Latn"], ie, .own("ast")),
            lang("hne", "Chhattisgarhi", "hne", ["Deva"], ie, .none),
            lang("awa", "Awadhi", "awa", ["Deva"], ie, .none),
            lang("mai", "Maithili", "mai", ["Deva"], ie, .own("mai")),
            lang("bho", "Bhojpuri", "bho", ["Deva"], ie, .parent("bh")),
            lang("snd", "Sindhi", "sd", ["Arab"], ie, .own("sd")),
            lang("gle", "Irish", "ga", ["Latn"], ie, .own("ga")),
            lang("fao", "Faroese", "fo", ["Latn"], ie, .none),
            lang("hin", "Hindi", "hi", ["Deva"], ie, .own("hi")),
            lang("pan", "Punjabi", "pa", ["Guru"], ie, .own("pa")),
            lang("ben", "Bengali", "bn", ["Beng"], ie, .own("bn")),
            lang("ory", "Odia", "or", ["Orya"], ie, .own("or")),
            lang("tgk", "Tajik", "tg", ["Cyrl"], ie, .own("tg")),
            lang("ydd", "Eastern Yiddish", "yi", ["Hebr"], ie, .own("yi")),
            lang("lmo", "Lombard", "lmo", ["Latn"], ie, .own("lmo")),
            lang("lij", "Ligurian", "lij", ["Latn"], ie, .none),
            lang("scn", "Sicilian", "scn", ["Latn"], ie, .own("scn")),
            lang("fur", "Friulian", "fur", ["Latn"], ie, .none),
            lang("srd", "Sardinian", "sc", ["Latn"], ie, .own("sc")),
            lang("glg", "Galician", "gl", ["Latn"], ie, .own("gl")),
            lang("cat", "Catalan", "ca", ["Latn"], ie, .own("ca")),
            lang("isl", "Icelandic", "is", ["Latn"], ie, .own("is")),
            lang("als", "Tosk Albanian", "sq", ["Latn"], ie, .own("sq")),
            lang("lim", "Limburgish", "li", ["Latn"], ie, .own("li")),
            lang("prs", "Dari", "prs", ["Arab"], ie, .parent("fa")),
            lang("afr", "Afrikaans", "af", ["Latn"], ie, .own("af")),
            lang("mkd", "Macedonian", "mk", ["Cyrl"], ie, .own("mk")),
            lang("sin", "Sinhala", "si", ["Sinh"], ie, .own("si")),
            lang("urd", "Urdu", "ur", ["Arab"], ie, .own("ur")),
            lang("mag", "Magahi", "mag", ["Deva"], ie, .parent("bh")),
            lang("bos", "Bosnian", "bs", ["Latn", "Cyrl"], ie, .own("bs")),
            lang("hye", "Armenian", "hy", ["Armn"], ie, .own("hy")),
            // Sino-Tibetan (4)
            lang("zho_Hans", "Simplified Chinese", "zh-Hans", ["Hans"], st, .own("zh"), iso: "zho"),
            lang("zho_Hant", "Traditional Chinese", "zh-Hant", ["Hant"], st, .parent("zh"), iso: "zho"),
            lang("yue", "Cantonese", "yue", ["Hant"], st, .own("yue")),
            lang("mya", "Burmese", "my", ["Mymr"], st, .own("my")),
            // Afro-Asiatic (10)
            lang("arb", "Modern Standard Arabic", "ar", ["Arab"], aa, .own("ar")),
            lang("ars", "Najdi Arabic", "ars", ["Arab"], aa, .parent("ar")),
            lang("apc", "Levantine Arabic", "apc", ["Arab"], aa, .parent("ar")),
            lang("arz", "Egyptian Arabic", "arz", ["Arab"], aa, .own("arz")),
            lang("ary", "Moroccan Arabic", "ary", ["Arab"], aa, .parent("ar")),
            lang("acm", "Mesopotamian Arabic", "acm", ["Arab"], aa, .parent("ar")),
            lang("acq", "Ta'izzi-Adeni Arabic", "acq", ["Arab"], aa, .parent("ar")),
            lang("aeb", "Tunisian Arabic", "aeb", ["Arab"], aa, .parent("ar")),
            lang("heb", "Hebrew", "he", ["Hebr"], aa, .own("he")),
            lang("mlt", "Maltese", "mt", ["Latn"], aa, .own("mt")),
            // Austronesian (12)
            lang("ind", "Indonesian", "id", ["Latn"], an, .own("id")),
            lang("zsm", "Malay", "ms", ["Latn"], an, .own("ms")),
            lang("tgl", "Tagalog", "tl", ["Latn"], an, .own("tl")),
            lang("ceb", "Cebuano", "ceb", ["Latn"], an, .own("ceb")),
            lang("jav", "Javanese", "jv", ["Latn", "Java"], an, .own("jv")),
            lang("sun", "Sundanese", "su", ["Latn", "Sund"], an, .own("su")),
            lang("min", "Minangkabau", "min", ["Latn"], an, .own("min")),
            lang("ban", "Balinese", "ban", ["Latn", "Bali"], an, .none),
            lang("bjn", "Banjar", "bjn", ["Latn"], an, .none),
            lang("pag", "Pangasinan", "pag", ["Latn"], an, .none),
            lang("ilo", "Iloko", "ilo", ["Latn"], an, .own("ilo")),
            lang("war", "Waray", "war", ["Latn"], an, .own("war")),
            // Dravidian (4)
            lang("tam", "Tamil", "ta", ["Taml"], dr, .own("ta")),
            lang("tel", "Telugu", "te", ["Telu"], dr, .own("te")),
            lang("kan", "Kannada", "kn", ["Knda"], dr, .own("kn")),
            lang("mal", "Malayalam", "ml", ["Mlym"], dr, .own("ml")),
            // Turkic (6)
            lang("tur", "Turkish", "tr", ["Latn"], tu, .own("tr")),
            lang("azj", "North Azerbaijani", "az", ["Latn"], tu, .own("az")),
            lang("uzn", "Northern Uzbek", "uz", ["Latn", "Cyrl"], tu, .own("uz")),
            lang("kaz", "Kazakh", "kk", ["Cyrl"], tu, .own("kk")),
            lang("bak", "Bashkir", "ba", ["Cyrl"], tu, .own("ba")),
            lang("tat", "Tatar", "tt", ["Cyrl"], tu, .own("tt")),
            // Tai-Kadai (2)
            lang("tha", "Thai", "th", ["Thai"], tk, .own("th")),
            lang("lao", "Lao", "lo", ["Laoo"], tk, .own("lo")),
            // Uralic (3)
            lang("fin", "Finnish", "fi", ["Latn"], ur, .own("fi")),
            lang("ekk", "Estonian", "et", ["Latn"], ur, .own("et")),
            lang("hun", "Hungarian", "hu", ["Latn"], ur, .own("hu")),
            // Austroasiatic (2)
            lang("vie", "Vietnamese", "vi", ["Latn"], ax, .own("vi")),
            lang("khm", "Khmer", "km", ["Khmr"], ax, .own("km")),
            // Other (9)
            lang("jpn", "Japanese", "ja", ["Jpan"], ot, .own("ja")),
            lang("kor", "Korean", "ko", ["Kore"], ot, .own("ko")),
            lang("kat", "Georgian", "ka", ["Geor"], ot, .own("ka")),
            lang("eus", "Basque", "eu", ["Latn"], ot, .own("eu")),
            lang("hat", "Haitian Creole", "ht", ["Latn"], ot, .own("ht")),
            lang("pap", "Papiamento", "pap", ["Latn"], ot, .none),
            lang("kea", "Kabuverdianu", "kea", ["Latn"], ot, .none),
            lang("tpi", "Tok Pisin", "tpi", ["Latn"], ot, .none),
            lang("swh", "Swahili", "sw", ["Latn"], ot, .own("sw")),
        ]
    }()
}
