import Foundation

/// The architecture of a Qwen-family checkpoint: Hugging Face's `config.json` decoded with
/// `Codable` (its own key names, below), or GGUF metadata (`init(gguf:hasOutput:)`). One struct
/// with switches: qkv bias (Qwen2), qk-norm (Qwen3), MoE (Qwen3-MoE). How the engine runs the
/// model (key/value cache type, threads) is not part of it: see `EngineOptions`.
public struct ModelConfig: Codable, Sendable, Equatable {
    public enum Architecture: String, Codable, Sendable {
        case qwen2 = "Qwen2ForCausalLM"
        case qwen3 = "Qwen3ForCausalLM"
        case qwen3MoE = "Qwen3MoeForCausalLM"
    }

    /// The kind of file the settings were read from. It decides the engine's default
    /// key/value cache (`KVCache.Precision.default(for:)`), nothing in the architecture.
    public enum Format: String, Codable, Sendable {
        case huggingFace, gguf
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
    public var format = Format.huggingFace

    public init(architecture: Architecture, vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
                headCount: Int, keyValueHeadCount: Int, headDimension: Int, ropeTheta: Double, rmsNormEpsilon: Float,
                tiedEmbeddings: Bool, qkvBias: Bool, qkNorm: Bool, maxPositions: Int, format: Format = .huggingFace) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headDimension = headDimension
        self.ropeTheta = ropeTheta
        self.rmsNormEpsilon = rmsNormEpsilon
        self.tiedEmbeddings = tiedEmbeddings
        self.qkvBias = qkvBias
        self.qkNorm = qkNorm
        self.maxPositions = maxPositions
        self.format = format
    }

    /// Whether layer `i` uses experts (Qwen3-MoE's decoder_sparse_step / mlp_only_layers).
    public func isMoE(layer i: Int) -> Bool {
        expertCount > 0 && !denseLayers.contains(i) && sparseStep > 0 && (i + 1) % sparseStep == 0
    }

    // MARK: - Hugging Face config.json

    /// Hugging Face's names. Keys the engine does not use (dropout, token ids, ...) are ignored.
    enum CodingKeys: String, CodingKey {
        case architectures
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case keyValueHeadCount = "num_key_value_heads"
        case headDimension = "head_dim"
        case ropeTheta = "rope_theta"
        /// transformers 5 moves rope_theta into this object; older files have it at the top.
        case ropeParameters = "rope_parameters"
        case rmsNormEpsilon = "rms_norm_eps"
        case tiedEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case maxPositions = "max_position_embeddings"
        case expertCount = "num_experts"
        /// Another spelling of num_experts (Mixtral's, which some Qwen3-MoE exports use).
        case localExpertCount = "num_local_experts"
        case expertsPerToken = "num_experts_per_tok"
        case expertIntermediateSize = "moe_intermediate_size"
        case normalizeTopKProbabilities = "norm_topk_prob"
        case sparseStep = "decoder_sparse_step"
        case denseLayers = "mlp_only_layers"
    }

    enum RopeKeys: String, CodingKey {
        case ropeTheta = "rope_theta"
    }

    /// The file a decoder reads, for validation errors (`ModelConfig(huggingFace:)` sets it).
    public static let pathKey = CodingUserInfoKey(rawValue: "glossa.configPath")!

