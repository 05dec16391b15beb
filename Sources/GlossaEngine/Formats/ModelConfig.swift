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
        // Checked before it divides anything.
        guard heads > 0 else { throw .invalidConfig(path: path, reason: "num_attention_heads is \(heads); it must be at least 1") }
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
        }
        try config.validate(path: path, names: .huggingFace)
        return config
    }

    // MARK: - Validation

    /// How a file spells each setting, so that an error names the key a user would look for.
    struct SettingNames {
        var vocabularySize, hiddenSize, intermediateSize, layerCount, headCount, keyValueHeadCount, headDimension: String
        var ropeTheta, rmsNormEpsilon, maxPositions, expertCount, expertsPerToken, expertIntermediateSize: String

        static let huggingFace = SettingNames(
            vocabularySize: "vocab_size", hiddenSize: "hidden_size", intermediateSize: "intermediate_size",
            layerCount: "num_hidden_layers", headCount: "num_attention_heads", keyValueHeadCount: "num_key_value_heads",
            headDimension: "head_dim", ropeTheta: "rope_theta", rmsNormEpsilon: "rms_norm_eps",
            maxPositions: "max_position_embeddings", expertCount: "num_experts", expertsPerToken: "num_experts_per_tok",
            expertIntermediateSize: "moe_intermediate_size")

        /// GGUF metadata keys of architecture `arch` (`qwen2.embedding_length`, ...).
        static func gguf(_ arch: String) -> SettingNames {
            SettingNames(
                vocabularySize: "the length of tokenizer.ggml.tokens", hiddenSize: "\(arch).embedding_length",
                intermediateSize: "\(arch).feed_forward_length", layerCount: "\(arch).block_count",
                headCount: "\(arch).attention.head_count", keyValueHeadCount: "\(arch).attention.head_count_kv",
                headDimension: "\(arch).attention.key_length", ropeTheta: "\(arch).rope.freq_base",
                rmsNormEpsilon: "\(arch).attention.layer_norm_rms_epsilon", maxPositions: "\(arch).context_length",
                expertCount: "\(arch).expert_count", expertsPerToken: "\(arch).expert_used_count",
                expertIntermediateSize: "\(arch).expert_feed_forward_length")
        }
    }

    // Bounds far above any Qwen model (151,936 tokens, width 5,120, 64 layers, 64 heads of 128)
    // that keep every product of two settings (q width = heads x head dim, a weight matrix's
    // element count, ...) well inside Int, so that a crafted file cannot make the model's
    // construction overflow before the tensor shapes are compared with the file's.
    static let largestVocabulary = 1 << 24
    static let largestWidth = 1 << 20
    static let mostLayers = 4_096
    static let mostHeads = 4_096
    static let largestHeadDimension = 8_192
    static let mostExperts = 4_096

    /// Throws unless every setting is one a model can be built from: no zero or negative
    /// sizes (divisions, empty ranges), no sizes that overflow when multiplied, head counts
    /// that group evenly, an even head dimension (RoPE rotates halves).
    func validate(path: String, names: SettingNames) throws(EngineError) {
        func check(_ value: Int, _ name: String, _ range: ClosedRange<Int>) throws(EngineError) {
            guard range.contains(value) else {
                throw .invalidConfig(path: path, reason: "\(name) is \(value); it must be between \(range.lowerBound) and \(range.upperBound)")
            }
        }
        try check(vocabularySize, names.vocabularySize, 1...Self.largestVocabulary)
        try check(hiddenSize, names.hiddenSize, 1...Self.largestWidth)
        try check(layerCount, names.layerCount, 1...Self.mostLayers)
        try check(headCount, names.headCount, 1...Self.mostHeads)
        try check(keyValueHeadCount, names.keyValueHeadCount, 1...headCount)
        guard headCount % keyValueHeadCount == 0 else {
            throw .invalidConfig(path: path, reason: "\(names.headCount) (\(headCount)) is not a multiple of "
                                 + "\(names.keyValueHeadCount) (\(keyValueHeadCount))")
        }
        try check(headDimension, names.headDimension, 2...Self.largestHeadDimension)
        guard headDimension % 2 == 0 else { throw .invalidConfig(path: path, reason: "\(names.headDimension) is \(headDimension); it must be even") }
        try check(maxPositions, names.maxPositions, 1...Int(Int32.max))
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw .invalidConfig(path: path, reason: "\(names.ropeTheta) is \(ropeTheta); it must be a positive number")
        }
        guard rmsNormEpsilon.isFinite, rmsNormEpsilon >= 0 else {
            throw .invalidConfig(path: path, reason: "\(names.rmsNormEpsilon) is \(rmsNormEpsilon); it must be a small non-negative number")
        }
        if architecture == .qwen3MoE {
            try check(expertCount, names.expertCount, 1...Self.mostExperts)
            try check(expertsPerToken, names.expertsPerToken, 1...expertCount)
            try check(expertIntermediateSize, names.expertIntermediateSize, 1...Self.largestWidth)
        }
        // A dense layer multiplies by intermediate-size matrices; an all-experts model need not have any.
        let hasDenseLayer = (0..<layerCount).contains { !isMoE(layer: $0) }
        try check(intermediateSize, names.intermediateSize, (hasDenseLayer ? 1 : 0)...Self.largestWidth)
    }
}
