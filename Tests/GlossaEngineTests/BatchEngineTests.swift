import Foundation
import Testing
@testable import GlossaEngine
import GlossaTestSupport

/// Continuous batching: outputs of a request do not depend on its neighbours.
@Suite(.serialized) struct BatchEngineTests {
    static let model: LanguageModel = LanguageModel(transformer: DefaultModelParityTests.model, tokenizer: DefaultModel.tokenizer,
                                                   template: .qwen25, stopTokens: [151645, 151643])

    static func requests(_ count: Int, maxTokens: Int = 16, sampling: (Int) -> SamplingParameters = { _ in .greedy }) -> [GenerationRequest] {
        let texts = ["The invoice is overdue.", "Please restart the build server before the meeting.",
                     "Der Drucker im zweiten Stock druckt nur leere Seiten, obwohl der Toner neu ist und die Warteschlange leer.",
                     "OK", "We shipped the fix in 2.4.1; can you confirm the export works again in Safari and Firefox?",
                     "ログイン画面でエラーが表示されます。", "مرحبا، لا يمكنني تسجيل الدخول منذ الأمس.", "Merci !"]
        let targets = ["French", "German", "Japanese", "English", "Spanish", "Korean", "Hindi", "Arabic"]
        return (0..<count).map { i in
            var r = GenerationRequest(.messages([ChatMessage(.system, "You are a translator."),
                                                 ChatMessage(.user, "Translate to \(targets[i % 8]): \(texts[(i * 3) % 8])")]))
            r.maxTokens = maxTokens + (i % 5) * 4
            r.sampling = sampling(i)
            return r
        }
    }

