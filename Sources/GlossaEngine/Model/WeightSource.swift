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
        // GGUFFile has checked that every tensor of a known type lies inside the file; one of
        // a type the kernels cannot multiply has no known size and is refused here. (Q8_K is
        // an activation format: no dot product takes it as weights.)
        for t in file.tensors {
            guard glossa_block_elements(Int32(bitPattern: t.type)) > 0, t.type != UInt32(GLOSSA_TYPE_Q8_K) else {
                throw .invalidFile(path: file.path, reason: "tensor \(quoted(t.name)) has type \(GGUFFile.typeName(t.type)), which is not supported")
            }
        }
        config = try ModelConfig(gguf: file, hasOutput: infos["output.weight"] != nil)
    }

    /// The first byte of a tensor's data (GGUFFile has checked the whole tensor is mapped).
    private func base(of info: GGUFFile.TensorInfo) throws(EngineError) -> UnsafeRawPointer {
        guard let start = file.data.withUnsafeBytes({ $0.baseAddress }) else {
            throw .truncated(path: file.path, what: "the data of tensor '\(info.name)'")
        }
        return start + file.dataOffset + info.offset
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
            guard i.dimensions.count == 3, i.dimensions == [columns, rows, i.dimensions[2]], e >= 0, e < i.dimensions[2] else {
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
        // The shape matched the tensor's, whose size GGUFFile checked: these products fit.
        let type = Int32(bitPattern: info.type)
        let rowBytes = columns / Int(glossa_block_elements(type)) * Int(glossa_block_bytes(type))
        return WeightMatrix(rows: rows, columns: columns, type: type, base: try base(of: info) + slice * rows * rowBytes, owner: file)
    }

    public func vector(_ name: String, count: Int) throws(EngineError) -> [Float] {
        let g = Self.ggufName(name)
        guard let info = infos[g] else { throw .missingTensor(name: g, path: file.path) }
        guard info.dimensions == [count] else { throw .wrongShape(name: g, expected: [count], found: info.dimensions) }
        let base = try base(of: info)
        var out = [Float](repeating: 0, count: count)
        guard glossa_dequantize(Int32(bitPattern: info.type), base, &out, Int64(count)) == 0 else {
            throw .unsupportedDType(name: g, dtype: "ggml type \(info.type)")
        }
        return out
    }
}
