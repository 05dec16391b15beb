import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stable names of input units. A unit (a file, or a byte range "path#start-end") is named by
/// a hash of that string, so its shards and markers keep their names when other inputs are
/// added or removed (a name from the unit's sorted position would shift).
enum UnitNames {
    /// 12 hex digits of the SHA-256 of the unit as the run lists it.
    static func id(_ unit: String) -> String {
        String(SHA256.hex(Array(unit.utf8)).prefix(12))
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
