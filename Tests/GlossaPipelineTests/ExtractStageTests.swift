import Foundation
import GlossaEngine
import Testing
@testable import GlossaPipeline

/// The extract stage: schemas from YAML or a file, compiled at load (bad ones are errors with
/// their line), and on the default model every kept record's object validates.
@Suite(.serialized) struct ExtractStageTests {
    static let triage = TestPaths.root.appendingPathComponent("pipelines/triage-tickets.yaml").path

    @Test func schemasComeFromYAMLInOrderOrFromAFile() throws {
        let config = try PipelineConfig.load(path: Self.triage)
        guard let options = config.stages.last as? ExtractOptions else { Issue.record("no extract stage"); return }
        let properties = try #require(options.schema.objectValue?["properties"]?.objectValue)
        #expect(properties.members.map(\.key) == ["product", "component", "severity", "language", "summary_en", "mentions_customer_data"])
        #expect(options.schema.objectValue?["additionalProperties"] == .bool(false))
        #expect(properties["product"]?.objectValue?["maxLength"] == .number("60"))
        #expect(options.field == "triage")

        let scratch = try Scratch()
        try #"{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}"#.write(toFile: scratch.path("s.json"), atomically: true, encoding: .utf8)
        let fromFile = try PipelineConfig.parse("""
            name: x
            input: {paths: [a.jsonl]}
            stages:
              - extract: {schema_file: s.json}
            output: {dir: out}
            """, file: scratch.path("p.yaml"))
        guard let file = fromFile.stages.first as? ExtractOptions else { Issue.record("no extract stage"); return }
        #expect(file.constraint.matches(#"{"n":3}"#) && !file.constraint.matches(#"{"n":"3"}"#))
    }

    @Test func badSchemasAreErrorsWithTheirLine() {
        let cases: [(String, String)] = [
            ("      - extract:\n          schema: {type: string, format: email}", "format"),
            ("      - extract: {instructions: hi}", "schema"),
            ("      - extract: {schema: {type: string}, schema_file: s.json}", "not both"),
            ("      - extract: {schema_file: missing.json}", "cannot read"),
            ("      - extract: {schema: {type: string}, field: \"\"}", "extract.field"),
        ]
        for (stage, word) in cases {
            let yaml = "name: x\ninput: {paths: [a.jsonl]}\nstages:\n" + stage + "\noutput: {dir: out}\n"
            do {
                _ = try PipelineConfig.parse(yaml, file: "x.yaml")
                Issue.record("accepted: \(stage)")
            } catch let error as PipelineConfig.ConfigError {
                #expect(error.description.contains(word) && error.line >= 4, "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func everyKeptRecordValidates() throws {
        let scratch = try Scratch()
        let all = try readAll(openByteSource(path: TestPaths.root.appendingPathComponent("corpora/sample-tickets.jsonl.zst").path))
        let lines = all.split(separator: 0x0A).prefix(10)
        try Data(lines.joined(separator: [0x0A]) + [0x0A]).write(to: URL(fileURLWithPath: scratch.path("t.jsonl")))
        var yaml = try String(contentsOfFile: Self.triage, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "corpora/sample-tickets.jsonl.zst", with: scratch.path("t.jsonl"))
            .replacingOccurrences(of: "out/triage-tickets", with: scratch.path("out"))
        let config = try PipelineConfig.parse(yaml, file: "triage.yaml")
        guard let options = config.stages.last as? ExtractOptions else { Issue.record("no extract stage"); return }
        let report = try PipelineRunner(config: config, environment: TestPaths.environment).run()
        #expect(report.recordsIn == 10 && report.isConserved)
        #expect(report.stages["extract"]?.objectValue?["schema_mismatches"] == .number("0"))
        #expect(report.recordsOut == 10, "\(report.rejectReasons)")
        var checked = 0
        for file in FileManager.default.enumerator(atPath: scratch.path("out"))?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".zst") && !file.hasPrefix("rejects") && !file.hasPrefix(".") {
            for line in try readAll(openByteSource(path: scratch.path("out/" + file))).split(separator: 0x0A) {
                let record = try #require(try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue)
                let triage = try #require(record["metadata"]?.objectValue?["triage"])
                #expect(JSONSchemaValidator(root: options.schema).validate(triage).isEmpty)
                var text: [UInt8] = []
                JSONWriter.write(triage, into: &text)
                #expect(options.constraint.matches(String(decoding: text, as: UTF8.self)))
                checked += 1
            }
        }
        #expect(checked == 10)
    }

    @Test func theValidatorIsIndependentAndStrict() throws {
        let schema = try JSONParser.parse(#"{"type":"object","additionalProperties":false,"required":["a"],"properties":{"a":{"type":"integer"},"b":{"type":"string","pattern":"^[A-Z]{2}\\d$","maxLength":3},"c":{"type":"array","items":{"enum":[1,"x"]},"maxItems":2}}}"#).value
        let v = JSONSchemaValidator(root: schema)
        for ok in [#"{"a":1}"#, #"{"a":-5,"b":"AB1","c":[1,"x"]}"#] { #expect(v.validate(try JSONParser.parse(ok).value).isEmpty, "\(ok)") }
        for bad in [#"{"b":"AB1"}"#, #"{"a":1.5}"#, #"{"a":1,"b":"ab1"}"#, #"{"a":1,"c":[2]}"#, #"{"a":1,"c":[1,1,1]}"#, #"{"a":1,"z":0}"#, "[1]"] {
            #expect(!v.validate(try JSONParser.parse(bad).value).isEmpty, "\(bad)")
        }
    }
}
