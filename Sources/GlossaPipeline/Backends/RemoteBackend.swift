import AsyncHTTPClient
import Foundation
import GlossaEngine
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible server (vLLM, SGLang, llama.cpp server, `glossa serve`) as the
/// pipeline's model. At most `concurrency` requests are in flight; 429, 5xx, timeouts and
/// refused connections are retried with exponential backoff (or the server's Retry-After); every
/// successful answer is kept in an on-disk cache under the SHA-256 of the request, so a re-run
/// sends only what has not been answered before.
public final class RemoteBackend: InferenceBackend, @unchecked Sendable {
    public struct Options: Sendable {
        /// Base URL including the version path, e.g. `http://127.0.0.1:8080/v1`.
        public var url: String
        public var model: String
        public var apiKey: String?
        public var concurrency = 8
        public var cacheDirectory: String?
        public var timeoutSeconds = 600
        public var maxRetries = 6
        /// The server model's chat template: label scoring sends rendered prompts to
        /// `/v1/completions` (echo + logprobs), so the client renders them.
        public var template = ChatTemplate.qwen25

        public init(url: String, model: String) {
            self.url = url
            self.model = model
        }
    }

    /// A failure that retries did not cure, or an answer that does not fit the API.
    public enum RemoteError: Error, CustomStringConvertible {
        case status(Int, String, url: String)
        case unreachable(url: String, attempts: Int, underlying: String)
        case badResponse(url: String, String)

        public var description: String {
            switch self {
            case let .status(code, message, url): "\(url) answered \(code): \(message)"
            case let .unreachable(url, attempts, underlying): "\(url) did not answer after \(attempts) attempts: \(underlying)"
            case let .badResponse(url, message): "\(url) sent an answer that is not an OpenAI-compatible response: \(message)"
            }
        }
    }

    /// Counts since the backend was made: what went over the network and what the cache answered.
    public struct Counters: Sendable, Equatable {
        public var sent = 0, cacheHits = 0, retries = 0
    }

    public let options: Options
    private let client: HTTPClient
    private let lock = NSLock()
    private var counts = Counters()
    public var counters: Counters { lock.withLock { counts } }

