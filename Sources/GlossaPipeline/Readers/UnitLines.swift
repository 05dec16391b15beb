import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lines of one unit: a whole file, or the lines that start inside a byte range of a plain
/// file ("path#start-end"). Line numbers count from the unit's first line; offsets are the file's.
final class UnitLines {
    let path: String
    let range: Range<Int>?
    private let source: ByteSource
    private let reader: LineReader
    private var skipped = 0
    /// The byte before the range is a line feed (the skipped partial line was empty).
    private var startsOnLine = false
    private var finished = false
    private let size: Double
    private(set) var number = 0

    init(unit: String, maxLineBytes: Int = 64 << 20) throws {
        if let hash = unit.lastIndex(of: "#"), case let bounds = unit[unit.index(after: hash)...].split(separator: "-"),
           bounds.count == 2, let start = Int(bounds[0]), let end = Int(bounds[1]), start < end {
            path = String(unit[..<hash])
            range = start..<end
        } else {
            path = unit
            range = nil
        }
        if let range, range.lowerBound > 0 {
            // Start on the byte before the range: the (partial) line read first belongs to the
            // previous range, unless that byte is a line feed, when it is empty.
            source = try FileSource(path: path, offset: range.lowerBound - 1)
            reader = LineReader(source, maxLineBytes: maxLineBytes, baseOffset: range.lowerBound - 1)
            if case let .text(bytes, _, _)? = try reader.next() { startsOnLine = bytes.isEmpty }
            skipped = 1
        } else {
            source = try openByteSource(path: path)
            reader = LineReader(source, maxLineBytes: maxLineBytes)
        }
        size = Double(range?.count ?? ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0))
    }

    func next() throws -> LineReader.Line? {
        guard !finished, let line = try reader.next() else { finished = true; return nil }
        if let range, line.offset >= range.upperBound { finished = true; return nil }
        switch line {
        case let .text(bytes, n, offset):
            number = n - skipped
            return .text(bytes, number: number, offset: offset)
        case let .tooLong(length, n, offset):
            number = n - skipped
            return .tooLong(bytes: length, number: number, offset: offset)
        }
    }

    /// What to add to a line number of this unit to get the file's line number: 0 for a whole
    /// file; for a range starting at s, the line feeds before s - 1, plus one (the line read
    /// first from s - 1 is the previous range's, unless byte s - 1 is itself a line feed).
    func fileLineBase(_ counter: RangeLineCounter, split: Int) throws -> Int {
        guard let range, range.lowerBound > 0 else { return 0 }
        let feeds = try counter.lineFeeds(in: path, before: range.lowerBound, split: split)
        return feeds + 1 - (startsOnLine ? 1 : 0)
    }

    /// Bytes of the file read so far (the input's size once a whole-file unit is finished).
    var bytesRead: Int { reader.position - (range.map { max(0, $0.lowerBound - 1) } ?? 0) }

    var fractionRead: Double {
        size > 0 ? min(1, Double(source.position - (range?.lowerBound ?? 0)) / size) : 0
    }
}

extension LineReader.Line {
    var offset: Int {
        switch self {
        case let .text(_, _, offset), let .tooLong(_, _, offset): offset
        }
    }
}

/// File line numbers for byte-range units. A range's own lines are numbered from its start;
/// the file's line number of its first line is one more than the line feeds before it, counted
/// range by range ([j * split, (j + 1) * split)) and cached in `.glossa/newlines/` so every
/// range is counted once per output directory, whichever rank needs it.
struct RangeLineCounter {
    let cacheDirectory: String
    let temporaryDirectory: String

    /// Line feeds in bytes [0, end) of `path`, for `end` a multiple of `split` (or any end:
    /// the part after the last whole range is counted without caching).
    func lineFeeds(in path: String, before end: Int, split: Int) throws -> Int {
        guard split > 0 else { return try Self.count(path, from: 0, to: end) }
        var total = 0
        var start = 0
        while start + split <= end {
            let unit = "\(path)#\(start)-\(start + split)"
            let cache = "\(cacheDirectory)/\(UnitNames.id(unit)).txt"
            if let data = FileManager.default.contents(atPath: cache),
               let n = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                total += n
            } else {
                let n = try Self.count(path, from: start, to: start + split)
                try OutputPaths.makeDirectory(cacheDirectory)
                let sink = try AtomicFileSink(path: cache, temporaryDirectory: temporaryDirectory)
                try sink.write(Array("\(n)\n".utf8))
                try sink.commit()
                total += n
            }
            start += split
        }
        if start < end { total += try Self.count(path, from: start, to: end) }
        return total
    }

    /// Line feeds in bytes [from, to) of a plain file.
    static func count(_ path: String, from: Int, to: Int) throws -> Int {
        let source = try FileSource(path: path, offset: from)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var remaining = to - from, n = 0
        while remaining > 0 {
            let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, remaining)]))
            if got == 0 { break }
            guard let base = buffer.baseAddress else { break }
            var p = base
            let stop = base + got
            while p < stop, let hit = memchr(p, 0x0A, stop - p) {
                n += 1
                p = UnsafeMutableRawPointer(hit) + 1
            }
            remaining -= got
        }
        return n
    }
}
