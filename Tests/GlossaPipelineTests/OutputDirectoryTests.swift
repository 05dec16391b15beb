import Foundation
import Testing
@testable import GlossaPipeline

/// What a run may do to its output directory: never write into "" or "/", never let outputs
/// and rejects share a file, never mix the output of different definitions or input sets.
@Suite(.serialized) struct OutputDirectoryTests {
    /// Input files named so that an added one sorts first (it would shift positional names).
    static func inputs(_ scratch: Scratch, names: [String]) throws -> String {
        let folder = scratch.path("in")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (k, name) in names.enumerated() {
            let lines = (0..<25).map { "{\"id\":\"\(name)-\($0)\",\"text\":\"Record \($0) of \(name), file \(k).\"}" }
                + ["{\"id\": \"broken in \(name)\""]
            try writeFile(folder + "/" + name, Array((lines.joined(separator: "\n") + "\n").utf8))
        }
        return folder
    }

    static func yaml(_ input: String, out: String, note: String = "") -> String {
        """
        # \(note)
        name: outputs
        input:
          paths: [\(input)]
        stages:
          - normalize: {}
        output:
          dir: \(out)
          path: "p-${rank}-${shard}.jsonl.zst"
          max_records: 10
        """
    }

    /// Records of a run directory: output lines and rejected lines, sorted.
    static func records(_ dir: String) throws -> [String] {
        try shardLines(dir).values.flatMap { $0 }.sorted()
    }

