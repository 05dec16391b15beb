import CGlossaKernels
import Foundation

/// Where a model's tensors come from, by Hugging Face name: a checkpoint directory (widened
/// to F32) or a GGUF file (kept in its block format, memory-mapped).
public protocol WeightSource {
    var config: ModelConfig { get }
    func contains(_ name: String) -> Bool
    /// A weight matrix of `rows` x `columns` (Hugging Face layout: one row per output).
    func matrix(_ name: String, rows: Int, columns: Int) throws(EngineError) -> WeightMatrix
    func vector(_ name: String, count: Int) throws(EngineError) -> [Float]
}

/// A weight matrix in its storage format: rows of `rowBytes` in a ggml type (F32 for widened
/// Hugging Face weights, a block format for GGUF), kept alive by `owner`.
public final class WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    let type: Int32
    let base: UnsafeRawPointer
    let rowBytes: Int
    private let owner: AnyObject

    /// Weights in memory-mapped block storage owned by `owner` (a GGUF file).
    init(rows: Int, columns: Int, type: Int32, base: UnsafeRawPointer, owner: AnyObject) {
        self.rows = rows
        self.columns = columns
        self.type = type
        self.base = base
        rowBytes = columns / Int(glossa_block_elements(type)) * Int(glossa_block_bytes(type))
        self.owner = owner
    }

    /// Dense F32 weights, copied into storage the matrix owns.
    init(rows: Int, columns: Int, floats: [Float]) {
        precondition(floats.count == rows * columns)
        let storage = FloatStorage(floats)
        self.rows = rows
        self.columns = columns
        type = Int32(GLOSSA_TYPE_F32)
        base = UnsafeRawPointer(storage.pointer)
        rowBytes = columns * 4
        owner = storage
    }

    private final class FloatStorage {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(_ floats: [Float]) {
            count = floats.count
            pointer = .allocate(capacity: max(count, 1))
            _ = UnsafeMutableBufferPointer(start: pointer, count: count).initialize(from: floats)
        }
        deinit { pointer.deallocate() }
    }

    /// Row `r` widened to Float.
    func row(_ r: Int) -> [Float] {
        var out = [Float](repeating: 0, count: columns)
        _ = glossa_dequantize(type, base + r * rowBytes, &out, Int64(columns))
        return out
    }

    /// A dense F32 copy (for comparisons with dequantize-then-multiply arithmetic).
    public func widened() -> WeightMatrix {
        WeightMatrix(rows: rows, columns: columns, floats: (0..<rows).flatMap { row($0) })
    }
}

extension CheckpointDirectory: WeightSource {
    public func matrix(_ name: String, rows: Int, columns: Int) throws(EngineError) -> WeightMatrix {
        WeightMatrix(rows: rows, columns: columns, floats: try floats(name, shape: [rows, columns]))
    }

    public func vector(_ name: String, count: Int) throws(EngineError) -> [Float] {
        try floats(name, shape: [count])
    }
}

/// A GGUF model (`qwen2`, `qwen3`, `qwen3moe`) seen through Hugging Face tensor names.
public final class GGUFWeights: WeightSource {
    public let file: GGUFFile
    public let config: ModelConfig
    private let infos: [String: GGUFFile.TensorInfo]

    public init(file: GGUFFile) throws(EngineError) {
        self.file = file
        var infos: [String: GGUFFile.TensorInfo] = [:]
        for t in file.tensors { infos[t.name] = t }
        self.infos = infos
        config = try ModelConfig.gguf(file, hasOutput: infos["output.weight"] != nil)
        // Every tensor's bytes must lie inside the file.
        for t in file.tensors {
            let elements = t.dimensions.reduce(1, *)
            let be = glossa_block_elements(Int32(t.type)), bb = glossa_block_bytes(Int32(t.type))
            guard be > 0 else {
                throw .invalidFile(path: file.path, reason: "tensor \(t.name) has ggml type \(t.type), which is not supported")
            }
            guard elements % Int(be) == 0 else { throw .invalidFile(path: file.path, reason: "tensor \(t.name) is not a whole number of blocks") }
            let end = file.dataOffset + t.offset + elements / Int(be) * Int(bb)
            guard end <= file.data.count else { throw .truncated(path: file.path, what: "tensor \(t.name)") }
        }
    }

    static func ggufName(_ hf: String) -> String {
        var n = hf
        let replacements: [(String, String)] = [
            ("model.embed_tokens", "token_embd"), ("model.norm", "output_norm"), ("lm_head", "output"),
            ("model.layers.", "blk."), ("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm"),
            ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
            ("self_attn.o_proj", "attn_output"), ("self_attn.q_norm", "attn_q_norm"), ("self_attn.k_norm", "attn_k_norm"),
            ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"), ("mlp.gate.", "ffn_gate_inp."),
        ]
        for (a, b) in replacements { n = n.replacingOccurrences(of: a, with: b) }
        return n
    }