    public init(options: Options) {
        self.options = options
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, options.concurrency))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(Int64(options.timeoutSeconds)))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    // MARK: - InferenceBackend

    public func complete(_ requests: [GenerationRequest]) throws -> [Completion] {
        let bodies = requests.map(chatBody)
        return try blocking { [self] in
            try await mapConcurrently(bodies) { body in
                do {
                    let answer = try await self.post("chat/completions", body)
                    guard case let .array(choices)? = answer["choices"], let choice = choices.first?.objectValue,
                          let message = choice["message"]?.objectValue else {
                        throw RemoteError.badResponse(url: self.options.url, "no choices[0].message")
                    }
                    let tokens = answer["usage"]?.objectValue?["completion_tokens"].flatMap(Self.int) ?? 0
                    let prompt = answer["usage"]?.objectValue?["prompt_tokens"].flatMap(Self.int) ?? 0
                    var completion = Completion(content: message["content"]?.stringValue ?? "", generatedTokens: tokens, promptTokens: prompt)
                    // vLLM and SGLang name the thinking `reasoning_content`; some servers `reasoning`.
                    completion.reasoning = (message["reasoning_content"] ?? message["reasoning"])?.stringValue
                    completion.finishReason = choice["finish_reason"]?.stringValue ?? "stop"
                    if body.objectValue?["logprobs"] == .bool(true) {
                        switch Self.logprobs(choice["logprobs"]) {
                        case let .success(entries):
                            completion.logprobs = entries
                            completion.tokens = entries.map(\.token)
                        case let .failure(missing):
                            completion.failure = missing.message
                            completion.failureCode = "logprobs_unavailable"
                        }
                    }
                    return completion
                } catch let RemoteError.status(code, message, _) where code != 429 && code < 500 {
                    return Completion(content: "", generatedTokens: 0, failure: "server answered \(code): \(message)")
                }
            }
        }
    }

    /// Each label's continuation is scored from the prompt log-probabilities the server returns
    /// for `/v1/completions` with `echo` and `logprobs` (the label's tokens are those starting at
    /// or after the end of the rendered prompt). Probabilities are normalised over the labels, as
    /// the embedded classifier does.
    public func classify(_ prompts: [[ChatMessage]], labels: [String]) throws -> [Result<Classifier.Result, Error>] {
        let rendered = prompts.map { options.template.render($0, enableThinking: false) }
        let jobs = rendered.flatMap { prompt in labels.map { (prompt, $0) } }
        let scores: [Result<Double, Error>] = try blocking { [self] in
            try await mapConcurrently(jobs) { prompt, label in
                let body = JSONValue.object(JSONObject([
                    "model": .string(self.options.model), "prompt": .string(prompt + label),
                    "max_tokens": .number("0"), "echo": .bool(true), "logprobs": .number("0"), "temperature": .number("0"),
                ]))
                do {
                    return .success(try self.labelScore(try await self.post("completions", body), promptLength: prompt.unicodeScalars.count))
                } catch let RemoteError.status(code, message, url) where code != 429 && code < 500 {
                    return .failure(RemoteError.status(code, message, url: url))
                } catch let error as RemoteError {
                    if case .badResponse = error { return .failure(error) }
                    throw error
                }
            }
        }
        return rendered.indices.map { i in
            var values: [Double] = []
            for k in labels.indices {
                switch scores[i * labels.count + k] {
                case let .success(v): values.append(v)
                case let .failure(error): return .failure(error)
                }
            }
            let top = values.max()!
            let weights = values.map { exp($0 - top) }
            let total = weights.reduce(0, +)
            return .success(Classifier.Result(labels: labels, probabilities: weights.map { $0 / total }))
        }
    }

    /// Why an answer's log-probabilities cannot be used (the record is rejected, the run goes on).
    struct LogprobsMissing: Error { var message: String }

    /// A chat choice's `logprobs.content` as entries with token ids. OpenAI's format names
    /// tokens by their text, which cannot be mapped back to ids without the server's tokenizer,
    /// so the request asks for vLLM's `return_tokens_as_token_ids` (tokens as `token_id:N`);
    /// a server that ignores it fails the request for logprobs alone.
    static func logprobs(_ value: JSONValue?) -> Result<[TokenLogprob], LogprobsMissing> {
        guard case let .array(content)? = value?.objectValue?["content"] else {
            return .failure(LogprobsMissing(message: "the server sent no logprobs.content (the generate stage's logprobs need an OpenAI-style chat logprobs answer)"))
        }
        func id(_ entry: JSONObject) -> Int? {
            guard let text = entry["token"]?.stringValue, text.hasPrefix("token_id:") else { return nil }
            return Int(text.dropFirst("token_id:".count))
        }
        func number(_ v: JSONValue?) -> Float? {
            if case let .number(n)? = v { return Float(n) }
            return nil
        }
        var out: [TokenLogprob] = []
        for item in content {
            guard let entry = item.objectValue, let token = id(entry), let logprob = number(entry["logprob"]) else {
                return .failure(LogprobsMissing(message: "the server's logprobs do not name token ids: logprobs need a server that supports vLLM's return_tokens_as_token_ids"))
            }
            var top: [(token: Int, logprob: Float)] = []
            if case let .array(alternatives)? = entry["top_logprobs"] {
                for alt in alternatives {
                    guard let a = alt.objectValue, let t = id(a), let l = number(a["logprob"]) else {
                        return .failure(LogprobsMissing(message: "the server's top_logprobs do not name token ids (vLLM's return_tokens_as_token_ids)"))
                    }
                    top.append((t, l))
                }
            }
            out.append(TokenLogprob(token: token, logprob: logprob, top: top))
        }
        return .success(out)
    }

    private func labelScore(_ answer: JSONObject, promptLength: Int) throws -> Double {
        guard case let .array(choices)? = answer["choices"], let logprobs = choices.first?.objectValue?["logprobs"]?.objectValue,
              case let .array(values)? = logprobs["token_logprobs"], case let .array(offsets)? = logprobs["text_offset"],
              values.count == offsets.count
        else {
            throw RemoteError.badResponse(url: options.url, "no prompt log-probabilities: label scoring needs /v1/completions with echo and logprobs (glossa serve and vLLM provide them)")
        }
        var score = 0.0, tokens = 0
        for (value, offset) in zip(values, offsets) {
            guard let at = Self.int(offset), at >= promptLength else { continue }
            guard case let .number(n) = value, let v = Double(n) else { throw RemoteError.badResponse(url: options.url, "a label token has no log-probability") }
            score += v
            tokens += 1
        }
        guard tokens > 0 else { throw RemoteError.badResponse(url: options.url, "the label's tokens are missing from the echoed prompt") }
        return score
    }

    // MARK: - Requests

    /// The JSON body of a chat completion; greedy requests say temperature 0 explicitly.
    private func chatBody(_ r: GenerationRequest) -> JSONValue {
        var body = JSONObject(["model": .string(options.model)])
        switch r.input {
        case let .messages(messages):
            body["messages"] = .array(messages.map { .object(JSONObject(["role": .string($0.role.rawValue), "content": .string($0.content)])) })
        case let .prompt(text):
            body["messages"] = .array([.object(JSONObject(["role": .string("user"), "content": .string(text)]))])
        case let .tokens(ids):
            body["messages"] = .array([.object(JSONObject(["role": .string("user"), "content": .string(ids.map(String.init).joined(separator: " "))]))])
        }
        body["max_tokens"] = .number(String(r.maxTokens))
        let s = r.sampling
        body["temperature"] = .number(String(s.temperature))
        if s.temperature > 0 {
            body["top_p"] = .number(String(s.topP))
            if s.topK > 0 { body["top_k"] = .number(String(s.topK)) }
            if s.minP > 0 { body["min_p"] = .number(String(s.minP)) }
            body["seed"] = .number(String(s.seed))
        }
        if s.presencePenalty != 0 { body["presence_penalty"] = .number(String(s.presencePenalty)) }
        if s.frequencyPenalty != 0 { body["frequency_penalty"] = .number(String(s.frequencyPenalty)) }
        if s.repetitionPenalty != 1 { body["repetition_penalty"] = .number(String(s.repetitionPenalty)) }
        if !r.stopStrings.isEmpty { body["stop"] = .array(r.stopStrings.map(JSONValue.string)) }
        body["chat_template_kwargs"] = .object(JSONObject(["enable_thinking": .bool(r.enableThinking)]))
        if let budget = r.thinkingBudget { body["thinking_budget"] = .number(String(budget)) }
        if let k = r.logprobs {
            body["logprobs"] = .bool(true)
            body["top_logprobs"] = .number(String(k))
            body["return_tokens_as_token_ids"] = .bool(true)
        }
        // Constraints as OpenAI (schemas, JSON objects) or vLLM (the rest) take them.
        switch r.constraint?.kind {
        case nil: break
        case let .jsonSchema(schema)?:
            body["response_format"] = .object(JSONObject(["type": .string("json_schema"), "json_schema": .object(JSONObject([
                "name": .string("output"), "schema": schema, "strict": .bool(true),
            ]))]))
        case .jsonObject?, .json?: body["response_format"] = .object(JSONObject(["type": .string("json_object")]))
        case let .choice(options)?: body["guided_choice"] = .array(options.map(JSONValue.string))
        case let .regex(pattern)?: body["guided_regex"] = .string(pattern)
        case let .grammar(text)?: body["guided_grammar"] = .string(text)
        // No OpenAI-style field says "contains these strings": the caller checks the answer.
        case .requiredText?: break
        }
        return .object(body)
    }

    /// POSTs `body` to `options.url/path`, answered from the cache when this exact request was
    /// answered before.
    func post(_ path: String, _ body: JSONValue) async throws -> JSONObject {
        var bytes: [UInt8] = []
        JSONWriter.write(body, into: &bytes)
        let key = SHA256.hex(Array("POST /\(path)\n".utf8) + bytes)
        let url = options.url.hasSuffix("/") ? options.url + path : options.url + "/" + path
        if let cached = cacheRead(key) {
            lock.withLock { counts.cacheHits += 1 }
            return cached
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = options.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        var attempt = 0
        while true {
            attempt += 1
            var wait = min(8.0, 0.5 * pow(2.0, Double(attempt - 1)))
            do {
                lock.withLock { counts.sent += 1 }
                let response = try await client.execute(request, timeout: .seconds(Int64(options.timeoutSeconds)))
                let data = try await response.body.collect(upTo: 256 << 20)
                let text = String(buffer: data)
                let code = Int(response.status.code)
                if code == 200 {
                    guard let object = try? JSONParser.parse(text).value.objectValue else { throw RemoteError.badResponse(url: url, "not a JSON object") }
                    cacheWrite(key, Array(data.readableBytesView))
                    return object
                }
                let message = (try? JSONParser.parse(text).value.objectValue?["error"]?.objectValue?["message"]?.stringValue) ?? text
                guard code == 429 || code >= 500, attempt <= options.maxRetries else {
                    throw RemoteError.status(code, message, url: url)
                }
                if let after = response.headers.first(name: "Retry-After").flatMap(Double.init) { wait = min(max(after, 0), 60) }
            } catch let error as RemoteError {
                throw error
            } catch {
                if error is CancellationError { throw error }
                guard attempt <= options.maxRetries else { throw RemoteError.unreachable(url: url, attempts: attempt, underlying: "\(error)") }
            }
            lock.withLock { counts.retries += 1 }
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }

    private func cachePath(_ key: String) -> String? {
        options.cacheDirectory.map { "\($0)/\(key.prefix(2))/\(key).json" }
    }

    private func cacheRead(_ key: String) -> JSONObject? {
        guard let path = cachePath(key), let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONParser.parse(String(decoding: data, as: UTF8.self)).value.objectValue
    }

    /// Written under a temporary name and renamed, so a killed run never leaves half an entry.
    private func cacheWrite(_ key: String, _ bytes: [UInt8]) {
        guard let path = cachePath(key) else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(path).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    private static func int(_ value: JSONValue) -> Int? {
        if case let .number(n) = value { return Int(n) ?? Double(n).map { Int($0) } }
        return nil
    }

    /// Runs `transform` over `items` with at most `options.concurrency` in flight; results in order.
    private func mapConcurrently<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            let limit = max(1, options.concurrency)
            while next < min(limit, items.count) {
                let i = next
                group.addTask { (i, try await transform(items[i])) }
                next += 1
            }
            while let (i, r) = try await group.next() {
                results[i] = r
                if next < items.count {
                    let k = next
                    group.addTask { (k, try await transform(items[k])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}

/// Waits on the calling (non-async) thread for async work: pipeline stages are synchronous code
/// run on the runner's thread, never on the concurrency pool, so blocking here cannot starve it.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }
