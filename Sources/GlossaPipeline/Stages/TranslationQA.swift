import Foundation
import GlossaIO
import GlossaText
import GlossaEngine

/// The checks every translated field goes through (`metadata.qa`): each names a flag.
///
/// - `language`: the translation is in the target language. Language ID (lid.176) decides
///   when the text, spans left out, has at least `minimumLettersForLID` letters and the model
///   is confident (`minimumScore`); shorter or uncertain texts are checked by script only.
/// - `length_ratio`: characters of translation / source (spans and white space left out)
///   within `LengthRatio.bounds` for the two scripts, for sources of at least 20 characters.
/// - `repetition`: the engine's repetition guard stopped the answer twice (first answer and
///   the retry with a repetition penalty).
/// - `copy`: the translation equals its source (case and spacing aside) while the source is
///   not known to be in the target language.
/// - `spans`: every protected span occurs in the translation exactly as often as in the source.
/// - `glossary`: every applicable glossary term was placed.
struct TranslationQA: Sendable {
    let target: String
    let targetLanguage: Language?
    let identifier: LanguageIdentifier
    static let minimumLettersForLID = 20
    static let minimumScore: Float = 0.5
    private let scripts = ScriptDetector()

    init(target: String, identifier: LanguageIdentifier) {
        self.target = target
        targetLanguage = LanguageRegistry.language(bcp47: target)
        self.identifier = identifier
    }

    struct Result {
        var flags: [String] = []
        var language: String?
        var lengthRatio: Double?

        var json: JSONValue {
            var o = JSONObject()
            o["flags"] = .array(flags.map(JSONValue.string))
            o["language"] = language.map(JSONValue.string) ?? .null
            o["length_ratio"] = lengthRatio.map { .number(String(format: "%.3f", $0)) } ?? .null
            return .object(o)
        }
    }

    func check(source: String, translation: String, sourceLanguage: String?, spans: [RequiredText],
               terms: [(target: String, placed: Bool)], repeated: Bool) -> Result {
        var result = Result()
        let distinct = Array(Set(spans.map(\.text)))
        let prose = Self.removing(distinct, from: translation)
        let sourceProse = Self.removing(distinct, from: source)

        // language
        let letters = prose.reduce(0) { $0 + ($1.isLetter ? 1 : 0) }
        if letters > 0 {
            let script = scripts.dominantScript(of: prose)
            var ok = script.map(scriptFits) ?? true
            if letters >= Self.minimumLettersForLID {
                let guess = identifier.identify(prose)
                result.language = guess.tag
                if ok, guess.tag != "und", guess.score >= Self.minimumScore, !isTarget(guess) { ok = false }
            } else {
                result.language = script
            }
            if !ok { result.flags.append("language") }
        }
        // length_ratio
        let a = sourceProse.reduce(0) { $0 + ($1.isWhitespace ? 0 : 1) }
        let b = prose.reduce(0) { $0 + ($1.isWhitespace ? 0 : 1) }
        if a >= 20 {
            let ratio = Double(b) / Double(a)
            result.lengthRatio = ratio
            let bounds = LengthRatio.bounds(from: scripts.dominantScript(of: sourceProse), to: targetLanguage?.scripts.first)
            if !bounds.contains(ratio) { result.flags.append("length_ratio") }
        }
        if repeated { result.flags.append("repetition") }
        // copy
        let sameLanguage = sourceLanguage.map { LanguageCodes.sameLanguage($0, target) } ?? false
        if !sameLanguage, sourceProse.reduce(0, { $0 + ($1.isLetter ? 1 : 0) }) >= 10, Self.folded(source) == Self.folded(translation) {
            result.flags.append("copy")
        }
        if spans.contains(where: { $0.occurrences(in: translation) != $0.occurrences(in: source) }) {
            result.flags.append("spans")
        }
        if terms.contains(where: { !$0.placed }) { result.flags.append("glossary") }
        return result
    }

    private func isTarget(_ guess: LanguageGuess) -> Bool {
        if LanguageCodes.sameLanguage(guess.tag, target) || guess.language.map({ LanguageCodes.sameLanguage($0.bcp47, target) }) == true { return true }
        // Labels lid.176 shares among languages ("ar", "fa") cannot tell the target apart.
        guard let language = targetLanguage else { return true }
        if let label = guess.label, language.lid176.label == label { return true }
        return language.lid176.label == nil
    }

    private func scriptFits(_ script: String) -> Bool {
        guard let scripts = targetLanguage?.scripts else { return true }
        if scripts.contains(script) { return true }
        // Han text whose orthography could not be told, in a language written with Han.
        return script == "Hani" && scripts.contains(where: ["Hans", "Hant", "Jpan", "Kore"].contains)
    }

    static func removing(_ spans: [String], from text: String) -> String {
        spans.sorted { $0.count > $1.count }.reduce(text) { $0.replacingOccurrences(of: $1, with: " ") }
    }

    static func folded(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// How long a translation may be, relative to its source, by script. `density` is characters
/// (white space left out) per character of English for the same content; the expected ratio
/// is density(target) / density(source), and a translation passes within `spread` of it
/// either way.
///
/// Measured on the held-out parallel set (scripts/eval/make-parallel-set.py: 16 languages, 384
/// pairs of human translations, medians of X/English): Latin-script languages 1.0-1.27
/// (English is the unit), Cyrillic 1.09-1.21, Japanese 0.69, Korean 0.59, Chinese 0.39. No
/// human pair of the set (375 with 20 characters or more) lies outside a factor 2 of the
/// expected ratio; `spread` 2.5 leaves room for shorter texts. Scripts not in the set
/// (Arabic, Hebrew, Indic, Thai) are estimates and count as 1 unless listed.
enum LengthRatio {
    static let density: [String: Double] = [
        "Latn": 1.0, "Cyrl": 1.15, "Grek": 1.1,
        "Arab": 0.9, "Hebr": 0.8,
        "Hans": 0.4, "Hant": 0.4, "Hani": 0.4, "Jpan": 0.7, "Kore": 0.6,
    ]
    static let spread = 2.5

    static func bounds(from source: String?, to target: String?) -> ClosedRange<Double> {
        let expected = (density[target ?? ""] ?? 1) / (density[source ?? ""] ?? 1)
        return (expected / spread)...(expected * spread)
    }
}
