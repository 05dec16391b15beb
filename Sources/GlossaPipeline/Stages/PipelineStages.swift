import Foundation
import GlossaEngine
import GlossaText

/// A record on its way through a pipeline.
public struct PipelineRecord: Sendable {
    public var object: JSONObject
    public var rejection: Rejection?
    public var repairs: Int
}

/// One stage of a pipeline: works on a batch in place; records rejected by an earlier stage are
/// left alone. Engine stages use the whole batch to keep the engine's batch full.
public protocol PipelineStage: AnyObject {
    var name: String { get }
    /// Engine stages want batches of `engine.batch_records`; record stages run on large
    /// batches split between the run's threads.
    var usesEngine: Bool { get }
    func process(_ batch: inout [PipelineRecord]) throws
    /// Counts since the last `resetStats()` (the runner keeps them per input unit).
    var statsJSON: JSONValue { get }
    func resetStats()
}

extension PipelineStage {
    public var usesEngine: Bool { true }
}

/// Adds the numbers of two stats objects key by key (the stats of several units).
func mergeCounts(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
    switch (a, b) {
    case let (.number(x), .number(y)):
        if let i = Int(x), let j = Int(y) { return .number(String(i + j)) }
        return .number(String((Double(x) ?? 0) + (Double(y) ?? 0)))
    case let (.object(x), .object(y)):
        var out = x
        for member in y.members { out[member.key] = out[member.key].map { mergeCounts($0, member.value) } ?? member.value }
        return .object(out)
    default:
        return b
    }
}

/// Adapts a per-record `RecordStep` (normalize, detect-language) to a pipeline stage. The batch
/// is split into contiguous chunks, one per thread; steps are pure per record and each chunk
/// keeps its own statistics, merged in order, so output and counts are the same for any
/// number of threads.
final class RecordStepStage<Step: RecordStep>: PipelineStage {
    let name: String
    let step: Step
    let threads: Int
    var stats = Step.Stats()
    var usesEngine: Bool { false }

    init(name: String, step: Step, threads: Int) {
        self.name = name
        self.step = step
        self.threads = max(1, threads)
    }

    func process(_ batch: inout [PipelineRecord]) throws {
        let step = self.step
        let partial = Parallel.update(&batch, threads: threads, initial: Step.Stats()) { record, _, stats in
            if record.rejection == nil { record.rejection = step.process(&record.object, repairs: record.repairs, stats: &stats) }
        }
        for p in partial { stats.merge(p) }
    }

    var statsJSON: JSONValue { stats.json }
    func resetStats() { stats = Step.Stats() }
}

/// Drops records by language, script or length; dropped records go to the rejects with a reason.
final class FilterStage: PipelineStage {
    let name = "filter"
    var usesEngine: Bool { false }
    let languages: Set<String>?, scripts: Set<String>?
    let minCharacters: Int?, maxCharacters: Int?
    let fields: TextFields
    let metadataField: String
    var dropped: [String: Int] = [:]

    init(languages: [String]?, scripts: [String]?, minCharacters: Int?, maxCharacters: Int?, fields: [String], metadataField: String) {
        self.languages = languages.map(Set.init)
        self.scripts = scripts.map(Set.init)
        self.minCharacters = minCharacters
        self.maxCharacters = maxCharacters
        self.fields = TextFields(names: fields)
        self.metadataField = metadataField
    }

    func process(_ batch: inout [PipelineRecord]) throws {
        for i in batch.indices where batch[i].rejection == nil {
            let meta = batch[i].object[metadataField]?.objectValue
            let language = meta?["language"]?.stringValue ?? "und"
            let script = meta?["script"]?.stringValue ?? "none"
            var length = 0
            _ = fields.forEachText(in: &batch[i].object) { length += $0.count }
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
            if let reason {
                batch[i].rejection = reason
                dropped[reason.reason, default: 0] += 1
            }
        }
    }

    var statsJSON: JSONValue {
        .object(JSONObject(dropped.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .number(String($0.value))) }))
    }

    func resetStats() { dropped = [:] }
}

/// Classification by label scoring; the label and each label's probability go into metadata.
final class ClassifyStage: PipelineStage {
    let name = "classify"
    let backend: InferenceBackend
    let labels: [String]
    let instructions: String
    let fields: TextFields
    let metadataField: String
    var counts: [String: Int] = [:]

    init(backend: InferenceBackend, options: PipelineConfig.ClassifyOptions, fields: [String], metadataField: String) {
        self.backend = backend
        labels = options.labels
        instructions = options.instructions
            ?? "Classify the text into exactly one of these categories: \(options.labels.joined(separator: ", ")). Answer with the category only.\n\nText:\n{text}"
        self.fields = TextFields(names: options.fields ?? fields)
        self.metadataField = metadataField
    }

    func process(_ batch: inout [PipelineRecord]) throws {
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
            counts[result.best, default: 0] += 1
        }
    }

    var statsJSON: JSONValue {
        .object(JSONObject(counts.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .number(String($0.value))) }))
    }

    func resetStats() { counts = [:] }
}