    @Test func greedyOutputIsTheSameAloneOrAmong31Others() throws {
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 8_192, stepTokens: 128)
        let requests = Self.requests(32)
        let together = engine.run(requests)
        #expect(together.count == 32)
        for i in [0, 3, 7, 12, 21, 31] {
            let alone = engine.run([requests[i]])[0]
            #expect(alone.tokens == together[i].tokens, "request \(i): \(alone.text) vs \(together[i].text)")
        }
        #expect(together.allSatisfy { !$0.tokens.isEmpty && $0.stopReason != .error })
    }

    /// Requests that share a long system prompt start from its stored cache after the first
    /// two, and every output is exactly that of an engine that prefills every prompt whole.
    @Test func sharedPromptBeginningsAreComputedOnce() throws {
        let system = "You are a professional translator. Translate the user's text into English. Keep URLs, e-mail addresses, @mentions, ticket ids and code exactly as they are. Reply with the translation only."
        let requests = Self.requests(6, maxTokens: 10).map { r -> GenerationRequest in
            var r = r
            if case let .messages(m) = r.input { r.input = .messages([ChatMessage(.system, system), m[1]]) }
            return r
        }
        let plain = BatchEngine(model: Self.model, stepTokens: 64, prefixCaching: false).run(requests)
        let engine = BatchEngine(model: Self.model, stepTokens: 64)
        let cached = engine.run(requests)
        #expect(cached.map(\.tokens) == plain.map(\.tokens))
        #expect(plain.allSatisfy { $0.cachedPromptTokens == 0 })
        #expect(cached[0].cachedPromptTokens == 0)
        #expect(cached.dropFirst().allSatisfy { $0.cachedPromptTokens >= 40 }, "\(cached.map(\.cachedPromptTokens))")
        #expect(cached.allSatisfy { $0.cachedPromptTokens < $0.promptTokens })
        // The store persists: a later run starts from it at once, with the same output.
        let again = engine.run([requests[0]])[0]
        #expect(again.tokens == plain[0].tokens && again.cachedPromptTokens >= 40)
        #expect(engine.prefixes!.storedTokens <= engine.prefixes!.maximumTokens)
    }

    @Test func seededSamplingIsTheSameAloneOrInABatch() throws {
        let engine = BatchEngine(model: Self.model, stepTokens: 64)
        let requests = Self.requests(6, sampling: { i in
            var p = SamplingParameters.qwen3NonThinking(seed: UInt64(100 + i))
            p.temperature = 1.0
            return p
        })
        let together = engine.run(requests)
        for i in [1, 4] {
            #expect(engine.run([requests[i]])[0].tokens == together[i].tokens)
        }
        // Same seed, same output; another seed, (almost surely) another output.
        #expect(engine.run([requests[2]])[0].tokens == together[2].tokens)
        var other = requests[2]
        other.sampling.seed = 999
        other.maxTokens = 40
        var again = requests[2]
        again.maxTokens = 40
        #expect(engine.run([other])[0].tokens != engine.run([again])[0].tokens)
    }

    @Test func admissionWaitsForTheKVBudget() throws {
        // Room for about two requests at a time: all still finish, in order of results.
        let requests = Self.requests(5, maxTokens: 8)
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 160, stepTokens: 64)
        let outputs = engine.run(requests)
        let unlimited = BatchEngine(model: Self.model).run(requests)
        #expect(outputs.map(\.tokens) == unlimited.map(\.tokens))
        // A prompt that can never fit fails alone, with a reason naming both numbers.
        let long = GenerationRequest(.tokens(Array(repeating: 9707, count: 200)))
        let mixed = engine.run([long, requests[1]])
        #expect(mixed[0].stopReason == .error && mixed[0].refusal == .contextLengthExceeded(promptTokens: 200, limit: 160, kvBudget: true))
        #expect(mixed[0].error?.contains("200") == true && mixed[0].error?.contains("160") == true)
        #expect(mixed[1].tokens == unlimited[1].tokens)
    }

    /// Limits from a request are clamped to the room its prompt leaves, whatever their size: no
    /// sum of them can overflow, and the sequence ends with `length` at the budget.
    @Test func limitsBeyondTheContextAreClamped() throws {
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 96, stepTokens: 64)
        var huge = GenerationRequest(.tokens(Array(repeating: 9707, count: 40)))
        huge.maxTokens = .max
        huge.thinkingBudget = .max
        huge.enableThinking = true
        var negative = huge
        negative.maxTokens = .min
        negative.thinkingBudget = .min
        let outputs = engine.run([huge, negative])
        #expect(outputs[0].stopReason != .error && outputs[0].tokens.count > 0)
        #expect(outputs[0].promptTokens + outputs[0].tokens.count <= 96)
        #expect(outputs[1].stopReason == .length && outputs[1].tokens.isEmpty)
        // The clamped answer is the same as asking for exactly the room that was left.
        var exact = huge
        exact.maxTokens = 96 - 40
        exact.thinkingBudget = nil
        exact.enableThinking = false
        var free = huge
        free.thinkingBudget = nil
        free.enableThinking = false
        #expect(engine.run([free])[0].tokens == engine.run([exact])[0].tokens)
    }

    /// Requests the engine cannot run are refused one by one, before anything is computed, and
    /// their neighbours in the batch are unaffected; the streaming service answers them too.
    @Test func requestsThatCannotRunAreRefusedAlone() async throws {
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 8_192, stepTokens: 64)
        let good = Self.requests(1, maxTokens: 6)[0]
        let cases: [(GenerationRequest, RequestRefusal)] = [
            (GenerationRequest(.tokens([])), .emptyPrompt),
            (GenerationRequest(.prompt("")), .emptyPrompt),
            (GenerationRequest(.tokens([1, 10_000_000])), .unknownToken(10_000_000, vocabularySize: Self.model.tokenizer.vocabularySize)),
            (GenerationRequest(.tokens([1, -5])), .unknownToken(-5, vocabularySize: Self.model.tokenizer.vocabularySize)),
            (GenerationRequest(.tokens(Array(repeating: 9707, count: 8_192))),
             .contextLengthExceeded(promptTokens: 8_192, limit: 8_192, kvBudget: true)),
        ]
        let outputs = engine.run(cases.map(\.0) + [good])
        for (output, (request, refusal)) in zip(outputs, cases) {
            #expect(output.stopReason == .error && output.refusal == refusal && output.tokens.isEmpty)
            #expect(throws: refusal) { try engine.validatedPrompt(request) }
        }
        #expect(outputs.last?.tokens == engine.run([good])[0].tokens)
        #expect(outputs.last?.stopReason != .error)
        var finished: GenerationOutput?
        for try await event in engine.stream(GenerationRequest(.tokens([]))) {
            if case let .finished(out) = event { finished = out }
        }
        #expect(finished?.refusal == .emptyPrompt)
        // The model's own context is the limit when the budget is larger.
        let wide = BatchEngine(model: Self.model, kvBudgetTokens: 1 << 20)
        let context = Self.model.transformer.config.maxPositions
        #expect(throws: RequestRefusal.contextLengthExceeded(promptTokens: context, limit: context, kvBudget: false)) {
            try wide.validatedPrompt(GenerationRequest(.tokens(Array(repeating: 9707, count: context))))
        }
    }

    @Test func stopStringsAndLengths() throws {
        var r = Self.requests(1, maxTokens: 30)[0]
        r.stopStrings = [" "]
        let out = BatchEngine(model: Self.model).run([r])[0]
        #expect(out.stopReason == .stop)
        #expect(!out.text.contains(" "))
        var short = Self.requests(1)[0]
        short.maxTokens = 2
        let two = BatchEngine(model: Self.model).run([short])[0]
        #expect(two.tokens.count == 2 && two.stopReason == .length)
    }
    /// Required text the model did not write is appended when the model stops, instead of the
    /// model being kept from stopping (it would write on until it happened to produce it).
    @Test func missingRequiredTextIsAppendedWhenTheModelStops() throws {
        var request = GenerationRequest(.messages([ChatMessage(.user, "Say hello in one word.")]))
        request.maxTokens = 64
        let free = BatchEngine(model: Self.model, stepTokens: 64).run([request])[0]
        request.constraint = try Constraint(.requiredText([RequiredText("https://x.example/1", minimum: 1, maximum: 1, commitAfter: 6)]))
        let out = BatchEngine(model: Self.model, stepTokens: 64).run([request])[0]
        #expect(free.stopReason == .stop && !free.text.contains("https://"))
        #expect(out.stopReason == .stop)
        #expect(out.completionTokens > 0)
        #expect(out.text == free.text + " https://x.example/1", "\(out.text)")
    }

    /// A loop is stopped by the repetition guard (reason `repetition`) long before the budget;
    /// without the guard the same request runs on. The guard is per request: its neighbour in
    /// the batch is unchanged.
    @Test func theRepetitionGuardStopsALoop() {
        var looping = GenerationRequest(.messages([ChatMessage(.user, "Write the word ha 200 times, separated by spaces.")]))
        looping.maxTokens = 160
        let neighbour = GenerationRequest(.messages([ChatMessage(.user, "Name a colour.")]))
        let engine = BatchEngine(model: Self.model, stepTokens: 64)
        let free = engine.run([looping, neighbour])
        var guarded = looping
        guarded.repetitionGuard = RepetitionGuard(ngram: 6, maxRepeats: 3)
        let stopped = engine.run([guarded, neighbour])
        #expect(free[0].stopReason == .length && free[0].tokens.count == 160)
        #expect(stopped[0].stopReason == .repetition)
        #expect(stopped[0].tokens.count < 40, "\(stopped[0].tokens.count)")
        // The guarded answer is the start of the free one.
        #expect(Array(free[0].tokens.prefix(stopped[0].tokens.count)) == stopped[0].tokens)
        #expect(stopped[1].tokens == free[1].tokens)
    }
}