    /// Decodes and validates a `config.json`: required keys must be there with the right type;
    /// optional ones take Hugging Face's defaults when absent or null; a present value of the
    /// wrong type is an error, never a silent default. Errors are `EngineError`s or
    /// `DecodingError`s (`ModelConfig(huggingFace:)` turns the latter into `EngineError`s).
    public init(from decoder: any Decoder) throws {
        let path = decoder.userInfo[Self.pathKey] as? String ?? "config.json"
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let names = try c.decode([String].self, forKey: .architectures)
        guard let name = names.first else { throw EngineError.invalidConfig(path: path, reason: "architectures is empty") }
        guard let architecture = Architecture(rawValue: name) else { throw EngineError.unsupportedArchitecture(name) }
        let hidden = try c.number(Int.self, forKey: .hiddenSize)
        let heads = try c.number(Int.self, forKey: .headCount)
        // Checked before it divides anything (head_dim's default).
        guard heads > 0 else { throw EngineError.invalidConfig(path: path, reason: "num_attention_heads is \(heads); it must be at least 1") }
        // rope_theta is written as an integer (1000000) or a float (1000000.0); JSON numbers
        // decode as Double either way.
        var rope = try c.optionalNumber(Double.self, forKey: .ropeTheta)
        if c.contains(.ropeParameters), try !c.decodeNil(forKey: .ropeParameters) {
            let parameters = try c.nestedContainer(keyedBy: RopeKeys.self, forKey: .ropeParameters)
            rope = try parameters.optionalNumber(Double.self, forKey: .ropeTheta) ?? rope
        }
        self.init(
            architecture: architecture,
            vocabularySize: try c.number(Int.self, forKey: .vocabularySize),
            hiddenSize: hidden,
            intermediateSize: try c.number(Int.self, forKey: .intermediateSize),
            layerCount: try c.number(Int.self, forKey: .layerCount),
            headCount: heads,
            keyValueHeadCount: try c.optionalNumber(Int.self, forKey: .keyValueHeadCount) ?? heads,
            headDimension: try c.optionalNumber(Int.self, forKey: .headDimension) ?? hidden / heads,
            ropeTheta: rope ?? 10_000,
            rmsNormEpsilon: Float(try c.optionalNumber(Double.self, forKey: .rmsNormEpsilon) ?? 1e-6),
            tiedEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false,
            qkvBias: try architecture == .qwen2 || (c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false),
            qkNorm: architecture != .qwen2,
            maxPositions: try c.optionalNumber(Int.self, forKey: .maxPositions) ?? 32_768)
        if architecture == .qwen3MoE {
            let localExperts = try c.optionalNumber(Int.self, forKey: .localExpertCount)
            expertCount = try c.optionalNumber(Int.self, forKey: .expertCount) ?? localExperts ?? 0
            expertsPerToken = try c.number(Int.self, forKey: .expertsPerToken)
            expertIntermediateSize = try c.number(Int.self, forKey: .expertIntermediateSize)
            normalizeTopKProbabilities = try c.decodeIfPresent(Bool.self, forKey: .normalizeTopKProbabilities) ?? false
            sparseStep = try c.optionalNumber(Int.self, forKey: .sparseStep) ?? 1
            denseLayers = try c.decodeIfPresent([Int].self, forKey: .denseLayers) ?? []
        }
        try validate(path: path, names: .huggingFace)
    }

