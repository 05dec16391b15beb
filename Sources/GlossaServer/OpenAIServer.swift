import Foundation
import GlossaEngine
import GlossaIO
import Hummingbird
import NIOCore
import Synchronization

/// `glossa serve`: the embedded engine behind an OpenAI-compatible HTTP API. All requests share
/// one `BatchEngine`, so concurrent requests are decoded together (continuous batching).
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Requests must carry `Authorization: Bearer <apiKey>` when set (`/health` stays open).
    public var apiKey: String?
    public var maxBodyBytes = 1 << 20
    /// Generation requests admitted at once (running or waiting for the engine); more get 429.
    public var maxPending = 64
    public var modelName = "default"

    public init() {}
}

/// Requests admitted and not yet finished; the bound that turns overload into 429s.
final class Admission: Sendable {
    private let count = Mutex(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }

    /// Takes `slots` places at once (one per engine request), or none.
    func enter(_ slots: Int = 1) -> Bool {
        count.withLock { n in
            guard n + slots <= limit else { return false }
            n += slots
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}

/// The request context keeps the connection's channel: its close is how a client disconnect is
/// seen, and it cancels that client's request in the engine.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Log-probabilities the engine computed and a streamed response has not sent yet.
final class StreamedLogprobs: Sendable {
    private let entries = Mutex<[TokenLogprob]>([])
    func append(_ entry: TokenLogprob) { entries.withLock { $0.append(entry) } }
    func drain() -> [TokenLogprob] { entries.withLock { e in defer { e.removeAll() }; return e } }
}

/// Closes a connection as soon as its client closes its side. The server allows half-closed
/// connections, so a client that gives up is otherwise only noticed when a response is
/// written; closing the channel is what tells a handler waiting on the engine to cancel.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny  // never unwrapped: reads pass through untouched

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Errors outside the handlers answer in the same OpenAI-style JSON: a known path with another
/// method is a 405 naming the allowed one, an unknown path a 404, anything unexpected a 500.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let routes: [String: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            var path = request.uri.path
            if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            if let allowed = routes[path] {
                return OpenAIServer.json(405, APIError(405, "\(request.method.rawValue) is not allowed on \(path); use \(allowed)").json,
                                         headers: [.allow: allowed])
            }
            return OpenAIServer.json(404, APIError(404, "no route \(request.method.rawValue) \(path)", type: "not_found_error").json)
        } catch let error as HTTPError {
            return OpenAIServer.json(Int(error.status.code), APIError(Int(error.status.code), error.body ?? error.status.reasonPhrase).json)
        } catch {
            return OpenAIServer.json(500, APIError(500, "internal error: \(error)", type: "server_error").json)
        }
    }
}

public final class OpenAIServer: Sendable {
    public let engine: BatchEngine
    public let options: ServerOptions
    let admission: Admission
    private let counter = Mutex(0)
    /// Compiled constraints by their definition: the same schema in many requests is compiled
    /// once and keeps its token masks warm.
    let constraints = ConstraintCache(capacity: 64)

    public init(engine: BatchEngine, options: ServerOptions) {
        self.engine = engine
        self.options = options
        admission = Admission(limit: options.maxPending)
    }

