import GlossaEngine
import GlossaIO

/// A client error: the HTTP status and the message that goes into the OpenAI-style error body.
public struct APIError: Error, Sendable {
    public var status: Int
    public var message: String
    public var type: String
    /// OpenAI's short name for the error (e.g. `context_length_exceeded`); the status when nil.
    public var code: String?

    public init(_ status: Int, _ message: String, type: String = "invalid_request_error", code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.code = code
    }

    /// The engine's refusal of a request's data: always the client's to fix.
    public init(_ refusal: RequestRefusal) {
        self.init(400, refusal.description, code: refusal.code)
    }

    public var json: JSONValue {
        .object(JSONObject(["error": .object(JSONObject([
            "message": .string(message), "type": .string(type), "code": code.map { .string($0) } ?? .number(String(status)),
        ]))]))
    }
}

/// What a `/v1/chat/completions` or `/v1/completions` body asks for, checked field by field.
struct CompletionRequest {
    enum Kind { case chat, text }

    var kind: Kind
    var generation: GenerationRequest
    var stream = false
    var echo = false
    /// Choices to generate (OpenAI's `n`); choice i samples with seed + i.
    var choices = 1
    /// The raw prompt of a text completion (echoed back).
    var prompt = ""
    /// A text completion's prompt given as token ids.
    var tokens: [Int]?
    var model: String?
    /// The shape the answer must have, when the body asks for one (compiled by the server).
    var constraint: Constraint.Kind?
    /// vLLM's `return_tokens_as_token_ids`: chat log-probabilities name tokens `token_id:N`,
    /// so a client without the tokenizer still gets exact ids (the generate stage's remote
    /// logprobs).
    var tokensAsIDs = false

    /// The body must be a JSON object; unknown fields are ignored, as OpenAI-compatible servers do.
    init(kind: Kind, body: JSONObject) throws(APIError) {
        self.kind = kind
        let f = Fields(body)
        model = try f.string("model")
        switch kind {
        case .chat:
            guard case let .array(items)? = body["messages"], !items.isEmpty else { throw APIError(400, "'messages' must be a non-empty array") }
            var messages: [ChatMessage] = []
            for (i, item) in items.enumerated() {
                guard let m = item.objectValue else { throw APIError(400, "messages[\(i)] must be an object") }
                let roleName = try Fields(m).string("role") ?? ""
                let role: ChatMessage.Role
                switch roleName {
                case "system", "developer": role = .system
                case "user": role = .user
                case "assistant": role = .assistant
                case "tool": role = .tool
                default: throw APIError(400, "messages[\(i)].role must be system, developer, user, assistant or tool, not '\(roleName)'")
                }
                messages.append(ChatMessage(role, try Self.content(m["content"], at: i)))
            }
            generation = GenerationRequest(.messages(messages))
            let newer = try f.int("max_completion_tokens", min: 0), older = try f.int("max_tokens", min: 0)
            generation.maxTokens = newer ?? older ?? 512
            if try f.bool("logprobs") == true { generation.logprobs = try f.int("top_logprobs", min: 0, max: 20) ?? 0 }
            tokensAsIDs = try f.bool("return_tokens_as_token_ids") ?? false
            if case let .object(kwargs)? = body["chat_template_kwargs"] {
                if let thinking = try Fields(kwargs).bool("enable_thinking") { generation.enableThinking = thinking }
            }
            if let budget = try f.int("thinking_budget", min: 0) {
                generation.thinkingBudget = budget
                if budget > 0, body["chat_template_kwargs"]?.objectValue?["enable_thinking"] == nil { generation.enableThinking = true }
            }
        case .text:
            switch body["prompt"] {
            case let .string(s)?: prompt = s
            case let .array(items)? where items.count == 1 && items[0].stringValue != nil: prompt = items[0].stringValue ?? ""
            case let .array(items)? where !items.isEmpty && items.allSatisfy({ if case .number = $0 { true } else { false } }):
                var ids: [Int] = []
                for item in items {
                    guard case let .number(n) = item, let id = Int(n), id >= 0 else { throw APIError(400, "'prompt' token ids must be integers >= 0") }
                    ids.append(id)
                }
                tokens = ids
            default: throw APIError(400, "'prompt' must be a string, a list of one string, or a list of token ids")
            }
            generation = GenerationRequest(tokens.map { .tokens($0) } ?? .prompt(prompt))
            generation.maxTokens = try f.int("max_tokens", min: 0) ?? 16
            generation.logprobs = try f.int("logprobs", min: 0, max: 20)
            echo = try f.bool("echo") ?? false
            generation.promptLogprobs = echo && generation.logprobs != nil
        }
        constraint = try Self.constraint(body)
        stream = try f.bool("stream") ?? false
        choices = try f.int("n", min: 1, max: 16) ?? 1
        if echo && stream { throw APIError(400, "echo is not supported with stream") }

        var s = SamplingParameters()
        // OpenAI's default temperature is 1; a request without a seed gets a random one.
        s.temperature = Float(try f.double("temperature", min: 0, max: 2) ?? 1)
        s.topP = Float(try f.double("top_p", min: 0, max: 1) ?? 1)
        if s.topP == 0 { throw APIError(400, "top_p must be > 0") }
        let topK = try f.int("top_k", min: -1) ?? 0
        s.topK = max(topK, 0)
        s.minP = Float(try f.double("min_p", min: 0, max: 1) ?? 0)
        s.presencePenalty = Float(try f.double("presence_penalty", min: -2, max: 2) ?? 0)
        s.frequencyPenalty = Float(try f.double("frequency_penalty", min: -2, max: 2) ?? 0)
        s.repetitionPenalty = Float(try f.double("repetition_penalty", min: 0.01, max: 10) ?? 1)
        if let seed = try f.int("seed") { s.seed = UInt64(bitPattern: Int64(seed)) } else { s.seed = UInt64.random(in: 0...UInt64.max) }
        generation.sampling = s

        switch body["stop"] {
        case nil, .null?: break
        case let .string(stop)?: generation.stopStrings = [stop]
        case let .array(items)? where items.allSatisfy({ $0.stringValue != nil }) && items.count <= 16:
            generation.stopStrings = items.compactMap(\.stringValue)
        default: throw APIError(400, "'stop' must be a string or a list of at most 16 strings")
        }
        if generation.stopStrings.contains("") { throw APIError(400, "'stop' strings must not be empty") }
    }

