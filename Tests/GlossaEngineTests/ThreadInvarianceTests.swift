import CGlossaKernels
import Foundation
import Testing
@testable import GlossaEngine

/// The engine's output does not depend on its thread count: every logit is bitwise the same
/// at 1, 2, 3, 4 and 7 threads (each model loaded with a worker pool of that many threads),
/// in a long prefill (rows split for the norms and SwiGLU too) and in batched greedy decoding.
/// 3 and 7 split the weight rows off the 4-row tiles of the AVX-512 kernels and SwiGLU off
/// its 16-lane blocks.
@Suite(.serialized) struct ThreadInvarianceTests {
    static let counts = [1, 2, 3, 4, 7]

    struct Run: Equatable {
        /// Bit patterns of every prefill logit, and of every batched step's logits.
        var prefill: [UInt32]
        var steps: [[UInt32]]
        /// Greedy tokens of each sequence of the batch.
        var tokens: [[Int]]
    }

    /// A prefill of `prompt` (all logits), then `prompts` prefilled together as one batch and
    /// decoded greedily together for `steps` steps.
    static func run(_ model: Transformer, prompt: [Int], prompts: [[Int]], steps: Int) -> Run {
        let prefill = model.forward(prompt, cache: model.makeCache(capacity: prompt.count)).map(\.bitPattern)
        let caches = prompts.map { model.makeCache(capacity: $0.count + steps) }
        var inputs = prompts
        var tokens = [[Int]](repeating: [], count: prompts.count)
        var logits: [[UInt32]] = []
        for _ in 0..<steps {
            let out = model.forward(batch: zip(inputs, caches).map { Transformer.Segment(tokens: $0, cache: $1, logits: .last) })
            logits.append(out.flatMap { $0.map(\.bitPattern) })
            for (i, row) in out.enumerated() {
                let next = argmax(row)
                tokens[i].append(next)
                inputs[i] = [next]
            }
        }
        return Run(prefill: prefill, steps: logits, tokens: tokens)
    }

    /// Deterministic token ids below `vocabulary`.
    static func tokens(_ count: Int, seed: Int, vocabulary: Int) -> [Int] {
        (0..<count).map { (($0 + 1) * 7_919 + seed * 104_729) % vocabulary }
    }

    static func expectSameForEveryCount(_ name: String, load: (EngineOptions) throws -> Transformer,
                                        prompt: (Int) -> [Int], prompts: (Int) -> [[Int]], steps: Int) throws {
        var reference: Run?
        for threads in counts {
            let model = try load(EngineOptions(threads: threads))
            #expect(model.threads == threads)
            let v = model.config.vocabularySize
            let run = run(model, prompt: prompt(v), prompts: prompts(v), steps: steps)
            #expect(run.prefill.count == prompt(v).count * v && run.steps.count == steps)
            guard let reference else {
                reference = run
                continue
            }
            // The first differing logit, not the whole arrays (millions of values), in a failure.
            func firstDifference(_ a: [UInt32], _ b: [UInt32]) -> Int? {
                a.count != b.count ? min(a.count, b.count) : a.indices.first { a[$0] != b[$0] }
            }
            let prefillDifference = firstDifference(run.prefill, reference.prefill)
            #expect(prefillDifference == nil, "\(name): prefill logits at \(threads) threads differ from 1 thread")
            for step in 0..<steps {
                let difference = firstDifference(run.steps[step], reference.steps[step])
                #expect(difference == nil, "\(name): batched step \(step) at \(threads) threads differs")
            }
            #expect(run.tokens == reference.tokens, "\(name): greedy tokens at \(threads) threads differ")
        }
    }

    /// Tiny Qwen3, Qwen3-MoE and Qwen2 checkpoints (F32 weights, f32 cache) and their GGUF files
    /// (F16/F32 weights, stacked experts, f16 cache). 150 prompt rows split the norms (>= 64
    /// rows) and SwiGLU (>= 16,384 elements) between the threads; the 512-row output head splits
    /// its rows.
    @Test(arguments: ["qwen3", "qwen3moe", "qwen2", "qwen3-bf16", "qwen3.gguf", "qwen3moe.gguf", "qwen2.gguf"])
    func tinyModelsGiveTheSameBitsOnAnyThreadCount(_ name: String) throws {
        let path = Fixtures.tiny.appendingPathComponent(name).path
        try Self.expectSameForEveryCount(name, load: { options in
            name.hasSuffix(".gguf") ? try Transformer(gguf: GGUFFile(path: path), options: options)
                : try Transformer(directory: path, options: options)
        }, prompt: { Self.tokens(150, seed: 1, vocabulary: $0) },
           prompts: { v in [Self.tokens(9, seed: 2, vocabulary: v), Self.tokens(70, seed: 3, vocabulary: v), [5], Self.tokens(3, seed: 4, vocabulary: v)] },
           steps: 6)
    }

