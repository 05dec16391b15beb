import Foundation

/// A memory-mapped GGUF (v2/v3) file: typed metadata, tensor infos, aligned tensor data.
public final class GGUFFile: @unchecked Sendable {
    public enum Value: Sendable, Equatable {
        case uint(UInt64), int(Int64), float(Double), bool(Bool), string(String)
        case array([Value])
        /// Large string arrays (the vocabulary) are kept as raw byte ranges until asked for.
        case strings(count: Int, offset: Int)

        public var int: Int? {
            switch self {
            case let .uint(v): Int(exactly: v)
            case let .int(v): Int(exactly: v)
            default: nil
            }
        }
        public var string: String? { if case let .string(s) = self { return s } else { return nil } }
        public var double: Double? {
            switch self {
            case let .float(v): v
            case let .uint(v): Double(v)
            case let .int(v): Double(v)
            default: nil
            }
        }
    }

    public struct TensorInfo: Sendable {
        public var name: String
        /// Dimensions fastest-varying first, as GGUF lists them.
        public var dimensions: [Int]
        public var type: UInt32
        public var offset: Int  // from the start of the data section
    }

    public let path: String
    public let version: UInt32
    public let metadata: [String: Value]
    public let tensors: [TensorInfo]
    public let dataOffset: Int
    let data: Data

    public init(path: String) throws(EngineError) {
        self.path = path
        data = try mapFile(path)
        var r = Reader(data: data, path: path)
        guard try r.bytes(4, "magic") == Array("GGUF".utf8) else { throw .invalidFile(path: path, reason: "no GGUF magic") }
        version = try r.u32("version")
        guard version == 2 || version == 3 else { throw .invalidFile(path: path, reason: "GGUF version \(version) (2 or 3 supported)") }
        let tensorCount = Int(try r.u64("tensor count"))
        let kvCount = Int(try r.u64("metadata count"))
        guard tensorCount < 1_000_000, kvCount < 1_000_000 else { throw .invalidFile(path: path, reason: "implausible counts") }
        var metadata: [String: Value] = [:]
        for _ in 0..<kvCount {
            let key = try r.string("metadata key")
            let type = try r.u32("type of \(key)")
            metadata[key] = try r.value(type: type, key: key)
        }
        var tensors: [TensorInfo] = []
        for _ in 0..<tensorCount {
            let name = try r.string("tensor name")
            let dims = Int(try r.u32("dimensions of \(name)"))
            guard dims <= 8 else { throw .invalidFile(path: path, reason: "tensor \(name) has \(dims) dimensions") }
            var shape: [Int] = []
            for _ in 0..<dims { shape.append(Int(try r.u64("shape of \(name)"))) }
            let type = try r.u32("type of \(name)")
            let offset = Int(try r.u64("offset of \(name)"))
            tensors.append(TensorInfo(name: name, dimensions: shape, type: type, offset: offset))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        dataOffset = (r.offset + alignment - 1) / alignment * alignment
        guard dataOffset <= data.count else { throw .truncated(path: path, what: "the tensor data section") }
        self.metadata = metadata
        self.tensors = tensors
    }

    /// A string array from the metadata (e.g. `tokenizer.ggml.tokens`) as raw UTF-8 bytes.
    public func stringArray(_ key: String) throws(EngineError) -> [[UInt8]] {
        guard let value = metadata[key] else { throw .invalidFile(path: path, reason: "missing metadata \(key)") }
        switch value {
        case let .strings(count, offset):
            var r = Reader(data: data, path: path)
            r.offset = offset
            var out: [[UInt8]] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(try r.bytes(Int(try r.u64(key)), key)) }
            return out
        case let .array(values):
            return values.compactMap { $0.string.map { Array($0.utf8) } }
        default:
            throw .invalidFile(path: path, reason: "\(key) is not a string array")
        }
    }

    struct Reader {
        let data: Data
        let path: String
        var offset = 0

        mutating func bytes(_ n: Int, _ what: String) throws(EngineError) -> [UInt8] {
            guard n >= 0, offset + n <= data.count else { throw .truncated(path: path, what: what) }
            defer { offset += n }
            return [UInt8](data[(data.startIndex + offset)..<(data.startIndex + offset + n)])
        }

        mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws(EngineError) -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= data.count else { throw .truncated(path: path, what: what) }
            defer { offset += size }
            return data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }

        mutating func u32(_ what: String) throws(EngineError) -> UInt32 { try load(UInt32.self, what) }
        mutating func u64(_ what: String) throws(EngineError) -> UInt64 { try load(UInt64.self, what) }

        mutating func string(_ what: String) throws(EngineError) -> String {
            let n = Int(try u64(what))
            guard n < 1 << 30 else { throw .invalidFile(path: path, reason: "string of \(n) bytes in \(what)") }
            return String(decoding: try bytes(n, what), as: UTF8.self)
        }

        mutating func value(type: UInt32, key: String) throws(EngineError) -> Value {
            switch type {
            case 0: return .uint(UInt64(try load(UInt8.self, key)))
            case 1: return .int(Int64(try load(Int8.self, key)))
            case 2: return .uint(UInt64(try load(UInt16.self, key)))
            case 3: return .int(Int64(try load(Int16.self, key)))
            case 4: return .uint(UInt64(try load(UInt32.self, key)))
            case 5: return .int(Int64(try load(Int32.self, key)))
            case 6: return .float(Double(Float(bitPattern: try load(UInt32.self, key))))
            case 7: return .bool(try load(UInt8.self, key) != 0)
            case 8: return .string(try string(key))
            case 9:
                let elementType = try u32(key)
                let count = Int(try u64(key))
                guard count < 1 << 28 else { throw .invalidFile(path: path, reason: "array of \(count) in \(key)") }
                if elementType == 8 && count > 1_000 {
                    let start = offset
                    for _ in 0..<count { offset += Int(try u64(key)); guard offset <= data.count else { throw .truncated(path: path, what: key) } }
                    return .strings(count: count, offset: start)
                }
                var values: [Value] = []
                values.reserveCapacity(count)
                for _ in 0..<count { values.append(try value(type: elementType, key: key)) }
                return .array(values)
            case 10: return .uint(try u64(key))
            case 11: return .int(Int64(bitPattern: try u64(key)))
            case 12: return .float(Double(bitPattern: try u64(key)))
            default: throw .invalidFile(path: path, reason: "metadata \(key) has unknown type \(type)")
            }
        }
    }
}
