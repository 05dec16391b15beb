import Foundation
import Testing
@testable import GlossaEngine

enum Fixtures {
    static let tiny: URL = {
        _ = processConfigured
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny")
    }()
}

/// The process-wide settings `glossa` makes at start, made before the first test model is read:
/// every model the tests run comes from `Fixtures.tiny` or `DefaultModel.gguf`, which touch this.
let processConfigured: Void = Engine.configureProcess()

/// Logits and greedy tokens of Hugging Face transformers on tiny random checkpoints
/// (Fixtures/tiny/make_tiny_models.py): F32 within 1e-4 x max|logit|, BF16 weights against
/// the reference computed from the same BF16 weights in F32.
@Suite struct TransformerTests {
    @Test(arguments: ["qwen3", "qwen3moe", "qwen2", "qwen3-bf16", "qwen3moe-bf16", "qwen2-bf16"])
    func logitsAndGreedyMatchTransformers(_ name: String) throws {
        let dir = Fixtures.tiny.appendingPathComponent(name).path
        let model = try Transformer(directory: dir)
        let reference = try SafetensorsFile(path: dir + "/reference.safetensors")
        for p in 0..<2 {
            let ids = try reference.integers("prompt\(p).ids")
            let expected = try reference.floats("prompt\(p).logits")
            let cache = KVCache(config: model.config, capacity: 64)
            let logits = model.forward(ids, cache: cache)
            #expect(logits.count == expected.count)
            let peak = expected.map(abs).max()!
            let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
            print("\(name) prompt\(p): max |Δlogit| \(worst) (max |logit| \(peak))")
            #expect(worst <= 1e-4 * peak, "\(name) prompt \(p)")
            #expect(model.greedy(ids, count: 16) == (try reference.integers("prompt\(p).greedy")), "\(name) prompt \(p) greedy")
        }
    }

    @Test func incrementalDecodingMatchesOnePass() throws {
        let model = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path)
        let ids = [3, 511, 7, 7, 7, 100, 250, 9]
        let whole = model.forward(ids, cache: KVCache(config: model.config, capacity: 16))
        let cache = KVCache(config: model.config, capacity: 16)
        _ = model.forward(Array(ids[0..<5]), cache: cache)
        let rest = model.forward(Array(ids[5...]), cache: cache)
        let v = model.config.vocabularySize
        let worst = zip(rest, whole[(5 * v)...]).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4)
    }

    @Test func configsAreRead() throws {
        let moe = try ModelConfig.huggingFace(path: Fixtures.tiny.appendingPathComponent("qwen3moe/config.json").path)
        #expect(moe.architecture == .qwen3MoE && moe.expertCount == 4 && moe.expertsPerToken == 2 && moe.qkNorm && !moe.qkvBias)
        #expect(moe.ropeTheta == 1e6)
        let q2 = try ModelConfig.huggingFace(path: Fixtures.tiny.appendingPathComponent("qwen2/config.json").path)
        #expect(q2.architecture == .qwen2 && q2.qkvBias && !q2.qkNorm && !q2.tiedEmbeddings && q2.headDimension == 16)
    }

    @Test func brokenCheckpointsAreClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Fixtures.tiny.appendingPathComponent("qwen3")
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        let weights = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        try weights.prefix(weights.count - 100).write(to: dir.appendingPathComponent("model.safetensors"))
        do {
            _ = try Transformer(directory: dir.path)
            Issue.record("truncated checkpoint loaded")
        } catch {
            #expect(error.description.contains("truncated"), "\(error)")
        }
        var config = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "Qwen3ForCausalLM", with: "LlamaForCausalLM")
        try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: EngineError.unsupportedArchitecture("LlamaForCausalLM")) { try Transformer(directory: dir.path) }
    }
}

/// The same tiny checkpoints as GGUF files (llama.cpp's names, F32 and F16 tensors, stacked
/// MoE experts) give the transformers logits too.
@Suite struct GGUFTransformerTests {
    @Test(arguments: ["qwen3", "qwen3moe", "qwen2"])
    func ggufMatchesTransformers(_ name: String) throws {
        let model = try Transformer(gguf: GGUFFile(path: Fixtures.tiny.appendingPathComponent("\(name).gguf").path))
        let reference = try SafetensorsFile(path: Fixtures.tiny.appendingPathComponent("\(name)/reference.safetensors").path)
        let ids = try reference.integers("prompt1.ids")
        let expected = try reference.floats("prompt1.logits")
        // An f32 cache, as transformers computes (an f16 one, the GGUF default, rounds the tiny
        // MoE's router across near ties).
        let logits = model.forward(ids, cache: KVCache(config: model.config, capacity: 64, precision: .f32))
        let peak = expected.map(abs).max()!
        let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
        print("\(name).gguf: max |Δlogit| \(worst)")
        // F16 weights (about half the matrices) round the reference's F32 weights.
        #expect(worst <= 2e-2 * peak)
        #expect(model.config.architecture.rawValue.lowercased().contains(name == "qwen3moe" ? "moe" : name))
    }
}
