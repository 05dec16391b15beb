import Foundation

/// One generation request.
public struct GenerationRequest: Sendable {
    public enum Input: Sendable {
        case messages([ChatMessage])
        case prompt(String)
        case tokens([Int])
    }

    public var input: Input
    public var enableThinking = false
    /// Tokens of thinking before the stop phrase is forced; nil = unlimited, 0 = no thinking.
    public var thinkingBudget: Int? = nil
    public var maxTokens = 256
    public var stopStrings: [String] = []
    public var stopTokens: Set<Int> = []
    public var sampling = SamplingParameters.greedy
    /// Log-probabilities of generated tokens: nil = none, n = the chosen token's and the n most
    /// likely alternatives' (from the raw logits, before penalties and temperature).
    public var logprobs: Int? = nil
    /// Log-probabilities of the prompt's tokens (each given the ones before it), for scoring.
    public var promptLogprobs = false
    /// What the answer must look like (choice, regex, JSON Schema, grammar); nil = free. In
    /// thinking mode it applies to the answer after `</think>`; the thinking stays free.
    public var constraint: Constraint? = nil
    /// Stops the answer when it loops (an n-gram seen too often); nil = no guard.
    public var repetitionGuard: RepetitionGuard? = nil
    /// Whether the model is to think first (Qwen3 thinking mode); nil = derived from the input.
    /// `BatchEngine.prepare` sets it when it replaces messages by their tokens.
    public var thinkingExpected: Bool? = nil
    /// Called on the engine's thread with each generated token's entry as soon as it exists,
    /// before the token's text event (a streaming server sends them along with the text).
    public var onLogprob: (@Sendable (TokenLogprob) -> Void)? = nil

    public init(_ input: Input) { self.input = input }
}

/// A loop detector for generated answers: the sequence stops (reason `repetition`) when its
/// latest `ngram` tokens have already occurred `maxRepeats` times in the answer. Small models
/// fall into loops on scripts they know poorly; a loop never ends by itself before the token
/// budget, so the guard saves the budget and tells the caller what happened.
public struct RepetitionGuard: Sendable, Equatable {
    public var ngram: Int
    public var maxRepeats: Int
    public init(ngram: Int = 6, maxRepeats: Int = 3) {
        self.ngram = max(1, ngram)
        self.maxRepeats = max(1, maxRepeats)
    }
}

/// log(sum(exp(x))) over a row of logits, the normaliser of every logprob: 16 lanes at a
/// time with a polynomial e^x (Cephes' expf: relative error below 2e-7), summed in Float per
/// block of 1,024 (error below 1024 * 6e-8 = 6e-5 relative) and in Double across blocks, so
/// log Z is within 1e-4 of the exact value — a fifth of the 1/2048 the packed logprobs keep.
/// A scalar Double `exp` over the 151,936 entries took about 1.5 ms per generated token, on
/// the engine thread.
enum LogSumExp {
    static func of(_ x: UnsafeBufferPointer<Float>) -> Double {
        let n = x.count
        guard n > 0, let base = x.baseAddress else { return -.infinity }
        let lanes = n / 16 * 16
        var m = -Float.infinity
        var vm = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i < lanes {
            vm = pointwiseMax(vm, UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self))
            i += 16
        }
        m = vm.max()
        for k in lanes..<n where x[k] > m { m = x[k] }
        guard m.isFinite else { return Double(m) }
        let vmax = SIMD16<Float>(repeating: m)
        var total = 0.0
        i = 0
        while i < lanes {
            let end = min(lanes, i + 1024)
            var block = SIMD16<Float>(repeating: 0)
            while i < end {
                block += exp(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self) - vmax)
                i += 16
            }
            total += Double(block.sum())
        }
        for k in lanes..<n { total += Foundation.exp(Double(x[k] - m)) }
        return Double(m) + Foundation.log(total)
    }

    /// e^x for x <= 0 (what is left after subtracting the maximum), 16 lanes.
    @inline(__always) static func exp(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let x = v.replacing(with: -87, where: v .< -87)
        // Rounding to an integer by adding 1.5 * 2^23: the integer lands in the low mantissa
        // bits, read back without a float-to-int conversion (which Swift does lane by lane).
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * (r * r) + r + 1
        let scale = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(scale, to: SIMD16<Float>.self)
    }
}

