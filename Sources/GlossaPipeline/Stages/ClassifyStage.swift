import GlossaEngine

/// `classify`: label scoring with the engine; the label and each label's probability go into
/// the record's metadata.
public struct ClassifyOptions: StageOptions {
    public static let name = "classify"
    public static let keys: Set<String> = ["labels", "instructions", "fields"]

    public var labels: [String]
    public var instructions: String?
    public var fields: [String]?

    public init(labels: [String], instructions: String? = nil, fields: [String]? = nil) {
        self.labels = labels
        self.instructions = instructions
        self.fields = fields
    }

    public init(yaml: StageYAML) throws {
        guard let labels = try yaml.strings("labels", in: Self.name) else { throw yaml.error(nil, "missing key 'labels'") }
        guard !labels.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else { throw yaml.error("labels", "classify.labels has an empty label") }
        guard !labels.isEmpty, Set(labels).count == labels.count else { throw yaml.error("labels", "classify.labels must be a non-empty list without duplicates") }
        self.labels = labels
        instructions = try yaml.string("instructions", in: Self.name)
        fields = try yaml.fields(in: Self.name)
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        try ClassifyStage(options: self, context: context)
    }
}

final class ClassifyStage: PipelineStage {
    let name = ClassifyOptions.name
    let backend: InferenceBackend
    let labels: [String]
    let instructions: String
    let fields: TextFields
    let metadataField: String

    init(options: ClassifyOptions, context: StageContext) throws {
        backend = try context.backend()
        labels = options.labels
        instructions = options.instructions
            ?? "Classify the text into exactly one of these categories: \(options.labels.joined(separator: ", ")). Answer with the category only.\n\nText:\n{text}"
        fields = context.textFields(options.fields)
        metadataField = context.metadataField
    }

    /// Records per winning label.
    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        var prompts: [[ChatMessage]] = [], owners: [Int] = []
        for i in batch.indices where batch[i].rejection == nil {
            var parts: [String] = []
            if let rejection = fields.forEachText(in: &batch[i].object, { parts.append($0) }) { batch[i].rejection = rejection; continue }
            prompts.append([ChatMessage(.user, instructions.replacingOccurrences(of: "{text}", with: parts.joined(separator: "\n\n")))])
            owners.append(i)
        }
        // The whole batch at once: a remote backend keeps several requests in flight.
        for (i, outcome) in zip(owners, try backend.classify(prompts, labels: labels)) {
            let result: Classifier.Result
            switch outcome {
            case let .success(r): result = r
            case let .failure(Classifier.ClassifierError.contextLengthExceeded(n, limit)):
                batch[i].rejection = Rejection("context_length_exceeded", "the prompt and its longest label have \(n) tokens; the model's context holds \(limit)")
                continue
            case let .failure(error):
                batch[i].rejection = Rejection("engine_error", "\(error)")
                continue
            }
            var meta = batch[i].object[metadataField]?.objectValue ?? JSONObject()
            meta["label"] = .string(result.best)
            meta["label_probabilities"] = .object(JSONObject(zip(result.labels, result.probabilities).map {
                .init(key: $0.0, value: .number(String((($0.1) * 1e6).rounded() / 1e6)))
            }))
            batch[i].object[metadataField] = .object(meta)
            stats.add(result.best)
        }
    }
}
