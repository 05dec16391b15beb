import Foundation
import Testing
@testable import GlossaPipeline

/// Mistakes in a pipeline definition are one-line errors naming the file, the line and the
/// key, found when the definition is read (not by rejecting every record later).
@Suite struct ConfigErrorTests {
    static let head = "name: x\ninput:\n  paths: [a]\n"
    static let output = "output:\n  dir: o\n"

    @Test(arguments: [
        // A scalar stage body used to be ignored silently.
        (head + "stages:\n  - filter: \"min_chars: 20000\"\n" + output, 5, "options of stage 'filter' must be a mapping"),
        // A language filter without detect-language rejected every record.
        (head + "stages:\n  - normalize: {}\n  - filter:\n      languages: [de]\n" + output, 7, "needs a detect-language stage before"),
        (head + "stages:\n  - filter:\n      scripts: [Latn]\n  - detect-language: {}\n" + output, 6, "needs a detect-language stage before"),
        (head + "stages:\n  - detect-language: {}\n  - filter:\n      languages: [de, klingon]\n" + output, 7, "unknown language code 'klingon'"),
        (head + "stages:\n  - detect-language: {}\n  - filter:\n      scripts: [Latn, Elvish]\n" + output, 7, "unknown script code 'Elvish'"),
        (head + "stages:\n  - detect-language: {}\n  - filter:\n      scripts: [latn]\n" + output, 7, "unknown script code 'latn'"),
        (head + "stages:\n  - filter:\n      min_chars: 50\n      max_chars: 10\n" + output, 7, "max_chars (10) is smaller than filter.min_chars (50)"),
        (head + "stages:\n  - filter: {}\n" + output, 5, "has no criteria"),
        (head + "stages:\n  - normalize:\n      fields: []\n" + output, 6, "normalize.fields is empty"),
        ("name: x\ninput:\n  paths: [a]\n  fields: []\nstages: []\n" + output, 4, "input.fields is empty"),
        (head + "metadata_field: \"\"\nstages: []\n" + output, 4, "metadata_field is empty"),
        (head + "stages:\n  - normalize:\n      form: nfz\n" + output, 6, "normalize.form must be one of"),
        (head + "stages:\n  - translate:\n      target: english\n" + output, 6, "translate.target: unknown language code 'english'"),
        (head + "stages:\n  - translate:\n      target: en\n      source: xx\n" + output, 7, "translate.source: unknown language code 'xx'"),
        ("name: x\ninput:\n  paths: []\nstages: []\n" + output, 3, "input.paths is empty"),
        // A duplicated key is reported where it is repeated, not at line 1.
        (head + "stages: []\noutput:\n  dir: o\n  max_records: 5\n  dir: p\n", 8, "key 'dir' appears twice"),
        (head + "stages: []\n" + output + "name: y\n", 7, "key 'name' appears twice"),
        // Output directory and reserved paths.
        (head + "stages: []\noutput:\n  dir: \"\"\n", 6, "output.dir is empty"),
        (head + "stages: []\noutput:\n  dir: /\n", 6, "file system root"),
        (head + "stages: []\noutput:\n  dir: /tmp/..\n", 6, "file system root"),
        (head + "stages: []\n" + output + "  path: \".glossa/tmp/rank-${rank}/${shard}.jsonl.zst\"\n", 7, "keeps for its own files"),
        (head + "stages: []\n" + output + "  path: \"rejects/${shard}.jsonl.zst\"\n", 7, "keeps for its own files"),
        (head + "stages: []\n" + output + "  path: \"./rejects/${language}-${shard}.jsonl.zst\"\n", 7, "keeps for its own files"),
        (head + "stages: []\n" + output + "  path: \"manifest-rank-${shard}.json\"\n", 7, "keeps for its own files"),
    ])
    func mistakesNameTheirLine(_ yaml: String, _ line: Int, _ message: String) {
        do {
            _ = try PipelineConfig.parse(yaml, file: "p.yaml")
            Issue.record("accepted: \(yaml)")
        } catch let error as PipelineConfig.ConfigError {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("p.yaml:\(line): "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains("\n"), "not one line: \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    /// What the checks must still accept: tags the detector writes, script codes, and a stage
    /// written with nothing after its colon.
    @Test func validDefinitionsStillParse() throws {
        let yaml = Self.head + """
            stages:
              - normalize:
              - detect-language: {}
              - filter:
                  languages: [de, zh, zh-Hant, sr-Latn, ar, und]
                  scripts: [Latn, Cyrl, Hans, Hant, Jpan, Kore, Arab]
                  min_chars: 5
                  max_chars: 5
              - translate:
                  target: en
                  source: fr
            """ + "\n" + Self.output
        let config = try PipelineConfig.parse(yaml, file: "p.yaml")
        #expect(config.stages.count == 4)
        guard let filter = config.stages[2] as? FilterOptions else { Issue.record("not a filter"); return }
        #expect(filter.languages?.count == 6 && filter.scripts?.count == 7 && filter.minCharacters == 5 && filter.maxCharacters == 5)
    }

    /// An input glob or directory that matches nothing was 0 units and exit 0.
    @Test func inputsThatMatchNothingAreErrorsWithTheirLine() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("empty"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("only-dirs/sub"), withIntermediateDirectories: true)
        try writeFile(scratch.path("a.jsonl"), Array("{\"text\":\"x\"}\n".utf8))
        for (path, message) in [("\(scratch.path("empty"))", "has no input files"), ("\(scratch.path("only-dirs"))", "has no input files"),
                                ("\(scratch.path("*.txt"))", "matches no file"), ("\(scratch.path("missing.jsonl"))", "no such file")] {
            let yaml = "name: x\ninput:\n  paths:\n    - \(scratch.path("a.jsonl"))\n    - \(path)\nstages: []\noutput:\n  dir: \(scratch.path("out"))\n"
            let config = try PipelineConfig.parse(yaml, file: "p.yaml")
            do {
                _ = try InputUnits.list(config)
                Issue.record("\(path) accepted")
            } catch let error as PipelineConfig.ConfigError {
                #expect(error.line == 5, "\(error)")
                #expect(error.description.hasPrefix("p.yaml:5: input.paths"), "\(error)")
                #expect(error.description.contains(message), "\(error)")
            }
        }
    }

    /// The CLI prints the same one-line errors and exits 2; an output directory that cannot be
    /// created is named with the system's reason, not an `NSError` dump.
    @Test func cliReportsConfigurationAndOutputErrorsInOneLine() throws {
        let scratch = try Scratch()
        try writeFile(scratch.path("in.jsonl"), Array("{\"text\":\"hello\"}\n".utf8))
        try writeFile(scratch.path("blocker"), Array("a file, not a folder".utf8))
        let bad = scratch.path("bad.yaml")
        try (ConfigErrorTests.head + "stages:\n  - normalize:\n      form: nfz\n" + ConfigErrorTests.output).write(toFile: bad, atomically: true, encoding: .utf8)
        let r1 = try runGlossa(["run", bad], in: scratch.url.path)
        #expect(r1.status == 2 && !r1.signaled)
        #expect(r1.stderr == "glossa run: \(bad):6: normalize.form must be one of none, nfc, nfd, nfkc, nfkd, nfkc_casefold, not 'nfz'\n", "\(r1.stderr)")

        let noInput = scratch.path("noinput.yaml")
        try "name: x\ninput:\n  paths: [\(scratch.path("nothing-*.jsonl"))]\nstages: []\noutput:\n  dir: \(scratch.path("o"))\n"
            .write(toFile: noInput, atomically: true, encoding: .utf8)
        let r2 = try runGlossa(["run", noInput], in: scratch.url.path)
        #expect(r2.status == 2)
        #expect(r2.stderr.hasPrefix("glossa run: \(noInput):3: input.paths: '\(scratch.path("nothing-*.jsonl"))' matches no file"), "\(r2.stderr)")

        let blocked = scratch.path("blocked.yaml")
        try "name: x\ninput:\n  paths: [\(scratch.path("in.jsonl"))]\nstages:\n  - normalize: {}\noutput:\n  dir: \(scratch.path("blocker/out"))\n"
            .write(toFile: blocked, atomically: true, encoding: .utf8)
        let r3 = try runGlossa(["run", blocked], in: scratch.url.path)
        #expect(r3.status == 2)
        let lines = r3.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r3.stderr)")
        #expect(r3.stderr == "glossa run: cannot create directory \(scratch.path("blocker/out")): Not a directory\n", "\(r3.stderr)")
        #expect(!r3.stderr.contains("Error Domain") && !r3.stderr.contains("NSError"), "\(r3.stderr)")

        // --output / is refused like output.dir: /.
        let good = scratch.path("good.yaml")
        try "name: x\ninput:\n  paths: [\(scratch.path("in.jsonl"))]\nstages: []\noutput:\n  dir: \(scratch.path("o"))\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let r4 = try runGlossa(["run", good, "--output", "/"], in: scratch.url.path)
        #expect(r4.status != 0 && r4.stderr.contains("file system root"), "\(r4.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/manifest-rank-0.json"))
    }
}