    /// The constraint a body asks for: OpenAI's `response_format` (`json_object`, `json_schema`),
    /// vLLM's `guided_choice` / `guided_regex` / `guided_json` / `guided_grammar`, or llama.cpp's
    /// `grammar` / `json_schema`. At most one may be given.
    static func constraint(_ body: JSONObject) throws(APIError) -> Constraint.Kind? {
        let f = Fields(body)
        var kinds: [(field: String, kind: Constraint.Kind)] = []
        switch body["response_format"] {
        case nil, .null?: break
        case let .object(format)?:
            switch format["type"]?.stringValue {
            case "text": break
            case "json_object": kinds.append(("response_format", .jsonObject))
            case "json_schema":
                guard let schema = format["json_schema"]?.objectValue?["schema"] else {
                    throw APIError(400, "'response_format.json_schema.schema' is required for type json_schema")
                }
                kinds.append(("response_format", .jsonSchema(schema)))
            default: throw APIError(400, "'response_format.type' must be text, json_object or json_schema")
            }
        default: throw APIError(400, "'response_format' must be an object")
        }
        switch body["guided_choice"] {
        case nil, .null?: break
        case let .array(items)? where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            kinds.append(("guided_choice", .choice(items.compactMap(\.stringValue))))
        default: throw APIError(400, "'guided_choice' must be a non-empty list of strings")
        }
        if let regex = try f.string("guided_regex") { kinds.append(("guided_regex", .regex(regex))) }
        if let grammar = try f.string("guided_grammar") { kinds.append(("guided_grammar", .grammar(grammar))) }
        if let grammar = try f.string("grammar") { kinds.append(("grammar", .grammar(grammar))) }
        for field in ["guided_json", "json_schema"] {
            switch body[field] {
            case nil, .null?: break
            case let .object(schema)?: kinds.append((field, .jsonSchema(.object(schema))))
            case let .bool(b)?: kinds.append((field, .jsonSchema(.bool(b))))
            case let .string(text)?:
                // vLLM also takes the schema as JSON text.
                guard let schema = try? JSONParser.parse(text).value else { throw APIError(400, "'\(field)' is not valid JSON") }
                kinds.append((field, .jsonSchema(schema)))
            default: throw APIError(400, "'\(field)' must be a JSON Schema object")
            }
        }
        guard kinds.count <= 1 else {
            throw APIError(400, "only one constraint may be given; this request has " + kinds.map { "'\($0.field)'" }.joined(separator: " and "))
        }
        return kinds.first?.kind
    }

    /// A message's text: a string, null, or a list of `{"type": "text", "text": ...}` parts.
    private static func content(_ value: JSONValue?, at i: Int) throws(APIError) -> String {
        switch value {
        case nil, .null?: return ""
        case let .string(s)?: return s
        case let .array(parts)?:
            var text = ""
            for part in parts {
                guard let o = part.objectValue, o["type"]?.stringValue == "text", let t = o["text"]?.stringValue else {
                    throw APIError(400, "messages[\(i)].content parts must be {\"type\": \"text\", \"text\": ...}")
                }
                text += t
            }
            return text
        default: throw APIError(400, "messages[\(i)].content must be a string or a list of text parts")
        }
    }
}

/// Typed reads of optional request fields; a field of the wrong type or out of range is a 400.
struct Fields {
    let object: JSONObject
    init(_ object: JSONObject) { self.object = object }

    func string(_ key: String) throws(APIError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case let .string(s)?: return s
        default: throw APIError(400, "'\(key)' must be a string")
        }
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case let .bool(b)?: return b
        default: throw APIError(400, "'\(key)' must be true or false")
        }
    }

    func double(_ key: String, min: Double = -.infinity, max: Double = .infinity) throws(APIError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case let .number(n)?:
            guard let d = Double(n), d.isFinite, d >= min, d <= max else { throw APIError(400, "'\(key)' must be a number in \(min)...\(max)") }
            return d
        default: throw APIError(400, "'\(key)' must be a number")
        }
    }

    func int(_ key: String, min: Int = .min, max: Int = .max) throws(APIError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case let .number(n)?:
            guard let i = Int(n) ?? Double(n).flatMap({ $0 == $0.rounded() && abs($0) < 9e18 ? Int($0) : nil }), i >= min, i <= max else {
                throw APIError(400, "'\(key)' must be an integer in \(min)...\(max)")
            }
            return i
        default: throw APIError(400, "'\(key)' must be an integer")
        }
    }
}
