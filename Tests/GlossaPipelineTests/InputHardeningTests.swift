import Foundation
import Testing
@testable import GlossaPipeline

/// Input that used to be misread or misreported: zstd on standard input, a byte-order mark,
/// repeated keys, a damaged frame, null fields.
@Suite struct InputHardeningTests {
    static let binary = NormalizeJobTests.corpora.deletingLastPathComponent().appendingPathComponent(".build/debug/glossa").path

    func records(_ path: String) throws -> [JSONObject] {
        try readAll(openByteSource(path: path)).split(separator: 0x0A).map { line in
            try #require(try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue)
        }
    }

    func zstd(_ bytes: [UInt8], _ path: String) throws {
        let sink = try openByteSink(path: path)
        try sink.write(bytes)
        try sink.commit()
    }

    /// `glossa normalize -` with `stdin` as standard input; its exit status.
    func normalizeStandardInput(_ stdin: String, output: String, rejects: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["normalize", "-", "-o", output, "--rejects", rejects, "--quiet"]
        process.standardInput = FileHandle(forReadingAtPath: stdin)
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func zstdOnStandardInputIsDecompressed() throws {
        let dir = try Scratch()
        let lines = (1...50).map { #"{"id": "\#($0)", "text": "Ｔｅｘｔ number \#($0)"}"# }.joined(separator: "\n") + "\n"
        try zstd(Array(lines.utf8), dir.path("in.jsonl.zst"))
        try FileManager.default.moveItem(atPath: dir.path("in.jsonl.zst"), toPath: dir.path("in.zst.bin"))
        try Data(lines.utf8).write(to: URL(fileURLWithPath: dir.path("in.jsonl")))
        // The compressed bytes really start with zstd's magic (no name says so here).
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("in.zst.bin"))).prefix(4)) == zstdMagic)
        #expect(try normalizeStandardInput(dir.path("in.zst.bin"), output: dir.path("a.jsonl"), rejects: dir.path("a.rejects.jsonl")) == 0)
        #expect(try normalizeStandardInput(dir.path("in.jsonl"), output: dir.path("b.jsonl"), rejects: dir.path("b.rejects.jsonl")) == 0)
        let compressed = try records(dir.path("a.jsonl")), plain = try records(dir.path("b.jsonl"))
        #expect(compressed.count == 50 && compressed == plain)
        #expect(try readAll(openByteSource(path: dir.path("a.rejects.jsonl"))).isEmpty)
    }

    @Test func aByteOrderMarkStartsTheFirstRecordWithoutRejectingIt() throws {
        let line = Array(#"{"id": "a", "text": "x"}"#.utf8)
        let withMark = [0xEF, 0xBB, 0xBF] + line
        let first = withMark.withUnsafeBufferPointer { RecordLines.parse($0, isText: false, name: "f", line: 1) }
        #expect(first.rejection == nil && first.repairs == 1)
        #expect(first.object["id"] == .string("a"))
        let plain = line.withUnsafeBufferPointer { RecordLines.parse($0, isText: false, name: "f", line: 1) }
        #expect(plain.object == first.object && plain.repairs == 0)
        // Only the file's start may carry one: elsewhere it is not JSON.
        let later = withMark.withUnsafeBufferPointer { RecordLines.parse($0, isText: false, name: "f", line: 2) }
        #expect(later.rejection?.reason == Rejection.malformedJSON)
    }

    @Test func repeatedKeysAreRejectedWithTheirOwnReason() throws {
        for text in [#"{"text": "a", "text": "b"}"#, #"{"meta": {"k": 1, "k": 2}, "text": "a"}"#,
                     "{" + (0..<40).map { #""k\#($0)": \#($0)"# }.joined(separator: ", ") + #", "k7": 0}"#] {
            #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
            let record = Array(text.utf8).withUnsafeBufferPointer { RecordLines.parse($0, isText: false, name: "f", line: 3) }
            #expect(record.rejection?.reason == Rejection.duplicateKey, "\(text)")
            #expect(record.rejection?.message.contains("duplicate key") == true)
        }
        // Many distinct keys (past the set threshold) and the same key in sibling objects are fine.
        let wide = "{" + (0..<40).map { #""k\#($0)": \#($0)"# }.joined(separator: ", ") + "}"
        #expect(try JSONParser.parse(wide).value.objectValue?.members.count == 40)
        guard case let .array(items) = try JSONParser.parse(#"[{"k": 1}, {"k": 2}]"#).value else { Issue.record("not an array"); return }
        #expect(items.count == 2)
    }

    @Test func aDamagedFrameIsReportedAtItsStart() throws {
        let dir = try Scratch()
        let one = dir.path("one.zst"), two = dir.path("two.zst")
        try zstd(Array(String(repeating: "first frame line\n", count: 200).utf8), one)
        try zstd(Array((0..<2000).map { "second frame \($0) \($0 * 7919 % 104729)\n" }.joined().utf8), two)
        let a = try Data(contentsOf: URL(fileURLWithPath: one)), b = try Data(contentsOf: URL(fileURLWithPath: two))
        var damaged = Array(b)
        for i in 12..<min(damaged.count, 60) { damaged[i] ^= 0x5A }
        let path = dir.path("both.zst")
        try Data(Array(a) + damaged).write(to: URL(fileURLWithPath: path))
        do {
            _ = try readAll(openByteSource(path: path))
            Issue.record("a damaged frame was read without an error")
        } catch let GlossaError.corruptZstd(_, frameStart, decompressed, _) {
            // The first frame decompressed whole; the error names where the second one starts.
            #expect(frameStart == a.count)
            #expect(decompressed >= 200 * 17)
        }
    }

    @Test func aNullFieldIsNamedAsNull() {
        var record = JSONObject(["text": .null])
        let rejection = TextFields(names: ["text", "title"]).forEachText(in: &record) { _ in }
        #expect(rejection?.reason == Rejection.missingField)
        #expect(rejection?.message == "no text to read: 'text' null, 'title' absent")
        var absent = JSONObject(["other": .string("x")])
        #expect(TextFields(names: ["text"]).forEachText(in: &absent) { _ in }?.message == "none of the fields text is present")
    }
}
