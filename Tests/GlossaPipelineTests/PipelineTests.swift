import Foundation
import Testing
@testable import GlossaPipeline

@Suite struct PipelineConfigTests {
    @Test func parsesTheShippedPipelines() throws {
        for name in ["translate-tickets", "classify-documents", "nightly-corpus"] {
            let config = try PipelineConfig.load(path: NormalizeJobTests.corpora.deletingLastPathComponent().appendingPathComponent("pipelines/\(name).yaml").path)
            #expect(config.name == name)
            #expect(!config.stages.isEmpty)
        }
    }

    @Test func engineKeyValueCacheType() throws {
        let yaml = "name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\n"
        #expect(try PipelineConfig.parse(yaml, file: "p.yaml").engine.kvCache == nil)
        #expect(try PipelineConfig.parse(yaml + "engine:\n  kv_cache: f32\n", file: "p.yaml").engine.kvCache == .f32)
    }

    @Test(arguments: [
        ("name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\n  colour: red\n", 7, "unknown key 'colour' in output"),
        ("name: x\ninput:\n  paths: [a]\nstages:\n  - translate:\n      source: de\noutput:\n  dir: o\n", 6, "missing key 'target'"),
        ("name: x\ninput:\n  paths: [a]\nstages:\n  - classify:\n      labels: [a, a]\noutput:\n  dir: o\n", 6, "without duplicates"),
        ("name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\n  path: ../escape-${shard}.jsonl\n", 7, "without '..'"),
        ("name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\n  max_records: -3\n", 7, "integer >= 1"),
        ("name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\nengine:\n  kv_cache: f8\n", 8, "f16 or f32"),
        ("name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\nengine:\n  backend: remote\n  url: http://h/v1\n  model: m\n  kv_cache: f32\n", 11, "embedded only"),
    ])
    func errorsNameTheLineAndKey(_ yaml: String, _ line: Int, _ message: String) {
        do {
            _ = try PipelineConfig.parse(yaml, file: "p.yaml")
            Issue.record("accepted: \(yaml)")
        } catch let error as PipelineConfig.ConfigError {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(message), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Suite struct PipelinePartsTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func pathTemplatesStayInside() throws {
        let t = try PathTemplate("${language}/part-${rank}-${shard}.jsonl.zst")
        #expect(t.path(rank: 2, shard: "00001-0000", language: "zh-Hant") == "zh-Hant/part-2-00001-0000.jsonl.zst")
        #expect(t.path(rank: 0, shard: "1", language: "../../etc") == "etc/part-0-1.jsonl.zst")
        #expect(throws: GlossaError.self) { try PathTemplate("/abs/${shard}") }
        #expect(throws: GlossaError.self) { try PathTemplate("a/../b-${shard}") }
        #expect(throws: GlossaError.self) { try PathTemplate("no-shard.jsonl") }
        #expect(throws: GlossaError.self) { try PathTemplate("${user}-${shard}") }
    }

    @Test func protectedSpansRoundTrip() {
        let text = "See https://status.example.com/incidents/42, mail ops@example.org or ping @maria.k about OPS-4711: run `npm ci`.\n```bash\nmake test\n```\nThanks."
        let p = ProtectedText(protecting: text)
        #expect(p.spans == ["https://status.example.com/incidents/42", "ops@example.org", "@maria.k", "OPS-4711", "`npm ci`", "```bash\nmake test\n```"])
        #expect(!p.text.contains("https://") && p.text.contains("⟦5⟧"))
        #expect(p.restore(p.text) == text)
        // A translation that moves markers is fine; one that drops or repeats one is not.
        #expect(p.restore("⟦1⟧ ⟦0⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧")?.hasPrefix("ops@example.org https://") == true)
        #expect(p.restore("⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧") == nil)
        #expect(p.restore("⟦0⟧ ⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧") == nil)
        #expect(p.restore("⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ ⟦6⟧") == nil)
        #expect(ProtectedText(protecting: "e-mail and C-3PO and ABC-12x stay").spans.isEmpty)
        // Scripts without spaces put spans right next to letters: still spans, and the letters
        // after them are not part of them.
        let cjk = ProtectedText(protecting: "しませんhttps://t.example.com/i/4032。第@dev92.ops%d 行OPS-195数字@tanakaさん")
        #expect(cjk.spans == ["https://t.example.com/i/4032", "@dev92.ops", "OPS-195", "@tanaka"])
        // ... while an ASCII letter before or after still means "not a span".
        #expect(ProtectedText(protecting: "xhttps://a.b and ABC-1_x and x@y").spans.isEmpty)
    }
}

@Suite(.serialized) struct PipelineRunnerTests {
    static func config(_ dir: String, input: [String], stages: String) throws -> PipelineConfig {
        try PipelineConfig.parse("""
            name: test
            input:
              paths: [\(input.joined(separator: ", "))]
              fields: [text]
            metadata_field: meta
            stages:
            \(stages)
            output:
              dir: \(dir)
              path: "${language}/p-${rank}-${shard}.jsonl.zst"
              max_records: 20
            """, file: "test.yaml")
    }

    func files(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue, f.hasSuffix(".zst") {
                out[f] = FileManager.default.contents(atPath: dir + "/" + f)
            }
        }
        return out
    }

    @Test func conservesRecordsShardsByLanguageAndResumes() throws {
        let scratch = try Scratch()
        let corpora = NormalizeJobTests.corpora.path
        let inputs = ["\(corpora)/sample-documents.jsonl.zst", "\(corpora)/sample-bad-lines.jsonl.zst"]
        let stages = "  - normalize: {}\n  - detect-language: {}\n  - filter:\n      min_chars: 40"
        let out = scratch.path("out")
        let env = TestPaths.environment
        let first = try PipelineRunner(config: Self.config(out, input: inputs, stages: stages), environment: env).run()
        #expect(first.isConserved)
        #expect(first.recordsIn == 130 + 16)
        #expect(first.rejectReasons["too_short"] != nil && first.rejectReasons["malformed_json"] == 2)
        let shards = files(out)
        #expect(shards.keys.contains { $0.hasPrefix("ja/") } && shards.keys.contains { $0.hasPrefix("rejects/") })
        #expect(first.shards.reduce(0) { $0 + $1.records } == first.recordsIn)
        for shard in first.shards {
            #expect(SHA256.hex([UInt8](shards[shard.path]!)) == shard.sha256)
        }
        // Stage totals in the manifest agree with the rejects.
        #expect(first.stages["filter"]?.objectValue?["too_short"] == .number(String(first.rejectReasons["too_short"]!)))
        let manifest = try JSONParser.parse(String(contentsOfFile: out + "/manifest-rank-0.json", encoding: .utf8)).value.objectValue!
        #expect(manifest["stages"] == .object(first.stages))
        // Finished units are skipped on a re-run.
        let again = try PipelineRunner(config: Self.config(out, input: inputs, stages: stages), environment: env).run()
        #expect(again.skippedUnits == 2 && again.recordsIn == first.recordsIn)
        // A crash after unit 0: its marker survives, unit 1's does not and its shards are gone.
        let second = UnitNames.id(inputs[1])
        try FileManager.default.removeItem(atPath: Checkpoints.markerPath(out, unit: inputs[1]))
        let removed = first.shards.filter { $0.path.contains("-\(second)-") }
        #expect(!removed.isEmpty)
        for shard in removed { try FileManager.default.removeItem(atPath: out + "/" + shard.path) }
        let resumed = try PipelineRunner(config: Self.config(out, input: inputs, stages: stages), environment: env).run()
        #expect(resumed.skippedUnits == 1)
        #expect(resumed.stages == first.stages)
        #expect(files(out) == shards, "resumed output differs from the uninterrupted run")
    }

    /// Stability across processes and versions is pinned by fixed values in
    /// `OutputDirectoryTests.unitIdsAndRanksAreFixedValues`; here: every rank gets units, and
    /// a unit's rank does not depend on the other units.
    @Test func ranksSplitUnitsStably() throws {
        let units = (0..<40).map { "corpus/part-\($0).jsonl.zst" }
        let a = units.map { Ranks.rank(of: $0, worldSize: 4) }
        #expect(Set(a).count == 4)
        let counts = Dictionary(grouping: a, by: { $0 }).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 >= 5 }, "\(counts)")
        #expect(a.allSatisfy { (0..<4).contains($0) })
    }
}

