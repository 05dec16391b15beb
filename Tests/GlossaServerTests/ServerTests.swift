import AsyncHTTPClient
import Foundation
import GlossaEngine
import GlossaPipeline
import NIOCore
import Testing

let defaultModel = modelsDirectory + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
let servedName = "qwen2.5-coder-0.5b-instruct-q4_k_m"

func object(_ text: String) throws -> JSONObject {
    try #require(JSONParser.parse(text).value.objectValue, "not a JSON object: \(text)")
}

func number(_ value: JSONValue?) -> Double? {
    if case let .number(n)? = value { return Double(n) }
    return nil
}

/// The `data:` payloads of a server-sent event stream.
func events(_ body: String) -> [String] {
    body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : "NOT AN EVENT: \($0)" }
}

@Suite(.serialized) struct ServerTests {
    @Test func completionsMatchTheEngineAndBadRequestsGetClearErrors() async throws {
        let server = try ServerProcess(arguments: ["--max-body-bytes", "4096"], apiKey: "secret")
        defer { server.stop() }
        let chat = server.baseURL + "/v1/chat/completions"
        let auth = [("Authorization", "Bearer secret")]
        let prompt = "Translate into German: Good morning, the build is green again."
        let body = #"{"model":"\#(servedName)","messages":[{"role":"user","content":"\#(prompt)"}],"temperature":0,"max_tokens":24,"logprobs":true,"top_logprobs":3}"#

        #expect(try await send(server.baseURL + "/health").status == 200)
        // 401 without the key or with a wrong one; the error is JSON with a message.
        let anonymous = try await send(chat, body)
        #expect(anonymous.status == 401)
        #expect(try object(anonymous.body)["error"]?.objectValue?["message"]?.stringValue?.contains("API key") == true)
        #expect(try await send(chat, body, headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try await send(server.baseURL + "/v1/models").status == 401)
        // 400: malformed JSON, wrong types, unknown model; 413: body over the limit.
        let malformed = try await send(chat, #"{"messages": [{"role": "user", "content": "hi"}"#, headers: auth)
        #expect(malformed.status == 400)
        #expect(try object(malformed.body)["error"]?.objectValue?["message"]?.stringValue?.hasPrefix("malformed JSON") == true)
        #expect(try await send(chat, "[1, 2]", headers: auth).status == 400)
        #expect(try await send(chat, #"{"messages": "hi"}"#, headers: auth).status == 400)
        #expect(try await send(chat, #"{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}"#, headers: auth).status == 400)
        #expect(try await send(chat, #"{"messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 3}"#, headers: auth).status == 400)
        #expect(try await send(chat, #"{"messages": [{"role": "user", "content": "hi"}], "n": 17}"#, headers: auth).status == 400)
        #expect(try await send(chat, #"{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}"#, headers: auth).status == 404)
        let huge = #"{"messages": [{"role": "user", "content": ""# + String(repeating: "a", count: 8000) + #""}]}"#
        #expect(try await send(chat, huge, headers: auth).status == 413)

        // The server survived all that and answers like the engine in this process (greedy).
        let models = try object(try await send(server.baseURL + "/v1/models", headers: auth).body)
        #expect(JSONWriter.string(models["data"]!).contains(servedName))
        let reply = try await send(chat, body, headers: auth)
        #expect(reply.status == 200, "\(reply.body)")
        let answer = try object(reply.body)
        let choice = try #require(answer["choices"].flatMap { if case let .array(a) = $0 { a.first?.objectValue } else { nil } })
        let content = try #require(choice["message"]?.objectValue?["content"]?.stringValue)
        let lm = try LanguageModel.load(defaultModel)
        var request = GenerationRequest(.messages([ChatMessage(.user, prompt)]))
        request.maxTokens = 24
        request.logprobs = 3
        let local = BatchEngine(model: lm).run([request])[0]
        #expect(content == local.content)
        #expect(!content.isEmpty)
        // Log-probabilities: one entry per generated token, the engine's values, greedy = top 1.
        guard case let .array(entries)? = choice["logprobs"]?.objectValue?["content"] else { Issue.record("no logprobs: \(reply.body)"); return }
        #expect(number(answer["usage"]?.objectValue?["completion_tokens"]) == Double(local.tokens.count))
        #expect(entries.count == local.tokens.count)
        for (entry, expected) in zip(entries, local.logprobs ?? []) {
            let e = try #require(entry.objectValue)
            let logprob = try #require(number(e["logprob"]))
            #expect(logprob <= 0 && abs(logprob - Double(expected.logprob)) < 1e-5)
            guard case let .array(top)? = e["top_logprobs"] else { Issue.record("no top_logprobs"); continue }
            #expect(top.count == 3)
            #expect(number(top.first?.objectValue?["logprob"]) == logprob)
        }

        // Streaming: the deltas add up to the same text, then [DONE].
        let streamed = try await send(chat, body.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":0,"stream":true"#), headers: auth)
        #expect(streamed.status == 200)
        #expect(streamed.headers.first(name: "Content-Type") == "text/event-stream")
        let payloads = events(streamed.body)
        #expect(payloads.last == "[DONE]")
        var text = ""
        var streamedLogprobs: [JSONValue] = []
        for payload in payloads.dropLast() {
            let chunk = try object(payload)
            if case let .array(choices)? = chunk["choices"], let choice = choices.first?.objectValue, let delta = choice["delta"]?.objectValue {
                text += delta["content"]?.stringValue ?? ""
                // Each chunk carries the log-probabilities of the tokens behind its text.
                if case let .array(entries)? = choice["logprobs"]?.objectValue?["content"] {
                    streamedLogprobs += entries
                    #expect(!entries.isEmpty && (delta["content"] != nil || choice["finish_reason"] != .null))
                }
            }
        }
        #expect(text == content)
        #expect(streamedLogprobs == entries)

        // Completions with echo: the prompt's own log-probabilities (the first token has none).
        let echo = try await send(server.baseURL + "/v1/completions", #"{"prompt":"The capital of France is","max_tokens":0,"echo":true,"logprobs":1}"#, headers: auth)
        let logprobs = try #require(try object(echo.body)["choices"].flatMap { if case let .array(a) = $0 { a.first?.objectValue?["logprobs"]?.objectValue } else { nil } })
        guard case let .array(values)? = logprobs["token_logprobs"], case let .array(tokens)? = logprobs["tokens"] else { Issue.record("\(echo.body)"); return }
        #expect(tokens.compactMap(\.stringValue).joined() == "The capital of France is")
        #expect(values.first == .null && values.dropFirst().allSatisfy { (number($0) ?? 1) <= 0 })

        // n choices: choice i samples with seed + i, exactly as the engine does alone.
        let sampled = #"{"messages":[{"role":"user","content":"Pick a random number between 1 and 1000 and say only the number."}],"temperature":1,"seed":7,"max_tokens":12,"n":3}"#
        let multi = try object(try await send(chat, sampled, headers: auth).body)
        guard case let .array(choices)? = multi["choices"] else { Issue.record("\(multi)"); return }
        let perSeed = (0..<3).map { i -> GenerationOutput in
            var r = GenerationRequest(.messages([ChatMessage(.user, "Pick a random number between 1 and 1000 and say only the number.")]))
            r.maxTokens = 12
            r.sampling.temperature = 1
            r.sampling.seed = UInt64(7 + i)
            return BatchEngine(model: lm).run([r])[0]
        }
        #expect(choices.map { $0.objectValue?["message"]?.objectValue?["content"]?.stringValue } == perSeed.map(\.content))
        #expect(choices.map { number($0.objectValue?["index"]) } == [0, 1, 2])
        #expect(Set(perSeed.map(\.content)).count > 1)
        #expect(number(multi["usage"]?.objectValue?["completion_tokens"]) == Double(perSeed.reduce(0) { $0 + $1.tokens.count }))
        // Streamed, the chunks of each index add up to that choice, and each choice finishes.
        let multiStream = events(try await send(chat, sampled.replacingOccurrences(of: #""n":3"#, with: #""n":3,"stream":true"#), headers: auth).body)
        #expect(multiStream.last == "[DONE]")
        var texts = ["", "", ""], finishes = 0
        for payload in multiStream.dropLast() {
            guard case let .array(c)? = try object(payload)["choices"], let choice = c.first?.objectValue,
                  let index = number(choice["index"]).map(Int.init) else { continue }
            texts[index] += choice["delta"]?.objectValue?["content"]?.stringValue ?? ""
            if choice["finish_reason"] != .null { finishes += 1 }
        }
        #expect(texts == perSeed.map(\.content))
        #expect(finishes == 3)
    }

    /// With room for one request, a second gets 429 with Retry-After at once; when the first
    /// client disconnects, its generation is cancelled and the slot is free again within seconds
    /// (the counting prompt would otherwise run for its 3,000 tokens, minutes on this machine).
    @Test func fullQueueAnswers429AndDisconnectCancels() async throws {
        let server = try ServerProcess(arguments: ["--max-pending", "1"])
        defer { server.stop() }
        let url = server.baseURL + "/v1/completions"
        let long = #"{"prompt":"1, 2, 3, 4, 5, 6, 7, 8,","max_tokens":3000,"temperature":0,"stream":true}"#
        let short = #"{"prompt":"Hello","max_tokens":2,"temperature":0}"#
        let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
        let streaming = Task {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: long))
            let response = try await http.execute(request, timeout: .seconds(600))
            for try await _ in response.body { signal.yield() }
        }
        for await _ in firstChunk { break }
        let refused = try await send(url, short)
        #expect(refused.status == 429)
        #expect(refused.headers.first(name: "Retry-After") == "1")
        #expect(try object(refused.body)["error"]?.objectValue?["message"]?.stringValue != nil)

        streaming.cancel()
        #expect(try await freedWithin(30, url: url, probe: short))

        // The same for a client waiting on a non-streaming answer. A probe can take the one
        // slot before the long request arrives (a loaded machine); then it is refused and sent again.
        let nonStreaming = long.replacingOccurrences(of: #","stream":true"#, with: "")
        let waiting = Task {
            while true {
                let answer = try await send(url, nonStreaming)
                if answer.status != 429 { return answer }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
        }
        var admitted = false
        for _ in 0..<100 where !admitted {
            try await Task.sleep(nanoseconds: 100_000_000)
            admitted = try await send(url, short).status == 429
        }
        #expect(admitted, "the long request never held the slot")
        waiting.cancel()
        #expect(try await freedWithin(30, url: url, probe: short))
    }

    /// Whether a short request is answered (not 429) within `seconds`.
    func freedWithin(_ seconds: Double, url: String, probe: String) async throws -> Bool {
        let started = Date()
        while Date().timeIntervalSince(started) < seconds {
            if try await send(url, probe).status == 200 { return true }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        return false
    }
}

/// The same pipeline embedded and against a real `glossa serve`: identical greedy translations,
/// the same labels (probabilities within 1e-4) and counts; a re-run is answered from the cache
/// with the server gone. Translation runs with `enforce: false` on both sides: an OpenAI-style
/// server has no required-text constraint, so only the unconstrained path can be the same
/// (the enforced one is TranslationTrustTests').
@Suite(.serialized) struct RemoteBackendTests {
    func pipeline(_ name: String, input: String, output: String, engine: String) -> String {
        """
        name: \(name)
        input:
          paths: [\(input)]
          fields: [title, body]
        stages:
          - normalize: {}
          - detect-language: {}
          - translate:
              target: en
              max_tokens: 40
              enforce: false
          - classify:
              labels: [support request, bug report, product review, news, other]
              fields: [title]
        output:
          dir: \(output)
          path: "part-${rank}-${shard}.jsonl.zst"
        engine:
        \(engine)
        """
    }

    func records(_ directory: String) throws -> [JSONObject] {
        var out: [JSONObject] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".jsonl.zst") }.sorted()
        for name in names {
            let reader = LineReader(try openByteSource(path: directory + "/" + name))
            while let line = try reader.next() {
                if case let .text(bytes, _, _) = line { out.append(try #require(JSONParser.parse(bytes).value.objectValue)) }
            }
        }
        return out
    }

    func run(_ yaml: String, at path: String) async throws -> PipelineRunner.Report {
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["GLOSSA_MODELS"] = modelsDirectory
        env["GLOSSA_TEST_KEY"] = "secret"
        let config = try PipelineConfig.load(path: path)
        let environment = env
        return try await onThread { try PipelineRunner(config: config, environment: environment).run() }
    }

    /// A new scratch folder holding the first `count` sample tickets as `tickets.jsonl`.
    func scratchWithTickets(_ count: Int, _ name: String) throws -> (dir: String, input: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let reader = LineReader(try openByteSource(path: root.path + "/corpora/sample-tickets.jsonl.zst"))
        var out: [UInt8] = []
        for _ in 0..<count {
            guard let line = try reader.next(), case let .text(bytes, _, _) = line else { break }
            out += Array(bytes) + [0x0A]
        }
        try Data(out).write(to: URL(fileURLWithPath: dir + "/tickets.jsonl"))
        return (dir, dir + "/tickets.jsonl")
    }

    @Test func remoteRunMatchesEmbeddedAndReRunsFromTheCache() async throws {
        // Three tickets of the sample corpus (German, Japanese, French ones come first).
        let (dir, input) = try scratchWithTickets(3, "remote")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let embedded = try await run(pipeline("embedded", input: input, output: dir + "/embedded", engine: "  model: default"), at: dir + "/embedded.yaml")
        let server = try ServerProcess(apiKey: "secret")
        let remoteEngine = """
              backend: remote
              url: \(server.baseURL)/v1
              model: \(servedName)
              api_key_env: GLOSSA_TEST_KEY
              concurrency: 4
              max_retries: 1
              cache: \(dir)/cache
            """
        let remote = try await run(pipeline("remote", input: input, output: dir + "/remote", engine: remoteEngine), at: dir + "/remote.yaml")
        server.stop()

        #expect(embedded.recordsIn == 3 && remote.recordsIn == 3)
        #expect(remote.recordsOut == embedded.recordsOut && remote.rejected == embedded.rejected)
        #expect(remote.rejectReasons == embedded.rejectReasons)
        #expect(remote.stages["translate"] == embedded.stages["translate"])
        #expect(remote.stages["classify"] == embedded.stages["classify"])
        let a = try records(dir + "/embedded"), b = try records(dir + "/remote")
        #expect(a.count == embedded.recordsOut && b.count == a.count)
        for (x, y) in zip(a, b) {
            #expect(x["translation"] == y["translation"])
            #expect(x["translation"]?.objectValue?["title"]?.stringValue?.isEmpty == false)
            var mx = try #require(x["metadata"]?.objectValue), my = try #require(y["metadata"]?.objectValue)
            #expect(mx["label"] == my["label"])
            let px = try #require(mx["label_probabilities"]?.objectValue), py = try #require(my["label_probabilities"]?.objectValue)
            #expect(px.members.map(\.key) == py.members.map(\.key))
            for (p, q) in zip(px.members, py.members) { #expect(abs(number(p.value)! - number(q.value)!) < 1e-4, "\(p) vs \(q)") }
            mx["label_probabilities"] = nil
            my["label_probabilities"] = nil
            #expect(mx == my)
        }

        // The server is gone and retries are off: only the cache can answer this run.
        let again = try await run(pipeline("remote", input: input, output: dir + "/again", engine: remoteEngine), at: dir + "/again.yaml")
        #expect(again.recordsOut == remote.recordsOut && again.stages == remote.stages)
        #expect(try records(dir + "/again") == b)
    }

    /// The extract stage sends its schema as `response_format`; the server's constrained
    /// greedy answers are the embedded engine's, object for object.
    @Test func extractionIsTheSameEmbeddedOrRemote() async throws {
        let (dir, input) = try scratchWithTickets(3, "extract")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func yaml(_ output: String, _ engine: String) throws -> String {
            let triage = try String(contentsOfFile: root.path + "/pipelines/triage-tickets.yaml", encoding: .utf8)
            let body = triage.components(separatedBy: "\nengine:")[0]
            return body.replacingOccurrences(of: "corpora/sample-tickets.jsonl.zst", with: input)
                .replacingOccurrences(of: "out/triage-tickets", with: output)
                .replacingOccurrences(of: "${language}/triage-${rank}-${shard}.jsonl.zst", with: "part-${rank}-${shard}.jsonl.zst")
                + "\nengine:\n" + engine + "\n"
        }
        let embedded = try await run(try yaml(dir + "/embedded", "  model: default"), at: dir + "/embedded.yaml")
        let server = try ServerProcess()
        defer { server.stop() }
        let remote = try await run(try yaml(dir + "/remote", "  backend: remote\n  url: \(server.baseURL)/v1\n  model: \(servedName)"), at: dir + "/remote.yaml")
        #expect(embedded.recordsOut == 3 && remote.recordsOut == 3)
        let a = try records(dir + "/embedded"), b = try records(dir + "/remote")
        #expect(a.count == 3 && a.count == b.count)
        for (x, y) in zip(a, b) {
            let triage = x["metadata"]?.objectValue?["triage"]
            #expect(triage != nil && triage == y["metadata"]?.objectValue?["triage"], "\(x["id"] ?? .null)")
        }
    }

    /// The generate stage over the server: sampled answers (seed + i), top-3 log-probabilities
    /// with token ids (`return_tokens_as_token_ids`), the same records as the embedded engine's.
    @Test func generationWithLogprobsIsTheSameEmbeddedOrRemote() async throws {
        let (dir, input) = try scratchWithTickets(2, "generate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func yaml(_ output: String, _ engine: String) -> String {
            """
            name: generate-remote
            input: {paths: [\(input)]}
            stages:
              - generate: {template: "Title: {title}", n: 2, temperature: 0.8, top_k: 20, seed: 3, max_tokens: 8, logprobs: 3}
            output:
              dir: \(output)
              path: "part-${rank}-${shard}.jsonl.zst"
            engine:
            \(engine)
            """
        }
        let embedded = try await run(yaml(dir + "/embedded", "  model: default"), at: dir + "/embedded.yaml")
        let server = try ServerProcess()
        defer { server.stop() }
        let remote = try await run(yaml(dir + "/remote", "  backend: remote\n  url: \(server.baseURL)/v1\n  model: \(servedName)"), at: dir + "/remote.yaml")
        #expect(embedded.recordsOut == 2 && remote.recordsOut == 2, "\(remote.rejectReasons)")
        let a = try records(dir + "/embedded"), b = try records(dir + "/remote")
        #expect(a.count == 2 && a == b)
        #expect(a.first?["generations"]?.arrayValue?.first?.objectValue?["logprobs"] != nil)
    }

    /// A server with room for one request answers 429 to the rest; the backend waits the
    /// Retry-After and tries again until every request is answered. A server that is not there is
    /// an error naming it, after the allowed retries.
    @Test func retriesOn429AndReportsAnUnreachableServer() async throws {
        let server = try ServerProcess(arguments: ["--max-pending", "1"])
        defer { server.stop() }
        var options = RemoteBackend.Options(url: server.baseURL + "/v1", model: servedName)
        options.concurrency = 4
        options.maxRetries = 20
        let backend = RemoteBackend(options: options)
        let requests = (0..<4).map { i -> GenerationRequest in
            var r = GenerationRequest(.messages([ChatMessage(.user, "Say the number \(i).")]))
            r.maxTokens = 4
            return r
        }
        let answers = try await onThread { try backend.complete(requests) }
        #expect(answers.count == 4 && answers.allSatisfy { $0.failure == nil && !$0.content.isEmpty && $0.generatedTokens > 0 })
        #expect(backend.counters.retries > 0 && backend.counters.sent == 4 + backend.counters.retries)

        var nowhere = RemoteBackend.Options(url: "http://127.0.0.1:9/v1", model: servedName)
        nowhere.maxRetries = 1
        let unreachable = RemoteBackend(options: nowhere)
        do {
            _ = try await onThread { try unreachable.complete(requests) }
            Issue.record("a closed port answered")
        } catch let error as RemoteBackend.RemoteError {
            #expect("\(error)".contains("127.0.0.1:9/v1/chat/completions did not answer after 2 attempts"), "\(error)")
        }
    }

    @Test func remoteSettingsAreValidated() {
        let base = "name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\nengine:\n"
        let cases: [(String, Int, String)] = [
            ("  backend: remote\n  model: m\n", 8, "missing key 'url'"),
            ("  backend: remote\n  url: ftp://x\n  model: m\n", 9, "must start with http://"),
            ("  backend: remote\n  url: http://h/v1\n", 8, "missing key 'model'"),
            ("  cache: c\n", 8, "backend: remote only"),
            ("  backend: cloud\n", 8, "embedded or remote"),
            ("  backend: remote\n  url: http://h/v1\n  model: m\n  concurrency: 0\n", 11, "integer >= 1"),
        ]
        for (engine, line, message) in cases {
            do {
                _ = try PipelineConfig.parse(base + engine, file: "p.yaml")
                Issue.record("accepted: \(engine)")
            } catch let error as PipelineConfig.ConfigError {
                #expect(error.line == line, "\(error)")
                #expect(error.description.contains(message), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(Ranks.arrayRanges([0, 1, 2, 3, 7]) == "0-3,7")
        #expect(Ranks.arrayRanges([2]) == "2")
        #expect(Ranks.arrayRanges([0, 2, 3, 5, 6, 7]) == "0,2-3,5-7")
    }
}
