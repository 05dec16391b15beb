import ArgumentParser
import AsyncHTTPClient
import Foundation
import GlossaEngine
import GlossaPipeline
import NIOCore

/// This executable, to start `glossa run` / `glossa serve` children.
private var glossaExecutable: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
}

/// Wall time of normalize + detect-language over a generated corpus with 1 rank and with 2 ranks
/// (two `glossa run` processes side by side, as two Slurm array tasks would run).
struct RanksBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranks",
        abstract: "1 vs 2 ranks (processes), and 1 rank on 2 threads, on a generated corpus: normalize + detect-language."
    )

    @Option(help: "Corpus size in MB (generated once, kept under --directory).")
    var megabytes = 200

    @Option(help: "Input units (files); assigned half to each of the 2 ranks.")
    var units = 16

    @Option(help: "Where the corpus, pipelines and outputs go (gitignored out/ by default).")
    var directory = "out/bench-ranks"

    func run() throws {
        let fm = FileManager.default
        let corpus = directory + "/corpus"
        try fm.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let names = balancedUnitNames(corpus)
        let perUnit = megabytes << 20 / units
        let existing = names.reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: corpus + "/" + $1)[.size] as? Int) ?? 0) }
        if existing < megabytes << 20 {
            print("generating \(megabytes) MB in \(units) units under \(corpus) ...")
            for name in (try? fm.contentsOfDirectory(atPath: corpus)) ?? [] { try fm.removeItem(atPath: corpus + "/" + name) }
            let texts = try textFields(of: "corpora/sample-documents.jsonl.zst")
            for (u, name) in names.enumerated() {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(perUnit + 4096)
                var i = 0
                while bytes.count < perUnit {
                    // Each record a sample document with its own id, so no two lines are equal.
                    let record = JSONObject(["id": .string("u\(u)-\(i)"), "text": .string(texts[(i * 7 + u) % texts.count] + " (\(u).\(i))")])
                    JSONWriter.write(.object(record), into: &bytes)
                    bytes.append(0x0A)
                    i += 1
                }
                guard fm.createFile(atPath: corpus + "/" + name, contents: Data(bytes)) else { throw ValidationError("cannot write \(corpus)/\(name)") }
            }
        }
        let total = names.reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: corpus + "/" + $1)[.size] as? Int) ?? 0) }
        func pipeline(_ output: String) throws -> String {
            let path = "\(directory)/\(output).yaml"
            try? fm.removeItem(atPath: "\(directory)/\(output)")
            try """
                name: bench-ranks
                input:
                  paths: [\(corpus)]
                  fields: [text]
                stages:
                  - normalize: {}
                  - detect-language: {}
                output:
                  dir: \(directory)/\(output)
                  path: "part-${rank}-${shard}.jsonl.zst"
                  max_records: 100000
                engine:
                  batch_records: 1024
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        print("ranks benchmark: \(format1(Double(total) / 1048576)) MB in \(units) units, normalize + detect-language, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let (one, oneCPU) = try timeRanks(pipeline: try pipeline("one-rank"), world: 1, threads: 1)
        print("  1 rank, 1 thread:    \(format1(one)) s  (\(format1(Double(total) / 1048576 / one)) MB/s), \(format1(oneCPU)) CPU s, \(format2(oneCPU / one)) cores busy")
        let (two, twoCPU) = try timeRanks(pipeline: try pipeline("two-ranks"), world: 2, threads: 1)
        print("  2 ranks, 1 thread:   \(format1(two)) s  (\(format1(Double(total) / 1048576 / two)) MB/s), \(format1(twoCPU)) CPU s, \(format2(twoCPU / two)) cores busy")
        let (threaded, threadedCPU) = try timeRanks(pipeline: try pipeline("one-rank-threads"), world: 1, threads: 2)
        print("  1 rank, 2 threads:   \(format1(threaded)) s  (\(format1(Double(total) / 1048576 / threaded)) MB/s), \(format1(threadedCPU)) CPU s, \(format2(threadedCPU / threaded)) cores busy")
        let records = { (dir: String, world: Int) -> Int in
            (0..<world).reduce(0) { sum, r in
                let text = (try? String(contentsOfFile: "\(dir)/manifest-rank-\(r).json", encoding: .utf8)) ?? ""
                if case let .number(n)? = try? JSONParser.parse(text).value.objectValue?["records_out"] { return sum + (Int(n) ?? 0) }
                return sum
            }
        }
        let a = records(directory + "/one-rank", 1), b = records(directory + "/two-ranks", 2), c = records(directory + "/one-rank-threads", 1)
        print("  records out: \(a) (1 rank), \(b) (2 ranks), \(c) (1 rank, 2 threads)\(a == b && a == c ? "" : " — MISMATCH")")
        print("  speed-up 2 ranks / 1 rank: \(format2(one / two))x  (target >= 1.8x)")
        print("  1 rank with 2 threads / 2 ranks with 1 thread: \(format2(two / threaded))x  (target >= 0.9x)")
        if a != b || a != c { throw ExitCode(3) }
    }

    /// Unit names that the runner's stable hash splits evenly between 2 ranks.
    private func balancedUnitNames(_ corpus: String) -> [String] {
        var perRank = [[String]](repeating: [], count: 2)
        var k = 0
        while perRank.contains(where: { $0.count < units / 2 }) {
            let name = "part-" + String(String(k + 10_000).dropFirst()) + ".jsonl"
            let r = Ranks.rank(of: corpus + "/" + name, worldSize: 2)
            if perRank[r].count < units / 2 { perRank[r].append(name) }
            k += 1
        }
        return (perRank[0] + perRank[1]).sorted()
    }

    /// Wall seconds and the CPU seconds the rank processes used (fewer than 2 cores busy means
    /// something else on the machine had the rest).
    private func timeRanks(pipeline: String, world: Int, threads: Int) throws -> (wall: Double, cpu: Double) {
        func childCPU() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let cpu = childCPU()
        let start = System.monotonicSeconds()
        let processes = try (0..<world).map { rank -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: glossaExecutable)
            p.arguments = ["run", pipeline, "--rank", String(rank), "--world-size", String(world), "--threads", String(threads)]
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes {
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("glossa run \(pipeline) exited with \(p.terminationStatus)") }
        }
        return (System.monotonicSeconds() - start, childCPU() - cpu)
    }
}

/// Total tokens/s of `glossa serve` under concurrent clients on loopback, against the same
/// requests run by the engine in this process.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "glossa serve under C concurrent clients (128-token prompts, 64 new tokens) vs the in-process engine."
    )

    @Option(help: "GGUF file or model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "Concurrent clients.")
    var clients = 32

    @Option(help: "Requests each client sends, one after the other.")
    var requestsPerClient = 2

    @OptionGroup var engineThreads: EngineThreadsOption

    func run() async throws {
        let threads = try engineThreads.configure()
        let lm = try LanguageModel.load(model)
        let corpus = lm.tokenizer.encode(try textFields(of: "corpora/sample-documents.jsonl.zst").joined(separator: "\n"))
        let total = clients * requestsPerClient
        let prompts = (0..<total).map { i -> [Int] in
            let start = (i * 97) % max(1, corpus.count - 128)
            return Array(corpus[start..<(start + 128)])
        }
        print("serve benchmark: \(model), \(clients) clients x \(requestsPerClient) requests, prompts 128 tokens, up to 64 generated")

        // In process: the same requests, `clients` at a time, as the server's engine would see them.
        let engine = BatchEngine(model: lm, kvBudgetTokens: 200 * clients, stepTokens: 512, maxSequences: clients)
        var localTokens = 0
        let t0 = System.monotonicSeconds()
        for round in 0..<requestsPerClient {
            let requests = prompts[(round * clients)..<((round + 1) * clients)].map { p -> GenerationRequest in
                var r = GenerationRequest(.tokens(p))
                r.maxTokens = 64
                return r
            }
            localTokens += engine.run(Array(requests)).reduce(0) { $0 + $1.promptTokens + $1.tokens.count }
        }
        let localRate = Double(localTokens) / (System.monotonicSeconds() - t0)
        print("  in-process BatchEngine: \(format1(localRate)) tok/s total (\(localTokens) tokens)")

        // The server: a child process with the same engine settings.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: glossaExecutable)
        server.arguments = ["serve", "--model", model, "--port", "0", "--max-pending", String(2 * clients),
                            "--kv-budget-tokens", String(200 * clients), "--step-tokens", "512", "--max-sequences", String(clients),
                            "--threads", String(threads)]
        let errors = Pipe()
        server.standardError = errors
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var seen = ""
        var port: Int?
        while port == nil {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { throw ValidationError("glossa serve exited: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
            if let range = seen.range(of: #"listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                port = Int(seen[range].split(separator: ":").last!)
            }
        }
        errors.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
        let url = "http://127.0.0.1:\(port!)/v1/completions"
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        let t1 = System.monotonicSeconds()
        let outcomes = await withTaskGroup(of: (ok: Int, failed: Int, tokens: Int).self) { group in
            for c in 0..<clients {
                group.addTask {
                    var ok = 0, failed = 0, tokens = 0
                    for round in 0..<requestsPerClient {
                        let ids = prompts[round * clients + c].map { JSONValue.number(String($0)) }
                        let body = JSONObject(["prompt": .array(ids), "max_tokens": .number("64"), "temperature": .number("0")])
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: JSONWriter.string(.object(body))))
                        do {
                            let response = try await client.execute(request, timeout: .seconds(900))
                            let data = try await response.body.collect(upTo: 1 << 20)
                            guard response.status.code == 200,
                                  let usage = try? JSONParser.parse(String(buffer: data)).value.objectValue?["usage"]?.objectValue,
                                  case let .number(n)? = usage["total_tokens"], let n = Int(n)
                            else { failed += 1; continue }
                            ok += 1
                            tokens += n
                        } catch {
                            failed += 1
                        }
                    }
                    return (ok, failed, tokens)
                }
            }
            var sum = (ok: 0, failed: 0, tokens: 0)
            for await o in group { sum.ok += o.ok; sum.failed += o.failed; sum.tokens += o.tokens }
            return sum
        }
        let serverRate = Double(outcomes.tokens) / (System.monotonicSeconds() - t1)
        try await client.shutdown()
        print("  glossa serve, \(clients) clients over loopback: \(format1(serverRate)) tok/s total (\(outcomes.tokens) tokens), \(outcomes.ok) ok, \(outcomes.failed) failed")
        print("  ratio serve / in-process: \(format2(serverRate / localRate))x  (target >= 0.9x, no failed requests)")
        if outcomes.failed > 0 { throw ExitCode(3) }
    }
}
