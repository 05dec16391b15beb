import Foundation
import Testing
@testable import GlossaPipeline

/// `glossa normalize` as the command runs it: a one-stage pipeline into one file, on the
/// pipeline runner.
struct NormalizeJob {
    struct Options {
        var inputs: [String]
        var output: String
        var rejects: String?
        var maxLineBytes = 64 << 20
        var threads = 2
        /// Records per batch (smaller than the runner's 4096 to make several batches).
        var batchRecords: Int?
    }

    let options: Options
    let fields: [String]

    init(_ options: Options, fields: [String] = ["text"]) throws {
        self.options = options
        self.fields = fields
    }

    func run() throws -> PipelineRunner.Report {
        let config = PipelineConfig.singleStage(NormalizeOptions(), inputs: options.inputs,
                                                output: FileOutput(path: options.output, rejects: options.rejects),
                                                fields: fields, maxLineBytes: options.maxLineBytes)
        let runner = try PipelineRunner(config: config, threads: options.threads)
        if let n = options.batchRecords { runner.recordBatchRecords = n }
        return try runner.run()
    }
}

extension PipelineRunner.Report {
    /// A count of a stage's tally (`characters_per_step` of normalize), 0 when absent.
    func count(_ stage: String, _ tally: String, _ key: String) -> Int {
        if case let .number(n)? = stages[stage]?.objectValue?[tally]?.objectValue?[key] { return Int(n) ?? 0 }
        return 0
    }

    /// Whether every count of a stage's tally is zero.
    func allZero(_ stage: String, _ tally: String) -> Bool {
        (stages[stage]?.objectValue?[tally]?.objectValue?.members ?? []).allSatisfy { $0.value == .number("0") }
    }
}

@Suite struct NormalizeJobTests {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("corpora")

    func lines(_ path: String) throws -> [JSONObject] {
        let bytes = try readAll(openByteSource(path: path))
        return try bytes.split(separator: 0x0A).map { line in
            try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue!
        }
    }

    @Test func sampleCorporaAreAllAccountedFor() throws {
        let dir = try Scratch()
        var options = NormalizeJob.Options(
            inputs: [Self.corpora.appendingPathComponent("sample-documents.jsonl.zst").path,
                     Self.corpora.appendingPathComponent("sample-bad-lines.jsonl.zst").path],
            output: dir.path("out.jsonl.zst"))
        options.batchRecords = 16  // several batches, both threads
        let report = try NormalizeJob(options).run()
        #expect(report.isConserved)
        #expect(report.recordsIn == report.recordsOut + report.rejected)
        let out = try lines(dir.path("out.jsonl.zst"))
        let rejects = try lines(dir.path("out.rejects.jsonl.zst"))
        #expect(out.count == report.recordsOut)
        #expect(rejects.count == report.rejected)
        #expect(Set(rejects.compactMap { $0["reason"]?.stringValue }) == ["malformed_json", "missing_field", "field_not_text", "not_an_object"])
        // Output keeps input order and metadata; text is normalized (idempotent on a rerun).
        #expect(out.first?["id"] == .string("doc-0001"))
        #expect(out.allSatisfy { $0["meta"] != nil || $0["id"]?.stringValue?.hasPrefix("bad") == true })
        #expect(report.count("normalize", "characters_per_step", "repair_encoding") >= 2)  // lone surrogate + raw invalid bytes
        #expect(dir.files == ["out.jsonl.zst", "out.rejects.jsonl.zst"])
    }

    @Test func secondRunChangesNothing() throws {
        let dir = try Scratch()
        var first = NormalizeJob.Options(inputs: [Self.corpora.appendingPathComponent("sample-documents.jsonl.zst").path],
                                         output: dir.path("once.jsonl"))
        first.threads = 2
        // The first pass must change something, or "the second changes nothing" says nothing.
        let once = try NormalizeJob(first).run()
        #expect(!once.allZero("normalize", "characters_per_step"))
        let second = try NormalizeJob(.init(inputs: [dir.path("once.jsonl")], output: dir.path("twice.jsonl"))).run()
        #expect(second.allZero("normalize", "characters_per_step"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("once.jsonl")))
                == Data(contentsOf: URL(fileURLWithPath: dir.path("twice.jsonl"))))
    }

    @Test func multipleFieldsAndArrays() throws {
        let dir = try Scratch()
        try writeFile(dir.path("t.jsonl"), Array("""
            {"id":1,"title":" Ti\u{200B}tle ","body":"a  b","comments":["c\\r\\nd","  "]}
            {"id":2,"body":null,"title":"x"}
            {"id":3,"title":{"nested":true}}
            {"id":4,"other":"y"}
            {"id":5,"title":"   "}
            """.utf8))
        let options = NormalizeJob.Options(inputs: [dir.path("t.jsonl")], output: dir.path("o.jsonl"))
        let report = try NormalizeJob(options, fields: ["title", "body", "comments"]).run()
        let out = try lines(dir.path("o.jsonl"))
        #expect(out.count == 2)
        #expect(JSONWriter.string(.object(out[0])) == #"{"id":1,"title":"Title","body":"a b","comments":["c\nd",""]}"#)
        #expect(report.rejectReasons == ["field_not_text": 1, "missing_field": 1, "empty_text": 1])
        #expect(report.isConserved)
    }

    @Test func truncatedInputPublishesNothing() throws {
        let dir = try Scratch()
        let input = dir.path("in.jsonl.zst")
        let sink = try openByteSink(path: input)
        for i in 0..<20_000 { try sink.write(Array("{\"text\":\"record \(i) ünïcödé\"}\n".utf8)) }
        try sink.commit()
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: input))
        #expect(throws: GlossaError.truncatedZstd(path: input)) {
            try NormalizeJob(.init(inputs: [input], output: dir.path("out.jsonl.zst"))).run()
        }
        #expect(dir.files == ["in.jsonl.zst"])
    }

    @Test func tenMegabyteRecordAndTooLongLine() throws {
        let dir = try Scratch()
        let big = String(repeating: "Grüße\u{00A0}мир 世界 ", count: 500_000)  // ~11 MB
        var bytes = Array("{\"text\":\"".utf8) + Array(big.utf8) + Array("\"}\n".utf8)
        bytes += Array("{\"text\":\"".utf8) + [UInt8](repeating: 0x61, count: 30_000_000) + Array("\"}\n".utf8)
        bytes += Array("{\"text\":\"ok\"}\n".utf8)
        try writeFile(dir.path("big.jsonl"), bytes)
        var options = NormalizeJob.Options(inputs: [dir.path("big.jsonl")], output: dir.path("o.jsonl"))
        options.maxLineBytes = 20_000_000
        let report = try NormalizeJob(options).run()
        #expect(report.recordsIn == 3)
        #expect(report.recordsOut == 2)
        #expect(report.rejectReasons == ["line_too_long": 1])
        #expect(report.count("normalize", "characters_per_step", "spaces") == 500_000)
        let rejects = try lines(dir.path("o.rejects.jsonl"))
        #expect(rejects.first?["length"] == .number("30000011"))
        #expect(rejects.first?["line"] == .number("2"))
    }
}