/// A token with its log-probability and, on request, the most likely alternatives at its place.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var logprob: Float
    public var top: [(token: Int, logprob: Float)]

    public init(token: Int, logprob: Float, top: [(token: Int, logprob: Float)] = []) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.elementsEqual(b.top) { $0.token == $1.token && $0.logprob == $1.logprob }
    }

    /// Log-softmax of `logits` at `token`, with the `top` most likely tokens (ties: lower id).
    public static func from<C: RandomAccessCollection>(_ logits: C, token: Int, top: Int) -> TokenLogprob where C.Element == Float, C.Index == Int {
        let base = logits.startIndex
        let logZ = logits.withContiguousStorageIfAvailable { LogSumExp.of($0) } ?? Array(logits).withUnsafeBufferPointer { LogSumExp.of($0) }
        var best: [(token: Int, logprob: Float)] = []
        if top > 0 {
            // A small sorted buffer: top is at most a few dozen.
            for (i, x) in logits.enumerated() where best.count < top || x > best[best.count - 1].logprob {
                let at = best.firstIndex { x > $0.logprob } ?? best.count
                best.insert((i, x), at: at)
                if best.count > top { best.removeLast() }
            }
            best = best.map { ($0.token, Float(Double($0.logprob) - logZ)) }
        }
        return TokenLogprob(token: token, logprob: Float(Double(logits[base + token]) - logZ), top: best)
    }
}

public struct GenerationOutput: Sendable {
    public enum StopReason: String, Sendable { case stop, length, cancelled, error, repetition }
    public var tokens: [Int] = []
    public var text = ""
    public var reasoning: String?
    public var content = ""
    public var stopReason = StopReason.length
    public var error: String?
    /// Tokens appended (not computed) to complete a constrained answer when its tokens ran out.
    public var completionTokens = 0
    /// Set when the request was refused before it ran (`stopReason` is then `.error`).
    public var refusal: RequestRefusal?
    public var promptTokens = 0
    /// Prompt tokens whose keys and values were copied from a stored shared beginning.
    public var cachedPromptTokens = 0
    public var thinkingTokens = 0
    public var budgetForced = false
    public var seconds = 0.0
    /// One entry per generated token when the request asked for `logprobs` (forced budget
    /// tokens get 0).
    public var logprobs: [TokenLogprob]?
    /// One entry per prompt token after the first, when the request asked for `promptLogprobs`.
    public var promptLogprobs: [TokenLogprob]?
}

/// Why the engine turns a request down before running it. Every limit here comes from the
/// request's own data, so a server answers these with a 400 and carries on.
public enum RequestRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyPrompt
    case unknownToken(Int, vocabularySize: Int)
    /// The prompt leaves no room for a token: `limit` is the model's context or, when smaller,
    /// the KV budget a single request may hold (`kvBudget` true).
    case contextLengthExceeded(promptTokens: Int, limit: Int, kvBudget: Bool)

    /// A short machine-readable name (OpenAI's `code` field).
    public var code: String {
        switch self {
        case .emptyPrompt: return "empty_prompt"
        case .unknownToken: return "invalid_token"
        case .contextLengthExceeded: return "context_length_exceeded"
        }
    }

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt is empty: there is no token to continue from"
        case let .unknownToken(id, size): return "token id \(id) is outside the vocabulary (0..<\(size))"
        case let .contextLengthExceeded(n, limit, false):
            return "this model's maximum context length is \(limit) tokens, but the prompt has \(n) tokens"
        case let .contextLengthExceeded(n, limit, true):
            return "the prompt has \(n) tokens, but this engine's KV budget holds at most \(limit) tokens per request"
        }
    }
}

public enum GenerationEvent: Sendable {
    case text(String)
    case finished(GenerationOutput)
}

/// Continuous batching on one model: requests join and leave between steps, long prompts are
/// prefilled in chunks beside the decoding sequences, and all sequences share one KV budget
/// (a request is admitted when its prompt plus its token allowance fits; until then it waits).
/// Every matrix product treats rows independently, so a request's greedy output is the same
/// alone or in any batch.
public final class BatchEngine: @unchecked Sendable {
    public let model: LanguageModel
    public let kvBudgetTokens: Int
    public let stepTokens: Int
    public let maxSequences: Int
    // Looked up once: the step loop consults them for every generated token.
    private let thinkOpen: Int?, thinkClose: Int?
    private let budgetStopTokens: [Int]

