import GlossaText

/// `normalize`: cleans and Unicode-normalizes the text fields with GlossaText's `Normalizer`.
public struct NormalizeOptions: StageOptions {
    public static let name = "normalize"
    public static let keys: Set<String> = ["fields", "form"]

    public var configuration = Normalizer.Configuration.default
    public var fields: [String]?

    public init(configuration: Normalizer.Configuration = .default, fields: [String]? = nil) {
        self.configuration = configuration
        self.fields = fields
    }

    public init(yaml: StageYAML) throws {
        fields = try yaml.fields(in: Self.name)
        if let s = try yaml.string("form", in: Self.name) {
            guard let form = Normalizer.Form(rawValue: s) else {
                throw yaml.error("form", "normalize.form must be one of \(Normalizer.Form.allCases.map(\.rawValue).joined(separator: ", ")), not '\(s)'")
            }
            configuration.form = form
        }
    }

    public func makeStage(_ context: StageContext) -> any PipelineStage {
        NormalizeStage(configuration: configuration, fields: fields ?? context.fields)
    }
}

public struct NormalizeStage: RecordStage {
    public let name = NormalizeOptions.name
    public let normalizer: Normalizer
    let fields: TextFields

    public init(configuration: Normalizer.Configuration = .default, fields: [String] = ["text"]) {
        normalizer = Normalizer(configuration)
        self.fields = TextFields(names: fields)
    }

    /// Characters touched per step (summed over documents) and documents in which each step
    /// changed something, for the steps that are on.
    public var emptyStats: StageStats {
        StageStats(counts: [], tallies: ["characters_per_step", "documents_changed_per_step"],
                   keys: normalizer.configuration.enabledSteps.map(\.rawValue))
    }

    public func process(_ record: inout JSONObject, repairs: Int, stats: inout StageStats) -> Rejection? {
        var counts = Normalizer.Counts()
        counts.repairEncoding = repairs
        var anyText = false
        let rejection = fields.forEachText(in: &record) { text in
            let result = normalizer.normalize(text)
            counts += result.counts
            anyText = anyText || !result.text.isEmpty
            text = result.text
        }
        for step in normalizer.configuration.enabledSteps where counts[step] > 0 {
            stats.add("characters_per_step", key: step.rawValue, counts[step])
            stats.add("documents_changed_per_step", key: step.rawValue)
        }
        if let rejection { return rejection }
        return anyText ? nil : Rejection(Rejection.emptyText, "text is empty after normalization")
    }
}