    /// The default model (Q4_K / Q6_K weights on the VNNI or AVX2 kernels, f16 cache): a
    /// 70-token prefill, then four sequences prefilled together and decoded together.
    @Test func defaultModelGivesTheSameBitsOnAnyThreadCount() throws {
        let ids = DefaultModel.tokenizer.encode("Der Drucker im zweiten Stock druckt nur leere Seiten, obwohl der Toner neu ist. "
            + "Please restart the build server before the meeting; we shipped the fix in 2.4.1 and the export works again. "
            + "ログイン画面でエラーが表示されます。 مرحبا، لا يمكنني تسجيل الدخول منذ الأمس.")
        try #require(ids.count >= 70)
        try Self.expectSameForEveryCount("default model", load: { options in try Transformer(gguf: DefaultModel.gguf, options: options) },
                                         prompt: { _ in Array(ids.prefix(70)) },
                                         prompts: { _ in [Array(ids.prefix(12)), Array(ids[20..<25]), [ids[3]], Array(ids[30..<39])] },
                                         steps: 3)
    }

    /// The SwiGLU split starts every part on a multiple of 16 elements, so an element takes
    /// the same path (vector loop or scalar tail) for any thread count.
    @Test func swigluIsTheSameOnAnyThreadCount() throws {
        let count = 16_384 * 2 + 13   // split at 2+ threads, with a scalar tail
        let g = (0..<count).map { Float(sin(Double($0) * 0.37)) * 9 }
        let u = (0..<count).map { Float(cos(Double($0) * 0.11)) * 3 }
        func product(threads: Int) -> [UInt32] {
            let pool = WorkerPool.pool(threads: threads)
            var a = [Float](repeating: 0, count: count)
            g.withUnsafeBufferPointer { g in
                u.withUnsafeBufferPointer { u in
                    a.withUnsafeMutableBufferPointer { a in
                        let gp = UnsafeSendable(g.baseAddress!), up = UnsafeSendable(u.baseAddress!), ap = UnsafeSendable(a.baseAddress!)
                        // As FeedForward splits it.
                        pool.run(pool.threads) { t in
                            let part = FeedForward.part(t, of: count, threads: pool.threads)
                            glossa_swiglu(gp.value + part.lowerBound, up.value + part.lowerBound, ap.value + part.lowerBound,
                                          Int64(part.count))
                        }
                    }
                }
            }
            return a.map(\.bitPattern)
        }
        let one = product(threads: 1)
        for threads in Self.counts.dropFirst() {
            #expect(product(threads: threads) == one, "\(threads) threads")
        }
        for threads in Self.counts {
            var covered = 0
            for t in 0..<threads {
                let range = FeedForward.part(t, of: count, threads: threads)
                #expect(range.lowerBound == covered && (t == threads - 1 || range.upperBound % 16 == 0))
                covered = range.upperBound
            }
            #expect(covered == count)
        }
    }
}

/// The worker pool under stress: many short jobs, workers parking between some of them (the
/// pause), every part run exactly once, on pools larger than the machine.
@Suite struct WorkerPoolTests {
    @Test(arguments: [2, 3, 7])
    func everyPartRunsOnceAndNoWakeUpIsLost(_ threads: Int) {
        let pool = WorkerPool.pool(threads: threads)
        #expect(pool.threads == threads)
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 16)
        defer { counts.deallocate() }
        let shared = UnsafeSendable(counts)
        for job in 0..<3_000 {
            let parts = 1 + job % 16
            counts.initialize(repeating: 0)
            pool.run(parts) { t in shared.value[t] += 1 }
            if (0..<parts).contains(where: { counts[$0] != 1 }) {
                Issue.record("job \(job): parts ran \(Array(counts.prefix(parts))) times")
                return
            }
            // Now and then long enough for the workers to park (they spin about 50 µs first).
            if job % 97 == 0 { usleep(300) }
        }
    }
}