    /// Shared prompt beginnings, computed once (nil: every prompt is prefilled whole).
    let prefixes: PrefixStore?

    /// The vocabulary as a byte trie, built when the first constrained request needs it.
    private lazy var vocabulary = VocabularyTrie.of(model.tokenizer)

    public init(model: LanguageModel, kvBudgetTokens: Int = 16_384, stepTokens: Int = 256, maxSequences: Int = 64,
                prefixCaching: Bool = true) {
        self.model = model
        self.kvBudgetTokens = kvBudgetTokens
        self.stepTokens = stepTokens
        self.maxSequences = maxSequences
        prefixes = prefixCaching ? PrefixStore() : nil
        thinkOpen = model.tokenizer.id(of: "<think>")
        thinkClose = model.tokenizer.id(of: "</think>")
        budgetStopTokens = model.tokenizer.encode(Generator.budgetStopPhrase)
    }

    /// Mutated only by the engine's loop, except `cancelled`, which any thread may set.
    final class Sequence: @unchecked Sendable {
        let index: Int
        let request: GenerationRequest
        let prompt: [Int]
        let reserved: Int
        /// Answer tokens and thinking budget after clamping to the room the context leaves.
        let maxTokens: Int
        let thinkingBudget: Int?
        let refusal: RequestRefusal?
        let stops: Set<Int>
        var cache: KVCache?
        var fed = 0                    // prompt tokens already in the cache
        var pending: [Int] = []        // forced tokens to feed before sampling again
        var sampler: Sampler
        var decoder: Tokenizer.StreamingDecoder
        var output = GenerationOutput()
        var inThinking: Bool
        /// Thinking mode under a constraint: `<think>` is the first token, forced.
        var awaitingThinking: Bool
        /// Where the answer stands in the request's constraint.
        var constraintState: ConstraintState
        var answerTokens = 0
        /// Occurrences of each answer n-gram so far, for the repetition guard.
        var ngramCounts: [[Int]: Int] = [:]
        var answerHistory: [Int] = []
        var finished = false
        private let cancelLock = NSLock()
        private var cancelFlag = false
        var cancelled: Bool {
            get { cancelLock.withLock { cancelFlag } }
            set { cancelLock.withLock { cancelFlag = newValue } }
        }
        let started = Date()
        let onEvent: (GenerationEvent) -> Void

        init(index: Int, request: GenerationRequest, prompt: [Int], reservation: Reservation, refusal: RequestRefusal?,
             stops: Set<Int>, tokenizer: Tokenizer, thinkOpen: Int?, thinkingExpected: Bool, onEvent: @escaping (GenerationEvent) -> Void) {
            self.index = index
            self.request = request
            self.prompt = prompt
            reserved = reservation.tokens
            maxTokens = reservation.maxTokens
            thinkingBudget = reservation.thinkingBudget
            self.refusal = refusal
            self.stops = stops
            sampler = Sampler(request.sampling)
            decoder = Tokenizer.StreamingDecoder(tokenizer)
            inThinking = thinkOpen.map { prompt.suffix(2).contains($0) } ?? false
            awaitingThinking = request.constraint != nil && thinkingExpected && !inThinking && thinkOpen != nil
            constraintState = request.constraint?.start ?? -1
            output.promptTokens = prompt.count
            self.onEvent = onEvent
        }
    }

    /// The prompt tokens of a request (template, thinking mode, soft switches, budget 0).
    public func promptTokens(_ request: GenerationRequest) -> [Int] {
        switch request.input {
        case let .tokens(t): return t
        case let .prompt(p): return model.tokenizer.encode(p)
        case let .messages(m):
            var thinking = model.template == .qwen3 && ChatTemplate.thinkingEnabled(m, enableThinking: request.enableThinking)
            if request.thinkingBudget == 0 { thinking = false }
            return model.tokenizer.encode(model.template.render(m, enableThinking: thinking))
        }
    }

    /// Whether a request's prompt puts the model in thinking mode (Qwen3 chat with thinking on).
    public func thinkingExpected(_ request: GenerationRequest) -> Bool {
        if let expected = request.thinkingExpected { return expected }
        guard case let .messages(m) = request.input, model.template == .qwen3, request.thinkingBudget != 0 else { return false }
        return ChatTemplate.thinkingEnabled(m, enableThinking: request.enableThinking)
    }

