import CGlossaKernels

/// Keys and values of every position seen so far, per layer.
public final class KVCache: @unchecked Sendable {
    /// Element type of the cached keys and values.
    public enum Precision: String, Sendable, Codable, CaseIterable {
        /// Half the memory; values rounded to nearest (llama.cpp's default).
        case f16
        /// Exactly what the layers computed.
        case f32

        /// The engine's choice when none is made (`EngineOptions.kvCache`): f16 for GGUF
        /// models (as llama.cpp keeps it, half the memory), f32 for Hugging Face checkpoints
        /// (computed in f32, as transformers does).
        public static func `default`(for config: ModelConfig) -> Precision {
            config.format == .gguf ? .f16 : .f32
        }

        var type: Int32 { self == .f16 ? Int32(GLOSSA_TYPE_F16) : Int32(GLOSSA_TYPE_F32) }
        var bytes: Int { self == .f16 ? 2 : 4 }
    }

    public let capacity: Int
    public let precision: Precision
    let width: Int                       // kv heads × head dim
    let layers: Int
    /// layers × (keys, values) × capacity × width elements, in one allocation.
    private let storage: UnsafeMutableRawPointer
    public private(set) var count = 0

    /// A cache for a model of `config`; without `precision`, the format's default (a model
    /// loaded with `EngineOptions.kvCache` makes its caches with `Transformer.makeCache`).
    public convenience init(config: ModelConfig, capacity: Int, precision: Precision? = nil) {
        self.init(width: config.keyValueHeadCount * config.headDimension, layers: config.layerCount, capacity: capacity,
                  precision: precision ?? .default(for: config))
    }

    init(width: Int, layers: Int, capacity: Int, precision: Precision) {
        self.capacity = capacity
        self.width = width
        self.layers = layers
        self.precision = precision
        // Positions are written before they are read; nothing needs zeroing.
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, 2 * layers * capacity * width * precision.bytes), alignment: 64)
    }

    deinit { storage.deallocate() }

    func keys(_ layer: Int) -> UnsafeMutableRawPointer { storage + (2 * layer) * capacity * width * precision.bytes }
    func values(_ layer: Int) -> UnsafeMutableRawPointer { storage + (2 * layer + 1) * capacity * width * precision.bytes }

    /// Stores `rows` positions of keys and values (f32 rows of `width`) from position `count`.
    func store(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows: Int) {
        let offset = count * width * precision.bytes
        glossa_store_kv(precision.type, k, keys(layer) + offset, Int64(rows * width))
        glossa_store_kv(precision.type, v, values(layer) + offset, Int64(rows * width))
    }

    /// A new cache holding this one's positions, with room for `capacity`.
    public func copy(capacity: Int) -> KVCache {
        let c = KVCache(width: width, layers: layers, capacity: capacity, precision: precision)
        c.fill(from: self, count: count)
        return c
    }

    /// Takes the first `positions` positions of `other` (same shape and precision) as its own;
    /// this cache must be empty.
    func fill(from other: KVCache, count positions: Int) {
        precondition(count == 0 && positions <= min(other.count, capacity) && other.width == width
                     && other.layers == layers && other.precision == precision)
        for l in 0..<layers {
            keys(l).copyMemory(from: other.keys(l), byteCount: positions * width * precision.bytes)
            values(l).copyMemory(from: other.values(l), byteCount: positions * width * precision.bytes)
        }
        count = positions
    }

    func advance(by n: Int) { count += n }
    public func reset() { count = 0 }
}
