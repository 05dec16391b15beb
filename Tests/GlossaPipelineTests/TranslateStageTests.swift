import Foundation
import Testing
@testable import GlossaPipeline

/// The translate stage end to end on the default model: multi-field tickets, protected spans,
/// the retry pass (a code block the small model tends to break) and determinism.
@Suite(.serialized) struct TranslateStageTests {
    static let root = NormalizeJobTests.corpora.deletingLastPathComponent()

    static func tickets(_ scratch: Scratch, ids: Set<String>) throws -> String {
        let all = try readAll(openByteSource(path: NormalizeJobTests.corpora.appendingPathComponent("sample-tickets.jsonl.zst").path))
        let lines = all.split(separator: 0x0A).filter { line in
            let id = (try? Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue?["id"]?.stringValue) ?? nil
            return id.map(ids.contains) ?? false
        }
        let path = scratch.path("tickets.jsonl")
        try Data(lines.joined(separator: [0x0A]) + [0x0A]).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func config(_ input: String, out: String) throws -> PipelineConfig {
        try PipelineConfig.parse("""
            name: translate-test
            input:
              paths: [\(input)]
              fields: [title, body, comments]
            stages:
              - normalize: {}
              - detect-language: {}
              - translate:
                  target: en
                  max_tokens: 80
            output:
              dir: \(out)
              path: "${language}/t-${rank}-${shard}.jsonl.zst"
            engine:
              model: default
              batch_records: 8
            """, file: "translate-test.yaml")
    }

    func outputs(_ dir: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            if f.hasSuffix(".zst"), !f.hasPrefix(".glossa") { out[f] = try readAll(openByteSource(path: dir + "/" + f)) }
        }
        return out
    }

    @Test func ticketsAreTranslatedFieldByFieldWithSpansKept() throws {
        let scratch = try Scratch()
        // English (kept as is), German, French (code block, id, mention), Spanish (e-mail address).
        let input = try Self.tickets(scratch, ids: ["TCK-0001", "TCK-0002", "TCK-0003", "TCK-0004"])
        let env = TestPaths.environment
        let first = try PipelineRunner(config: Self.config(input, out: scratch.path("a")), environment: env).run()
        #expect(first.isConserved && first.recordsIn == 4)
        let stats = try #require(first.stages["translate"]?.objectValue)
        #expect(stats["same_language"] == .number("1"))
        let files = try outputs(scratch.path("a"))
        var translated = 0
        for (name, bytes) in files where !name.hasPrefix("rejects/") {
            for line in bytes.split(separator: 0x0A) {
                let record = try #require(try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue)
                let translation = try #require(record["translation"]?.objectValue)
                #expect(record["metadata"]?.objectValue?["translated_to"] == .string("en"))
                let title = translation["title"]?.stringValue ?? ""
                #expect(!title.isEmpty, "\(record["id"] ?? .null)")
                // Every protected span of every field is in its translation.
                for field in ["title", "body"] {
                    guard let source = record[field]?.stringValue, let target = translation[field]?.stringValue else { continue }
                    for span in ProtectedText(protecting: source).spans { #expect(target.contains(span), "\(span) lost in \(field)") }
                }
                if case let .array(items)? = translation["comments"] { #expect(items.allSatisfy { !($0.stringValue ?? "").isEmpty }) }
                translated += 1
            }
        }
        #expect(translated == first.recordsOut)
        // Rejections say why; nothing else is lost.
        #expect(Set(first.rejectReasons.keys).isSubset(of: ["placeholders_lost"]))
        // Greedy decoding: a second run writes the same bytes.
        _ = try PipelineRunner(config: Self.config(input, out: scratch.path("b")), environment: env).run()
        #expect(try outputs(scratch.path("b")) == files)
    }
}