@Suite struct SamplerTests {
    @Test func greedyTopKAndSeeds() {
        let logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        var g = Sampler(.greedy)
        #expect(g.sample(logits, history: []) == 1)
        var p = SamplingParameters()
        p.temperature = 1; p.topK = 1; p.seed = 5
        var k1 = Sampler(p)
        #expect((0..<20).allSatisfy { _ in k1.sample(logits, history: []) == 1 })
        p.topK = 0; p.topP = 1
        var a = Sampler(p), b = Sampler(p)
        let sa = (0..<50).map { _ in a.sample(logits, history: []) }
        let sb = (0..<50).map { _ in b.sample(logits, history: []) }
        #expect(sa == sb)
        #expect(Set(sa).count > 1)
        // min-p 0.5 keeps only tokens within half the top probability: ids 1 and 2.
        p.minP = 0.5
        var m = Sampler(p)
        #expect(Set((0..<100).map { _ in m.sample(logits, history: []) }).isSubset(of: [1, 2]))
    }

    @Test func penalties() {
        var p = SamplingParameters()
        p.repetitionPenalty = 10
        var s = Sampler(p)
        #expect(s.sample([0.1, 2.0, 1.9], history: [1]) == 2)
        p = SamplingParameters()
        p.presencePenalty = 0.5
        var t = Sampler(p)
        #expect(t.sample([0.1, 2.0, 1.9], history: [1]) == 2)
        // Frequency counts occurrences: token 1 seen once loses 0.3 and stays ahead of 2
        // (1.7 vs 1.6 after 2's one occurrence); seen three times it falls behind.
        p = SamplingParameters()
        p.frequencyPenalty = 0.3
        var f = Sampler(p)
        #expect(f.sample([0.1, 2.0, 1.9], history: [1, 2]) == 1)
        #expect(f.sample([0.1, 2.0, 1.9], history: [1, 1, 1, 2]) == 2)
        // Presence counts once whatever the occurrences.
        p = SamplingParameters()
        p.presencePenalty = 0.3
        var once = Sampler(p)
        #expect(once.sample([0.1, 2.0, 1.9], history: [1, 1, 1, 2]) == 1)
    }
}