    /// Serves until the process gets SIGINT/SIGTERM. `onListening` gets the bound port (useful
    /// with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router(context: ServerContext.self)
        router.add(middleware: JSONErrorMiddleware(routes: ["/health": "GET", "/v1/models": "GET",
                                                           "/v1/chat/completions": "POST", "/v1/completions": "POST"]))
        router.get("health") { _, _ in self.json(200, .object(JSONObject(["status": .string("ok")]))) }
        router.get("v1/models") { request, _ in
            if let refusal = self.refusal(request) { return refusal }
            return self.json(200, .object(JSONObject([
                "object": .string("list"),
                "data": .array([.object(JSONObject([
                    "id": .string(self.options.modelName), "object": .string("model"),
                    "created": .number("0"), "owned_by": .string("glossa"),
                ]))]),
            ])))
        }
        router.post("v1/chat/completions") { request, context in try await self.complete(request, context, kind: .chat) }
        router.post("v1/completions") { request, context in try await self.complete(request, context, kind: .text) }
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientGoneHandler()])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "glossa"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) }
        )
        try await app.runService()
    }

    // MARK: - Handlers

    private func complete(_ request: Request, _ context: ServerContext, kind: CompletionRequest.Kind) async throws -> Response {
        do {
            try authorize(request)
            if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBodyBytes {
                throw APIError(413, "request body of \(length) bytes exceeds the limit of \(options.maxBodyBytes) bytes")
            }
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: options.maxBodyBytes) } catch is NIOTooManyBytesError {
                throw APIError(413, "request body exceeds the limit of \(options.maxBodyBytes) bytes")
            }
            let body: JSONObject
            do {
                let parsed = try JSONParser.parse(String(decoding: buffer.readableBytesView, as: UTF8.self)).value
                guard let object = parsed.objectValue else { throw APIError(400, "the request body must be a JSON object") }
                body = object
            } catch let error as JSONParser.SyntaxError {
                throw APIError(400, "malformed JSON: \(error)")
            }
            var parsed = try CompletionRequest(kind: kind, body: body)
            if let model = parsed.model, model != options.modelName {
                throw APIError(404, "model '\(model)' is not served here (GET /v1/models lists '\(options.modelName)')", type: "model_not_found")
            }
            // Refused here, before anything is computed or streamed: an empty prompt, an unknown
            // token id, a prompt longer than the context. The engine gets the tokens, not the
            // text again.
            do { parsed.generation = try engine.prepare(parsed.generation) } catch { throw APIError(error) }
            if let kind = parsed.constraint {
                do { parsed.generation.constraint = try constraints.compile(kind) } catch {
                    throw APIError(400, "invalid constraint: \(error.message)", code: "invalid_constraint")
                }
            }
            guard parsed.choices <= options.maxPending else {
                throw APIError(400, "n = \(parsed.choices) exceeds the server's limit of \(options.maxPending) pending requests")
            }
            guard admission.enter(parsed.choices) else {
                var response = json(429, APIError(429, "the server is at its limit of \(options.maxPending) pending requests; retry later", type: "rate_limit_exceeded").json)
                response.headers[.retryAfter] = "1"
                return response
            }
            let id = counter.withLock { n in n += 1; return n }
            // One engine request per choice, each with its own seed.
            let streamed = (0..<parsed.choices).map { _ in StreamedLogprobs() }
            let relays = (0..<parsed.choices).map { i -> AsyncThrowingStream<GenerationEvent, Error> in
                var generation = parsed.generation
                generation.sampling.seed &+= UInt64(i)
                if parsed.stream && generation.logprobs != nil { generation.onLogprob = { streamed[i].append($0) } }
                return relay(generation, closing: context.channel)
            }
            if parsed.stream { return streamResponse(parsed, merge(relays), logprobs: streamed, id: id) }
            var outputs = [GenerationOutput?](repeating: nil, count: parsed.choices)
            for try await (i, event) in merge(relays) { if case let .finished(out) = event { outputs[i] = out } }
            let finished = outputs.compactMap { $0 }
            guard finished.count == parsed.choices, !finished.contains(where: { $0.stopReason == .cancelled }) else {
                throw APIError(499, "request cancelled")
            }
            if let failed = finished.first(where: { $0.stopReason == .error }) {
                throw APIError(400, failed.error ?? "the engine could not run the request")
            }
            return json(200, completionBody(parsed, finished, id: id))
        } catch let error as APIError {
            return json(error.status, error.json)
        }
    }

    private func refusal(_ request: Request) -> Response? {
        do { try authorize(request) } catch { return json(error.status, error.json) }
        return nil
    }

    /// `Authorization: Bearer KEY`; the scheme is case-insensitive (RFC 7235), the key is compared
    /// in time that does not depend on where it differs.
    private func authorize(_ request: Request) throws(APIError) {
        guard let key = options.apiKey, !key.isEmpty else { return }
        guard let given = request.headers[.authorization].flatMap(Self.bearerToken), Self.constantTimeEqual(given, key) else {
            throw APIError(401, "missing or wrong API key (Authorization: Bearer ...)", type: "authentication_error")
        }
    }

    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// The engine's events, ended (and the request cancelled in the engine) when the client's
    /// connection closes. The admission slot is given back when the engine is done with the
    /// request, however the response ends (even if its body is never written).
    private func relay(_ request: GenerationRequest, closing channel: any Channel) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        let engine = self.engine, admission = self.admission
        let task = Task {
            defer { admission.leave() }
            do {
                for try await event in engine.stream(request) { continuation.yield(event) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }

    /// The events of several choices as they come, each with its choice's index.
    private func merge(_ streams: [AsyncThrowingStream<GenerationEvent, Error>]) -> AsyncThrowingStream<(Int, GenerationEvent), Error> {
        let (merged, continuation) = AsyncThrowingStream.makeStream(of: (Int, GenerationEvent).self)
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, stream) in streams.enumerated() {
                        group.addTask { for try await event in stream { continuation.yield((i, event)) } }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return merged
    }

    /// Server-sent events: one chunk per piece of text (with the log-probabilities of the tokens
    /// behind it, when asked), a last chunk per choice with its finish reason and usage, then
    /// `data: [DONE]`. Choices interleave as they come, told apart by their `index`.
    private func streamResponse(_ request: CompletionRequest, _ events: AsyncThrowingStream<(Int, GenerationEvent), Error>,
                                logprobs streamed: [StreamedLogprobs], id: Int) -> Response {
        let created = String(Int(Date().timeIntervalSince1970))
        let body = ResponseBody { writer in
            func send(_ value: JSONValue) async throws {
                var bytes = Array("data: ".utf8)
                JSONWriter.write(value, into: &bytes)
                bytes += Array("\n\n".utf8)
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            let holdback = max(0, (request.generation.stopStrings.map(\.count).max() ?? 0) - 1)
            let n = request.choices
            var pending = [String](repeating: "", count: n), sent = pending
            var thinking = [Bool](repeating: false, count: n), offset = [Int](repeating: 0, count: n)
            // The entries that arrived since the choice's last chunk; nothing when none were asked for.
            func logprobs(_ i: Int) -> JSONValue {
                let entries = streamed[i].drain()
                guard request.generation.logprobs != nil, !entries.isEmpty else { return .null }
                return self.logprobsJSON(request, entries, prompt: nil, offset: &offset[i])
            }
            if request.kind == .chat {
                for i in 0..<n { try await send(self.chunk(request, id: id, index: i, created: created, delta: ["role": .string("assistant"), "content": .string("")])) }
            }
            do {
                for try await (i, event) in events {
                    switch event {
                    case let .text(piece):
                        if request.kind == .chat && request.generation.enableThinking {
                            if piece.contains("<think>") { thinking[i] = true; continue }
                            if piece.contains("</think>") { thinking[i] = false; continue }
                            if thinking[i] {
                                try await send(self.chunk(request, id: id, index: i, created: created, delta: ["reasoning_content": .string(piece)]))
                                continue
                            }
                        }
                        // Text that might still turn into a stop string is held back.
                        pending[i] += piece
                        let ready = pending[i].dropLast(holdback)
                        if ready.isEmpty { continue }
                        sent[i] += ready
                        pending[i].removeFirst(ready.count)
                        try await send(self.chunk(request, id: id, index: i, created: created, text: String(ready), logprobs: logprobs(i)))
                    case let .finished(output):
                        if output.stopReason == .error {
                            try await send(APIError(400, output.error ?? "the engine could not run the request").json)
                        } else {
                            let final = request.kind == .chat ? output.content : output.text
                            if final.hasPrefix(sent[i]), final.count > sent[i].count {
                                try await send(self.chunk(request, id: id, index: i, created: created, text: String(final.dropFirst(sent[i].count)), logprobs: logprobs(i)))
                            }
                            var last = self.chunk(request, id: id, index: i, created: created, delta: [:], finish: output, logprobs: logprobs(i))
                            last["usage"] = self.usage([output])
                            try await send(.object(last))
                        }
                    }
                }
            } catch {
                // The client went away or the engine stopped: nothing more to say on this stream.
                return
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    // MARK: - Response bodies

    private func chunk(_ r: CompletionRequest, id: Int, index: Int, created: String, text: String, logprobs: JSONValue) -> JSONValue {
        .object(chunk(r, id: id, index: index, created: created, delta: r.kind == .chat ? ["content": .string(text)] : ["text": .string(text)],
                      finish: nil, logprobs: logprobs))
    }

    private func chunk(_ r: CompletionRequest, id: Int, index: Int, created: String, delta: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(chunk(r, id: id, index: index, created: created, delta: delta, finish: nil, logprobs: .null))
    }

    private func chunk(_ r: CompletionRequest, id: Int, index: Int, created: String, delta: KeyValuePairs<String, JSONValue>,
                       finish: GenerationOutput?, logprobs: JSONValue) -> JSONObject {
        var choice = JSONObject(["index": .number(String(index))])
        if r.kind == .chat {
            choice["delta"] = .object(JSONObject(delta))
        } else {
            choice["text"] = JSONObject(delta)["text"] ?? .string("")
        }
        choice["logprobs"] = logprobs
        choice["finish_reason"] = finish.map { .string(finishReason($0)) } ?? .null
        return JSONObject([
            "id": .string((r.kind == .chat ? "chatcmpl-" : "cmpl-") + String(id)),
            "object": .string(r.kind == .chat ? "chat.completion.chunk" : "text_completion"),
            "created": .number(created), "model": .string(options.modelName),
            "choices": .array([.object(choice)]),
        ])
    }

    private func completionBody(_ r: CompletionRequest, _ outputs: [GenerationOutput], id: Int) -> JSONValue {
        let choices = outputs.enumerated().map { index, output -> JSONValue in
            var choice = JSONObject(["index": .number(String(index))])
            if r.kind == .chat {
                var message = JSONObject(["role": .string("assistant"), "content": .string(output.content)])
                if let reasoning = output.reasoning { message["reasoning_content"] = .string(reasoning) }
                choice["message"] = .object(message)
            } else {
                let prompt = r.tokens.map { engine.model.tokenizer.decode($0) } ?? r.prompt
                choice["text"] = .string((r.echo ? prompt : "") + output.text)
            }
            var offset = 0
            let generated = output.logprobs ?? []
            choice["logprobs"] = r.generation.logprobs == nil ? .null
                : logprobsJSON(r, generated, prompt: r.echo ? output.promptLogprobs ?? [] : nil, offset: &offset)
            choice["finish_reason"] = .string(finishReason(output))
            return .object(choice)
        }
        return .object(JSONObject([
            "id": .string((r.kind == .chat ? "chatcmpl-" : "cmpl-") + String(id)),
            "object": .string(r.kind == .chat ? "chat.completion" : "text_completion"),
            "created": .number(String(Int(Date().timeIntervalSince1970))), "model": .string(options.modelName),
            "choices": .array(choices),
            "usage": usage(outputs),
        ]))
    }

    private func finishReason(_ output: GenerationOutput) -> String { output.stopReason == .length ? "length" : "stop" }

    /// The prompt counted once, the completions of every choice.
    private func usage(_ outputs: [GenerationOutput]) -> JSONValue {
        let prompt = outputs.first?.promptTokens ?? 0, completion = outputs.reduce(0) { $0 + $1.tokens.count }
        return .object(JSONObject([
            "prompt_tokens": .number(String(prompt)),
            "completion_tokens": .number(String(completion)),
            "total_tokens": .number(String(prompt + completion)),
            "prompt_tokens_details": .object(JSONObject(["cached_tokens": .number(String(outputs.first?.cachedPromptTokens ?? 0))])),
        ]))
    }

    /// Chat: `{"content": [{token, logprob, bytes, top_logprobs}]}`; completions: the legacy
    /// `tokens` / `token_logprobs` / `top_logprobs` / `text_offset` arrays (the prompt's first on
    /// echo, its first token without a log-probability). `offset` is the text offset of the first
    /// entry and moves past the last one (streamed chunks continue where the last one ended).
    private func logprobsJSON(_ r: CompletionRequest, _ generated: [TokenLogprob], prompt: [TokenLogprob]?, offset: inout Int) -> JSONValue {
        let tokenizer = engine.model.tokenizer
        func text(_ id: Int) -> String { String(decoding: tokenizer.bytes(of: id), as: UTF8.self) }
        func number(_ x: Float) -> JSONValue { .number(x.isFinite ? String(x) : "-9999.0") }
        if r.kind == .chat {
            func name(_ id: Int) -> String { r.tokensAsIDs ? "token_id:\(id)" : text(id) }
            return .object(JSONObject(["content": .array(generated.map { entry in
                .object(JSONObject([
                    "token": .string(name(entry.token)), "logprob": number(entry.logprob),
                    "bytes": .array(tokenizer.bytes(of: entry.token).map { .number(String($0)) }),
                    "top_logprobs": .array(entry.top.map { alt in
                        .object(JSONObject(["token": .string(name(alt.token)), "logprob": number(alt.logprob),
                                            "bytes": .array(tokenizer.bytes(of: alt.token).map { .number(String($0)) })]))
                    }),
                ]))
            })]))
        }
        var tokens: [JSONValue] = [], values: [JSONValue] = [], tops: [JSONValue] = [], offsets: [JSONValue] = []
        func add(_ id: Int, _ entry: TokenLogprob?) {
            let piece = text(id)
            tokens.append(.string(piece))
            values.append(entry.map { number($0.logprob) } ?? .null)
            tops.append(entry.map { e in
                var alternatives = JSONObject()
                for alt in e.top where alternatives[text(alt.token)] == nil { alternatives[text(alt.token)] = number(alt.logprob) }
                return .object(alternatives)
            } ?? .null)
            offsets.append(.number(String(offset)))
            offset += piece.unicodeScalars.count
        }
        if let prompt {
            for (k, id) in engine.promptTokens(r.generation).enumerated() { add(id, k == 0 || k > prompt.count ? nil : prompt[k - 1]) }
        }
        for entry in generated { add(entry.token, entry) }
        return .object(JSONObject(["tokens": .array(tokens), "token_logprobs": .array(values), "top_logprobs": .array(tops), "text_offset": .array(offsets)]))
    }

    static func json(_ status: Int, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var bytes: [UInt8] = []
        JSONWriter.write(value, into: &bytes)
        bytes.append(0x0A)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func json(_ status: Int, _ value: JSONValue) -> Response { Self.json(status, value) }
}