/// A run killed with SIGKILL mid-way, again and again, then re-run, ends with exactly the bytes
/// of an uninterrupted run (the CLI in a child process; `make test` builds it first). Each kill
/// is checked to have happened: the process ended by SIGKILL while the run was unfinished.
@Suite(.serialized) struct KillResumeTests {
    static let root = TestPaths.root
    static let glossa = TestPaths.glossa

    func pipeline(_ dir: Scratch, inputs: [String], out: String) throws -> String {
        let yaml = """
            name: kill-test
            input:
              paths: [\(inputs.joined(separator: ", "))]
              fields: [text]
            metadata_field: meta
            stages:
              - normalize: {}
              - detect-language: {}
            output:
              dir: \(out)
              path: "${language}/p-${rank}-${shard}.jsonl.zst"
              max_records: 7
              checkpoint_records: 40
            engine:
              batch_records: 8
            """
        let path = dir.path("p-\((out as NSString).lastPathComponent).yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func start(_ pipeline: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.glossa)
        p.arguments = ["run", pipeline]
        p.currentDirectoryURL = Self.root
        p.environment = TestPaths.environment
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Markers and checkpoints written so far.
    func progress(_ out: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: out + "/.glossa/units")) ?? []).count
    }

    func contents(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            #expect(!f.contains(".tmp-") || f.hasPrefix(".glossa"), "a temporary file is visible: \(f)")
            if !f.hasPrefix(".glossa"), f.hasSuffix(".zst") || f.hasSuffix(".json") { out[f] = FileManager.default.contents(atPath: dir + "/" + f) }
        }
        return out
    }

    /// A manifest without its fingerprint (it hashes the YAML, whose output.dir differs) and
    /// its times.
    func manifest(_ data: Data?) throws -> JSONObject {
        let bytes = try #require(data)
        var object = try #require(try JSONParser.parse(String(decoding: bytes, as: UTF8.self)).value.objectValue)
        object["fingerprint"] = nil
        for key in Manifest.timingKeys { object[key] = nil }
        return object
    }

    @Test func killedRunsResumeToIdenticalBytes() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.glossa), "build the CLI first (make test runs swift build)")
        let scratch = try Scratch()
        // Six input units.
        let source = NormalizeJobTests.corpora.appendingPathComponent("sample-documents.jsonl.zst").path
        let inputs = try (0..<6).map { i -> String in
            let path = scratch.path("in-\(i).jsonl.zst")
            try FileManager.default.copyItem(atPath: source, toPath: path)
            return path
        }
        let clean = scratch.path("clean"), killed = scratch.path("killed")
        let cleanRun = try start(pipeline(scratch, inputs: inputs, out: clean))
        cleanRun.waitUntilExit()
        #expect(cleanRun.terminationStatus == 0 && cleanRun.terminationReason == .exit)
        let expected = contents(clean)
        #expect(expected.count > 6)
        let units = inputs.count
        let yaml = try pipeline(scratch, inputs: inputs, out: killed)
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<6 {
            // Kill right after the run has committed something new (a checkpoint or a unit),
            // plus a random few milliseconds: mid-run, and with progress to resume from.
            let before = progress(killed)
            let p = try start(yaml)
            var waited = 0
            while p.isRunning && progress(killed) <= before && waited < 6000 { usleep(1000); waited += 1 }
            usleep(UInt32.random(in: 0...20_000, using: &rng))
            guard p.isRunning else { p.waitUntilExit(); break }  // finished before a kill
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL,
                    "the run was to be killed, but ended by \(p.terminationReason) \(p.terminationStatus)")
            // Killed before finishing: no manifest, not every unit marked done.
            let done = inputs.filter { FileManager.default.fileExists(atPath: Checkpoints.markerPath(killed, unit: $0)) }.count
            #expect(!FileManager.default.fileExists(atPath: killed + "/manifest-rank-0.json"))
            #expect(done < units)
            kills += 1
            _ = contents(killed)  // never a partial file
        }
        #expect(kills >= 3, "only \(kills) runs were killed mid-way")
        let last = try start(yaml)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0 && last.terminationReason == .exit)
        // Shard bytes are identical; the manifests list the same shards and counts.
        let got = contents(killed)
        #expect(Set(got.keys) == Set(expected.keys))
        for (name, data) in expected where name.hasSuffix(".zst") { #expect(got[name] == data, "\(name) differs") }
        #expect(try manifest(got["manifest-rank-0.json"]) == manifest(expected["manifest-rank-0.json"]))
        print("kill/resume: \(kills) runs killed mid-way, output identical")
    }
}

@Suite struct ShardedWriterTests {
    @Test func withoutLanguageInTheTemplateAllRecordsShareShards() throws {
        let dir = try Scratch()
        let writer = ShardedWriter(directory: dir.path("o"), template: try PathTemplate("part-${rank}-${shard}.jsonl"),
                                   maxRecords: 3, maxBytes: 1 << 20, rank: 0, unit: "00000", temporaryDirectory: nil)
        for (i, language) in ["en", "de", "en", "ja", "fr"].enumerated() { try writer.write(Array("{\"n\":\(i)}\n".utf8), language: language) }
        let shards = try writer.commit()
        #expect(shards.map(\.path) == ["part-0-00000-0000.jsonl", "part-0-00000-0001.jsonl"])
        #expect(shards.map(\.records) == [3, 2])
        let perLanguage = ShardedWriter(directory: dir.path("p"), template: try PathTemplate("${language}/s-${shard}.jsonl"),
                                        maxRecords: 3, maxBytes: 1 << 20, rank: 0, unit: "00000", temporaryDirectory: nil)
        for language in ["en", "de", "en"] { try perLanguage.write(Array("{}\n".utf8), language: language) }
        #expect(Set(try perLanguage.commit().map(\.path)) == ["en/s-00000-0000.jsonl", "de/s-00000-0000.jsonl"])
    }
}

