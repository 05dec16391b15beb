import ArgumentParser
import Foundation
import GlossaPipeline
import GlossaEngine
import GlossaText

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios against a peer measured in the same run.",
        subcommands: [NormalizeBench.self, DetectBench.self, TokenizerBench.self, EngineBench.self, BatchBench.self, ConstrainedBench.self, PipelineBench.self, RanksBench.self, ServeBench.self]
    )
}

struct NormalizeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "normalize",
        abstract: "Normalizer MB/s vs a raw ICU unorm2_normalize loop on the same generated text."
    )

    @Option(help: "Megabytes of generated multilingual text.")
    var megabytes: Double = 32

    @Option(help: "Runs per contender (best is kept).")
    var repetitions: Int = 3

    func run() throws {
        let r = NormalizationBenchmark.run(megabytes: megabytes, repetitions: repetitions)
        print("normalize benchmark: \(r.documents) documents, \(format1(r.megabytes)) MB, 1 thread, best of \(repetitions)")
        for m in [r.glossa, r.rawICU, r.rawICUWithConversion] {
            print("  " + pad(m.name, 48) + pad(format1(m.megabytesPerSecond), 8, left: true) + " MB/s")
        }
        print("  ratio glossa / raw unorm2_normalize loop:        \(format2(r.ratioToRawICU))x  (target >= 0.8x)")
        print("  ratio glossa / raw ICU incl. String conversion:  \(format2(r.ratioToRawICUWithConversion))x")
    }
}

struct DetectBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Language-ID lines/s vs fastText's own predictor (fasttext-predict) on the same lines."
    )

    @Option(help: "fastText model.")
    var lidModel: String = LanguageIdentifier.defaultModelPath(environment: environment)

    @Option(help: "Lines: a JSONL(.zst) file whose records have a \"text\" field.")
    var lines: String = "Tests/GlossaTextTests/Fixtures/lid/lid176-predictions.jsonl.zst"

    @Option(help: "Copies of the line set.")
    var copies: Int = 8

    @Option(help: "Python with fasttext-predict (scripts/setup-peers.sh makes it).")
    var peerPython: String = ".venv-peers/bin/python"

    @Option(help: "Runs per contender (best is kept).")
    var repetitions: Int = 3

    func run() throws {
        var texts = try textFields(of: lines).map { $0.replacingOccurrences(of: "\n", with: " ") }
        texts = Array(repeating: texts, count: max(1, copies)).flatMap { $0 }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bench-lines-\(getpid()).txt")
        try (texts.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let identifier = try LanguageIdentifier(modelPath: lidModel)
        func best(_ body: () -> Int) -> Double {
            var best = Double.infinity
            for _ in 0..<repetitions {
                let t = System.monotonicSeconds()
                precondition(body() >= 0)
                best = min(best, System.monotonicSeconds() - t)
            }
            return best
        }
        let model = identifier.model
        let raw = best { texts.reduce(0) { $0 + model.predict($1, k: 1).count } }
        let full = best { texts.reduce(0) { $0 + identifier.identify($1).tag.count } }

        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: peerPython)
        peer.arguments = ["scripts/peers/fasttext_predict_bench.py", lidModel, file.path, String(repetitions)]
        let pipe = Pipe()
        peer.standardOutput = pipe
        do { try peer.run() } catch {
            printError("glossa bench detect: cannot run \(peerPython) (\(error)); run scripts/setup-peers.sh")
            throw ExitCode(2)
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        peer.waitUntilExit()
        guard peer.terminationStatus == 0,
              let result = try? JSONParser.parse(String(decoding: output, as: UTF8.self)).value.objectValue,
              case let .number(peerRate)? = result["lines_per_second"], let peerLinesPerSecond = Double(peerRate)
        else {
            printError("glossa bench detect: the fasttext-predict peer failed")
            throw ExitCode(2)
        }
        let n = Double(texts.count)
        print("detect benchmark: \(texts.count) lines, \(lidModel), 1 thread, best of \(repetitions)")
        print("  fasttext-predict (C++, list API)          \(pad(String(Int(peerLinesPerSecond)), 9, left: true)) lines/s")
        print("  glossa FastTextModel.predict              \(pad(String(Int(n / raw)), 9, left: true)) lines/s   \(format2(n / raw / peerLinesPerSecond))x  (target >= 1.0x)")
        print("  glossa LanguageIdentifier.identify        \(pad(String(Int(n / full)), 9, left: true)) lines/s   \(format2(n / full / peerLinesPerSecond))x  (adds NFC, scripts, Qwen mapping)")
    }
}

struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Vocabulary load time (target < 300 ms) and encode throughput on the sample corpus."
    )

    @Option(help: "GGUF file whose tokenizer is loaded.")
    var gguf: String = (environment["GLOSSA_MODELS"] ?? "models") + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    func run() throws {
        var loads: [Double] = []
        var tokenizer: Tokenizer? = nil
        for _ in 0..<5 {
            let t = System.monotonicSeconds()
            tokenizer = try Tokenizer(gguf: GGUFFile(path: gguf))
            loads.append(System.monotonicSeconds() - t)
        }
        let texts = try textFields(of: "corpora/sample-documents.jsonl.zst")
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        var best = Double.infinity, tokens = 0
        for _ in 0..<5 {
            let t = System.monotonicSeconds()
            tokens = texts.reduce(0) { $0 + tokenizer!.encode($1).count }
            best = min(best, System.monotonicSeconds() - t)
        }
        print("tokenizer benchmark: \(tokenizer!.vocabularySize) tokens")
        print("  load from GGUF: median \(Int(loads.sorted()[2] * 1000)) ms, best \(Int(loads.min()! * 1000)) ms  (target < 300 ms)")
        print("  encode: \(tokens) tokens from \(bytes) bytes in \(format2(best * 1000)) ms = \(format1(Double(bytes) / best / 1e6)) MB/s")
    }
}

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Prefill tok/s (512-token prompt) and single-stream decode tok/s (128 tokens) on a model.",
        discussion: """
        With --llama-bench (a llama-bench binary built outside the repository), both engines run
        in turns on the same model and the ratios are measured in this run; otherwise they are
        taken against llama.cpp's figures for this kind of machine.
        """
    )

    @Option(help: "GGUF file or model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "Prompt tokens.")
    var prefill: Int = 512

    @Option(help: "Generated tokens.")
    var decode: Int = 128

    @Option(help: "llama-bench to run in turns with Glossa (same model, same threads).")
    var llamaBench: String?

    @Option(help: "Turns of each engine when --llama-bench is given.")
    var rounds: Int = 3

    @Option(help: "llama.cpp's figures on this machine (shared/reference/llamacpp-baseline.md, 2 threads).")
    var peerPrefill: Double = 228.1

    @Option(help: "llama.cpp's decode tok/s (tg128, 2 threads).")
    var peerDecode: Double = 42.7

    @OptionGroup var engineThreads: EngineThreadsOption

    func measure(_ lm: LanguageModel, prompt: [Int]) -> (prefill: Double, decode: Double) {
        let transformer = lm.transformer
        let cache = transformer.makeCache(capacity: prompt.count + 1)
        var t = System.monotonicSeconds()
        var logits = transformer.forward(prompt, cache: cache, allLogits: false)
        let prefillSeconds = System.monotonicSeconds() - t
        // Decode as llama-bench's tg does: a fresh context, one token at a time.
        let decodeCache = transformer.makeCache(capacity: decode + 2)
        logits = transformer.forward([prompt[0]], cache: decodeCache, allLogits: false)
        t = System.monotonicSeconds()
        for _ in 0..<decode { logits = transformer.forward([argmax(logits)], cache: decodeCache, allLogits: false) }
        let decodeSeconds = System.monotonicSeconds() - t
        return (Double(prompt.count) / prefillSeconds, Double(decode) / decodeSeconds)
    }

    func run() throws {
        let threads = try engineThreads.configure()
        let lm = try LanguageModel.load(model)
        let text = try textFields(of: "corpora/sample-documents.jsonl.zst").joined(separator: "\n")
        let prompt = Array(lm.tokenizer.encode(text).prefix(prefill))
        print("engine benchmark: \(model), \(threads) thread\(threads == 1 ? "" : "s"), release build")
        guard let llamaBench else {
            let (pp, tg) = measure(lm, prompt: prompt)
            print("  prefill \(prompt.count) tokens: \(format1(pp)) tok/s   vs llama.cpp \(peerPrefill): \(format2(pp / peerPrefill))x (target >= 1.0x)")
            print("  decode \(decode) tokens:  \(format1(tg)) tok/s   vs llama.cpp \(peerDecode): \(format2(tg / peerDecode))x (target >= 0.9x)")
            print("  peak RSS \(System.peakRSS / 1_048_576) MiB")
            return
        }
        var prefillRatios: [Double] = [], decodeRatios: [Double] = []
        for round in 1...rounds {
            let (pp, tg) = measure(lm, prompt: prompt)
            let peer = try runPeer(llamaBench, ["-m", model, "-t", String(threads), "-p", String(prompt.count), "-n", String(decode), "-r", "1", "-o", "json"])
            let results = try JSONSerialization.jsonObject(with: Data(peer.utf8)) as? [[String: Any]] ?? []
            func rate(prompt p: Bool) -> Double? {
                results.first { ($0["n_prompt"] as? Int ?? 0 > 0) == p && ($0["n_gen"] as? Int ?? 0 > 0) != p }?["avg_ts"] as? Double
            }
            guard let peerPP = rate(prompt: true), let peerTG = rate(prompt: false) else {
                throw ValidationError("llama-bench printed no pp/tg results:\n\(peer.prefix(400))")
            }
            prefillRatios.append(pp / peerPP)
            decodeRatios.append(tg / peerTG)
            print("  round \(round): prefill \(format1(pp)) vs \(format1(peerPP)) tok/s = \(format2(pp / peerPP))x; decode \(format1(tg)) vs \(format1(peerTG)) tok/s = \(format2(tg / peerTG))x")
        }
        print("  median ratio vs llama.cpp in this run: prefill \(format2(median(prefillRatios)))x (target >= 1.0x), decode \(format2(median(decodeRatios)))x (target >= 0.9x)")
        print("  peak RSS \(System.peakRSS / 1_048_576) MiB")
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Runs a peer benchmark binary and returns what it printed on stdout.
func runPeer(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError("\(path) exited with status \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// The "text" field of every record of a JSONL(.zst) file (benchmark inputs).
/// The given string fields of each JSONL record, joined by a blank line (records without any
/// of them are skipped).
func textFields(of path: String, fields: [String] = ["text"]) throws -> [String] {
    var texts: [String] = []
    let reader = LineReader(try openByteSource(path: path))
    while let line = try reader.next() {
        guard case let .text(bytes, _, _) = line, let object = try? JSONParser.parse(bytes).value.objectValue else { continue }
        let parts = fields.compactMap { object[$0]?.stringValue }
        if !parts.isEmpty { texts.append(parts.joined(separator: "\n\n")) }
    }
    return texts
}

struct BatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Total tokens/s for B parallel requests (128-token prompts, 64 new tokens each), as llama-batched-bench."
    )

    @Option(help: "GGUF file or model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "Batch sizes.")
    var batches: [Int] = [1, 4, 8, 16, 32]

    @Option(help: "llama-batched-bench S (total tok/s, 2 threads) for the same batch sizes (default: shared/reference/llamacpp-baseline.md's for B = 1, 4, 8, 16, 32).")
    var peer: [Double] = []

    @Option(help: "llama-batched-bench to run after Glossa on the same model (its S replaces --peer).")
    var llamaBatchedBench: String?

    @Option(help: "Tokens per engine step (prompt chunks plus one token per decoding sequence).")
    var stepTokens = 512

    @Flag(help: "Skip the classification measurement.")
    var noClassify = false

    @OptionGroup var engineThreads: EngineThreadsOption

    func run() throws {
        let threads = try engineThreads.configure()
        let loaded = try LanguageModel.load(model)
        // Generate exactly 64 tokens per sequence, as the peer does (no stop tokens).
        let lm = LanguageModel(transformer: loaded.transformer, tokenizer: loaded.tokenizer, template: loaded.template, stopTokens: [])
        let corpus = lm.tokenizer.encode(try textFields(of: "corpora/sample-documents.jsonl.zst").joined(separator: "\n"))
        print("batch benchmark: \(model), prompts 128 tokens, 64 generated each, \(threads) thread\(threads == 1 ? "" : "s")")
        var rates: [Double] = []
        for b in batches {
            let requests = (0..<b).map { i -> GenerationRequest in
                let start = (i * 97) % max(1, corpus.count - 128)
                var r = GenerationRequest(.tokens(Array(corpus[start..<(start + 128)])))
                r.maxTokens = 64
                return r
            }
            let engine = BatchEngine(model: lm, kvBudgetTokens: 200 * max(b, 1), stepTokens: stepTokens, maxSequences: max(b, 1))
            let t = System.monotonicSeconds()
            let outputs = engine.run(requests)
            let seconds = System.monotonicSeconds() - t
            let total = outputs.reduce(0) { $0 + $1.promptTokens + $1.tokens.count }
            rates.append(Double(total) / seconds)
            print("  B=\(pad(String(b), 2, left: true)): \(pad(format1(rates.last!), 7, left: true)) tok/s total (\(total) tokens in \(format2(seconds)) s)")
        }
        let reference: [Int: Double] = [1: 96.2, 4: 130.8, 8: 156.1, 16: 168.3, 32: 166.5]
        var peers = peer.isEmpty ? batches.map { reference[$0] ?? .nan } : peer, source = "llama.cpp's figures for this machine"
        if let llamaBatchedBench {
            let printed = try runPeer(llamaBatchedBench, ["-m", model, "-t", String(threads), "-tb", String(threads), "-c", "8192", "-b", "2048", "-ub", "512",
                                                          "-npp", "128", "-ntg", "64", "-npl", batches.map(String.init).joined(separator: ","),
                                                          "--output-format", "jsonl"])
            var measured: [Int: Double] = [:]
            for line in printed.split(separator: "\n") where line.hasPrefix("{") {
                if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                   let pl = o["pl"] as? Int, let speed = o["speed"] as? Double { measured[pl] = speed }
            }
            peers = batches.map { measured[$0] ?? .nan }
            source = "llama-batched-bench run just now"
        }
        print("  vs \(source):")
        for (k, b) in batches.enumerated() where k < peers.count {
            print("  B=\(pad(String(b), 2, left: true)): \(format1(rates[k])) vs \(format1(peers[k])) tok/s = \(format2(rates[k] / peers[k]))x")
        }
        if noClassify { return }
        // Classification by label scoring, 5 labels: one document at a time, then all together.
        let docs = try textFields(of: "corpora/sample-documents.jsonl.zst").prefix(40)
        let labels = ["support request", "bug report", "product review", "news", "other"]
        let classifier = Classifier(loaded)
        let prompts = docs.map { [ChatMessage(.user, "Classify this text as one of: \(labels.joined(separator: ", ")).\n\n\($0)")] }
        var t = System.monotonicSeconds()
        let alone = try prompts.map { try classifier.classify($0, labels: labels) }
        let aloneSeconds = System.monotonicSeconds() - t
        t = System.monotonicSeconds()
        let together = try classifier.classify(prompts, labels: labels, stepTokens: stepTokens)
        let seconds = System.monotonicSeconds() - t
        precondition(together == alone, "batched classification differs from one at a time")
        print("  classify (5 labels), one document at a time: \(format1(Double(docs.count) / aloneSeconds)) docs/s over \(docs.count) sample documents")
        print("  classify (5 labels), all \(docs.count) together:    \(format1(Double(docs.count) / seconds)) docs/s = \(format2(aloneSeconds / seconds))x, the same results")
    }
}

struct PipelineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Pipeline overhead: engine tokens/s through a translation pipeline vs the batch engine alone on the same requests.",
        discussion: """
        Runs the pipeline (output to a scratch folder), keeping every request its translate stage
        sends; then gives all those requests to one batch engine at once, the engine's best case.
        Tokens are prompt + generated tokens. Target: the pipeline at >= 0.9x the engine.
        Then the cost of the constraints (protected spans, glossary terms): the same requests
        once as recorded and once with constraints and repetition guard removed, decoding
        exactly as many tokens per request as the constrained run did (no stop tokens), so both
        runs do the same work but for the constraint. Target: <= 5% overhead.
        """
    )

    @Argument(help: "Pipeline definition with a translate stage.")
    var pipeline: String = "pipelines/translate-tickets.yaml"

    @Option(help: "Rounds of the constrained / unconstrained replay (medians are reported).")
    var rounds = 1

    @OptionGroup var engineThreads: EngineThreadsOption

    func run() throws {
        var config = try PipelineConfig.load(path: pipeline)
        // The pipeline's own engine.threads counts, as in glossa run (one rank).
        let threads = try configureEngineThreads(engineThreads.threads, pipeline: config.engine.threads)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        config.output.directory = scratch
        let runner = try PipelineRunner(config: config, environment: environment, threads: threads, recordingEngineRequests: true)
        guard let engine = runner.engine else { throw ValidationError("\(pipeline) has no translate stage on the embedded engine") }
        let report = try runner.run()
        let stats = report.stages["translate"]?.objectValue
        func count(_ key: String) -> Int { Int(stats?[key].flatMap { if case let .number(n) = $0 { n } else { nil } } ?? "0") ?? 0 }
        let pipelineTokens = count("prompt_tokens") + count("generated_tokens")
        let requests = runner.engineRequests
        let t = System.monotonicSeconds()
        let outputs = engine.run(requests)
        let engineSeconds = System.monotonicSeconds() - t
        let engineTokens = outputs.reduce(0) { $0 + $1.promptTokens + $1.tokens.count }
        let pipelineRate = Double(pipelineTokens) / report.seconds, engineRate = Double(engineTokens) / engineSeconds
        print("pipeline benchmark: \(pipeline), \(report.recordsIn) records, \(requests.count) engine requests")
        print("  glossa run:    \(pipelineTokens) tokens in \(format2(report.seconds)) s = \(format1(pipelineRate)) tok/s (all stages, shards written)")
        print("  engine alone:  \(engineTokens) tokens in \(format2(engineSeconds)) s = \(format1(engineRate)) tok/s (the same requests in one batch run)")
        print("  pipeline / engine: \(format2(pipelineRate / engineRate))x (target >= 0.9x)")

        // Constraints on vs off, the same tokens decoded.
        let lengths = outputs.map { $0.tokens.count - $0.completionTokens }
        let lm = engine.model
        let unstopped = LanguageModel(transformer: lm.transformer, tokenizer: lm.tokenizer, template: lm.template, stopTokens: [])
        let free = requests.enumerated().map { k, r -> GenerationRequest in
            var r = r
            r.constraint = nil
            r.repetitionGuard = nil
            r.maxTokens = max(1, lengths[k])
            return r
        }
        let constrainedCount = requests.filter { $0.constraint != nil }.count
        var on: [Double] = [], off: [Double] = []
        for _ in 0..<max(1, rounds) {
            for mode in ["on", "off"] {
                let e = BatchEngine(model: mode == "on" ? lm : unstopped, kvBudgetTokens: engine.kvBudgetTokens, stepTokens: engine.stepTokens,
                                    maxSequences: engine.maxSequences)
                let t = System.monotonicSeconds()
                _ = e.run(mode == "on" ? requests : free)
                (mode == "on" ? { on.append($0) } : { off.append($0) })(System.monotonicSeconds() - t)
            }
        }
        let a = median(on), b = median(off)
        print("  constraints (\(constrainedCount) of \(requests.count) requests): \(format2(a)) s on, \(format2(b)) s off, "
              + "the same \(lengths.reduce(0, +)) tokens decoded (median of \(max(1, rounds))): overhead \(format1((a / b - 1) * 100))% (target <= 5%)")
    }
}
