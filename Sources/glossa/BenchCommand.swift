import ArgumentParser
import Foundation
import GlossaPipeline
import GlossaEngine
import GlossaText

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios against a peer measured in the same run.",
        subcommands: [NormalizeBench.self, DetectBench.self, TokenizerBench.self, EngineBench.self, BatchBench.self, RanksBench.self, ServeBench.self]
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
        abstract: "Prefill tok/s (512-token prompt) and single-stream decode tok/s (128 tokens) on a model."
    )

    @Option(help: "GGUF file or model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "Prompt tokens.")
    var prefill: Int = 512

    @Option(help: "Generated tokens.")
    var decode: Int = 128

    @Option(help: "llama.cpp's figures on this machine (shared/reference/llamacpp-baseline.md, 2 threads).")
    var peerPrefill: Double = 228.1

    @Option(help: "llama.cpp's decode tok/s (tg128, 2 threads).")
    var peerDecode: Double = 42.7

    func run() throws {
        let lm = try LanguageModel.load(model)
        let transformer = lm.transformer
        let text = try textFields(of: "corpora/sample-documents.jsonl.zst").joined(separator: "\n")
        let prompt = Array(lm.tokenizer.encode(text).prefix(prefill))
        let cache = KVCache(config: transformer.config, capacity: prompt.count + decode + 1)
        var t = System.monotonicSeconds()
        var logits = transformer.forward(prompt, cache: cache, allLogits: false)
        let prefillSeconds = System.monotonicSeconds() - t
        // Decode as llama-bench's tg does: a fresh context, one token at a time.
        let decodeCache = KVCache(config: transformer.config, capacity: decode + 2)
        logits = transformer.forward([prompt[0]], cache: decodeCache, allLogits: false)
        t = System.monotonicSeconds()
        for _ in 0..<decode { logits = transformer.forward([argmax(logits)], cache: decodeCache, allLogits: false) }
        let decodeSeconds = System.monotonicSeconds() - t
        let pp = Double(prompt.count) / prefillSeconds, tg = Double(decode) / decodeSeconds
        print("engine benchmark: \(model), 2 threads, release build")
        print("  prefill \(prompt.count) tokens: \(format1(pp)) tok/s   vs llama.cpp \(peerPrefill): \(format2(pp / peerPrefill))x (target >= 1.0x)")
        print("  decode \(decode) tokens:  \(format1(tg)) tok/s   vs llama.cpp \(peerDecode): \(format2(tg / peerDecode))x (target >= 0.9x)")
        print("  peak RSS \(System.peakRSS / 1_048_576) MiB")
    }
}

/// The "text" field of every record of a JSONL(.zst) file (benchmark inputs).
func textFields(of path: String) throws -> [String] {
    var texts: [String] = []
    let reader = LineReader(try openByteSource(path: path))
    while let line = try reader.next() {
        if case let .text(bytes, _, _) = line, let text = try? JSONParser.parse(bytes).value.objectValue?["text"]?.stringValue {
            texts.append(text)
        }
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

    @Option(help: "llama-batched-bench S (total tok/s, 2 threads) for the same batch sizes (shared/reference/llamacpp-baseline.md).")
    var peer: [Double] = [96.2, 130.8, 156.1, 168.3, 166.5]

    func run() throws {
        let loaded = try LanguageModel.load(model)
        // Generate exactly 64 tokens per sequence, as the peer does (no stop tokens).
        let lm = LanguageModel(transformer: loaded.transformer, tokenizer: loaded.tokenizer, template: loaded.template, stopTokens: [])
        let corpus = lm.tokenizer.encode(try textFields(of: "corpora/sample-documents.jsonl.zst").joined(separator: "\n"))
        print("batch benchmark: \(model), prompts 128 tokens, 64 generated each, 2 threads")
        for (k, b) in batches.enumerated() {
            let requests = (0..<b).map { i -> GenerationRequest in
                let start = (i * 97) % max(1, corpus.count - 128)
                var r = GenerationRequest(.tokens(Array(corpus[start..<(start + 128)])))
                r.maxTokens = 64
                return r
            }
            let engine = BatchEngine(model: lm, kvBudgetTokens: 200 * max(b, 1), stepTokens: 512, maxSequences: max(b, 1))
            let t = System.monotonicSeconds()
            let outputs = engine.run(requests)
            let seconds = System.monotonicSeconds() - t
            let total = outputs.reduce(0) { $0 + $1.promptTokens + $1.tokens.count }
            let rate = Double(total) / seconds
            let ratio = k < peer.count ? "   vs llama.cpp \(peer[k]): \(format2(rate / peer[k]))x" : ""
            print("  B=\(pad(String(b), 2, left: true)): \(pad(format1(rate), 7, left: true)) tok/s total (\(total) tokens in \(format2(seconds)) s)\(ratio)")
        }
        // Classification by label scoring, 5 labels, one document at a time.
        let docs = try textFields(of: "corpora/sample-documents.jsonl.zst").prefix(40)
        let labels = ["support request", "bug report", "product review", "news", "other"]
        let classifier = Classifier(loaded)
        let t = System.monotonicSeconds()
        for doc in docs {
            _ = try classifier.classify([ChatMessage(.user, "Classify this text as one of: \(labels.joined(separator: ", ")).\n\n\(doc)")], labels: labels)
        }
        let seconds = System.monotonicSeconds() - t
        print("  classify (5 labels): \(format1(Double(docs.count) / seconds)) docs/s over \(docs.count) sample documents")
    }
}
