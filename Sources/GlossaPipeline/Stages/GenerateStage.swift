import Foundation
import GlossaEngine
import Yams

/// `generate`: free text answers to a prompt made from each record — a teacher model's answers
/// (and, with `logprobs`, its top-K log-probabilities) for distillation data.
public struct GenerateOptions: StageOptions {
    public static let name = "generate"
    public static let keys: Set<String> = ["prompt_field", "template", "system", "thinking", "temperature", "top_p", "top_k", "min_p",
                                           "seed", "max_tokens", "n", "logprobs", "field"]

    /// Qwen3's thinking mode: off (the non-thinking prefill), on, or on with a budget of
    /// thinking tokens after which the answer is forced.
    public enum Thinking: Sendable, Equatable {
        case off, on
        case budget(Int)
    }

    /// Where the user message comes from.
    public enum Prompt: Sendable, Equatable {
        /// A record field's text, as it is.
        case field(String)
        /// Text with `{field}` places (dotted names reach into objects: `{meta.source}`).
        case template(PromptTemplate)
    }

    public var prompt: Prompt
    public var system: String?
    public var thinking = Thinking.off
    public var sampling = SamplingParameters.greedy
    public var maxTokens = 512
    /// Samples per prompt; sample i uses seed + i.
    public var samples = 1
    /// Top-K log-probabilities per generated token (nil: none).
    public var logprobs: Int?
    /// The record key the generations go to.
    public var field = "generations"

    public init(prompt: Prompt) {
        self.prompt = prompt
    }

    public init(yaml: StageYAML) throws {
        let n = Self.name
        switch (yaml.has("prompt_field"), yaml.has("template")) {
        case (true, false):
            let f = try yaml.requiredString("prompt_field", in: n)
            guard !f.isEmpty else { throw yaml.error("prompt_field", "generate.prompt_field is empty; name the field that holds the prompt") }
            prompt = .field(f)
        case (false, true):
            do { prompt = .template(try PromptTemplate(try yaml.requiredString("template", in: n))) } catch let error as PromptTemplate.Error {
                throw yaml.error("template", "generate.template: \(error.message)")
            }
        case (false, false): throw yaml.error(nil, "generate needs 'prompt_field' (a field holding the prompt) or 'template' (text with {field} places)")
        case (true, true): throw yaml.error("template", "generate takes 'prompt_field' or 'template', not both")
        }
        system = try yaml.string("system", in: n)
        if yaml.has("thinking") { thinking = try yaml.thinking("thinking", in: n) }
        maxTokens = try yaml.int("max_tokens", in: n, min: 1) ?? maxTokens
        if let t = try yaml.number("temperature", in: n, within: 0...100) { sampling.temperature = Float(t) }
        let greedy = sampling.temperature == 0
        // Options that only shape sampling would be silently ignored under greedy decoding.
        for key in ["top_p", "top_k", "min_p"] where greedy && yaml.has(key) {
            throw yaml.error(key, "generate.\(key) has no effect with greedy decoding; set temperature > 0 or remove it")
        }
        if let p = try yaml.number("top_p", in: n, within: 0...1) {
            guard p > 0 else { throw yaml.error("top_p", "generate.top_p must be above 0 (1 = off)") }
            sampling.topP = Float(p)
        }
        sampling.topK = try yaml.int("top_k", in: n, min: 0) ?? 0
        if let m = try yaml.number("min_p", in: n, within: 0...1) { sampling.minP = Float(m) }
        if let s = try yaml.int("seed", in: n, min: 0) { sampling.seed = UInt64(s) }
        samples = try yaml.int("n", in: n, min: 1) ?? 1
        guard samples <= 64 else { throw yaml.error("n", "generate.n is \(samples); at most 64 samples per prompt") }
        if samples > 1 && greedy {
            throw yaml.error("n", "generate.n is \(samples) but decoding is greedy (temperature 0), so every sample would be the same; set temperature > 0")
        }
        if let k = try yaml.int("logprobs", in: n, min: 1) {
            guard k <= 20 else { throw yaml.error("logprobs", "generate.logprobs is \(k); at most 20 alternatives per token (as OpenAI's top_logprobs)") }
            logprobs = k
        }
        if let f = try yaml.string("field", in: n) {
            guard !f.isEmpty else { throw yaml.error("field", "generate.field is empty; name the key the generations go to") }
            field = f
        }
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        GenerateStage(options: self, backend: try context.backend())
    }
}

