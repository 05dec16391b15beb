import Foundation
import GlossaIO
import Testing
@testable import GlossaPipeline

/// `glossa translate | classify | extract`: the pipeline stages without a definition file, on
/// the default model, through the built CLI. Each builds a pipeline in memory; `--dry-run`
/// prints it, and `glossa run` on that definition gives the same records.
@Suite(.serialized) struct OneShotCommandTests {
    static func records(_ text: String) throws -> [JSONObject] {
        try text.split(separator: "\n").map { line in
            try #require(try Array(line.utf8).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue)
        }
    }

    @Test func textOnStandardInputPrintsTheTranslation() throws {
        let scratch = try Scratch()
        let result = try runGlossa(["translate", "--to", "en", "--quiet"], in: scratch.path(""), stdin: "Hallo Welt, wie geht es dir heute?\n")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.lowercased().contains("how are you") == true, "\(result.stdout)")
        // No rejects: no rejects file left in the working directory.
        #expect(!FileManager.default.fileExists(atPath: scratch.path("rejects.jsonl")))
    }

    @Test func jsonlTicketsMatchTheirOwnDryRunPipeline() throws {
        let scratch = try Scratch()
        let input = scratch.path("t.jsonl")
        try """
            {"id": "a", "title": "Drucker defekt", "body": "Der Drucker im zweiten Stock druckt leere Seiten, siehe OPS-12."}
            {"id": "b", "title": "Connexion impossible", "body": "Impossible de se connecter depuis hier, voir https://status.example.com/7."}
            {"id": "c", "title": 42}

            """.write(toFile: input, atomically: true, encoding: .utf8)
        let out = scratch.path("out.jsonl")
        let args = ["translate", input, "--to", "en", "--fields", "title,body", "--set", "qa=flag", "--max-tokens", "64", "-o", out]
        let run = try runGlossa(args)
        #expect(run.status == 0, "\(run.stderr)")
        let records = try Self.records(String(decoding: try readAll(openByteSource(path: out)), as: UTF8.self))
        #expect(records.map { $0["id"]?.stringValue } == ["a", "b"])
        for r in records {
            #expect(r["translation"]?.objectValue?["body"]?.stringValue?.isEmpty == false)
        }
        #expect(records[0]["translation"]?.objectValue?["body"]?.stringValue?.contains("OPS-12") == true)
        // The bad record is in the rejects next to the output, with its reason.
        let rejects = try Self.records(String(decoding: try readAll(openByteSource(path: scratch.path("out.rejects.jsonl"))), as: UTF8.self))
        #expect(rejects.map { $0["reason"]?.stringValue } == ["field_not_text"])

        // --dry-run: the definition, which glossa run runs to the same records.
        let dry = try runGlossa(args + ["--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("  - translate:") && dry.stdout.contains("qa: flag") && dry.stdout.contains("detect-language"))
        let yaml = dry.stdout.replacingOccurrences(of: "dir: out/glossa-translate", with: "dir: \(scratch.path("run"))")
        try yaml.write(toFile: scratch.path("p.yaml"), atomically: true, encoding: .utf8)
        let pipeline = try runGlossa(["run", scratch.path("p.yaml")])
        #expect(pipeline.status == 0, "\(pipeline.stderr)")
        let shards = try shardLines(scratch.path("run")).filter { !$0.key.hasPrefix("rejects") }.values.flatMap { $0 }
        let fromRun = try Self.records(shards.joined(separator: "\n")).sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }
        #expect(fromRun.map { $0["translation"] } == records.map { $0["translation"] })
    }

    @Test func classifyAndExtractReachTheirStages() throws {
        let scratch = try Scratch()
        let input = scratch.path("d.jsonl")
        try #"{"id": "x", "text": "My invoice shows the wrong amount and I was charged twice."}"#.appending("\n")
            .write(toFile: input, atomically: true, encoding: .utf8)
        let classified = try runGlossa(["classify", input, "--labels", "billing,hardware,login", "--quiet"])
        #expect(classified.status == 0, "\(classified.stderr)")
        let label = try Self.records(classified.stdout).first?["metadata"]?.objectValue?["label"]?.stringValue
        #expect(label == "billing")
        let schema = scratch.path("s.json")
        try #"{"type": "object", "properties": {"amount_wrong": {"type": "boolean"}}, "required": ["amount_wrong"]}"#
            .write(toFile: schema, atomically: true, encoding: .utf8)
        let extracted = try runGlossa(["extract", input, "--schema", schema, "--max-tokens", "32", "--quiet"])
        #expect(extracted.status == 0, "\(extracted.stderr)")
        let value = try Self.records(extracted.stdout).first?["metadata"]?.objectValue?["extracted"]?.objectValue
        #expect(value?["amount_wrong"] == .bool(true) || value?["amount_wrong"] == .bool(false))
    }

    @Test func badOptionsAreClearErrors() throws {
        let scratch = try Scratch()
        let unknown = try runGlossa(["translate", "--to", "en", "--set", "colour=blue"], in: scratch.path(""), stdin: "x\n")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("colour"), "\(unknown.stderr)")
        let language = try runGlossa(["translate", "--to", "xx-nope"], in: scratch.path(""), stdin: "x\n")
        #expect(language.status == 2)
        #expect(language.stderr.contains("xx-nope"))
        let set = try runGlossa(["classify", "--labels", "a,b", "--set", "novalue"], in: scratch.path(""), stdin: "x\n")
        #expect(set.status != 0 && set.stderr.contains("KEY=VALUE"))
    }
}
