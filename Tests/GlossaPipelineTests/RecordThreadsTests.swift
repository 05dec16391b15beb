import Foundation
import Testing
@testable import GlossaPipeline

/// Parsing and the record stages run on all the run's threads, in chunks of each batch; the
/// shards, rejects and counts are byte for byte the same for any number of threads.
@Suite struct RecordThreadsTests {
    func run(threads: Int, input: String, output: String) throws -> (PipelineRunner.Report, [String: [UInt8]]) {
        let config = try PipelineConfig.parse("""
            name: threads
            input:
              paths: [\(input)]
              fields: [text]
            stages:
              - normalize: {}
              - detect-language: {}
              - filter: {min_chars: 20}
            output:
              dir: \(output)
              path: "${language}/part-${rank}-${shard}.jsonl.zst"
              checkpoint_records: 700
            """, file: "threads.yaml")
        let report = try PipelineRunner(config: config, environment: TestPaths.environment, threads: threads).run()
        var files: [String: [UInt8]] = [:]
        for name in FileManager.default.enumerator(atPath: output)?.compactMap({ $0 as? String }) ?? [] where name.hasSuffix(".zst") && !name.hasPrefix(".glossa") {
            files[name] = try readAll(openByteSource(path: output + "/" + name))
        }
        return (report, files)
    }

    @Test func outputIsTheSameForAnyThreadCount() throws {
        let scratch = try Scratch()
        // The sample documents and bad lines, repeated: enough lines for several chunks per
        // batch and several segments, with rejects among them.
        var lines: [[UInt8]] = []
        for name in ["sample-documents.jsonl.zst", "sample-bad-lines.jsonl.zst"] {
            let bytes = try readAll(openByteSource(path: TestPaths.root.appendingPathComponent("corpora/" + name).path))
            lines += bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        }
        var input: [UInt8] = []
        for _ in 0..<12 { for line in lines { input += line + [0x0A] } }
        try Data(input).write(to: URL(fileURLWithPath: scratch.path("in.jsonl")))
        let (one, a) = try run(threads: 1, input: scratch.path("in.jsonl"), output: scratch.path("t1"))
        #expect(one.recordsIn > 1000 && one.rejected > 0 && one.recordsOut > 0 && one.isConserved)
        #expect(a.count > 3)
        for threads in [2, 3, 7] {
            let (report, files) = try run(threads: threads, input: scratch.path("in.jsonl"), output: scratch.path("t\(threads)"))
            #expect(files == a, "\(threads) threads")
            #expect(report.recordsOut == one.recordsOut && report.rejectReasons == one.rejectReasons)
            #expect(report.stages == one.stages, "\(threads) threads: stage counts")
        }
    }
}
