import Foundation
import Testing
@testable import GlossaEngine

/// llama.cpp's greedy outputs on the default model (shared/reference/llamacpp-default-model.json).
@Suite(.serialized) struct DefaultModelParityTests {
    struct Reference: Decodable {
        struct Prompt: Decodable {
            struct Greedy: Decodable { var gen_ids: [Int]; var text: String }
            struct Top: Decodable { var id: Int; var logit: Double }
            var lang: String
            var prompt_ids: [Int]
            var greedy: Greedy
            var first_pos_top5_raw: [Top]?
            /// llama.cpp's top-5 raw logits at every step of its greedy run.
            var steps: [[Top]]
        }
        var prompts: [Prompt]
    }

    static let model: Transformer = try! Transformer(gguf: DefaultModel.gguf)

    static func reference() throws -> Reference {
        let url = DefaultModel.root.deletingLastPathComponent().appendingPathComponent("shared/reference/llamacpp-default-model.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// How far our logits may be from llama.cpp's. Both engines quantize activations to 8 bits
    /// and llama.cpp sums attention in f16, so logits differ by noise of a few tenths: over these
    /// runs' 85 steps, 0.355 at worst with an f16 cache (the GGUF default) and 0.300 with f32,
    /// both through our attention kernel, the same on every machine; the mean is about 0.088.
    /// Any change of arithmetic moves the worst step: session 2's kernels measured 0.505, a
    /// softmax normalised before the V sum 0.44 (with de diverging at step 1, margin 0.135), and
    /// f32 attention through OpenBLAS 0.375 or 0.419 depending on the CPU kernel OpenBLAS picked
    /// (OPENBLAS_CORETYPE) — why attention no longer goes through it.
    static let tolerance = 0.4

    /// Teacher-forced along llama.cpp's greedy tokens, every step of every prompt: the
    /// reference's top-5 logits within the tolerance, and the same top token wherever the
    /// reference's top two are further apart than noise could bridge.
    @Test(arguments: KVCache.Precision.allCases)
    func everyStepStaysCloseToLlamaCpp(cache precision: KVCache.Precision) throws {
        var worst = 0.0, steps = 0
        for p in try Self.reference().prompts {
            let cache = KVCache(config: Self.model.config, capacity: p.prompt_ids.count + p.greedy.gen_ids.count, precision: precision)
            var logits = Self.model.forward(p.prompt_ids, cache: cache, allLogits: false)
            #expect(p.steps.count == p.greedy.gen_ids.count)
            for (i, (token, top)) in zip(p.greedy.gen_ids, p.steps).enumerated() {
                let delta = top.map { abs(Double(logits[$0.id]) - $0.logit) }.max()!
                worst = max(worst, delta)
                steps += 1
                #expect(delta < Self.tolerance, "\(precision) cache, \(p.lang) step \(i): |Δlogit| \(delta)")
                if top[0].logit - top[1].logit > 2 * Self.tolerance {
                    #expect(argmax(logits) == token, "\(precision) cache, \(p.lang) step \(i)")
                }
                if i + 1 < p.greedy.gen_ids.count { logits = Self.model.forward([token], cache: cache, allLogits: false) }
            }
        }
        print("default model, \(precision) cache: \(steps) teacher-forced steps, top-5 max |Δlogit| vs llama.cpp \(worst)")
    }

    /// Our own greedy runs: each follows llama.cpp's token for token until a step where the
    /// reference's top two are within noise of each other (ja, step 9: 0.009 apart), and all
    /// end the turn.
    @Test func greedyRunsDivergeOnlyAtNearTies() throws {
        let ref = try Self.reference()
        #expect(ref.prompts.count == 6)
        var identical = 0
        for p in ref.prompts {
            let ours = Self.model.greedy(p.prompt_ids, count: 40, stop: [151645, 151643])
            if ours == p.greedy.gen_ids { identical += 1 }
            #expect(ours.last == 151645, "\(p.lang): \(DefaultModel.tokenizer.decode(ours))")
            if let k = zip(ours, p.greedy.gen_ids).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                let margin = p.steps[k][0].logit - p.steps[k][1].logit
                print("\(p.lang): diverges from llama.cpp at step \(k), where its top two are \(margin) apart")
                #expect(margin < 2 * Self.tolerance, "\(p.lang) step \(k)")
            }
        }
        print("default model: \(identical) of \(ref.prompts.count) greedy continuations identical to llama.cpp")
        #expect(identical >= 5)
    }

    @Test func firstPositionLogitsAreClose() throws {
        for p in try Self.reference().prompts {
            guard let top = p.first_pos_top5_raw else { continue }
            let cache = KVCache(config: Self.model.config, capacity: p.prompt_ids.count + 1)
            let logits = Self.model.forward(p.prompt_ids, cache: cache, allLogits: false)
            let worst = top.map { abs(Double(logits[$0.id]) - $0.logit) }.max()!
            print("\(p.lang): first-position top-5 max |Δlogit| vs llama.cpp \(worst)")
            #expect(argmax(logits) == top[0].id)
            #expect(worst < 0.3)
        }
    }

}

@Suite struct GGUFErrorTests {
    func write(_ bytes: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-\(UUID().uuidString).gguf").path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func corruptFilesAreClearErrors() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: DefaultModel.path), options: .alwaysMapped)
        // Not GGUF at all.
        let notGGUF = try write(Data("hello world, not a model".utf8))
        defer { try? FileManager.default.removeItem(atPath: notGGUF) }
        #expect(throws: EngineError.invalidFile(path: notGGUF, reason: "no GGUF magic")) { try GGUFFile(path: notGGUF) }
        // Cut inside the metadata, and cut inside the tensor data.
        for cut in [1_000, original.count - 1_000_000] {
            let path = try write(original.prefix(cut))
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try Transformer(gguf: GGUFFile(path: path))
                Issue.record("a GGUF cut at \(cut) bytes loaded")
            } catch {
                #expect(error.description.contains("truncated"), "\(error)")
            }
        }
    }

