import Foundation
import GlossaEngine
import GlossaPipeline
import Testing

/// Structured outputs over loopback HTTP: OpenAI's `response_format`, vLLM's `guided_*` and
/// llama.cpp's `grammar` / `json_schema`, streamed or not; answers equal the engine's in this
/// process and satisfy their constraint; bad constraints are 400s that name the problem.
@Suite(.serialized) struct ServerConstraintTests {
    static let schema = #"{"type":"object","additionalProperties":false,"required":["component","severity"],"properties":{"component":{"enum":["printer","login","billing"]},"severity":{"enum":["low","medium","high"]},"summary":{"type":"string","maxLength":40}}}"#
    static let ticket = "Triage as JSON: the printer on floor 2 prints blank pages since Monday."

    func content(_ reply: Reply) throws -> String {
        let answer = try object(reply.body)
        guard case let .array(choices)? = answer["choices"], let choice = choices.first?.objectValue else { throw Missing.field(reply.body) }
        if let text = choice["text"]?.stringValue { return text }
        guard let content = choice["message"]?.objectValue?["content"]?.stringValue else { throw Missing.field(reply.body) }
        return content
    }

    enum Missing: Error { case field(String) }

    @Test func structuredOutputsMatchTheEngineAndTheirConstraint() async throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let chat = server.baseURL + "/v1/chat/completions"
        let messages = #"[{"role":"user","content":"\#(Self.ticket)"}]"#
        let body = #"{"messages":\#(messages),"temperature":0,"max_tokens":60,"response_format":{"type":"json_schema","json_schema":{"name":"triage","schema":\#(Self.schema),"strict":true}}}"#
        let reply = try await send(chat, body)
        #expect(reply.status == 200, "\(reply.body)")
        let answer = try content(reply)
        let constraint = try Constraint(.jsonSchema(JSONParser.parse(Self.schema).value))
        #expect(constraint.matches(answer), "\(answer)")
        // The same request in this process gives the same answer.
        let engine = BatchEngine(model: try LanguageModel.load(defaultModel))
        var local = GenerationRequest(.messages([ChatMessage(.user, Self.ticket)]))
        local.maxTokens = 60
        local.constraint = constraint
        #expect(engine.run([local])[0].content == answer)

        // Streamed: the deltas add up to the same answer.
        let streamed = try await send(chat, body.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":0,"stream":true"#))
        #expect(streamed.status == 200)
        var text = ""
        for event in events(streamed.body).dropLast() {
            let chunk = try object(event)
            if case let .array(choices)? = chunk["choices"], let delta = choices.first?.objectValue?["delta"]?.objectValue {
                text += delta["content"]?.stringValue ?? ""
            }
        }
        #expect(text == answer)
        #expect(events(streamed.body).last == "[DONE]")

        // The other spellings.
        let choice = try content(try await send(chat, #"{"messages":\#(messages),"temperature":0,"max_tokens":8,"guided_choice":["printer","login","billing"]}"#))
        #expect(["printer", "login", "billing"].contains(choice), "\(choice)")
        let regex = try content(try await send(chat, #"{"messages":\#(messages),"temperature":0,"max_tokens":16,"guided_regex":"TCK-[0-9]{3,5}"}"#))
        #expect(try Constraint(.regex("TCK-[0-9]{3,5}")).matches(regex), "\(regex)")
        let anyObject = try content(try await send(chat, #"{"messages":\#(messages),"temperature":0,"max_tokens":40,"response_format":{"type":"json_object"}}"#))
        #expect(try JSONParser.parse(anyObject).value.objectValue != nil, "\(anyObject)")
        let completions = server.baseURL + "/v1/completions"
        let grammar = #"root ::= \"severity: \" (\"low\" | \"high\")"#
        let graded = try content(try await send(completions, #"{"prompt":"The printer is broken. ","temperature":0,"max_tokens":8,"grammar":"\#(grammar)"}"#))
        #expect(graded == "severity: low" || graded == "severity: high", "\(graded)")
        let llama = try content(try await send(completions, #"{"prompt":"JSON: ","temperature":0,"max_tokens":40,"json_schema":\#(Self.schema)}"#))
        #expect(constraint.matches(llama), "\(llama)")
    }

    @Test func badConstraintsAre400sNamingTheProblem() async throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let chat = server.baseURL + "/v1/chat/completions"
        let messages = #"[{"role":"user","content":"hi"}]"#
        let cases: [(String, String)] = [
            (#""response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","format":"email"}}}"#, "format"),
            (#""guided_json":{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}"#, "minimum"),
            (#""guided_regex":"(?<name>a)""#, "look-around"),
            (#""guided_grammar":"root ::= missing""#, "missing"),
            (#""guided_choice":[]"#, "guided_choice"),
            (#""guided_choice":["a"],"guided_regex":"b""#, "only one"),
            (#""response_format":{"type":"xml"}"#, "response_format.type"),
            (#""response_format":{"type":"json_schema"}"#, "schema"),
        ]
        for (fields, word) in cases {
            let reply = try await send(chat, #"{"messages":\#(messages),\#(fields)}"#)
            #expect(reply.status == 400, "\(fields) -> \(reply.status)")
            let message = try object(reply.body)["error"]?.objectValue?["message"]?.stringValue ?? ""
            #expect(message.contains(word), "\(fields): \(message)")
        }
        #expect(try await send(server.baseURL + "/health").status == 200)
    }
}