/// A prompt template: literal text and `{name}` places filled from a record; `{{` and `}}` are
/// literal braces.
public struct PromptTemplate: Sendable, Equatable {
    public enum Piece: Sendable, Equatable {
        case text(String)
        case field([String])   // a dotted name, split
    }

    public struct Error: Swift.Error {
        public var message: String
    }

    public let pieces: [Piece]

    public init(_ source: String) throws {
        var pieces: [Piece] = [], text = "", i = source.startIndex
        while i < source.endIndex {
            let c = source[i]
            let next = source.index(after: i)
            if (c == "{" || c == "}"), next < source.endIndex, source[next] == c {
                text.append(c)
                i = source.index(after: next)
                continue
            }
            if c == "}" { throw Error(message: "a lone '}' (write '}}' for a brace)") }
            guard c == "{" else { text.append(c); i = next; continue }
            guard let close = source[next...].firstIndex(of: "}") else { throw Error(message: "a '{' without its '}' (write '{{' for a brace)") }
            let name = String(source[next..<close])
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !name.isEmpty, !name.contains("{"), path.allSatisfy({ !$0.isEmpty }) else {
                throw Error(message: "'{\(name)}' is not a field name")
            }
            if !text.isEmpty { pieces.append(.text(text)); text = "" }
            pieces.append(.field(path))
            i = source.index(after: close)
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        guard pieces.contains(where: { if case .field = $0 { true } else { false } }) else {
            throw Error(message: "no {field} place: every record would get the same prompt")
        }
        self.pieces = pieces
    }

    /// The prompt for `record`, or why the record cannot have one.
    public func render(_ record: JSONObject) -> Result<String, PromptFailure> {
        var out = ""
        for piece in pieces {
            switch piece {
            case let .text(t): out += t
            case let .field(path):
                switch GenerateStage.text(at: path, in: record) {
                case let .success(t): out += t
                case let .failure(r): return .failure(r)
                }
            }
        }
        return .success(out)
    }
}

/// Why a record has no prompt (a `Result` failure needs an `Error`).
public struct PromptFailure: Error, Equatable {
    public var rejection: Rejection
    init(_ rejection: Rejection) { self.rejection = rejection }
}

extension StageYAML {
    /// A number within `range` (YAML integers too).
    func number(_ key: String, in stage: String, within range: ClosedRange<Double>) throws -> Double? {
        guard let node = options[key] else { return nil }
        guard let x = node.float, x.isFinite, range.contains(x) else {
            throw error(key, "\(stage).\(key) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return x
    }

    /// `on` / `off` (YAML's booleans too), `budget N`, or `{budget: N}`.
    func thinking(_ key: String, in stage: String) throws -> GenerateOptions.Thinking {
        let what = "\(stage).\(key) must be on, off, 'budget N' or {budget: N}"
        guard let node = options[key] else { return .off }
        if case .mapping = node {
            let map = try reader.mapping(node, "\(stage).\(key)", allowed: ["budget"])
            return .budget(try reader.int(try reader.required(map, "budget", node), "\(stage).\(key).budget", min: 0))
        }
        guard case .scalar = node, let text = node.string?.lowercased().trimmingCharacters(in: .whitespaces) else { throw error(key, what) }
        switch text {
        case "on", "true", "yes": return .on
        case "off", "false", "no": return .off
        default:
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2, words[0] == "budget", let n = Int(words[1]), n >= 0 else { throw error(key, what) }
            return .budget(n)
        }
    }
}

/// Answers from the model for each record: `n` samples of one prompt (sample i seeded with
/// seed + i, so a re-run or a resumed run gives the same bytes), each with its text, its
/// thinking apart (`reasoning`), why it ended, its token count and, with `logprobs: K`, the
/// teacher's top-K log-probabilities per token in `LogprobPacking`'s form. A record whose
/// samples the backend refused is rejected with the backend's reason, none of its samples kept.
final class GenerateStage: PipelineStage {
    let name = GenerateOptions.name
    let options: GenerateOptions
    let backend: InferenceBackend

    init(options: GenerateOptions, backend: InferenceBackend) {
        self.options = options
        self.backend = backend
    }

    var emptyStats: StageStats {
        StageStats(counts: ["prompts", "generations", "failures", "prompt_tokens", "generated_tokens", "reasoning_generations"],
                   tallies: ["finish_reasons"])
    }

    /// The text at a dotted path of `record`: a string, a number or boolean as written, or an
    /// array of strings joined by blank lines.
    static func text(at path: [String], in record: JSONObject) -> Result<String, PromptFailure> {
        let name = path.joined(separator: ".")
        var value: JSONValue? = .object(record)
        for key in path { value = value?.objectValue?[key] }
        switch value {
        case let .string(s)?: return .success(s)
        case let .number(n)?: return .success(n)
        case let .bool(b)?: return .success(b ? "true" : "false")
        case let .array(items)? where items.allSatisfy({ $0.stringValue != nil }):
            return .success(items.compactMap(\.stringValue).joined(separator: "\n\n"))
        case nil, .null?: return .failure(PromptFailure(Rejection(Rejection.missingField, "the prompt needs field '\(name)', which is absent or null")))
        case let v?: return .failure(PromptFailure(Rejection(Rejection.fieldNotText, "the prompt's field '\(name)' is \(v.kindName)")))
        }
    }

    /// The engine requests for one record's prompt: one per sample.
    func requests(for user: String) -> [GenerationRequest] {
        var messages: [ChatMessage] = []
        if let system = options.system { messages.append(ChatMessage(.system, system)) }
        messages.append(ChatMessage(.user, user))
        return (0..<options.samples).map { i in
            var r = GenerationRequest(.messages(messages))
            r.maxTokens = options.maxTokens
            r.sampling = options.sampling
            r.sampling.seed = options.sampling.seed &+ UInt64(i)
            switch options.thinking {
            case .off: r.enableThinking = false
            case .on: r.enableThinking = true
            case let .budget(n): r.enableThinking = true; r.thinkingBudget = n
            }
            r.logprobs = options.logprobs
            return r
        }
    }

    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        var requests: [GenerationRequest] = [], owners: [Int] = []
        for i in batch.indices where batch[i].rejection == nil {
            let prompt: Result<String, PromptFailure>
            switch options.prompt {
            case let .field(f): prompt = Self.text(at: [f], in: batch[i].object)
            case let .template(t): prompt = t.render(batch[i].object)
            }
            switch prompt {
            case let .failure(f): batch[i].rejection = f.rejection
            case let .success(user):
                guard !user.isEmpty else { batch[i].rejection = Rejection(Rejection.emptyText, "the prompt is empty"); continue }
                requests += self.requests(for: user)
                owners.append(i)
                stats.add("prompts")
            }
        }
        // Every sample of the batch at once: continuous batching embedded, in flight remote.
        let answers = try backend.complete(requests)
        guard answers.count == requests.count else {
            throw GlossaError.invalidArgument("the backend answered \(answers.count) of \(requests.count) generation requests")
        }
        let n = options.samples
        for (k, i) in owners.enumerated() {
            let mine = answers[(k * n)..<((k + 1) * n)]
            for a in mine {
                stats.add("prompt_tokens", a.promptTokens)
                stats.add("generated_tokens", a.generatedTokens)
            }
            if let failed = mine.first(where: { $0.failure != nil }) {
                stats.add("failures")
                batch[i].rejection = Rejection(failed.failureCode ?? "engine_error", "generation failed: \(failed.failure ?? "no answer")")
                continue
            }
            var generations: [JSONValue] = []
            for (s, a) in mine.enumerated() {
                var g = JSONObject(["text": .string(a.content), "reasoning": a.reasoning.map(JSONValue.string) ?? .null,
                                    "finish_reason": .string(a.finishReason), "tokens": .number(String(a.generatedTokens))])
                if options.sampling.temperature > 0 { g["seed"] = .number(String(options.sampling.seed &+ UInt64(s))) }
                if let top = options.logprobs {
                    guard let entries = a.logprobs, let packed = LogprobPacking.pack(entries, k: top) else {
                        stats.add("failures")
                        batch[i].rejection = Rejection("logprobs_unavailable", "the backend gave no storable log-probabilities for a sample")
                        break
                    }
                    g["logprobs"] = packed
                }
                if a.reasoning != nil { stats.add("reasoning_generations") }
                stats.add("finish_reasons", key: a.finishReason)
                stats.add("generations")
                generations.append(.object(g))
            }
            if batch[i].rejection == nil { batch[i].object[options.field] = .array(generations) }
        }
    }
}
