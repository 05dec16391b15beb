import GlossaText

/// Adds `language`, `language_score` and `script` to each record's metadata object.
public struct DetectLanguageStep: RecordStep {
    public struct Stats: StepStats {
        public var languages: [String: Int] = [:]
        public var scripts: [String: Int] = [:]

        public init() {}

        public mutating func merge(_ other: Stats) {
            languages.merge(other.languages, uniquingKeysWith: +)
            scripts.merge(other.scripts, uniquingKeysWith: +)
        }

        public var json: JSONValue {
            func sorted(_ d: [String: Int]) -> JSONValue {
                .object(JSONObject(d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { .init(key: $0.key, value: .number(String($0.value))) }))
            }
            return .object(JSONObject(["languages": sorted(languages), "scripts": sorted(scripts)]))
        }
    }

    public let identifier: LanguageIdentifier
    let fields: TextFields
    public let metadataField: String

    public init(identifier: LanguageIdentifier, fields: [String] = ["text"], metadataField: String = "metadata") {
        self.identifier = identifier
        self.fields = TextFields(names: fields)
        self.metadataField = metadataField
    }

    public func process(_ record: inout JSONObject, repairs: Int, stats: inout Stats) -> Rejection? {
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
        stats.languages[guess.tag, default: 0] += 1
        stats.scripts[guess.script ?? "none", default: 0] += 1
        return nil
    }
}
