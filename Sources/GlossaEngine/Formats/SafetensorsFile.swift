import Foundation

/// A memory-mapped `.safetensors` file: an 8-byte header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. Validated on open.
public final class SafetensorsFile: @unchecked Sendable {
    public struct TensorInfo: Sendable {
        public var dtype: String
        public var shape: [Int]
        public var range: Range<Int>  // within the data section
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    static let elementSizes = ["F32": 4, "F16": 2, "BF16": 2, "I32": 4, "I64": 8, "U8": 1, "I8": 1, "F64": 8, "I16": 2]

    public init(path: String) throws(EngineError) {
        self.path = path
        data = try mapFile(path)
        guard data.count >= 8 else { throw .truncated(path: path, what: "the header length") }
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard headerLength > 0, headerLength <= 100_000_000, 8 + headerLength <= data.count else {
            throw .truncated(path: path, what: "a header of \(headerLength) bytes")
        }
        dataStart = 8 + headerLength
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart))
        } catch {
            throw .invalidFile(path: path, reason: "header is not JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else { throw .invalidFile(path: path, reason: "header is not a JSON object") }
        var tensors: [String: TensorInfo] = [:]
        let available = data.count - dataStart
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw .invalidFile(path: path, reason: "header entry for \(name) is malformed") }
            guard let size = Self.elementSizes[dtype] else { throw .unsupportedDType(name: name, dtype: dtype) }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] - offsets[0] == count * size else {
                throw .invalidFile(path: path, reason: "tensor \(name): byte range \(offsets) does not hold \(shape) x \(dtype)")
            }
            guard offsets[1] <= available else { throw .truncated(path: path, what: "tensor \(name)") }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.tensors = tensors
    }

    /// A tensor widened to Float (F32, F16 or BF16 storage).
    public func floats(_ name: String) throws(EngineError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        let count = info.shape.reduce(1, *)
        return data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + info.range.lowerBound
            return [Float](unsafeUninitializedCapacity: count) { out, n in
                switch info.dtype {
                case "F32":
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case "BF16":
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                case "F16":
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
                case "I32":
                    for i in 0..<count { out[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                default:
                    for i in 0..<count { out[i] = .nan }
                }
                n = count
            }
        } ?? []
    }

    public func floats(_ name: String, shape: [Int]) throws(EngineError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        guard info.shape == shape else { throw .wrongShape(name: name, expected: shape, found: info.shape) }
        guard ["F32", "F16", "BF16"].contains(info.dtype) else { throw .unsupportedDType(name: name, dtype: info.dtype) }
        return try floats(name)
    }

    /// Raw bytes of a tensor.
    public func rawBytes(_ name: String) throws(EngineError) -> [UInt8] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        return data.withUnsafeBytes { raw in
            Array(UnsafeRawBufferPointer(rebasing: raw[(dataStart + info.range.lowerBound)..<(dataStart + info.range.upperBound)]))
        }
    }

    /// Integer tensors (I32/I64), e.g. token ids in reference files.
    public func integers(_ name: String) throws(EngineError) -> [Int] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        let count = info.shape.reduce(1, *)
        return data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + info.range.lowerBound
            return (0..<count).map { i in
                info.dtype == "I64" ? Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                    : Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        }
    }
}
