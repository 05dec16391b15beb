import Foundation
import GlossaEngine

/// What a pipeline's engine stages need from a model: chat completions and label scoring. The
/// embedded engine and any OpenAI-compatible server (`RemoteBackend`) both provide it, so the
/// same pipeline runs in-process or against a server.
public protocol InferenceBackend: AnyObject {
    /// Chat completions (non-thinking unless the request says otherwise); results in order.
    /// Throws only when the backend itself is unusable (e.g. the server stays unreachable).
    func complete(_ requests: [GenerationRequest]) throws -> [Completion]

    /// Completions where each finished request may add more (numbered after those before them):
    /// a caller's second pass. The embedded engine lets them join the running batch.
    func complete(_ requests: [GenerationRequest], followUp: @escaping (Int, Completion) -> [GenerationRequest]) throws -> [Completion]

    /// Label probabilities for each prompt; a prompt the backend cannot score is a failure for
    /// that prompt alone.
    func classify(_ prompts: [[ChatMessage]], labels: [String]) throws -> [Result<Classifier.Result, Error>]

    /// The in-process engine behind this backend, if there is one.
    var embeddedEngine: BatchEngine? { get }
}

extension InferenceBackend {
    public var embeddedEngine: BatchEngine? { nil }

    /// In rounds: the follow-ups of one round are sent together as the next.
    public func complete(_ requests: [GenerationRequest], followUp: @escaping (Int, Completion) -> [GenerationRequest]) throws -> [Completion] {
        var all: [Completion] = []
        var round = requests
        while !round.isEmpty {
            let first = all.count
            let answers = try complete(round)
            all += answers
            round = answers.enumerated().flatMap { followUp(first + $0.offset, $0.element) }
        }
        return all
    }
}

/// A chat completion's answer as pipeline stages use it.
public struct Completion: Sendable, Equatable {
    public var content: String
    public var generatedTokens: Int
    /// Prompt tokens as the backend counted them (0 when it does not say).
    public var promptTokens = 0
    /// Why there is no answer (the engine or server refused the request).
    public var failure: String?
    /// The refusal's short name when there is one (e.g. `context_length_exceeded`), used as the
    /// reject reason of the record.
    public var failureCode: String?
    /// The engine's repetition guard stopped the answer (it was looping).
    public var repeated = false
    /// The thinking text, apart from `content` (nil when the model did not think).
    public var reasoning: String?
    /// Why the answer ended, as OpenAI names it (`stop`, `length`), or the engine's own
    /// `repetition`, `cancelled`, `error`.
    public var finishReason = "stop"
    /// The generated token ids (thinking included; empty when the backend does not say).
    public var tokens: [Int] = []
    /// One entry per generated token when the request asked for `logprobs`.
    public var logprobs: [TokenLogprob]?

    public init(content: String, generatedTokens: Int, promptTokens: Int = 0, failure: String? = nil, failureCode: String? = nil,
                repeated: Bool = false) {
        self.repeated = repeated
        self.content = content
        self.generatedTokens = generatedTokens
        self.promptTokens = promptTokens
        self.failure = failure
        self.failureCode = failureCode
    }
}

/// The model in this process: continuous batching for completions, prefix-shared label scoring.
public final class EmbeddedBackend: InferenceBackend {
    public let engine: BatchEngine
    let classifier: Classifier
    public var embeddedEngine: BatchEngine? { engine }

    public init(model: LanguageModel, kvBudgetTokens: Int, stepTokens: Int) {
        engine = BatchEngine(model: model, kvBudgetTokens: kvBudgetTokens, stepTokens: stepTokens)
        classifier = Classifier(model)
    }

    public func complete(_ requests: [GenerationRequest]) -> [Completion] {
        engine.run(requests).map(Self.completion)
    }

    public func complete(_ requests: [GenerationRequest], followUp: @escaping (Int, Completion) -> [GenerationRequest]) -> [Completion] {
        engine.run(requests, followUp: { i, out in followUp(i, Self.completion(out)) }).map(Self.completion)
    }

    static func completion(_ out: GenerationOutput) -> Completion {
        var c = Completion(content: out.content, generatedTokens: out.tokens.count, promptTokens: out.promptTokens,
                           failure: out.stopReason == .error ? out.error ?? "engine error" : nil, failureCode: out.refusal?.code,
                           repeated: out.stopReason == .repetition)
        c.reasoning = out.reasoning
        c.finishReason = out.stopReason.rawValue
        c.tokens = out.tokens
        c.logprobs = out.logprobs
        return c
    }

    public func classify(_ prompts: [[ChatMessage]], labels: [String]) -> [Result<Classifier.Result, Error>] {
        // One label set for all: an invalid one fails every prompt alike; a prompt too long for
        // the context fails alone.
        do { return try classifier.classifyEach(prompts, labels: labels).map { $0.mapError { $0 as Error } } } catch {
            return prompts.map { _ in .failure(error) }
        }
    }
}

/// Passes everything to another backend and keeps the completion requests, follow-ups
/// included, in the order they were made (the pipeline benchmark replays them).
final class RecordingBackend: InferenceBackend {
    let inner: InferenceBackend
    private(set) var requests: [GenerationRequest] = []

    init(_ inner: InferenceBackend) { self.inner = inner }

    func complete(_ requests: [GenerationRequest]) throws -> [Completion] {
        self.requests += requests
        return try inner.complete(requests)
    }

    func complete(_ requests: [GenerationRequest], followUp: @escaping (Int, Completion) -> [GenerationRequest]) throws -> [Completion] {
        self.requests += requests
        return try inner.complete(requests, followUp: { [weak self] i, out in
            let more = followUp(i, out)
            self?.requests += more
            return more
        })
    }

    func classify(_ prompts: [[ChatMessage]], labels: [String]) throws -> [Result<Classifier.Result, Error>] {
        try inner.classify(prompts, labels: labels)
    }

    var embeddedEngine: BatchEngine? { inner.embeddedEngine }
}
