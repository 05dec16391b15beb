#if canImport(Glibc)
import Glibc
#endif
import CZstd

/// A forward-only stream of bytes.
public protocol ByteSource: AnyObject {
    /// Fills `buffer` from the start; returns the number of bytes written, 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Bytes consumed from the underlying file so far (compressed bytes for zstd).
    var position: Int { get }
    var path: String { get }
}

/// A plain file read with read(2) into the caller's buffer: no per-chunk allocation.
public final class FileSource: ByteSource {
    public let path: String
    private let fd: Int32
    public private(set) var position = 0

    /// Reading starts `offset` bytes into the file (`position` counts from the file's start).
    public init(path: String, offset: Int = 0) throws {
        self.path = path
        let fd = path == "-" ? dup(0) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GlossaError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        if offset > 0 {
            guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
                throw GlossaError.readFailed(path: path, reason: "cannot seek to byte \(offset)")
            }
            position = offset
        }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { position += n; return n }
            if errno == EINTR { continue }
            throw GlossaError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Streaming zstd decompression (any number of concatenated frames).
public final class ZstdSource: ByteSource {
    private let inner: ByteSource
    private let stream: OpaquePointer
    private var input: UnsafeMutableRawBufferPointer
    private var inputStart = 0, inputEnd = 0
    private var frameOpen = false   // inside a frame that has not ended yet
    private var finished = false
    /// Where the current frame began (compressed bytes) and what was decompressed so far: the
    /// decoder reports an error without saying where, so a message names these instead.
    private var frameStart = 0, decompressed = 0
    public var path: String { inner.path }
    public var position: Int { inner.position - (inputEnd - inputStart) }

    public init(_ inner: ByteSource) {
        self.inner = inner
        stream = ZSTD_createDStream()
        ZSTD_initDStream(stream)
        input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished else { return 0 }
        while true {
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = try inner.read(into: input)
                if inputEnd == 0 {
                    finished = true
                    if frameOpen { throw GlossaError.truncatedZstd(path: path) }
                    return 0
                }
            }
            guard let base = input.baseAddress else { return 0 }
            var inBuffer = ZSTD_inBuffer(src: base + inputStart, size: inputEnd - inputStart, pos: 0)
            var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let rc = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            inputStart += inBuffer.pos
            if ZSTD_isError(rc) != 0 {
                finished = true
                throw GlossaError.corruptZstd(path: path, frameStart: frameStart, decompressed: decompressed + outBuffer.pos,
                                                reason: String(cString: ZSTD_getErrorName(rc)))
            }
            decompressed += outBuffer.pos
            // rc == 0: a frame just ended; anything else means more input is expected.
            frameOpen = rc != 0
            if !frameOpen { frameStart = position }
            if outBuffer.pos > 0 { return outBuffer.pos }
        }
    }
}

/// Opens a file (or "-" for stdin), decompressing zstd when the content starts with its magic.
/// The magic is read from the stream itself, so standard input and pipes are recognised too
/// (they cannot be opened a second time to look).
public func openByteSource(path: String) throws -> ByteSource {
    let file = try FileSource(path: path)
    var head = [UInt8](repeating: 0, count: 4)
    var count = 0
    while count < head.count {
        let n = try head.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...])) }
        if n == 0 { break }
        count += n
    }
    head.removeLast(head.count - count)
    let source = PrefixedSource(file, head: head)
    return head == zstdMagic || path.hasSuffix(".zst") || path.hasSuffix(".zstd") ? ZstdSource(source) : source
}

/// The first four bytes of every zstd frame (0xFD2FB528, little-endian).
/// The first four bytes of every zstd frame.
public let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

/// A source whose first bytes were already read (to recognise its format) and are served first.
final class PrefixedSource: ByteSource {
    private let inner: ByteSource
    private var head: [UInt8]
    var path: String { inner.path }
    var position: Int { inner.position - head.count }

    init(_ inner: ByteSource, head: [UInt8]) {
        self.inner = inner
        self.head = head
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !head.isEmpty else { return try inner.read(into: buffer) }
        let n = min(head.count, buffer.count)
        head.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        head.removeFirst(n)
        return n
    }
}

/// Whether a file is zstd-compressed (by name or by its first four bytes).
public func isZstd(path: String) -> Bool {
    if path.hasSuffix(".zst") || path.hasSuffix(".zstd") { return true }
    return path != "-" && (try? readMagic(path)) == zstdMagic
}

private func readMagic(_ path: String) throws -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    return Glibc.read(fd, &magic, 4) == 4 ? magic : nil
}