    /// Writes the settings as a Hugging Face `config.json` would hold them (decoding the result
    /// gives this config back, for a Hugging Face one).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([architecture.rawValue], forKey: .architectures)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(headCount, forKey: .headCount)
        try c.encode(keyValueHeadCount, forKey: .keyValueHeadCount)
        try c.encode(headDimension, forKey: .headDimension)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(Double(rmsNormEpsilon), forKey: .rmsNormEpsilon)
        try c.encode(tiedEmbeddings, forKey: .tiedEmbeddings)
        try c.encode(qkvBias, forKey: .attentionBias)
        try c.encode(maxPositions, forKey: .maxPositions)
        if architecture == .qwen3MoE {
            try c.encode(expertCount, forKey: .expertCount)
            try c.encode(expertsPerToken, forKey: .expertsPerToken)
            try c.encode(expertIntermediateSize, forKey: .expertIntermediateSize)
            try c.encode(normalizeTopKProbabilities, forKey: .normalizeTopKProbabilities)
            try c.encode(sparseStep, forKey: .sparseStep)
            try c.encode(denseLayers, forKey: .denseLayers)
        }
    }

    /// Reads a Hugging Face `config.json`.
    public init(huggingFace path: String) throws(EngineError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .invalidConfig(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(huggingFaceJSON: data, path: path)
    }

    /// Decodes the bytes of a `config.json` read from `path` (named in errors).
    public init(huggingFaceJSON data: Data, path: String) throws(EngineError) {
        // Not JSON at all is said so, before the decoder's errors about keys.
        guard (try? JSONSerialization.jsonObject(with: data)) != nil else {
            throw .invalidConfig(path: path, reason: "not valid JSON")
        }
        let decoder = JSONDecoder()
        decoder.userInfo[Self.pathKey] = path
        do {
            self = try decoder.decode(ModelConfig.self, from: data)
        } catch let error as EngineError {
            throw error
        } catch let error as DecodingError {
            throw .invalidConfig(path: path, reason: Self.describe(error))
        } catch {
            throw .invalidConfig(path: path, reason: "\(error)")
        }
    }

    /// Reads a Hugging Face `config.json` (the same as `ModelConfig(huggingFace:)`).
    public static func huggingFace(path: String) throws(EngineError) -> ModelConfig {
        try ModelConfig(huggingFace: path)
    }

    /// One line naming the key (with its path, `rope_parameters.rope_theta`) and what is wrong.
    static func describe(_ error: DecodingError) -> String {
        func key(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type: "an integer"
            case is Double.Type: "a number"
            case is Bool.Type: "true or false"
            case is String.Type: "a string"
            case is [String].Type: "a list of strings"
            case is [Int].Type: "a list of integers"
            case is [Any].Type: "a list"
            case is [String: Any].Type: "an object"
            default: "\(type)"
            }
        }
        switch error {
        case let .keyNotFound(k, context):
            let parent = key(context.codingPath)
            return "missing key \(parent.isEmpty ? "" : parent + ".")\(k.stringValue)"
        case let .typeMismatch(type, context):
            return "\(key(context.codingPath)) must be \(kind(type))"
        case let .valueNotFound(type, context):
            return "\(key(context.codingPath)) is null; it must be \(kind(type))"
        case let .dataCorrupted(context):
            let at = key(context.codingPath)
            return (at.isEmpty ? "" : "\(at): ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    // MARK: - GGUF metadata

    /// Architecture from GGUF metadata (`general.architecture` = qwen2 / qwen3 / qwen3moe);
    /// `hasOutput` tells whether the file has its own output matrix (else it is tied).
    init(gguf file: GGUFFile, hasOutput: Bool) throws(EngineError) {
        let m = file.metadata
        guard let arch = m["general.architecture"]?.string else { throw .invalidFile(path: file.path, reason: "no general.architecture") }
        let architecture: Architecture
        switch arch {
        case "qwen2": architecture = .qwen2
        case "qwen3": architecture = .qwen3
        case "qwen3moe": architecture = .qwen3MoE
        default: throw .unsupportedArchitecture(arch)
        }
        func int(_ key: String) throws(EngineError) -> Int {
            guard let v = try optionalInt(key) else { throw .invalidConfig(path: file.path, reason: "missing \(arch).\(key)") }
            return v
        }
        // A setting that is present must be usable: a string or an out-of-range number where a
        // count belongs is an error, not a silent fallback to the default.
        func optionalInt(_ key: String) throws(EngineError) -> Int? {
            guard let value = m["\(arch).\(key)"] else { return nil }
            guard let v = value.int else { throw .invalidConfig(path: file.path, reason: "\(arch).\(key) is \(value.summary), not an integer") }
            return v
        }
        func optionalDouble(_ key: String) throws(EngineError) -> Double? {
            guard let value = m["\(arch).\(key)"] else { return nil }
            guard let v = value.double else { throw .invalidConfig(path: file.path, reason: "\(arch).\(key) is \(value.summary), not a number") }
            return v
        }
        let hidden = try int("embedding_length"), heads = try int("attention.head_count")
        // Checked before it divides anything.
        guard heads > 0 else { throw .invalidConfig(path: file.path, reason: "\(arch).attention.head_count is \(heads); it must be at least 1") }
        let vocab: Int
        switch m["tokenizer.ggml.tokens"] {
        case let .strings(count, _)?: vocab = count
        case let .array(values)?: vocab = values.count
        default: throw .invalidConfig(path: file.path, reason: "no vocabulary (tokenizer.ggml.tokens)")
        }
        var config = ModelConfig(
            architecture: architecture, vocabularySize: vocab, hiddenSize: hidden,
            intermediateSize: try optionalInt("feed_forward_length") ?? 0,
            layerCount: try int("block_count"), headCount: heads,
            keyValueHeadCount: try optionalInt("attention.head_count_kv") ?? heads,
            headDimension: try optionalInt("attention.key_length") ?? hidden / heads,
            ropeTheta: try optionalDouble("rope.freq_base") ?? 10_000,
            rmsNormEpsilon: Float(try optionalDouble("attention.layer_norm_rms_epsilon") ?? 1e-6),
            tiedEmbeddings: !hasOutput, qkvBias: architecture == .qwen2, qkNorm: architecture != .qwen2,
            maxPositions: try optionalInt("context_length") ?? 32_768)
        if architecture == .qwen3MoE {
            config.expertCount = try int("expert_count")
            config.expertsPerToken = try int("expert_used_count")
            config.expertIntermediateSize = try int("expert_feed_forward_length")
            config.normalizeTopKProbabilities = true
        }
        try config.validate(path: file.path, names: .gguf(arch))
        config.format = .gguf
        self = config
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

extension KeyedDecodingContainer {
    /// A number under `key`. A JSON number that does not fit the type (2.5 or 1e30 for an
    /// Int) is reported as a type mismatch at `key`, so that the error names it (the decoder
    /// reports those without the key).
    func number<T: Decodable & Numeric>(_ type: T.Type, forKey key: Key) throws -> T {
        do {
            return try decode(type, forKey: key)
        } catch let error as DecodingError {
            guard case let .dataCorrupted(context) = error else { throw error }
            throw DecodingError.typeMismatch(type, .init(codingPath: codingPath + [key], debugDescription: context.debugDescription))
        } catch {
            // Foundation's decoder throws its own parser error here ("number is not
            // representable"), which the top level would turn into "not valid JSON".
            throw DecodingError.typeMismatch(type, .init(codingPath: codingPath + [key], debugDescription: "\(error)"))
        }
    }

    /// `number(_:forKey:)` for a key that may be absent or null.
    func optionalNumber<T: Decodable & Numeric>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try number(type, forKey: key)
    }
}
