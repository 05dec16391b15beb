import Foundation
import Testing
@testable import GlossaPipeline

/// A scratch directory per test, removed afterwards.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    var files: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path).sorted()) ?? [] }
}

func readAll(_ source: ByteSource) throws -> [UInt8] {
    var all = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 1000)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { return all }
        all.append(contentsOf: buffer[0..<n])
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

@Suite struct StreamTests {
    @Test func zstdRoundTripAcrossFrames() throws {
        let dir = try Scratch()
        let payload = (0..<50_000).flatMap { Array("line \($0) — δοκιμή ✓\n".utf8) }
        let path = dir.path("a.jsonl.zst")
        let sink = try openByteSink(path: path)
        try sink.write(Array(payload[0..<1000]))
        try sink.write(Array(payload[1000...]))
        try sink.commit()
        // A second frame appended to the file (zstd files may be concatenations).
        var file = try Data(contentsOf: URL(fileURLWithPath: path))
        file.append(file)
        try file.write(to: URL(fileURLWithPath: path))
        let back = try readAll(openByteSource(path: path))
        #expect(back == payload + payload)
        #expect(dir.files == ["a.jsonl.zst"])
    }

    @Test func truncatedZstdIsAClearError() throws {
        let dir = try Scratch()
        let path = dir.path("t.zst")
        let sink = try openByteSink(path: path)
        try sink.write(Array(repeating: UInt8(ascii: "x"), count: 200_000) + Array("tail".utf8))
        try sink.commit()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 7).write(to: URL(fileURLWithPath: path))
        #expect(throws: GlossaError.truncatedZstd(path: path)) { try readAll(openByteSource(path: path)) }
    }

    @Test func corruptZstdIsAClearError() throws {
        let dir = try Scratch()
        let path = dir.path("c.zst")
        try writeFile(path, [0x28, 0xB5, 0x2F, 0xFD] + Array(repeating: 0xEE, count: 64))
        do {
            _ = try readAll(openByteSource(path: path))
            Issue.record("expected an error")
        } catch let error as GlossaError {
            guard case .corruptZstd = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains(path))
        }
    }

    @Test func zstdDetectedByMagicWithoutExtension() throws {
        let dir = try Scratch()
        let path = dir.path("data.zst")
        let sink = try openByteSink(path: path)
        try sink.write(Array("hello\n".utf8))
        try sink.commit()
        try FileManager.default.moveItem(atPath: path, toPath: dir.path("data.bin"))
        #expect(try readAll(openByteSource(path: dir.path("data.bin"))) == Array("hello\n".utf8))
    }

    @Test func abandonedSinkLeavesNothing() throws {
        let dir = try Scratch()
        do {
            let sink = try openByteSink(path: dir.path("out.jsonl.zst"))
            try sink.write(Array("partial".utf8))
            // The temporary file exists until then: an empty folder afterwards means removed.
            #expect(dir.files.count == 1 && dir.files[0].hasPrefix("out.jsonl.zst.tmp-"), "\(dir.files)")
            sink.abandon()
        }
        do {
            let sink = try openByteSink(path: dir.path("other.jsonl"))
            try sink.write(Array("partial".utf8))
            #expect(dir.files.count == 1, "\(dir.files)")
            // dropped without commit
            _ = sink
        }
        #expect(dir.files.isEmpty)
    }

    @Test func linesAcrossChunksWithOffsets() throws {
        let dir = try Scratch()
        let path = dir.path("l.txt")
        let lines = (0..<3_000).map { "row \($0) " + String(repeating: "ж", count: $0 % 37) }
        try writeFile(path, Array((lines.joined(separator: "\r\n") + "\nlast-without-newline").utf8))
        let reader = LineReader(try openByteSource(path: path), chunkBytes: 4096)
        var got: [String] = [], offsets: [Int] = []
        while let line = try reader.next() {
            guard case let .text(bytes, number, offset) = line else { Issue.record("unexpected long line"); return }
            #expect(number == got.count + 1)
            got.append(String(decoding: bytes, as: UTF8.self))
            offsets.append(offset)
        }
        #expect(got.count == 3_001)
        #expect(got[0] == "row 0 \r")
        #expect(got[2_999] == lines[2_999])
        #expect(got[3_000] == "last-without-newline")
        #expect(offsets[1] == lines[0].utf8.count + 2)
    }

    @Test func giantLinesAreSkippedWithTheirLength() throws {
        let dir = try Scratch()
        let path = dir.path("g.txt")
        let giant = [UInt8](repeating: UInt8(ascii: "a"), count: 3_000_000)
        try writeFile(path, Array("first\n".utf8) + giant + Array("\nafter\n".utf8))
        let reader = LineReader(try openByteSource(path: path), maxLineBytes: 1_000_000, chunkBytes: 65_536)
        var events: [String] = []
        while let line = try reader.next() {
            switch line {
            case let .text(bytes, number, _): events.append("\(number):\(String(decoding: bytes, as: UTF8.self))")
            case let .tooLong(length, number, offset): events.append("\(number):long \(length) @\(offset)")
            }
        }
        #expect(events == ["1:first", "2:long 3000000 @6", "3:after"])
    }
}