/// Big plain files split into byte ranges cut at line starts, and units committed in
/// checkpointed segments.
@Suite(.serialized) struct RangesAndCheckpointsTests {
    /// The sample documents as plain JSONL with blank lines, a broken line and a line longer
    /// than a range, so that ranges start inside lines and on line feeds.
    static func plainInput(_ scratch: Scratch) throws -> (path: String, lines: [String]) {
        let data = try readAll(openByteSource(path: NormalizeJobTests.corpora.appendingPathComponent("sample-documents.jsonl.zst").path))
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        lines.insert("", at: 10)
        lines.insert("{\"id\": \"broken\", \"text\": ", at: 40)
        lines.insert("{\"id\": \"long\", \"text\": \"" + String(repeating: "lorem ipsum ", count: 900) + "\"}", at: 77)
        let path = scratch.path("plain.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, lines)
    }

    static func config(_ out: String, input: String) throws -> PipelineConfig {
        try PipelineConfig.parse("""
            name: ranges
            input:
              paths: [\(input)]
              split_bytes: 4096
            metadata_field: meta
            stages:
              - normalize: {}
            output:
              dir: \(out)
              path: "p-${rank}-${shard}.jsonl.zst"
              max_records: 9
              checkpoint_records: 7
            """, file: "ranges.yaml")
    }

    /// Every output and reject line of a run directory, decompressed.
    static func records(_ dir: String) throws -> [String] {
        var out: [String] = []
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            guard f.hasSuffix(".zst"), !f.hasPrefix(".glossa") else { continue }
            out += String(decoding: try readAll(openByteSource(path: dir + "/" + f)), as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return out.sorted()
    }

    @Test func rangesCoverEveryLineOnceAcrossRanks() throws {
        let scratch = try Scratch()
        let (input, lines) = try Self.plainInput(scratch)
        let units = try InputUnits.list(Self.config(scratch.path("x"), input: input))
        #expect(units.count >= 8, "\(units.count) ranges")
        let single = try PipelineRunner(config: Self.config(scratch.path("one"), input: input)).run()
        #expect(single.isConserved)
        #expect(single.recordsIn == lines.filter { !$0.isEmpty }.count)
        #expect(single.blankLines == 1)
        #expect(single.rejectReasons["malformed_json"] == 1)
        // Every id of the input comes out exactly once.
        let ids = try Self.records(scratch.path("one")).compactMap { line -> String? in
            guard let o = try JSONParser.parse(line).value.objectValue else { return nil }
            return o["id"]?.stringValue ?? (o["record"]?.stringValue).map { _ in "rejected" }
        }
        #expect(ids.filter { $0 != "rejected" }.count == Set(ids.filter { $0 != "rejected" }).count)
        #expect(ids.count == single.recordsIn)
        // Three ranks split the ranges between them and together write the same records.
        // Units go to ranks by a hash of their names (which hold the scratch path), so a rank
        // may get none; each runs exactly its own, and together they run all.
        var union = 0, unitsRun = 0, busyRanks = 0
        for rank in 0..<3 {
            let report = try PipelineRunner(config: Self.config(scratch.path("three"), input: input), rank: rank, worldSize: 3).run()
            let own = units.filter { Ranks.rank(of: $0, worldSize: 3) == rank }.count
            #expect(report.units == own, "rank \(rank) ran \(report.units) of its \(own) ranges")
            union += report.recordsIn
            unitsRun += report.units
            if report.units > 0 { busyRanks += 1 }
        }
        #expect(unitsRun == units.count)
        #expect(busyRanks >= 2)
        #expect(union == single.recordsIn)
        #expect(try Self.records(scratch.path("three")) == Self.records(scratch.path("one")))
    }

    /// A reject in a byte range names the line of the file, not of the range; the line
    /// numbers are the same whether the file is split or not.
    @Test func rejectsInByteRangesNameTheFileLine() throws {
        let scratch = try Scratch()
        let (input, lines) = try Self.plainInput(scratch)
        let broken = try #require(lines.firstIndex { $0.hasPrefix("{\"id\": \"broken\"") }) + 1
        let units = try InputUnits.list(Self.config(scratch.path("x"), input: input))
        #expect(units.count >= 8)
        var seen: [Int] = []
        for (name, whole) in [("split", false), ("whole", true)] {
            var config = try Self.config(scratch.path(name), input: input)
            if whole { config.input.splitBytes = 0 }
            _ = try PipelineRunner(config: config).run()
            let rejects = try shardLines(scratch.path(name)).filter { $0.key.hasPrefix("rejects/") }.values.flatMap { $0 }
            let malformed = try rejects.compactMap { try JSONParser.parse($0).value.objectValue }.filter { $0["reason"] == .string("malformed_json") }
            #expect(malformed.count == 1)
            let reject = try #require(malformed.first)
            // The unit is a range well after the start of the file.
            if !whole { #expect(reject["input"]?.stringValue?.contains("#") == true && reject["input"]?.stringValue?.hasSuffix("#0-4096") == false) }
            if case let .number(n)? = reject["line"], let line = Int(n) { seen.append(line) }
            // The offset points at that line in the file.
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: input)))
            let offset = lines[0..<(broken - 1)].reduce(0) { $0 + $1.utf8.count + 1 }
            #expect(reject["offset"] == .number(String(offset)))
            #expect(Array(bytes[offset..<(offset + 7)]) == Array("{\"id\": ".utf8))
        }
        #expect(seen == [broken, broken])
    }

