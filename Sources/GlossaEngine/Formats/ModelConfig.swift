import Foundation

/// The architecture of a Qwen-family checkpoint, read from `config.json` (or GGUF metadata).
/// One struct with switches: qkv bias (Qwen2), qk-norm (Qwen3), MoE (Qwen3-MoE).
public struct ModelConfig: Codable, Sendable, Equatable {
    public enum Architecture: String, Codable, Sendable {
        case qwen2 = "Qwen2ForCausalLM"
        case qwen3 = "Qwen3ForCausalLM"
        case qwen3MoE = "Qwen3MoeForCausalLM"
    }

    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var keyValueHeadCount: Int
    public var headDimension: Int
    public var ropeTheta: Double
    public var rmsNormEpsilon: Float
    public var tiedEmbeddings: Bool
    public var qkvBias: Bool
    public var qkNorm: Bool
    public var maxPositions: Int
    // Mixture of experts (Qwen3-MoE); expertCount == 0 means a dense MLP everywhere.
    public var expertCount = 0
    public var expertsPerToken = 0
    public var expertIntermediateSize = 0
    public var normalizeTopKProbabilities = true
    public var sparseStep = 1
    public var denseLayers: [Int] = []
    /// Element type of the key/value cache: f16 for GGUF models (as llama.cpp keeps it, half the
    /// memory), f32 for Hugging Face checkpoints (computed in f32, as transformers does).
    public var kvCache: KVCache.Precision = .f32

    /// Whether layer `i` uses experts (Qwen3-MoE's decoder_sparse_step / mlp_only_layers).
    public func isMoE(layer i: Int) -> Bool {
        expertCount > 0 && !denseLayers.contains(i) && sparseStep > 0 && (i + 1) % sparseStep == 0
    }

    /// Reads a Hugging Face `config.json`.
    public static func huggingFace(path: String) throws(EngineError) -> ModelConfig {
        let object: [String: Any]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw EngineError.invalidConfig(path: path, reason: "not a JSON object")
            }
            object = o
        } catch let error as EngineError {
            throw error
        } catch {
            throw .invalidConfig(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        func int(_ key: String) throws(EngineError) -> Int {
            guard let v = object[key] as? Int else { throw .invalidConfig(path: path, reason: "missing integer \(key)") }
            return v
        }
        guard let name = (object["architectures"] as? [String])?.first else {
            throw .invalidConfig(path: path, reason: "missing architectures")
        }
        guard let architecture = Architecture(rawValue: name) else { throw .unsupportedArchitecture(name) }
        let hidden = try int("hidden_size"), heads = try int("num_attention_heads")
        let rope = (object["rope_parameters"] as? [String: Any])?["rope_theta"] ?? object["rope_theta"]
        var config = ModelConfig(
            architecture: architecture,
            vocabularySize: try int("vocab_size"),
            hiddenSize: hidden,
            intermediateSize: try int("intermediate_size"),
            layerCount: try int("num_hidden_layers"),
            headCount: heads,
            keyValueHeadCount: (object["num_key_value_heads"] as? Int) ?? heads,
            headDimension: (object["head_dim"] as? Int) ?? hidden / heads,
            ropeTheta: (rope as? Double) ?? Double((rope as? Int) ?? 10_000),
            rmsNormEpsilon: Float((object["rms_norm_eps"] as? Double) ?? 1e-6),
            tiedEmbeddings: (object["tie_word_embeddings"] as? Bool) ?? false,
            qkvBias: architecture == .qwen2 || ((object["attention_bias"] as? Bool) ?? false),
            qkNorm: architecture != .qwen2,
            maxPositions: (object["max_position_embeddings"] as? Int) ?? 32_768)
        if architecture == .qwen3MoE {
            config.expertCount = (object["num_experts"] as? Int) ?? (object["num_local_experts"] as? Int) ?? 0
            config.expertsPerToken = try int("num_experts_per_tok")
            config.expertIntermediateSize = try int("moe_intermediate_size")
            config.normalizeTopKProbabilities = (object["norm_topk_prob"] as? Bool) ?? false
            config.sparseStep = (object["decoder_sparse_step"] as? Int) ?? 1
            config.denseLayers = (object["mlp_only_layers"] as? [Int]) ?? []
            guard config.expertCount > 0, config.expertsPerToken > 0, config.expertsPerToken <= config.expertCount else {
                throw .invalidConfig(path: path, reason: "MoE config needs num_experts >= num_experts_per_tok > 0")
            }
        }
        guard config.headCount % config.keyValueHeadCount == 0, config.headDimension % 2 == 0 else {
            throw .invalidConfig(path: path, reason: "heads \(config.headCount)/\(config.keyValueHeadCount), head_dim \(config.headDimension) are inconsistent")
        }
        return config
    }
}