    /// The request with its prompt tokenized and checked (`validatedPrompt`): what a server
    /// hands to `stream` so that the prompt is tokenized once.
    public func prepare(_ request: GenerationRequest) throws(RequestRefusal) -> GenerationRequest {
        var prepared = request
        prepared.thinkingExpected = thinkingExpected(request)
        prepared.input = .tokens(try validatedPrompt(request))
        return prepared
    }

    /// The most tokens one sequence may hold: the model's context, or the KV budget when smaller.
    public var contextLimit: Int { min(model.transformer.config.maxPositions, kvBudgetTokens) }

    /// The prompt tokens of a request, or why the engine cannot run it: an empty prompt, a token
    /// id outside the vocabulary, or a prompt that leaves no room in the context for a token.
    /// A server calls this first to answer with a 400 before anything is computed.
    public func validatedPrompt(_ request: GenerationRequest) throws(RequestRefusal) -> [Int] {
        let prompt = promptTokens(request)
        guard !prompt.isEmpty else { throw .emptyPrompt }
        let size = model.tokenizer.vocabularySize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= size }) { throw .unknownToken(bad, vocabularySize: size) }
        guard prompt.count < contextLimit else {
            throw .contextLengthExceeded(promptTokens: prompt.count, limit: contextLimit,
                                         kvBudget: kvBudgetTokens < model.transformer.config.maxPositions)
        }
        return prompt
    }

    /// KV positions a sequence holds for its whole life, and its limits clamped to fit them.
    struct Reservation {
        var tokens = 0
        var maxTokens = 0
        var thinkingBudget: Int?
    }

    /// `max_tokens` and the thinking budget beyond what the context leaves after the prompt are
    /// clamped to it (the answer then ends with `length`), as llama.cpp's server does, so that a
    /// client asking for "as much as possible" gets it. Every term is at most the room left, so
    /// the sum cannot overflow whatever the request said.
    func reservation(promptTokens n: Int, _ r: GenerationRequest) -> Reservation {
        let room = max(0, contextLimit - n)
        let answer = min(max(0, r.maxTokens), room)
        let budget = r.thinkingBudget.map { min(max(0, $0), room) }
        let thinking = budget.map { $0 + budgetStopTokens.count + 4 } ?? (r.enableThinking ? answer : 0)
        return Reservation(tokens: min(n + answer + thinking + 1, contextLimit), maxTokens: answer, thinkingBudget: budget)
    }

    /// Runs requests to completion with continuous batching; results in request order.
    /// `followUp` is called as each request finishes and may return more requests, which join
    /// the running batch at once (numbered after the ones before them): a caller's second pass
    /// overlaps the first instead of running after it.
    public func run(_ requests: [GenerationRequest], onEvent: @escaping (Int, GenerationEvent) -> Void = { _, _ in },
                    followUp: ((Int, GenerationOutput) -> [GenerationRequest])? = nil) -> [GenerationOutput] {
        var results: [GenerationOutput?] = []
        var state = Schedule()
        var added: [GenerationRequest] = requests
        while !added.isEmpty || !state.isIdle {
            for r in added {
                let i = results.count
                results.append(nil)
                state.waiting.append(makeSequence(i, r) { event in
                    if case let .finished(out) = event {
                        results[i] = out
                        if let more = followUp?(i, out) { added += more }
                    }
                    onEvent(i, event)
                })
            }
            added.removeAll()
            if !state.isIdle { cycle(&state) }
        }
        return results.map { $0 ?? GenerationOutput() }
    }

    /// Sequences waiting for admission and running, and the KV tokens they hold.
    struct Schedule {
        var waiting: [Sequence] = []   // first come, first served
        var running: [Sequence] = []
        var used = 0
        var isIdle: Bool { waiting.isEmpty && running.isEmpty }
    }

    /// Admits what fits, runs one batched step, retires finished sequences.
    func cycle(_ state: inout Schedule) {
        while let next = state.waiting.first, state.running.count < maxSequences {
            if let refusal = next.refusal {
                state.waiting.removeFirst()
                next.output.refusal = refusal
                fail(next, refusal.description)
                continue
            }
            if next.cancelled {
                state.waiting.removeFirst()
                next.output.stopReason = .cancelled
                finish(next)
                continue
            }
            guard state.used + next.reserved <= kvBudgetTokens else { break }
            state.waiting.removeFirst()
            let cache = model.transformer.makeCache(capacity: next.reserved)
            next.cache = cache
            // Scored prompts need every position's logits, so they compute their own.
            if let prefixes, !next.request.promptLogprobs {
                next.fed = prefixes.fill(cache, prompt: next.prompt, model: model.transformer, stepTokens: stepTokens)
                next.output.cachedPromptTokens = next.fed
            }
            state.used += next.reserved
            state.running.append(next)
        }
        step(state.running)
        var used = state.used
        state.running.removeAll { s in
            if s.finished { used -= s.reserved; s.cache = nil }
            return s.finished
        }
        state.used = used
    }

    // MARK: - Streaming service

    private let lock = NSCondition()
    private var submitted: [Sequence] = []
    private var worker: Thread?
    private var nextIndex = 0

    /// Submits a request to the engine's background loop; text and the final result arrive on
    /// the stream. Ending the stream (or cancelling its task) cancels the request alone.
    public func stream(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            lock.lock()
            nextIndex += 1
            let sequence = makeSequence(nextIndex, request) { event in
                continuation.yield(event)
                if case .finished = event { continuation.finish() }
            }
            continuation.onTermination = { [weak sequence] _ in sequence?.cancelled = true }
            submitted.append(sequence)
            if worker == nil {
                let thread = Thread { [weak self] in self?.serve() }
                thread.name = "glossa.engine"
                worker = thread
                thread.start()
            }
            lock.signal()
            lock.unlock()
        }
    }

    private func serve() {
        var state = Schedule()
        while true {
            lock.lock()
            while submitted.isEmpty && state.isIdle { lock.wait() }
            state.waiting += submitted
            submitted.removeAll()
            lock.unlock()
            cycle(&state)
        }
    }

    /// A refused request becomes a sequence that fails at admission, so that every caller
    /// (`run`, `stream`) sees it finish through the same path as any other.
    private func makeSequence(_ i: Int, _ r: GenerationRequest, _ onEvent: @escaping (GenerationEvent) -> Void) -> Sequence {
        var prompt: [Int] = [], refusal: RequestRefusal?
        do { prompt = try validatedPrompt(r) } catch { refusal = error }
        return Sequence(index: i, request: r, prompt: prompt, reservation: reservation(promptTokens: prompt.count, r), refusal: refusal,
                        stops: model.stopTokens.union(r.stopTokens), tokenizer: model.tokenizer, thinkOpen: thinkOpen,
                        thinkingExpected: thinkingExpected(r), onEvent: onEvent)
    }

    private func fail(_ s: Sequence, _ message: String) {
        s.output.stopReason = .error
        s.output.error = message
        finish(s)
    }

    /// One batched forward: a token for every decoding sequence, prompt chunks for the rest.
    private func step(_ running: [Sequence]) {
        var segments: [Transformer.Segment] = []
        var owners: [Sequence] = []
        var budget = stepTokens
        for s in running where s.cancelled && !s.finished {
            s.output.stopReason = .cancelled
            finish(s)
        }
        for s in running where s.fed == s.prompt.count && !s.finished {
            let tokens = s.pending.isEmpty ? s.output.tokens.suffix(1) : s.pending[...]
            guard let cache = s.cache, !tokens.isEmpty else { fail(s, "internal: a decoding sequence has no token to feed"); continue }
            // Forced tokens (a budget's stop phrase) may not fit the positions left: the answer
            // ends there, as it would at max_tokens.
            if cache.count + tokens.count > cache.capacity { s.output.stopReason = .length; finish(s); continue }
            segments.append(.init(tokens: Array(tokens), cache: cache, logits: .last))
            owners.append(s)
            budget -= tokens.count
        }
        for s in running where s.fed < s.prompt.count && !s.finished {
            // Scored prompts need every row's logits: smaller chunks bound that memory.
            let chunk = min(s.prompt.count - s.fed, max(budget, 16), s.request.promptLogprobs ? 64 : .max)
            guard chunk > 0, budget > 0 || segments.isEmpty else { break }
            guard let cache = s.cache else { fail(s, "internal: a running sequence has no cache"); continue }
            let done = s.fed + chunk == s.prompt.count
            let rows: Transformer.Segment.Logits = s.request.promptLogprobs ? .all : (done ? .last : .none)
            segments.append(.init(tokens: Array(s.prompt[s.fed..<(s.fed + chunk)]), cache: cache, logits: rows))
            owners.append(s)
            budget -= chunk
        }
        guard !segments.isEmpty else { return }
        let logits = model.transformer.forward(batch: segments)
        for (s, (segment, l)) in zip(owners, zip(segments, logits)) {
            var l = l
            if s.fed < s.prompt.count {
                if s.request.promptLogprobs { l = scorePrompt(s, rows: l, count: segment.tokens.count) }
                s.fed += segment.tokens.count
                if s.fed < s.prompt.count { continue }
                if s.maxTokens == 0 { s.output.stopReason = .length; finish(s); continue }
            } else {
                s.pending.removeAll()
            }
            if s.cancelled { s.output.stopReason = .cancelled; finish(s); continue }
            advance(s, logits: l)
        }
    }

    /// Records the log-probability of each prompt token that a row of this chunk predicts;
    /// returns the chunk's last row (the one the first generated token is sampled from).
    private func scorePrompt(_ s: Sequence, rows: [Float], count: Int) -> [Float] {
        let v = rows.count / count
        var scores = s.output.promptLogprobs ?? []
        for i in 0..<count where s.fed + i + 1 < s.prompt.count {
            scores.append(.from(rows[(i * v)..<((i + 1) * v)], token: s.prompt[s.fed + i + 1], top: s.request.logprobs ?? 0))
        }
        s.output.promptLogprobs = scores
        return Array(rows[((count - 1) * v)...])
    }

    /// Samples the next token of `s` and applies stops, thinking state and the budget.
    private func advance(_ s: Sequence, logits: [Float]) {
        let next: Int
        let constrained = s.request.constraint.flatMap { s.inThinking || s.awaitingThinking ? nil : $0 }
        if s.awaitingThinking, let open = thinkOpen {
            next = open
            s.awaitingThinking = false
        } else if let constraint = constrained {
            guard let (chosen, state) = constrainedChoice(s, constraint, logits) else {
                fail(s, "internal: the constraint allows no token after \(s.output.tokens.count) tokens")
                return
            }
            next = chosen
            s.constraintState = state
        } else {
            next = s.sampler.sample(logits, history: s.output.tokens)
        }
        if s.stops.contains(next) {
            // A constraint that lets the model stop early gets its completion first.
            if let constraint = constrained, !constraint.isAccepting(s.constraintState) { completeConstraint(s) }
            s.output.stopReason = .stop
            finish(s)
            return
        }
        if let top = s.request.logprobs {
            let entry = TokenLogprob.from(logits, token: next, top: top)
            if s.output.logprobs == nil { s.output.logprobs = [] }
            s.output.logprobs?.append(entry)
            s.request.onLogprob?(entry)
        }
        emit(s, next)
        if next == thinkOpen && !s.inThinking && s.output.thinkingTokens == 0 { s.inThinking = true }
        else if next == thinkClose { s.inThinking = false }
        else if s.inThinking { s.output.thinkingTokens += 1 } else { s.answerTokens += 1 }
        if !s.inThinking, next != thinkClose, let guardian = s.request.repetitionGuard, repeats(s, next, guardian) {
            completeConstraint(s)
            s.output.stopReason = .repetition
            finish(s)
            return
        }

        if let stop = s.request.stopStrings.lazy.compactMap({ s.output.text.range(of: $0) }).first {
            s.output.text = String(s.output.text[..<stop.lowerBound])
            s.output.stopReason = .stop
            finish(s)
            return
        }
        if !s.inThinking && s.answerTokens >= s.maxTokens { completeConstraint(s); s.output.stopReason = .length; finish(s); return }
        if let cache = s.cache, cache.count + 1 >= cache.capacity { completeConstraint(s); s.output.stopReason = .length; finish(s); return }
        // The budget was clamped to the context, so budget + 4 cannot overflow.
        if s.inThinking, let budget = s.thinkingBudget, s.output.thinkingTokens >= budget,
           s.decoder.isCharacterComplete || s.output.thinkingTokens >= budget + 4 {
            // Budget reached: the stop phrase and </think> are fed as the next inputs.
            s.inThinking = false
            s.output.budgetForced = true
            for id in budgetStopTokens {
                if s.request.logprobs != nil {
                    s.output.logprobs?.append(TokenLogprob(token: id, logprob: 0))
                    s.request.onLogprob?(TokenLogprob(token: id, logprob: 0))
                }
                emit(s, id)
            }
            s.pending = [next] + budgetStopTokens
        }
    }

    /// Whether the answer, with `token` appended, holds an n-gram for the (maxRepeats+1)th time.
    private func repeats(_ s: Sequence, _ token: Int, _ guardian: RepetitionGuard) -> Bool {
        s.answerHistory.append(token)
        guard s.answerHistory.count >= guardian.ngram else { return false }
        let gram = Array(s.answerHistory.suffix(guardian.ngram))
        let seen = s.ngramCounts[gram, default: 0] + 1
        s.ngramCounts[gram] = seen
        return seen > guardian.maxRepeats
    }

    /// The next token under a constraint. Greedy requests first take the unconstrained choice
    /// and keep it when the constraint allows it (the same token a full mask would give, at the
    /// cost of one token's bytes); otherwise, and always when sampling, every token the
    /// constraint rules out is masked to -inf before the sampler sees the logits. Ending is
    /// allowed where the constraint is satisfied (anywhere, for a constraint completed when the
    /// model stops). Only tokens are removed: the logits of
    /// the others are untouched, so batch invariance holds.
    /// Returns the token and the constraint's state after it (unchanged for a stop token).
    private func constrainedChoice(_ s: Sequence, _ constraint: Constraint, _ logits: [Float]) -> (Int, ConstraintState)? {
        let vocabulary = self.vocabulary
        let state = s.constraintState
        let accepting = constraint.isAccepting(state)
        let mayStop = accepting || constraint.completesWhenTheModelStops
        func after(_ t: Int) -> ConstraintState? {
            if s.stops.contains(t) { return mayStop ? state : nil }
            guard vocabulary.isOrdinary(t) else { return nil }
            let next = constraint.advance(state, bytes: model.tokenizer.bytes(of: t))
            return next >= 0 ? next : nil
        }
        if s.request.sampling.temperature == 0 {
            let t = s.sampler.sample(logits, history: s.output.tokens)
            if let next = after(t) { return (t, next) }
        }
        // Everything starts at -inf; the allowed tokens (and the stop tokens where the answer
        // may end) get their logits back.
        let mask = constraint.allowedTokens(state, vocabulary: vocabulary)
        var masked = [Float](repeating: -.infinity, count: logits.count)
        mask.forEach { i in if i < logits.count { masked[i] = logits[i] } }
        if mayStop { for t in s.stops where t >= 0 && t < logits.count { masked[t] = logits[t] } }
        guard !mask.isEmpty || (mayStop && !s.stops.isEmpty) else { return nil }
        let t = s.sampler.sample(masked, history: s.output.tokens)
        return after(t).map { (t, $0) }
    }

    /// When the tokens run out inside a constraint, the fewest bytes that satisfy it are
    /// appended (not computed by the model), so a constrained answer is always valid; it ends
    /// with `length`.
    private func completeConstraint(_ s: Sequence) {
        guard let constraint = s.request.constraint, !s.inThinking, !s.awaitingThinking,
              let rest = constraint.shortestCompletion(from: s.constraintState), !rest.isEmpty else { return }
        let tokens = String(validating: rest, as: UTF8.self).map { model.tokenizer.encode($0, parseSpecialTokens: false) }
            ?? rest.compactMap { vocabulary.byteToken($0) }
        for t in tokens { emit(s, t) }
        s.output.completionTokens = tokens.count
        s.constraintState = constraint.advance(s.constraintState, bytes: rest)
    }

    private func emit(_ s: Sequence, _ id: Int) {
        s.output.tokens.append(id)
        let piece = s.decoder.append(id)
        s.output.text += piece
        if !piece.isEmpty { s.onEvent(.text(piece)) }
    }

    private func finish(_ s: Sequence) {
        guard !s.finished else { return }
        s.finished = true
        s.output.text += s.decoder.finish()
        if let split = ThinkingParser.split(s.output.text) {
            s.output.reasoning = split.reasoning
            s.output.content = split.content
        } else {
            s.output.content = s.output.text
        }
        s.output.seconds = Date().timeIntervalSince(s.started)
        s.onEvent(.finished(s.output))
    }
}
