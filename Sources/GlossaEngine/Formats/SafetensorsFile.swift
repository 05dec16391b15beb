import Foundation

/// A memory-mapped `.safetensors` file: an 8-byte header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. Validated on open: the header length,
/// every shape's element count and byte size (overflow-checked) and every byte range against
/// the file, so the readers below never leave the file.
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
    /// The format's own limit on the JSON header (safetensors refuses larger ones).
    static let largestHeader = 100_000_000

    public convenience init(path: String) throws(EngineError) {
        try self.init(data: try mapFile(path), path: path)
    }

    /// Parses safetensors bytes already in memory (`path` names them in errors).
    init(data: Data, path: String) throws(EngineError) {
        self.path = path
        self.data = data
        guard data.count >= 8 else { throw .truncated(path: path, what: "the 8-byte header length") }
        let rawLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard let headerLength = Int(exactly: rawLength), headerLength <= data.count - 8 else {
            throw .truncated(path: path, what: "a JSON header of \(rawLength) bytes (the file has \(data.count) bytes)")
        }
        guard headerLength >= 2, headerLength <= Self.largestHeader else {
            throw .invalidFile(path: path, reason: "the JSON header length is \(headerLength) bytes (2 to \(Self.largestHeader) allowed)")
        }
        dataStart = 8 + headerLength
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart)))
        } catch {
            // Foundation's own detail ("Unexpected character 'x' around line 1, column 9") says where.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw .invalidFile(path: path, reason: "the header is not JSON: \(detail)")
        }
        guard let header = json as? [String: Any] else { throw .invalidFile(path: path, reason: "header is not a JSON object") }
        var tensors: [String: TensorInfo] = [:]
        let available = data.count - dataStart
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw .invalidFile(path: path, reason: "tensor \(quoted(name)): the header entry needs a dtype string, a shape of integers and two data_offsets") }
            guard let size = Self.elementSizes[dtype] else { throw .unsupportedDType(name: name, dtype: dtype) }
            var bytes = size
            for n in shape {
                guard n >= 0 else { throw .invalidFile(path: path, reason: "tensor \(quoted(name)): shape \(shape) has a negative dimension") }
                let (product, overflow) = bytes.multipliedReportingOverflow(by: n)
                guard !overflow else {
                    throw .invalidFile(path: path, reason: "tensor \(quoted(name)): shape \(shape) of \(dtype) needs more bytes than any file holds")
                }
                bytes = product
            }
            let begin = offsets[0], end = offsets[1]
            guard begin >= 0, end >= begin, end - begin == bytes else {
                throw .invalidFile(path: path, reason: "tensor \(quoted(name)): data_offsets \(offsets) do not hold shape \(shape) of \(dtype) (\(bytes) bytes)")
            }
            guard end <= available else {
                throw .truncated(path: path, what: "the data of tensor \(quoted(name)) (bytes \(begin) to \(end) of a data section of \(available) bytes)")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: begin..<end)
        }
        self.tensors = tensors
    }

    /// Elements of a tensor. Its byte size was checked on open, so the product cannot
    /// overflow, unless a zero dimension hid huge others (then there are no elements).
    private static func elementCount(_ info: TensorInfo) -> Int {
        info.shape.contains(0) ? 0 : info.shape.reduce(1, *)
    }

    /// The tensor's bytes, as loaded by `body`.
    private func withBytes<R>(_ info: TensorInfo, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        data.withUnsafeBytes { raw in
            body(UnsafeRawBufferPointer(rebasing: raw[(dataStart + info.range.lowerBound)..<(dataStart + info.range.upperBound)]))
        }
    }

    /// A tensor widened to Float (F32, F16, BF16 or I32 storage).
    public func floats(_ name: String) throws(EngineError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        let count = Self.elementCount(info)
        guard ["F32", "BF16", "F16", "I32"].contains(info.dtype) else { throw .unsupportedDType(name: name, dtype: info.dtype) }
        return withBytes(info) { base in
            [Float](unsafeUninitializedCapacity: count) { out, n in
                switch info.dtype {
                case "F32":
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case "BF16":
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                case "F16":
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
                default:
                    for i in 0..<count { out[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                }
                n = count
            }
        }
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
        return withBytes(info) { Array($0) }
    }

    /// Integer tensors (I32/I64), e.g. token ids in reference files.
    public func integers(_ name: String) throws(EngineError) -> [Int] {
        guard let info = tensors[name] else { throw .missingTensor(name: name, path: path) }
        guard info.dtype == "I64" || info.dtype == "I32" else { throw .unsupportedDType(name: name, dtype: info.dtype) }
        let count = Self.elementCount(info)
        return withBytes(info) { base in
            (0..<count).map { i in
                info.dtype == "I64" ? Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                    : Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        }
    }
}
