#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into lines without copying short lines more than once.
///
/// Lines longer than `maxLineBytes` are not buffered: the reader reports their length and
/// skips to the next line feed, so one giant line cannot exhaust memory.
public final class LineReader {
    public enum Line {
        /// Bytes without the trailing LF (a CR before it is kept: the normalizer handles it).
        case text(UnsafeBufferPointer<UInt8>, number: Int, offset: Int)
        case tooLong(bytes: Int, number: Int, offset: Int)
    }

    private let source: ByteSource
    private let maxLineBytes: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var eof = false
    private var lineNumber = 0
    /// Uncompressed offset of buffer[start].
    private var offset = 0

    /// `baseOffset`: the file offset of the source's first byte (offsets reported are the file's).
    public init(_ source: ByteSource, maxLineBytes: Int = 64 << 20, chunkBytes: Int = 1 << 20, baseOffset: Int = 0) {
        self.source = source
        offset = baseOffset
        self.maxLineBytes = maxLineBytes
        buffer = .allocate(byteCount: max(chunkBytes, 4096), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Offset just past the last line returned (its line feed included): the bytes read so far
    /// as lines, blank and too-long lines included.
    public var position: Int { offset }

    /// The next line; the pointer is valid until the next call.
    public func next() throws -> Line? {
        var searchFrom = start
        while true {
            if let lf = findLF(from: searchFrom) {
                let line = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: lf - start)
                lineNumber += 1
                let result = Line.text(line, number: lineNumber, offset: offset)
                offset += lf + 1 - start
                start = lf + 1
                return result
            }
            if eof {
                guard start < end else { return nil }
                let line = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: end - start)
                lineNumber += 1
                let result = Line.text(line, number: lineNumber, offset: offset)
                offset += end - start
                start = end
                return result
            }
            if end - start >= maxLineBytes { return try skipLongLine() }
            let scanned = end - start
            try fill()
            searchFrom = start + scanned
        }
    }

    /// Moves the partial line to the front (growing the buffer if it is full), then reads.
    private func fill() throws {
        if start > 0 {
            let count = end - start
            if count > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, count) }
            end = count
            start = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, maxLineBytes + 4096), alignment: 64)
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            buffer.deallocate()
            buffer = bigger
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { eof = true }
        end += n
    }

    private func skipLongLine() throws -> Line {
        lineNumber += 1
        let number = lineNumber, lineOffset = offset
        var length = end - start
        start = end
        while true {
            start = 0; end = 0
            let n = try source.read(into: buffer)
            if n == 0 { eof = true; offset += length; return .tooLong(bytes: length, number: number, offset: lineOffset) }
            end = n
            if let lf = findLF(from: 0) {
                length += lf
                start = lf + 1
                offset += length + 1
                return .tooLong(bytes: length, number: number, offset: lineOffset)
            }
            length += n
        }
    }

    private func findLF(from: Int) -> Int? {
        guard from < end else { return nil }
        guard let p = memchr(buffer.baseAddress! + from, 0x0A, end - from) else { return nil }
        return buffer.baseAddress!.distance(to: UnsafeMutableRawPointer(p))
    }
}
