import CGlossaKernels
import Foundation

/// `s` in quotes for an error message, cut short: names and keys from a crafted file can be
/// as long as the file.
func quoted(_ s: String) -> String {
    s.utf8.count <= 120 ? "'\(s)'" : "'\(s.prefix(100))…' (\(s.utf8.count) bytes)"
}

/// A memory-mapped GGUF (v2/v3) file: typed metadata, tensor infos, aligned tensor data.
///
/// Every count, length, dimension and offset in the file is untrusted: each is converted with
/// `Int(exactly:)`, combined with overflow-reporting arithmetic and compared with the bytes
/// that remain before it is used, so a crafted file is a thrown error naming the key or tensor,
/// never a trap or a giant allocation. Tensors of the types the kernels know are checked to lie
/// inside the data section here, once, for every user of the file.
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

        /// The value for an error message: short whatever the file holds.
        var summary: String {
            switch self {
            case let .uint(v): "\(v)"
            case let .int(v): "\(v)"
            case let .float(v): "\(v)"
            case let .bool(v): "\(v)"
            case let .string(s): "the string \(quoted(s))"
            case let .array(values): "an array of \(values.count) values"
            case let .strings(count, _): "an array of \(count) strings"
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

    /// Tensor infos with no dimensions, type or offset yet: a name length (8), a dimension
    /// count (4), a type (4) and an offset (8). A tensor count is checked against this before
    /// anything is reserved.
    static let smallestTensorInfo = 24
    /// A key length (8), a value type (4) and the smallest value (1 byte).
    static let smallestKeyValue = 13
    /// Elements of an array decoded up front (a vocabulary's token types are ~152K): each
    /// becomes a 24-byte `Value`, so a one-byte-per-element array costs 24 times its size in
    /// memory. Large string arrays are not decoded up front and have no such limit.
    static let largestDecodedArray = 1 << 22
    /// Arrays of arrays are legal but unused by any model; the bound keeps recursion shallow.
    static let deepestArrayNesting = 4

    public convenience init(path: String) throws(EngineError) {
        try self.init(data: try mapFile(path), path: path)
    }

    /// Parses GGUF bytes already in memory (`path` names them in errors).
    init(data: Data, path: String) throws(EngineError) {
        self.path = path
        self.data = data
        var r = Reader(data: data, path: path)
        guard try r.bytes(4, "the magic number") == Array("GGUF".utf8) else { throw .invalidFile(path: path, reason: "no GGUF magic") }
        version = try r.u32("the version")
        guard version == 2 || version == 3 else { throw .invalidFile(path: path, reason: "GGUF version \(version) (2 or 3 supported)") }
        let tensorCount = try r.count("the tensor count", bytesEach: Self.smallestTensorInfo)
        let kvCount = try r.count("the metadata key-value count", bytesEach: Self.smallestKeyValue)
        // Both tables follow: together they must fit as well (tensorCount * 24 <= remaining).
        let afterTensorInfos = r.remaining - tensorCount * Self.smallestTensorInfo
        guard kvCount <= afterTensorInfos / Self.smallestKeyValue else {
            throw .countTooLarge(path: path, what: "the metadata key-value count (beside \(tensorCount) tensor infos)", count: UInt64(kvCount),
                                 bytesEach: Self.smallestKeyValue, remaining: afterTensorInfos)
        }
        var metadata: [String: Value] = [:]
        for i in 0..<kvCount {
            let key = try r.string("the key of metadata entry \(i)")
            let type = try r.u32("the type of metadata \(quoted(key))")
            let value = try r.value(type: type, key: key)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw .invalidFile(path: path, reason: "metadata \(quoted(key)) appears twice")
            }
        }
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var names = Set<String>()
        for i in 0..<tensorCount {
            let name = try r.string("the name of tensor \(i)")
            guard names.insert(name).inserted else { throw .invalidFile(path: path, reason: "tensor \(quoted(name)) appears twice") }
            let dimensionCount = try r.u32("the dimension count of tensor \(quoted(name))")
            guard dimensionCount <= 8 else { throw .invalidFile(path: path, reason: "tensor \(quoted(name)) has \(dimensionCount) dimensions (at most 8)") }
            var shape: [Int] = []
            for d in 0..<Int(dimensionCount) {
                let raw = try r.u64("dimension \(d) of tensor \(quoted(name))")
                guard let n = Int(exactly: raw) else {
                    throw .invalidFile(path: path, reason: "tensor \(quoted(name)): dimension \(d) is \(raw), too large for any file")
                }
                shape.append(n)
            }
            let type = try r.u32("the type of tensor \(quoted(name))")
            let rawOffset = try r.u64("the data offset of tensor \(quoted(name))")
            guard let offset = Int(exactly: rawOffset) else {
                throw .invalidFile(path: path, reason: "tensor \(quoted(name)): data offset \(rawOffset) is too large for any file")
            }
            tensors.append(TensorInfo(name: name, dimensions: shape, type: type, offset: offset))
        }
        let alignment: Int
        if let value = metadata["general.alignment"] {
            // ggml requires a power of two (and rounds offsets with a mask).
            guard let a = value.int, a > 0, a & (a - 1) == 0 else {
                throw .invalidFile(path: path, reason: "metadata 'general.alignment' is \(value.summary), not a power of two")
            }
            alignment = a
        } else {
            alignment = 32
        }
        let padding = (alignment - r.offset % alignment) % alignment
        guard padding <= r.remaining else {
            throw .truncated(path: path, what: "the tensor data section (aligned to \(alignment) bytes after byte \(r.offset))")
        }
        dataOffset = r.offset + padding
        let available = data.count - dataOffset
        for t in tensors {
            guard t.offset % alignment == 0 else {
                throw .invalidFile(path: path, reason: "tensor \(quoted(t.name)): data offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            guard let size = try Self.byteCount(of: t, path: path) else { continue }
            guard t.offset <= available, size <= available - t.offset else {
                throw .truncated(path: path, what: "the data of tensor \(quoted(t.name)) (\(size) bytes at offset \(t.offset) of a "
                                 + "data section of \(available) bytes starting at byte \(dataOffset))")
            }
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    /// Bytes a tensor's data occupies, or nil for a type the kernels do not know (its size
    /// cannot be computed here; GGUFWeights refuses such tensors).
    static func byteCount(of t: TensorInfo, path: String) throws(EngineError) -> Int? {
        let type = Int32(bitPattern: t.type)
        let blockElements = Int(glossa_block_elements(type)), blockBytes = Int(glossa_block_bytes(type))
        guard blockElements > 0, blockBytes > 0 else { return nil }
        var elements = 1
        for n in t.dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw .invalidFile(path: path, reason: "tensor \(quoted(t.name)): shape \(t.dimensions) has more elements than any file can hold")
            }
            elements = product
        }
        // Rows (the first dimension) are whole blocks: kernels step through a row block by block.
        let rowLength = t.dimensions.first ?? 1
        guard rowLength % blockElements == 0 else {
            throw .invalidFile(path: path, reason: "tensor \(quoted(t.name)): rows of \(rowLength) values are not a whole number of "
                               + "\(typeName(t.type)) blocks (\(blockElements) values each)")
        }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        guard !overflow else {
            throw .invalidFile(path: path, reason: "tensor \(quoted(t.name)): shape \(t.dimensions) of \(typeName(t.type)) needs more bytes than any file holds")
        }
        return bytes
    }

    /// ggml's name of a tensor type, for messages.
    static func typeName(_ type: UInt32) -> String {
        let names: [UInt32: String] = [0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
                                       10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 30: "BF16"]
        return names[type] ?? "ggml type \(type)"
    }

    /// A string array from the metadata (e.g. `tokenizer.ggml.tokens`) as raw UTF-8 bytes.
    public func stringArray(_ key: String) throws(EngineError) -> [[UInt8]] {
        guard let value = metadata[key] else { throw .invalidFile(path: path, reason: "missing metadata \(key)") }
        switch value {
        case let .strings(count, offset):
            // Checked when the file was opened; read with the same checks all the same.
            var r = Reader(data: data, path: path)
            r.offset = offset
            var out: [[UInt8]] = []
            out.reserveCapacity(count)
            for i in 0..<count { out.append(try r.stringBytes("element \(i) of metadata \(quoted(key))")) }
            return out
        case let .array(values):
            var out: [[UInt8]] = []
            out.reserveCapacity(values.count)
            for (i, element) in values.enumerated() {
                guard let s = element.string else {
                    throw .invalidFile(path: path, reason: "metadata \(quoted(key)): element \(i) is \(element.summary), not a string")
                }
                out.append(Array(s.utf8))
            }
            return out
        default:
            throw .invalidFile(path: path, reason: "metadata \(quoted(key)) is not a string array")
        }
    }

    struct Reader {
        let data: Data
        let path: String
        var offset = 0

        /// Bytes after `offset` (never negative: `offset` only moves by checked amounts).
        var remaining: Int { data.count - offset }

        /// Moves past `n` bytes, which must be in the file.
        mutating func skip(_ n: Int, _ what: @autoclosure () -> String) throws(EngineError) {
            guard n >= 0, n <= remaining else {
                throw .truncated(path: path, what: "\(what()) (\(n) bytes at byte \(offset) of \(data.count))")
            }
            offset += n
        }

        mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws(EngineError) -> [UInt8] {
            let start = offset
            try skip(n, what())
            return [UInt8](data[(data.startIndex + start)..<(data.startIndex + offset)])
        }

        mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(EngineError) -> T {
            let start = offset
            try skip(MemoryLayout<T>.size, what())
            return data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: T.self)) }
        }

        mutating func u32(_ what: @autoclosure () -> String) throws(EngineError) -> UInt32 { try load(UInt32.self, what()) }
        mutating func u64(_ what: @autoclosure () -> String) throws(EngineError) -> UInt64 { try load(UInt64.self, what()) }

        /// A 64-bit count of items that take at least `bytesEach` bytes each: larger than what
        /// the rest of the file could hold is an error before anything is reserved for them.
        mutating func count(_ what: @autoclosure () -> String, bytesEach: Int) throws(EngineError) -> Int {
            let raw = try u64(what())
            guard let n = Int(exactly: raw), n <= remaining / bytesEach else {
                throw .countTooLarge(path: path, what: what(), count: raw, bytesEach: bytesEach, remaining: remaining)
            }
            return n
        }

        /// A string's length prefix, which must fit in the rest of the file.
        mutating func stringLength(_ what: @autoclosure () -> String) throws(EngineError) -> Int {
            let at = offset
            let raw = try u64(what())
            guard let n = Int(exactly: raw), n <= remaining else {
                throw .truncated(path: path, what: "\(what()) (a string of \(raw) bytes at byte \(at) of \(data.count))")
            }
            return n
        }

        /// A length-prefixed string's bytes.
        mutating func stringBytes(_ what: @autoclosure () -> String) throws(EngineError) -> [UInt8] {
            try bytes(try stringLength(what()), what())
        }

        /// A string, which GGUF stores as UTF-8: anything else is a corrupt file (and stops a
        /// parse that has lost its way in the data early).
        mutating func string(_ what: @autoclosure () -> String) throws(EngineError) -> String {
            let at = offset
            guard let s = String(validating: try stringBytes(what()), as: UTF8.self) else {
                throw .invalidFile(path: path, reason: "\(what()) (at byte \(at)) is not valid UTF-8")
            }
            return s
        }

        /// The fewest bytes a value of `type` takes (nil: not a GGUF type).
        static func smallestSize(of type: UInt32) -> Int? {
            switch type {
            case 0, 1, 7: 1
            case 2, 3: 2
            case 4, 5, 6: 4
            case 8, 10, 11, 12: 8
            case 9: 12  // element type and count
            default: nil
            }
        }

        mutating func value(type: UInt32, key: String, depth: Int = 0) throws(EngineError) -> Value {
            // Built only for an error message.
            func what() -> String { "the value of metadata \(quoted(key))" }
            switch type {
            case 0: return .uint(UInt64(try load(UInt8.self, what())))
            case 1: return .int(Int64(try load(Int8.self, what())))
            case 2: return .uint(UInt64(try load(UInt16.self, what())))
            case 3: return .int(Int64(try load(Int16.self, what())))
            case 4: return .uint(UInt64(try load(UInt32.self, what())))
            case 5: return .int(Int64(try load(Int32.self, what())))
            case 6: return .float(Double(Float(bitPattern: try load(UInt32.self, what()))))
            case 7: return .bool(try load(UInt8.self, what()) != 0)
            case 8: return .string(try string(what()))
            case 9:
                let elementType = try u32("the element type of metadata \(quoted(key))")
                guard let elementSize = Self.smallestSize(of: elementType) else {
                    throw .invalidFile(path: path, reason: "metadata \(quoted(key)) is an array of unknown type \(elementType)")
                }
                guard elementType != 9 || depth < GGUFFile.deepestArrayNesting else {
                    throw .invalidFile(path: path, reason: "metadata \(quoted(key)) nests arrays more than \(GGUFFile.deepestArrayNesting) deep")
                }
                let count = try self.count("the length of array metadata \(quoted(key))", bytesEach: elementSize)
                if elementType == 8 && count > 1_000 {
                    // Walked (every length checked) but kept as bytes until asked for.
                    let start = offset
                    for i in 0..<count { try skipString("element \(i) of metadata \(quoted(key))") }
                    return .strings(count: count, offset: start)
                }
                guard count <= GGUFFile.largestDecodedArray else {
                    throw .invalidFile(path: path, reason: "metadata \(quoted(key)) is an array of \(count) elements "
                                       + "(at most \(GGUFFile.largestDecodedArray) supported)")
                }
                var values: [Value] = []
                values.reserveCapacity(count)
                for _ in 0..<count { values.append(try value(type: elementType, key: key, depth: depth + 1)) }
                return .array(values)
            case 10: return .uint(try u64(what()))
            case 11: return .int(Int64(bitPattern: try u64(what())))
            case 12: return .float(Double(bitPattern: try u64(what())))
            default: throw .invalidFile(path: path, reason: "metadata \(quoted(key)) has unknown type \(type)")
            }
        }

        /// Moves past a length-prefixed string without copying it.
        mutating func skipString(_ what: @autoclosure () -> String) throws(EngineError) {
            try skip(try stringLength(what()), what())
        }
    }
}