@Suite(.serialized) struct BatchStreamingTests {
    /// Requests submitted one after another join the running loop; each stream delivers its
    /// text and final result, identical to a plain run; cancelling one leaves the others alone.
    @Test func streamsJoinMidFlightAndCancelAlone() async throws {
        let engine = BatchEngine(model: BatchEngineTests.model, stepTokens: 64)
        let requests = BatchEngineTests.requests(4, maxTokens: 12)
        let expected = engine.run(requests)
        let results = try await withThrowingTaskGroup(of: (Int, GenerationOutput?, String).self) { group in
            for (i, r) in requests.enumerated() {
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(i) * 30_000_000)
                    var text = ""
                    var final: GenerationOutput?
                    for try await event in engine.stream(r) {
                        switch event {
                        case let .text(piece): text += piece
                        case let .finished(out): final = out
                        }
                        if i == 2 && text.count > 0 { break }  // the consumer walks away: cancels request 2
                    }
                    return (i, final, text)
                }
            }
            var all: [(Int, GenerationOutput?, String)] = []
            for try await r in group { all.append(r) }
            return all.sorted { $0.0 < $1.0 }
        }
        for (i, final, text) in results where i != 2 {
            #expect(final?.tokens == expected[i].tokens, "request \(i)")
            #expect(text == final?.text)
        }
        // The engine keeps serving after a cancellation.
        var again: GenerationOutput?
        for try await event in engine.stream(requests[3]) { if case let .finished(out) = event { again = out } }
        #expect(again?.tokens == expected[3].tokens)
    }
}

@Suite struct TinyBatchInvarianceTests {
    /// The same property on the tiny transformers checkpoints (dense F32 rows, MoE routing).
    @Test(arguments: ["qwen3", "qwen3moe", "qwen2"])
    func aloneOrAmong31Others(_ name: String) throws {
        let transformer = try Transformer(directory: Fixtures.tiny.appendingPathComponent(name).path)
        let model = LanguageModel(transformer: transformer, tokenizer: try GeneratorTests.makeModel().tokenizer, template: .qwen3, stopTokens: [])
        let requests = (0..<32).map { i -> GenerationRequest in
            var r = GenerationRequest(.tokens((0..<(3 + (i * 7) % 29)).map { (i * 31 + $0 * 17) % 500 + 1 }))
            r.maxTokens = 6 + i % 7
            return r
        }
        let engine = BatchEngine(model: model, stepTokens: 48)
        let together = engine.run(requests)
        for i in 0..<32 { #expect(engine.run([requests[i]])[0].tokens == together[i].tokens, "\(name) request \(i)") }
    }
}

/// The vectorised normaliser of logprobs against a scalar Double sum, on rows shaped like
/// logits (a peak, a long tail, very negative values), within its stated 1e-4.
@Suite struct LogSumExpTests {
    @Test func matchesTheDoubleSum() {
        var generator = SeededGenerator(seed: 7)
        for n in [1, 15, 16, 17, 1_000, 151_936] {
            let row = (0..<n).map { i -> Float in i % 97 == 0 ? -200 : Float.random(in: -30...18, using: &generator) }
            let m = row.max() ?? 0
            let exact = Double(m) + log(row.reduce(0.0) { $0 + exp(Double($1 - m)) })
            let fast = row.withUnsafeBufferPointer { LogSumExp.of($0) }
            #expect(abs(fast - exact) < 1e-4, "n = \(n): \(fast) vs \(exact)")
        }
        #expect([Float]().withUnsafeBufferPointer { LogSumExp.of($0) } == -.infinity)
    }
}
