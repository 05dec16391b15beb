import Foundation
import Testing
@testable import GlossaPipeline

/// A text longer than the model's context is a rejected record with the reason, never a crash of
/// the run: the engine refuses it before computing anything and its neighbours go on.
@Suite(.serialized) struct EngineLimitTests {
    static let root = NormalizeJobTests.corpora.deletingLastPathComponent()

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        if env["GLOSSA_MODELS"] == nil { env["GLOSSA_MODELS"] = root.appendingPathComponent("models").path }
        return env
    }

    /// One short record and one of about 40,000 tokens in a single sentence (no boundary to cut
    /// at), more than the default model's 32,768 positions.
    static func input(_ scratch: Scratch) throws -> String {
        let long = String(repeating: "word ", count: 40_000)
        let lines = [#"{"id": "short", "text": "The printer on the second floor prints blank pages."}"#,
                     #"{"id": "long", "text": "\#(long)"}"#]
        let path = scratch.path("in.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(_ stage: String, _ scratch: Scratch) throws -> PipelineRunner.Report {
        let config = try PipelineConfig.parse("""
            name: limits
            input:
              paths: [\(try input(scratch))]
              fields: [text]
            stages:
              \(stage)
            output:
              dir: \(scratch.path("out"))
            engine:
              model: default
            """, file: "limits.yaml")
        return try PipelineRunner(config: config, environment: environment).run()
    }

    @Test func translateRejectsATextLongerThanTheContext() throws {
        let scratch = try Scratch()
        let report = try Self.run("- translate: {target: fr, source: en, max_tokens: 24, chunk_chars: 1000000, max_chars: 1000000}", scratch)
        #expect(report.recordsIn == 2 && report.isConserved)
        #expect(report.recordsOut == 1)
        #expect(report.rejectReasons == ["context_length_exceeded": 1])
    }

    /// Below the context's limit, translate's own `max_chars` refuses a field before it becomes
    /// hundreds of chunks (a 2 MB line of filler would otherwise run for hours).
    @Test func translateRejectsAFieldLongerThanMaxChars() throws {
        let scratch = try Scratch()
        let report = try Self.run("- translate: {target: fr, source: en, max_tokens: 24}", scratch)
        #expect(report.recordsIn == 2 && report.isConserved)
        #expect(report.recordsOut == 1)
        #expect(report.rejectReasons == ["too_long": 1])
    }

    @Test func classifyRejectsATextLongerThanTheContext() throws {
        let scratch = try Scratch()
        let report = try Self.run("- classify: {labels: [hardware, billing]}", scratch)
        #expect(report.recordsIn == 2 && report.isConserved)
        #expect(report.recordsOut == 1)
        #expect(report.rejectReasons == ["context_length_exceeded": 1])
    }
}