    public func contains(_ name: String) -> Bool { infos[Self.ggufName(name)] != nil || expertSlice(name) != nil }

    /// `model.layers.L.mlp.experts.E.gate_proj.weight` -> (blk.L.ffn_gate_exps.weight, E).
    private func expertSlice(_ name: String) -> (String, Int)? {
        let parts = name.split(separator: ".")
        guard parts.count == 8, parts[3] == "mlp", parts[4] == "experts", let e = Int(parts[5]) else { return nil }
        let kind = parts[6].replacingOccurrences(of: "_proj", with: "")
        return ("blk.\(parts[2]).ffn_\(kind)_exps.weight", e)
    }

    public func matrix(_ name: String, rows: Int, columns: Int) throws(EngineError) -> WeightMatrix {
        var slice = 0
        var info: GGUFFile.TensorInfo
        if let (expertName, e) = expertSlice(name) {
            guard let i = infos[expertName] else { throw .missingTensor(name: expertName, path: file.path) }
            guard i.dimensions == [columns, rows, i.dimensions.count == 3 ? i.dimensions[2] : -1], e < i.dimensions[2] else {
                throw .wrongShape(name: expertName, expected: [columns, rows, e + 1], found: i.dimensions)
            }
            info = i
            slice = e
        } else {
            let g = Self.ggufName(name)
            guard let i = infos[g] else { throw .missingTensor(name: g, path: file.path) }
            guard i.dimensions == [columns, rows] else { throw .wrongShape(name: g, expected: [columns, rows], found: i.dimensions) }
            info = i
        }
        let type = Int32(info.type)
        let rowBytes = columns / Int(glossa_block_elements(type)) * Int(glossa_block_bytes(type))
        let base = file.data.withUnsafeBytes { $0.baseAddress! } + file.dataOffset + info.offset + slice * rows * rowBytes
        return WeightMatrix(rows: rows, columns: columns, type: type, base: base, owner: file)
    }

    public func vector(_ name: String, count: Int) throws(EngineError) -> [Float] {
        let g = Self.ggufName(name)
        guard let info = infos[g] else { throw .missingTensor(name: g, path: file.path) }
        guard info.dimensions == [count] else { throw .wrongShape(name: g, expected: [count], found: info.dimensions) }
        let base = file.data.withUnsafeBytes { $0.baseAddress! } + file.dataOffset + info.offset
        var out = [Float](repeating: 0, count: count)
        guard glossa_dequantize(Int32(info.type), base, &out, Int64(count)) == 0 else {
            throw .unsupportedDType(name: g, dtype: "ggml type \(info.type)")
        }
        return out
    }
}

extension ModelConfig {
    /// Architecture from GGUF metadata (`general.architecture` = qwen2 / qwen3 / qwen3moe).
    static func gguf(_ file: GGUFFile, hasOutput: Bool) throws(EngineError) -> ModelConfig {
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
            guard let v = m["\(arch).\(key)"]?.int else { throw .invalidConfig(path: file.path, reason: "missing \(arch).\(key)") }
            return v
        }
        let hidden = try int("embedding_length"), heads = try int("attention.head_count")
        let vocab: Int
        switch m["tokenizer.ggml.tokens"] {
        case let .strings(count, _)?: vocab = count
        case let .array(values)?: vocab = values.count
        default: throw .invalidConfig(path: file.path, reason: "no vocabulary (tokenizer.ggml.tokens)")
        }
        var config = ModelConfig(
            architecture: architecture, vocabularySize: vocab, hiddenSize: hidden,
            intermediateSize: (m["\(arch).feed_forward_length"]?.int) ?? 0,
            layerCount: try int("block_count"), headCount: heads,
            keyValueHeadCount: m["\(arch).attention.head_count_kv"]?.int ?? heads,
            headDimension: m["\(arch).attention.key_length"]?.int ?? hidden / heads,
            ropeTheta: m["\(arch).rope.freq_base"]?.double ?? 10_000,
            rmsNormEpsilon: Float(m["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-6),
            tiedEmbeddings: !hasOutput, qkvBias: architecture == .qwen2, qkNorm: architecture != .qwen2,
            maxPositions: m["\(arch).context_length"]?.int ?? 32_768)
        if architecture == .qwen3MoE {
            config.expertCount = try int("expert_count")
            config.expertsPerToken = try int("expert_used_count")
            config.expertIntermediateSize = try int("expert_feed_forward_length")
            config.normalizeTopKProbabilities = true
        }
        config.kvCache = .f16
        return config
    }
}