    @Test func aRunStoppedAtACheckpointResumesToTheSameBytes() throws {
        let scratch = try Scratch()
        let (input, _) = try Self.plainInput(scratch)
        let clean = scratch.path("clean"), stopped = scratch.path("stopped")
        let expected = try PipelineRunner(config: Self.config(clean, input: input)).run()
        for limit in [3, 7, 12] {
            let runner = try PipelineRunner(config: Self.config(stopped, input: input))
            runner.interruptAfterSegments = limit
            #expect(throws: GlossaError.self) { try runner.run() }
        }
        let resumed = try PipelineRunner(config: Self.config(stopped, input: input)).run()
        #expect(resumed.resumedSegments > 0)
        #expect(resumed.recordsIn == expected.recordsIn && resumed.stages == expected.stages)
        #expect(resumed.shards.map(\.sha256) == expected.shards.map(\.sha256))
        // The manifests agree on everything but the fingerprint (a hash of the YAML, whose
        // output.dir differs) and times: shards, counts, stage totals.
        let manifests = try [clean, stopped].map { dir -> JSONObject in
            let data = try #require(FileManager.default.contents(atPath: dir + "/manifest-rank-0.json"))
            var object = try #require(try JSONParser.parse(String(decoding: data, as: UTF8.self)).value.objectValue)
            object["fingerprint"] = nil
            for key in Manifest.timingKeys { object[key] = nil }
            return object
        }
        #expect(manifests[0] == manifests[1])
        #expect(manifests[0]["shards"].map { if case let .array(a) = $0 { a.count } else { 0 } } == expected.shards.count)
        // No checkpoint files are left once the units are done.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: stopped + "/.glossa/units").filter { $0.split(separator: ".").count > 2 }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
