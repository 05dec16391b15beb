#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory map of a whole file.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let path: String

    init(path: String) throws(LanguageIDError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size > 0 else { bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let base, base != MAP_FAILED else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// Little-endian reads with bounds checks: a short file is an error naming what was missing.
struct BinaryReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Bytes after `offset`.
    var remaining: Int { bytes.count - offset }

    // Compared with what remains rather than `offset + count` with the length: a count read
    // from the file can be large enough for the sum to overflow.
    private mutating func need(_ count: Int, _ what: String) throws(LanguageIDError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(path: path, what: what, offset: offset)
        }
    }

    /// Throws unless `count` items of at least `bytesEach` bytes can still follow: checked
    /// before anything is reserved for them.
    func expect(_ count: Int, of bytesEach: Int, _ what: String) throws(LanguageIDError) {
        guard count >= 0, count <= remaining / bytesEach else {
            throw .truncated(path: path, what: "\(what) (\(count) of at least \(bytesEach) bytes each, \(remaining) bytes left)", offset: offset)
        }
    }

    mutating func int32(_ what: String) throws(LanguageIDError) -> Int32 {
        try need(4, what)
        defer { offset += 4 }
        return Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    mutating func int64(_ what: String) throws(LanguageIDError) -> Int64 {
        try need(8, what)
        defer { offset += 8 }
        return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    mutating func double(_ what: String) throws(LanguageIDError) -> Double {
        try need(8, what)
        defer { offset += 8 }
        return bytes.loadUnaligned(fromByteOffset: offset, as: Double.self)
    }

    mutating func uint8(_ what: String) throws(LanguageIDError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool(_ what: String) throws(LanguageIDError) -> Bool { try uint8(what) != 0 }

    /// NUL-terminated bytes.
    mutating func cString(_ what: String) throws(LanguageIDError) -> [UInt8] {
        var end = offset
        while end < bytes.count, bytes[end] != 0 { end += 1 }
        guard end < bytes.count else { throw .truncated(path: path, what: what, offset: offset) }
        defer { offset = end + 1 }
        return Array(bytes[offset..<end])
    }

    mutating func floats(_ count: Int, _ what: String) throws(LanguageIDError) -> [Float] {
        try expect(count, of: 4, what)
        defer { offset += count * 4 }
        let start = offset
        return [Float](unsafeUninitializedCapacity: count) { out, n in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count * 4)]))
            n = count
        }
    }

    mutating func uint8s(_ count: Int, _ what: String) throws(LanguageIDError) -> [UInt8] {
        try need(count, what)
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// Errors from language identification; each names the file and what is wrong with it.
public enum LanguageIDError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notFastText(path: String, magic: Int32)
    case unsupportedVersion(path: String, version: Int32)
    case truncated(path: String, what: String, offset: Int)
    case invalid(path: String, reason: String)
    case notSupervised(path: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open language-ID model \(path): \(reason) (scripts/setup.sh installs models/lid.176.ftz)"
        case let .notFastText(path, magic):
            return "\(path) is not a fastText model (magic \(magic), expected 793712314)"
        case let .unsupportedVersion(path, version):
            return "\(path) is fastText format version \(version); versions up to 12 are supported"
        case let .truncated(path, what, offset):
            return "\(path) is truncated: ran out of bytes reading \(what) at byte \(offset)"
        case let .invalid(path, reason):
            return "\(path) is not a valid fastText model: \(reason)"
        case let .notSupervised(path):
            return "\(path) is an unsupervised (word-vector) fastText model; language ID needs a supervised one"
        }
    }
}
