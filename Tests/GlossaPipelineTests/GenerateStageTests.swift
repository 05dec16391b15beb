import Foundation
@testable import GlossaEngine
import Testing
@testable import GlossaPipeline

/// The generate stage: options and their errors, prompts from fields and templates, the
/// compact log-probabilities, thinking kept apart, a real sampled run on the default model
/// (deterministic by seed) and the distillation pipeline killed and resumed.
@Suite(.serialized) struct GenerateStageTests {
    static func options(_ body: String) throws -> GenerateOptions {
        let config = try PipelineConfig.parse("name: x\ninput: {paths: [a.jsonl]}\nstages:\n  - generate:\n" + body + "\noutput: {dir: out}\n", file: "x.yaml")
        return try #require(config.stages.first as? GenerateOptions)
    }

    @Test func badOptionsAreErrorsNamingTheKey() {
        let cases: [(String, String)] = [
            ("      temperature: 0.5", "prompt_field"),
            ("      prompt_field: q\n      template: \"{q}\"", "not both"),
            ("      prompt_field: q\n      bogus: 1", "unknown key 'bogus'"),
            ("      prompt_field: q\n      n: 2", "generate.n"),
            ("      prompt_field: q\n      top_p: 0.9", "generate.top_p"),
            ("      prompt_field: q\n      temperature: -1", "generate.temperature"),
            ("      prompt_field: q\n      temperature: hot", "generate.temperature"),
            ("      prompt_field: q\n      temperature: 1\n      top_p: 0", "generate.top_p"),
            ("      prompt_field: q\n      temperature: 1\n      n: 65", "generate.n"),
            ("      prompt_field: q\n      logprobs: 21", "generate.logprobs"),
            ("      prompt_field: q\n      logprobs: 0", "generate.logprobs"),
            ("      prompt_field: q\n      max_tokens: 0", "generate.max_tokens"),
            ("      prompt_field: q\n      seed: -3", "generate.seed"),
            ("      prompt_field: q\n      thinking: sometimes", "generate.thinking"),
            ("      prompt_field: q\n      thinking: budget -1", "generate.thinking"),
            ("      prompt_field: q\n      field: \"\"", "generate.field"),
            ("      prompt_field: \"\"", "generate.prompt_field"),
            ("      template: \"no places\"", "generate.template"),
            ("      template: \"{text\"", "generate.template"),
            ("      template: \"a } b {text}\"", "generate.template"),
            ("      template: \"{}\"", "generate.template"),
        ]
        for (body, word) in cases {
            do {
                _ = try Self.options(body)
                Issue.record("accepted: \(body)")
            } catch let error as PipelineConfig.ConfigError {
                #expect(error.description.contains(word) && error.line >= 4, "\(body): \(error)")
            } catch {
                Issue.record("\(body): \(error)")
            }
        }
    }

    @Test func optionsAreRead() throws {
        let o = try Self.options("""
                  template: "Q: {question} ({meta.source}) {{literal}}"
                  system: Be brief.
                  thinking: budget 64
                  temperature: 0.7
                  top_p: 0.8
                  top_k: 20
                  min_p: 0.05
                  seed: 9
                  n: 3
                  logprobs: 8
                  max_tokens: 40
                  field: answers
            """)
        #expect(o.thinking == .budget(64) && o.samples == 3 && o.logprobs == 8 && o.maxTokens == 40 && o.field == "answers")
        #expect(o.sampling.temperature == 0.7 && o.sampling.topP == 0.8 && o.sampling.topK == 20 && o.sampling.minP == 0.05 && o.sampling.seed == 9)
        #expect(try Self.options("      prompt_field: q\n      thinking: on").thinking == .on)
        #expect(try Self.options("      prompt_field: q\n      thinking: off").thinking == .off)
        #expect(try Self.options("      prompt_field: q\n      thinking: {budget: 5}").thinking == .budget(5))
        guard case let .template(t) = o.prompt else { Issue.record("no template"); return }
        let record = JSONObject(["question": .string("why?"), "meta": .object(JSONObject(["source": .string("faq")]))])
        #expect(try t.render(record).get() == "Q: why? (faq) {literal}")
        #expect((try? t.render(JSONObject(["question": .string("x")])).get()) == nil)
        guard case let .failure(f) = t.render(JSONObject(["question": .object(JSONObject()), "meta": .object(JSONObject(["source": .string("a")]))])) else {
            Issue.record("an object was taken as text"); return
        }
        #expect(f.rejection.reason == Rejection.fieldNotText)
    }

