#if canImport(Glibc)
import Glibc
#endif
import CZstd

/// A forward-only destination of bytes. Nothing becomes visible until `commit()`.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes, syncs and publishes the output.
    func commit() throws
    /// Throws the partial output away (called on failure; also done by deinit if not committed).
    func abandon()
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Writes to `PATH.tmp-PID` (or to that name inside `temporaryDirectory`, on the same file
/// system), then fsync and rename(2): readers see the whole file or none. With
/// `removeOnSignal` the temporary file is also removed when SIGTERM/SIGINT ends the process
/// (see `TemporaryFiles`).
public final class AtomicFileSink: ByteSink {
    public let path: String
    public let temporaryPath: String
    private var signalSlot: Int?
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    private let toStdout: Bool

    public init(path: String, temporaryDirectory: String? = nil, removeOnSignal: Bool = false) throws {
        self.path = path
        toStdout = path == "-"
        // In a shared scratch folder the whole target path names the file, so shards with the
        // same file name in different folders cannot collide.
        let flat = String(String(path.map { $0 == "/" ? "%" : $0 }).suffix(200))
        let temporary = path == "-" ? "-" : (temporaryDirectory.map { "\($0)/\(flat).tmp-\(getpid())" } ?? "\(path).tmp-\(getpid())")
        temporaryPath = temporary
        if path == "-" {
            fd = 1
        } else {
            // Registered before the file exists, so no moment leaves it unlisted.
            let slot = removeOnSignal ? TemporaryFiles.register(temporary) : nil
            signalSlot = slot
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                TemporaryFiles.unregister(slot)
                throw GlossaError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
        }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit { if fd >= 0 && !toStdout { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit { try writeAll(bytes) } else { buffer.append(contentsOf: bytes) }
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw GlossaError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    public func commit() throws {
        try flush()
        if toStdout { return }
        guard fsync(fd) == 0 else { throw GlossaError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            TemporaryFiles.unregister(signalSlot)
            throw GlossaError.writeFailed(path: path, reason: reason)
        }
        TemporaryFiles.unregister(signalSlot)
    }

    public func abandon() {
        guard fd >= 0, !toStdout else { return }
        close(fd)
        fd = -1
        unlink(temporaryPath)
        TemporaryFiles.unregister(signalSlot)
    }
}

/// Streaming zstd compression in front of another sink.
public final class ZstdSink: ByteSink {
    private let inner: ByteSink
    private let stream: OpaquePointer
    private var output: [UInt8]

    /// `workers` > 0 compresses on background threads inside libzstd.
    public init(_ inner: ByteSink, level: Int32 = 3, workers: Int32 = 0) {
        self.inner = inner
        stream = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(stream, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(stream, ZSTD_c_checksumFlag, 1)
        if workers > 0 { ZSTD_CCtx_setParameter(stream, ZSTD_c_nbWorkers, workers) }
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    deinit { ZSTD_freeCCtx(stream) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            try step(&input, ZSTD_e_continue)
        }
    }

    @discardableResult
    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws -> Int {
        let capacity = output.count
        var produced = 0
        let remaining = try output.withUnsafeMutableBytes { out -> Int in
            var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
            let rc = ZSTD_compressStream2(stream, &outBuffer, &input, mode)
            if ZSTD_isError(rc) != 0 {
                throw GlossaError.writeFailed(path: "zstd stream", reason: String(cString: ZSTD_getErrorName(rc)))
            }
            produced = outBuffer.pos
            return rc
        }
        if produced > 0 { try output.withUnsafeBytes { try inner.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
        return remaining
    }

    public func commit() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
        try inner.commit()
    }

    public func abandon() { inner.abandon() }
}

/// Opens an atomic output, compressed with zstd when the path ends in `.zst`.
public func openByteSink(path: String, zstdLevel: Int32 = 3, temporaryDirectory: String? = nil,
                         removeOnSignal: Bool = false) throws -> ByteSink {
    let file = try AtomicFileSink(path: path, temporaryDirectory: temporaryDirectory, removeOnSignal: removeOnSignal)
    return path.hasSuffix(".zst") ? ZstdSink(file, level: zstdLevel) : file
}