    @Test func tensorNamesAndShapesAreChecked() throws {
        let weights = try GGUFWeights(file: DefaultModel.gguf)
        #expect(throws: EngineError.wrongShape(name: "blk.0.attn_q.weight", expected: [100, 896], found: [896, 896])) {
            try weights.matrix("model.layers.0.self_attn.q_proj.weight", rows: 896, columns: 100)
        }
        #expect(throws: EngineError.missingTensor(name: "blk.0.attn_q_norm.weight", path: DefaultModel.path)) {
            try weights.vector("model.layers.0.self_attn.q_norm.weight", count: 64)
        }
        #expect(weights.config.architecture == .qwen2 && weights.config.layerCount == 24 && weights.config.headCount == 14
                && weights.config.keyValueHeadCount == 2 && !weights.config.tiedEmbeddings)
    }
}

/// A token's logits do not depend on how the sequence was fed: one pass over the prompt and
/// token-by-token decoding give bitwise equal results (the quantized kernels compute each row
/// the same way whatever the number of tokens in the call).
@Suite struct KernelInvarianceTests {
    @Test func prefillEqualsIncrementalDecoding() throws {
        let model = DefaultModelParityTests.model
        let ids = DefaultModel.tokenizer.encode("<|im_start|>user\nTranslate to French: the build is green.<|im_end|>\n<|im_start|>assistant\n")
        let whole = model.forward(ids, cache: KVCache(config: model.config, capacity: ids.count))
        let cache = KVCache(config: model.config, capacity: ids.count)
        let v = model.config.vocabularySize
        for (p, id) in ids.enumerated() {
            let step = model.forward([id], cache: cache)
            #expect(step == Array(whole[(p * v)..<((p + 1) * v)]), "position \(p)")
        }
    }
}
