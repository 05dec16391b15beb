import CZlib
import Foundation

/// Reads members of a zip file (a Python wheel): stored or deflated, CRC-checked. Enough of
/// the format for archives written by ordinary tools (no zip64, no encryption, no spanning).
public struct ZipArchive {
    public struct Member {
        public let name: String
        let method: UInt16
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let localHeader: Int
    }

    public let path: String
    private let data: Data
    public let members: [Member]

    public init(path: String) throws {
        self.path = path
        data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        members = try Self.centralDirectory(data, path: path)
    }

    private static func fail(_ path: String, _ reason: String) -> GlossaError {
        .readFailed(path: path, reason: "not a readable zip archive: \(reason)")
    }

    private static func centralDirectory(_ data: Data, path: String) throws -> [Member] {
        // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
        guard data.count >= 22 else { throw fail(path, "too short") }
        var end = -1
        var i = data.count - 22
        while i >= max(0, data.count - 65_557) {
            if data.u32(i) == 0x0605_4B50 { end = i; break }
            i -= 1
        }
        guard end >= 0 else { throw fail(path, "no end-of-central-directory record") }
        let count = Int(data.u16(end + 10)), size = Int(data.u32(end + 12)), offset = Int(data.u32(end + 16))
        guard offset + size <= end else { throw fail(path, "central directory outside the file") }
        var members: [Member] = []
        var p = offset
        for _ in 0..<count {
            guard p + 46 <= end, data.u32(p) == 0x0201_4B50 else { throw fail(path, "bad central directory entry") }
            let nameLength = Int(data.u16(p + 28)), extra = Int(data.u16(p + 30)), comment = Int(data.u16(p + 32))
            guard p + 46 + nameLength <= end else { throw fail(path, "bad central directory entry") }
            let name = String(decoding: data[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            members.append(Member(name: name, method: data.u16(p + 10), crc: data.u32(p + 16),
                                  compressedSize: Int(data.u32(p + 20)), size: Int(data.u32(p + 24)),
                                  localHeader: Int(data.u32(p + 42))))
            p += 46 + nameLength + extra + comment
        }
        return members
    }

    /// Streams a member's bytes to `sink` in chunks; the CRC-32 and size are checked at the end.
    public func extract(_ name: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let m = members.first(where: { $0.name == name }) else {
            throw GlossaError.readFailed(path: path, reason: "no member \(name) in the archive")
        }
        let h = m.localHeader
        guard h + 30 <= data.count, data.u32(h) == 0x0403_4B50 else { throw Self.fail(path, "bad local header of \(name)") }
        let start = h + 30 + Int(data.u16(h + 26)) + Int(data.u16(h + 28))
        guard start + m.compressedSize <= data.count else { throw Self.fail(path, "\(name) is cut short") }
        var crc = crc32(0, nil, 0)
        var written = 0
        try data.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            let input = UnsafeRawBufferPointer(rebasing: all[start..<(start + m.compressedSize)])
            func emit(_ chunk: UnsafeRawBufferPointer) throws {
                crc = crc32(crc, chunk.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(chunk.count))
                written += chunk.count
                try sink(chunk)
            }
            switch m.method {
            case 0:
                try emit(input)
            case 8:
                var stream = z_stream()
                guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw Self.fail(path, "zlib could not start")
                }
                defer { inflateEnd(&stream) }
                let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
                defer { out.deallocate() }
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count)
                while true {
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else { throw Self.fail(path, "\(name) does not inflate (zlib \(status))") }
                    try emit(UnsafeRawBufferPointer(rebasing: out[0..<(out.count - Int(stream.avail_out))]))
                    if status == Z_STREAM_END { break }
                    guard stream.avail_in > 0 || stream.avail_out == 0 else { throw Self.fail(path, "\(name) is cut short") }
                }
            default:
                throw Self.fail(path, "\(name) uses compression method \(m.method)")
            }
        }
        guard written == m.size, crc == uLong(m.crc) else { throw Self.fail(path, "\(name) fails its CRC-32 or size check") }
    }
}

private extension Data {
    func u16(_ i: Int) -> UInt16 { UInt16(self[startIndex + i]) | UInt16(self[startIndex + i + 1]) << 8 }
    func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
}
