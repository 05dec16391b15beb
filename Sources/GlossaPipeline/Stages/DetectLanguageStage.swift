import GlossaText

/// `detect-language`: language (BCP-47), its score and the script (ISO 15924) of each record,
/// written into its metadata object.
public struct DetectLanguageOptions: StageOptions {
    public static let name = "detect-language"
    public static let keys: Set<String> = ["fields", "min_score"]

    /// Below this probability the language is `und` (the guess stays in `language_guess`).
    /// Measured on the held-out parallel set and the sample corpora; see docs/pipeline-yaml.md.
    public static let defaultMinimumScore: Float = 0.5

    public var fields: [String]?
    public var minimumScore = Self.defaultMinimumScore
    /// A fastText model; nil: lid.176 from the models folder.
    public var modelPath: String?

    public init(fields: [String]? = nil, modelPath: String? = nil) {
        self.fields = fields
        self.modelPath = modelPath
    }

    public init(yaml: StageYAML) throws {
        fields = try yaml.fields(in: Self.name)
        if yaml.has("min_score") {
            guard case let .number(text)? = try yaml.json("min_score", in: Self.name), let value = Double(text), (0...1).contains(value) else {
                throw yaml.error("min_score", "detect-language.min_score must be a number from 0 to 1")
            }
            minimumScore = Float(value)
        }
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        let path = modelPath ?? LanguageIdentifier.defaultModelPath(environment: context.environment)
        let identifier: LanguageIdentifier
        do { identifier = try LanguageIdentifier(modelPath: path) } catch { throw GlossaError.invalidArgument("\(error)") }
        return DetectLanguageStage(identifier: identifier, fields: fields ?? context.fields, metadataField: context.metadataField,
                                   minimumScore: minimumScore)
    }
}

public struct DetectLanguageStage: RecordStage {
    public let name = DetectLanguageOptions.name
    public let identifier: LanguageIdentifier
    let fields: TextFields
    public let metadataField: String
    public let minimumScore: Float

    public init(identifier: LanguageIdentifier, fields: [String] = ["text"], metadataField: String = "metadata",
                minimumScore: Float = DetectLanguageOptions.defaultMinimumScore) {
        self.identifier = identifier
        self.minimumScore = minimumScore
        self.fields = TextFields(names: fields)
        self.metadataField = metadataField
    }

    public var emptyStats: StageStats { StageStats(counts: [], tallies: ["languages", "scripts"]) }

    public func process(_ record: inout JSONObject, repairs: Int, stats: inout StageStats) -> Rejection? {
        var parts: [String] = []
        if let rejection = fields.forEachText(in: &record, { parts.append($0) }) { return rejection }
        var metadata: JSONObject
        switch record[metadataField] {
        case nil, .null?: metadata = JSONObject()
        case let .object(existing)?: metadata = existing
        case let other?:
            return Rejection("metadata_not_object", "field '\(metadataField)' is \(other.kindName); language results need an object there")
        }
        let guess = identifier.identify(parts.joined(separator: " "))
        let sure = guess.tag != "und" && guess.score >= minimumScore
        metadata["language"] = .string(sure ? guess.tag : "und")
        metadata["language_score"] = .number(String(guess.score))
        if !sure && guess.tag != "und" { metadata["language_guess"] = .string(guess.tag) }
        metadata["script"] = guess.script.map { .string($0) } ?? .null
        record[metadataField] = .object(metadata)
        stats.add("languages", key: sure ? guess.tag : "und")
        stats.add("scripts", key: guess.script ?? "none")
        return nil
    }
}