    /// Each thinking mode becomes the engine's switch and budget; samples get seed + i.
    @Test func requestsCarryThinkingSamplingAndLogprobs() throws {
        var o = GenerateOptions(prompt: .field("q"))
        o.samples = 3
        o.sampling.temperature = 0.9
        o.sampling.seed = 41
        o.logprobs = 5
        o.system = "sys"
        for (mode, enabled, budget) in [(GenerateOptions.Thinking.off, false, Int?.none), (.on, true, nil), (.budget(7), true, 7)] {
            o.thinking = mode
            let requests = GenerateStage(options: o, backend: StubBackend()).requests(for: "hello")
            #expect(requests.count == 3)
            #expect(requests.map(\.sampling.seed) == [41, 42, 43])
            #expect(requests.allSatisfy { $0.enableThinking == enabled && $0.thinkingBudget == budget && $0.logprobs == 5 && $0.sampling.temperature == 0.9 })
            guard case let .messages(m) = requests[0].input else { Issue.record("not messages"); continue }
            #expect(m.map(\.role) == [.system, .user] && m[1].content == "hello")
        }
    }

    /// The stored form: exact ids, log-probabilities within 1/2048, padding for missing
    /// alternatives, clamping below -64.
    @Test func logprobsPackAndUnpack() throws {
        let entries = [
            TokenLogprob(token: 151_935, logprob: -0.25, top: [(151_935, -0.25), (7, -1.5), (0, -70)]),
            TokenLogprob(token: 3, logprob: -12.3456, top: [(9, -0.01), (3, -12.3456), (65_536, -20)]),
            TokenLogprob(token: 5, logprob: 0),                       // a forced token: no alternatives
        ]
        let packed = try #require(LogprobPacking.pack(entries, k: 3))
        let back = try #require(LogprobPacking.unpack(packed))
        #expect(back.map(\.token) == [151_935, 3, 5])
        #expect(back[2].top.isEmpty && back[2].logprob == 0)
        for (a, b) in zip(entries, back) {
            #expect(abs(a.logprob - b.logprob) <= 1.0 / 2048 + 1e-6)
            #expect(a.top.map(\.token) == b.top.map(\.token))
            for (x, y) in zip(a.top, b.top) where x.logprob > -63.9 { #expect(abs(x.logprob - y.logprob) <= 1.0 / 2048 + 1e-6) }
        }
        #expect(abs(back[0].top[2].logprob - -65535.0 / 1024) < 1e-6)
        #expect(LogprobPacking.pack([TokenLogprob(token: 1 << 24, logprob: 0)], k: 1) == nil)
        var broken = try #require(packed.objectValue)
        broken["count"] = .number("4")
        #expect(LogprobPacking.unpack(.object(broken)) == nil)
    }

    /// Thinking text goes to `reasoning`, the answer to `text`; a backend refusal rejects the
    /// record with its reason; stats count both. (A stub teacher: the tiny random Qwen3 of the
    /// engine tests does not open `<think>` by itself, and the engine's split is tested there.)
    @Test func reasoningIsKeptApartAndRefusalsReject() throws {
        var o = GenerateOptions(prompt: .field("q"))
        o.thinking = .on
        o.logprobs = 2
        let stub = StubBackend()
        let stage = GenerateStage(options: o, backend: stub)
        var batch = [PipelineRecord(object: JSONObject(["q": .string("think")])), PipelineRecord(object: JSONObject(["q": .string("refuse")])),
                     PipelineRecord(object: JSONObject(["other": .string("x")]))]
        var stats = stage.emptyStats
        try stage.process(&batch, stats: &stats, threads: 1)
        let g = try #require(batch[0].object["generations"]?.arrayValue?.first?.objectValue)
        #expect(g["text"] == .string("The answer.") && g["reasoning"] == .string("Step one."))
        #expect(g["finish_reason"] == .string("stop") && g["tokens"] == .number("3"))
        let stored = try #require(g["logprobs"])
        let lp = try #require(LogprobPacking.unpack(stored))
        #expect(lp.map(\.token) == [10, 11, 12] && lp[1].top.isEmpty)
        #expect(batch[1].rejection?.reason == "context_length_exceeded")
        #expect(batch[2].rejection?.reason == Rejection.missingField)
        #expect(stats["generations"] == 1 && stats["failures"] == 1 && stats["reasoning_generations"] == 1 && stats["prompts"] == 2)
        #expect(stub.requests.first?.enableThinking == true)
        // The embedded backend maps the engine's split the same way.
        var out = GenerationOutput()
        out.tokens = [1, 2]
        out.reasoning = "r"
        out.content = "c"
        out.stopReason = .length
        let c = EmbeddedBackend.completion(out)
        #expect(c.reasoning == "r" && c.content == "c" && c.finishReason == "length" && c.tokens == [1, 2])
    }

    static let distill = TestPaths.root.appendingPathComponent("pipelines/distill-dataset.yaml").path

    /// The first `count` sample documents as plain JSONL.
    static func documents(_ scratch: Scratch, count: Int) throws -> String {
        let all = try readAll(openByteSource(path: NormalizeJobTests.corpora.appendingPathComponent("sample-documents.jsonl.zst").path))
        let path = scratch.path("docs.jsonl")
        try Data(all.split(separator: 0x0A).prefix(count).joined(separator: [0x0A]) + [0x0A]).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The shipped pipeline, made small: its input, output and a few numbers replaced.
    static func smallDistill(_ input: String, out: String, logprobs: Int, maxTokens: Int, checkpoint: Int, batch: Int) throws -> String {
        var yaml = try String(contentsOfFile: distill, encoding: .utf8)
        for (a, b) in [("corpora/sample-documents.jsonl.zst", input), ("out/distill-dataset", out), ("logprobs: 8", "logprobs: \(logprobs)"),
                       ("max_tokens: 128", "max_tokens: \(maxTokens)"), ("checkpoint_records: 32", "checkpoint_records: \(checkpoint)"),
                       ("batch_records: 8", "batch_records: \(batch)")] {
            #expect(yaml.contains(a), "the shipped pipeline no longer has \(a)")
            yaml = yaml.replacingOccurrences(of: a, with: b)
        }
        return yaml
    }

    func outputs(_ dir: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for f in allFiles(dir) where f.hasSuffix(".zst") && !f.hasPrefix(".glossa") { out[f] = try readAll(openByteSource(path: dir + "/" + f)) }
        return out
    }

    /// Three documents, two sampled answers each with top-4 log-probabilities, on the default
    /// model: every token has its entry, the entries decode to the answer's text, the best
    /// alternative is at least as likely as the chosen token, and a second run writes the same
    /// bytes.
    @Test func sampledRunWithLogprobsIsDeterministic() throws {
        let scratch = try Scratch()
        let input = try Self.documents(scratch, count: 3)
        var files: [[String: [UInt8]]] = []
        for run in ["a", "b"] {
            let yaml = try Self.smallDistill(input, out: scratch.path(run), logprobs: 4, maxTokens: 12, checkpoint: 32, batch: 8)
            let report = try PipelineRunner(config: try PipelineConfig.parse(yaml, file: "distill.yaml"), environment: TestPaths.environment).run()
            #expect(report.recordsIn == 3 && report.recordsOut == 3 && report.isConserved, "\(report.rejectReasons)")
            let stats = try #require(report.stages["generate"]?.objectValue)
            #expect(stats["prompts"] == .number("3") && stats["generations"] == .number("6") && stats["failures"] == .number("0"))
            files.append(try outputs(scratch.path(run)))
        }
        #expect(files[0] == files[1] && !files[0].isEmpty)
        let model = try LanguageModel.load(LanguageModel.defaultModelPath(environment: TestPaths.environment))
        var records = 0, differing = 0
        for (_, bytes) in files[0] {
            for line in bytes.split(separator: 0x0A) {
                let record = try #require(try Array(line).withUnsafeBufferPointer { try JSONParser.parse($0) }.value.objectValue)
                let generations = try #require(record["generations"]?.arrayValue)
                #expect(generations.count == 2)
                var texts: [String] = []
                for (i, value) in generations.enumerated() {
                    let g = try #require(value.objectValue)
                    #expect(g["reasoning"] == .null && g["seed"] == .number(String(1 + i)))
                    let stored = try #require(g["logprobs"])
                    let entries = try #require(LogprobPacking.unpack(stored))
                    #expect(g["tokens"] == .number(String(entries.count)) && !entries.isEmpty)
                    let text = try #require(g["text"]?.stringValue)
                    #expect(model.tokenizer.decode(entries.map(\.token)) == text)
                    for e in entries {
                        #expect(e.top.count == 4)
                        #expect(e.top[0].logprob >= e.logprob)
                        #expect(zip(e.top, e.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
                        if let same = e.top.first(where: { $0.token == e.token }) { #expect(same.logprob == e.logprob) }
                    }
                    texts.append(text)
                }
                if texts[0] != texts[1] { differing += 1 }
                records += 1
            }
        }
        #expect(records == 3)
        #expect(differing >= 1, "seeds 1 and 2 gave the same samples for every document")
    }

    /// `glossa run` of the distillation pipeline killed with SIGKILL after its first committed
    /// segment, then re-run, writes exactly the bytes of an uninterrupted run.
    @Test func killedDistillRunResumesToIdenticalBytes() throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestPaths.glossa), "build the CLI first (swift build)")
        let scratch = try Scratch()
        let input = try Self.documents(scratch, count: 6)
        func pipeline(_ name: String) throws -> String {
            let path = scratch.path("\(name).yaml")
            try Self.smallDistill(input, out: scratch.path(name), logprobs: 4, maxTokens: 8, checkpoint: 2, batch: 2)
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let clean = try runGlossa(["run", try pipeline("clean")])
        #expect(clean.status == 0 && !clean.signaled, "\(clean.stderr)")
        let expected = try outputs(scratch.path("clean"))
        #expect(!expected.isEmpty)

        let killedYAML = try pipeline("killed")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.glossa)
        p.arguments = ["run", killedYAML]
        p.currentDirectoryURL = TestPaths.root
        p.environment = TestPaths.environment
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Killed as soon as the first segment's checkpoint is there: 2 of 6 records done.
        let units = scratch.path("killed") + "/.glossa/units"
        var waited = 0
        while p.isRunning && ((try? FileManager.default.contentsOfDirectory(atPath: units)) ?? []).isEmpty && waited < 600_000 {
            usleep(1000)
            waited += 1
        }
        let killedMidRun = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(killedMidRun && p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL,
                "the run was to be killed mid-way, but ended by \(p.terminationReason) \(p.terminationStatus)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("killed") + "/manifest-rank-0.json"))

        let resumed = try runGlossa(["run", killedYAML])
        #expect(resumed.status == 0 && !resumed.signaled, "\(resumed.stderr)")
        #expect(try outputs(scratch.path("killed")) == expected)
    }
}

/// A teacher that answers from a script: "think" gets reasoning apart from its answer (and a
/// forced token without alternatives), "refuse" is refused as too long.
final class StubBackend: InferenceBackend {
    var requests: [GenerationRequest] = []

    func complete(_ requests: [GenerationRequest]) throws -> [Completion] {
        self.requests += requests
        return requests.map { r in
            guard case let .messages(m) = r.input, m.last?.content != "refuse" else {
                return Completion(content: "", generatedTokens: 0, failure: "too long", failureCode: "context_length_exceeded")
            }
            var c = Completion(content: "The answer.", generatedTokens: 3, promptTokens: 5)
            c.reasoning = "Step one."
            c.tokens = [10, 11, 12]
            c.logprobs = [TokenLogprob(token: 10, logprob: -0.5, top: [(10, -0.5), (4, -1)]), TokenLogprob(token: 11, logprob: 0),
                          TokenLogprob(token: 12, logprob: -2, top: [(8, -0.1), (12, -2)])]
            return c
        }
    }

    func classify(_ prompts: [[ChatMessage]], labels: [String]) throws -> [Result<Classifier.Result, Error>] { [] }
}
