import Foundation

/// Single-request generation (greedy by default) with Qwen3's thinking modes and a thinking
/// budget: a thin front of `BatchEngine` with a batch of one.
public struct Generator: Sendable {
    public struct Options: Sendable {
        /// Tokens of the answer (after any thinking).
        public var maxTokens = 512
        /// Tokens of thinking before the stop phrase is forced; nil = unlimited, 0 = no thinking.
        public var thinkingBudget: Int? = nil
        public var sampling = SamplingParameters.greedy
        /// What the answer must look like (nil: free).
        public var constraint: Constraint?
        public init() {}
    }

    public typealias Result = GenerationOutput

    /// Qwen's words when a thinking budget runs out, before the answer starts.
    public static let budgetStopPhrase = "Considering the limited time by the user, I have to give the solution based on the thinking directly now.\n</think>\n\n"

    public let model: LanguageModel
    public init(_ model: LanguageModel) { self.model = model }

    /// Chat: renders the template (thinking per `enableThinking`, soft switches and budget 0),
    /// then generates.
    public func chat(_ messages: [ChatMessage], enableThinking: Bool = false, options: Options = Options(),
                     onText: @escaping (String) -> Void = { _ in }) -> Result {
        var request = GenerationRequest(.messages(messages))
        request.enableThinking = enableThinking
        return run(request, options, onText)
    }

    public func generate(prompt: [Int], options: Options = Options(), onText: @escaping (String) -> Void = { _ in }) -> Result {
        run(GenerationRequest(.tokens(prompt)), options, onText)
    }

    private func run(_ request: GenerationRequest, _ options: Options, _ onText: @escaping (String) -> Void) -> Result {
        var request = request
        request.maxTokens = options.maxTokens
        request.thinkingBudget = options.thinkingBudget
        request.sampling = options.sampling
        request.constraint = options.constraint
        return BatchEngine(model: model, kvBudgetTokens: model.transformer.config.maxPositions).run([request]) { _, event in
            if case let .text(piece) = event { onText(piece) }
        }[0]
    }
}

extension Tokenizer.StreamingDecoder {
    /// True when no multi-byte character is waiting for more bytes.
    public var isCharacterComplete: Bool { pending.isEmpty }
}
