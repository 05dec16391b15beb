import GlossaText

/// Normalizes the listed text fields with GlossaText's `Normalizer`.
public struct NormalizeStep: RecordStep {
    public struct Stats: StepStats {
        /// Characters touched per step, summed over documents.
        public var characters = Normalizer.Counts()
        /// Documents in which each step changed something.
        public var documents = Normalizer.Counts()
        public var steps: [Normalizer.Step] = Normalizer.Step.allCases

        public init() {}

        public mutating func merge(_ other: Stats) {
            characters += other.characters
            documents += other.documents
        }

        public var json: JSONValue {
            func counts(_ c: Normalizer.Counts) -> JSONValue {
                .object(JSONObject(steps.map { .init(key: $0.rawValue, value: .number(String(c[$0]))) }))
            }
            return .object(JSONObject(["characters_per_step": counts(characters), "documents_changed_per_step": counts(documents)]))
        }
    }

    public let normalizer: Normalizer
    let fields: TextFields

    public init(configuration: Normalizer.Configuration = .default, fields: [String] = ["text"]) {
        normalizer = Normalizer(configuration)
        self.fields = TextFields(names: fields)
    }

    public func process(_ record: inout JSONObject, repairs: Int, stats: inout Stats) -> Rejection? {
        var counts = Normalizer.Counts()
        counts.repairEncoding = repairs
        var anyText = false
        let rejection = fields.forEachText(in: &record) { text in
            let result = normalizer.normalize(text)
            counts += result.counts
            anyText = anyText || !result.text.isEmpty
            text = result.text
        }
        stats.steps = normalizer.configuration.enabledSteps
        stats.characters += counts
        for step in Normalizer.Step.allCases where counts[step] > 0 { stats.documents[step] += 1 }
        if let rejection { return rejection }
        return anyText ? nil : Rejection(Rejection.emptyText, "text is empty after normalization")
    }
}