    @Test func changedInputsOrDefinitionAreRefusedAndForceRestartStartsAfresh() throws {
        let scratch = try Scratch()
        let input = try Self.inputs(scratch, names: ["m.jsonl", "n.jsonl"])
        let out = scratch.path("out")
        let definition = scratch.path("p.yaml")
        try Self.yaml(input, out: out).write(toFile: definition, atomically: true, encoding: .utf8)
        let first = try runGlossa(["run", definition], in: scratch.url.path)
        #expect(first.status == 0, "\(first.stderr)")
        let before = allFiles(out).filter { !$0.hasPrefix(".glossa") }
        let beforeRecords = try Self.records(out)
        #expect(beforeRecords.count == 52)
        #expect(FileManager.default.fileExists(atPath: out + "/.glossa/run.json"))

        // One more input file: refused with a way out, and nothing in the output changes.
        try writeFile(input + "/a.jsonl", Array("{\"id\":\"a-0\",\"text\":\"new\"}\n".utf8))
        let refused = try runGlossa(["run", definition], in: scratch.url.path)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("input files changed") && refused.stderr.contains("--force-restart")
                && refused.stderr.contains("--output"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(allFiles(out).filter { !$0.hasPrefix(".glossa") } == before)

        // --output elsewhere works as a fresh run.
        let elsewhere = try runGlossa(["run", definition, "--output", scratch.path("elsewhere")], in: scratch.url.path)
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let fresh = try Self.records(scratch.path("elsewhere"))
        #expect(fresh.count == 53)

        // --force-restart removes the earlier output: the result is exactly a fresh run's, with
        // no record twice (the old shards would otherwise stay beside the new ones).
        let restarted = try runGlossa(["run", definition, "--force-restart"], in: scratch.url.path)
        #expect(restarted.status == 0, "\(restarted.stderr)")
        #expect(try Self.records(out) == fresh)
        // A second --force-restart of the same run resumes (every unit already done).
        let again = try runGlossa(["run", definition, "--force-restart"], in: scratch.url.path)
        #expect(again.status == 0 && again.stderr.contains("(3 already done)"), "\(again.stderr)")

        // An edited definition is refused too.
        try Self.yaml(input, out: out, note: "edited").write(toFile: definition, atomically: true, encoding: .utf8)
        let edited = try runGlossa(["run", definition], in: scratch.url.path)
        #expect(edited.status == 2 && edited.stderr.contains("pipeline definition changed"), "\(edited.stderr)")
        // Files the run did not write survive a restart.
        try writeFile(out + "/NOTES.txt", Array("mine".utf8))
        #expect(try runGlossa(["run", definition, "--force-restart"], in: scratch.url.path).status == 0)
        #expect(FileManager.default.fileExists(atPath: out + "/NOTES.txt"))
        #expect(try Self.records(out) == fresh)
    }

    /// Shards and markers are named by a hash of the unit, so adding an input that sorts first
    /// leaves the other units' files with the same names and bytes.
    @Test func shardNamesDoNotShiftWhenAnInputIsAdded() throws {
        let scratch = try Scratch()
        let input = try Self.inputs(scratch, names: ["m.jsonl", "n.jsonl"])
        let two = try PipelineRunner(config: PipelineConfig.parse(Self.yaml(input, out: scratch.path("two")), file: "p.yaml")).run()
        try writeFile(input + "/a.jsonl", Array("{\"id\":\"a-0\",\"text\":\"new\"}\n".utf8))
        let three = try PipelineRunner(config: PipelineConfig.parse(Self.yaml(input, out: scratch.path("three")), file: "p.yaml")).run()
        #expect(three.units == two.units + 1)
        let a = try shardLines(scratch.path("two")), b = try shardLines(scratch.path("three"))
        #expect(!a.isEmpty)
        for (name, lines) in a { #expect(b[name] == lines, "\(name) moved or changed") }
        #expect(b.count > a.count)
        let units = try InputUnits.list(PipelineConfig.parse(Self.yaml(input, out: "x"), file: "p.yaml"))
        for unit in units where !unit.hasSuffix("a.jsonl") {
            #expect(FileManager.default.fileExists(atPath: Checkpoints.markerPath(scratch.path("two"), unit: unit)))
            #expect(FileManager.default.fileExists(atPath: Checkpoints.markerPath(scratch.path("three"), unit: unit)))
        }
    }

    /// A unit's id is a fixed function of its name: these values must never change, or
    /// resuming an existing output would redo every unit under new names.
    @Test func unitIdsAndRanksAreFixedValues() {
        #expect(UnitNames.id("corpora/sample-tickets.jsonl.zst") == String(SHA256.hex(Array("corpora/sample-tickets.jsonl.zst".utf8)).prefix(12)))
        #expect(UnitNames.id("corpus/part-0.jsonl.zst") == "bf8d79107249")
        #expect(UnitNames.id("big.jsonl#0-4096") != UnitNames.id("big.jsonl#4096-8192"))
        let ranks = (0..<12).map { Ranks.rank(of: "corpus/part-\($0).jsonl.zst", worldSize: 4) }
        #expect(ranks == [1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 3])
    }

    /// A record whose language is "rejects" goes to `_rejects/` with a `${language}` template;
    /// it can never share a file with the rejects shards, whose names are the same otherwise.
    @Test func aLanguageNamedRejectsNeverSharesTheRejectsFile() throws {
        let scratch = try Scratch()
        let input = scratch.path("in.jsonl")
        try writeFile(input, Array("""
            {"id":1,"text":"one","meta":{"language":"rejects"}}
            {"id":2,"text":
            {"id":3,"text":"three","meta":{"language":"rejects"}}
            {"id":4,"text":"four","meta":{"language":".glossa"}}

            """.utf8))
        let config = try PipelineConfig.parse("""
            name: reserved
            input:
              paths: [\(input)]
            metadata_field: meta
            stages:
              - normalize: {}
            output:
              dir: \(scratch.path("out"))
              path: "${language}/part-${rank}-${shard}.jsonl.zst"
            """, file: "p.yaml")
        let report = try PipelineRunner(config: config).run()
        #expect(report.isConserved && report.recordsIn == 4 && report.rejected == 1)
        let files = try shardLines(scratch.path("out"))
        let outputs = files.filter { $0.key.hasPrefix("_rejects/") }
        let rejects = files.filter { $0.key.hasPrefix("rejects/") }
        #expect(outputs.values.flatMap { $0 }.count == 2, "\(files.keys.sorted())")
        #expect(rejects.values.flatMap { $0 }.count == 1, "\(files.keys.sorted())")
        #expect(Set(outputs.keys.map { String($0.dropFirst()) }) == Set(rejects.keys), "the names would have collided")
        #expect(files.keys.contains { $0.hasPrefix("glossa/") })
    }

    /// Configs built in code are checked as well: a runner refuses "" and "/".
    @Test func theRunnerRefusesEmptyAndRootDirectories() throws {
        let scratch = try Scratch()
        try writeFile(scratch.path("in.jsonl"), Array("{\"text\":\"x\"}\n".utf8))
        for directory in ["", "/", "//", "/tmp/../"] {
            var config = try PipelineConfig.parse(Self.yaml(scratch.path("in.jsonl"), out: scratch.path("o")), file: "p.yaml")
            config.output.directory = directory
            #expect(throws: GlossaError.self, "\(directory)") { try PipelineRunner(config: config).run() }
        }
        #expect(!FileManager.default.fileExists(atPath: "/.glossa/run.json"))
    }
}
