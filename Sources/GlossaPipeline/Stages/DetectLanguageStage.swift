import GlossaText

/// `detect-language`: language (BCP-47), its score and the script (ISO 15924) of each record,
/// written into its metadata object.
public struct DetectLanguageOptions: StageOptions {
    public static let name = "detect-language"
    public static let keys: Set<String> = ["fields"]

    public var fields: [String]?
    /// A fastText model; nil: lid.176 from the models folder.
    public var modelPath: String?

    public init(fields: [String]? = nil, modelPath: String? = nil) {
        self.fields = fields
        self.modelPath = modelPath
    }

    public init(yaml: StageYAML) throws {
        fields = try yaml.fields(in: Self.name)
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        let path = modelPath ?? LanguageIdentifier.defaultModelPath(environment: context.environment)
        let identifier: LanguageIdentifier
        do { identifier = try LanguageIdentifier(modelPath: path) } catch { throw GlossaError.invalidArgument("\(error)") }
        return DetectLanguageStage(identifier: identifier, fields: fields ?? context.fields, metadataField: context.metadataField)
    }
}

public struct DetectLanguageStage: RecordStage {
    public let name = DetectLanguageOptions.name
    public let identifier: LanguageIdentifier
    let fields: TextFields
    public let metadataField: String

    public init(identifier: LanguageIdentifier, fields: [String] = ["text"], metadataField: String = "metadata") {
        self.identifier = identifier
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
        metadata["language"] = .string(guess.tag)
        metadata["language_score"] = .number(String(guess.score))
        metadata["script"] = guess.script.map { .string($0) } ?? .null
        record[metadataField] = .object(metadata)
        stats.add("languages", key: guess.tag)
        stats.add("scripts", key: guess.script ?? "none")
        return nil
    }
}
