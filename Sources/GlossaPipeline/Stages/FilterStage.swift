import GlossaText

/// `filter`: drops records by language, script or length; dropped records go to the rejects
/// with a reason.
public struct FilterOptions: StageOptions {
    public static let name = "filter"
    public static let keys: Set<String> = ["languages", "scripts", "min_chars", "max_chars"]

    public var languages: [String]?
    public var scripts: [String]?
    public var minCharacters: Int?
    public var maxCharacters: Int?

    public init(languages: [String]? = nil, scripts: [String]? = nil, minCharacters: Int? = nil, maxCharacters: Int? = nil) {
        self.languages = languages
        self.scripts = scripts
        self.minCharacters = minCharacters
        self.maxCharacters = maxCharacters
    }

    public init(yaml: StageYAML) throws {
        guard !yaml.isEmpty else {
            throw yaml.error(nil, "stage 'filter' has no criteria; give languages, scripts, min_chars or max_chars")
        }
        for key in ["languages", "scripts"] {
            guard let values = try yaml.strings(key, in: Self.name) else { continue }
            guard yaml.earlierStages.contains(DetectLanguageOptions.name) else {
                throw yaml.error(key, "filter.\(key) needs a detect-language stage before the filter (records have no \(key == "languages" ? "language" : "script") to filter on otherwise)")
            }
            guard !values.isEmpty else { throw yaml.error(key, "filter.\(key) is empty (it would reject every record)") }
            for value in values {
                if key == "languages", !LanguageCodes.isKnownLanguage(value) {
                    throw yaml.error(key, "filter.languages: unknown language code '\(value)' (the BCP-47 tags of `glossa languages`, or und)")
                }
                if key == "scripts", !LanguageCodes.isKnownScript(value) {
                    throw yaml.error(key, "filter.scripts: unknown script code '\(value)' (ISO 15924, e.g. Latn, Cyrl, Hans, Jpan)")
                }
            }
            if key == "languages" { languages = values } else { scripts = values }
        }
        minCharacters = try yaml.int("min_chars", in: Self.name, min: 0)
        maxCharacters = try yaml.int("max_chars", in: Self.name, min: 1)
        if let minCharacters, let maxCharacters, minCharacters > maxCharacters {
            throw yaml.error("max_chars", "filter.max_chars (\(maxCharacters)) is smaller than filter.min_chars (\(minCharacters)); every record would be rejected")
        }
    }

    public func makeStage(_ context: StageContext) -> any PipelineStage {
        FilterStage(options: self, fields: context.fields, metadataField: context.metadataField)
    }
}

public struct FilterStage: RecordStage {
    public let name = FilterOptions.name
    let languages: Set<String>?, scripts: Set<String>?
    let minCharacters: Int?, maxCharacters: Int?
    let fields: TextFields
    let metadataField: String

    init(options: FilterOptions, fields: [String], metadataField: String) {
        languages = options.languages.map(Set.init)
        scripts = options.scripts.map(Set.init)
        minCharacters = options.minCharacters
        maxCharacters = options.maxCharacters
        self.fields = TextFields(names: fields)
        self.metadataField = metadataField
    }

    /// Records dropped, by reason.
    public func process(_ record: inout JSONObject, repairs: Int, stats: inout StageStats) -> Rejection? {
        let meta = record[metadataField]?.objectValue
        let language = meta?["language"]?.stringValue ?? "und"
        let script = meta?["script"]?.stringValue ?? "none"
        var length = 0
        _ = fields.forEachText(in: &record) { length += $0.count }
        var reason: Rejection?
        if let languages, !languages.contains(language) && !languages.contains(where: { language.hasPrefix($0 + "-") }) {
            reason = Rejection("filtered_language", "language \(language) is not in \(languages.sorted())")
        } else if let scripts, !scripts.contains(script) {
            reason = Rejection("filtered_script", "script \(script) is not in \(scripts.sorted())")
        } else if let minCharacters, length < minCharacters {
            reason = Rejection("too_short", "\(length) characters, fewer than \(minCharacters)")
        } else if let maxCharacters, length > maxCharacters {
            reason = Rejection("too_long", "\(length) characters, more than \(maxCharacters)")
        }
        if let reason { stats.add(reason.reason) }
        return reason
    }
}
