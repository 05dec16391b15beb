import AsyncHTTPClient
import Foundation
import GlossaPipeline
import NIOCore
import NIOHTTP1
import Testing

/// Requests crafted to break the server each get an answer, and the server is still there for
/// the next one: limits near Int.max, empty prompts, prompts beyond the context, unknown token
/// ids, wrong methods and paths, the Authorization scheme in any case.
@Suite(.serialized) struct ServerHardeningTests {
    /// The error object of a JSON error answer.
    func error(_ reply: Reply) throws -> JSONObject {
        try #require(try object(reply.body)["error"]?.objectValue, "no error object in \(reply.body)")
    }

    /// The server process is alive and answers a real completion.
    func expectAlive(_ server: ServerProcess, headers: [(String, String)] = []) async throws {
        #expect(server.process.isRunning)
        let probe = try await send(server.baseURL + "/v1/completions", #"{"prompt":"Hello","max_tokens":2,"temperature":0}"#, headers: headers)
        #expect(probe.status == 200, "\(probe.body)")
    }

    @Test func limitsNearIntMaxAreClampedToTheContext() async throws {
        // A small KV budget bounds what a clamped request may generate, so the test stays short.
        let server = try ServerProcess(arguments: ["--kv-budget-tokens", "160"])
        defer { server.stop() }
        let chat = server.baseURL + "/v1/chat/completions"
        let bodies = [
            #"{"messages":[{"role":"user","content":"Count from one upwards."}],"temperature":0,"max_tokens":9223372036854775807}"#,
            #"{"messages":[{"role":"user","content":"Count from one upwards."}],"temperature":0,"max_completion_tokens":9223372036854775807,"thinking_budget":9223372036854775807}"#,
            #"{"messages":[{"role":"user","content":"Count from one upwards."}],"temperature":0,"max_tokens":9223372036854775807,"stream":true}"#,
            #"{"prompt":"1, 2, 3,","temperature":0,"max_tokens":9223372036854775807,"n":2}"#,
        ]
        for body in bodies {
            let url = body.contains("prompt") ? server.baseURL + "/v1/completions" : chat
            let reply = try await send(url, body)
            #expect(reply.status == 200, "\(body) -> \(reply.body)")
            if body.contains("\"stream\":true") {
                #expect(events(reply.body).last == "[DONE]")
                continue
            }
            let answer = try object(reply.body)
            let usage = try #require(answer["usage"]?.objectValue)
            let prompt = try #require(number(usage["prompt_tokens"])), completion = try #require(number(usage["completion_tokens"]))
            // Each choice fits the 160 positions: the prompt once, every choice's tokens.
            let choices = body.contains("\"n\":2") ? 2.0 : 1.0
            #expect(completion > 0 && completion <= choices * (160 - prompt), "\(reply.body)")
        }
        try await expectAlive(server)
    }

    @Test func promptsThatCannotRunAre400s() async throws {
        let server = try ServerProcess(arguments: ["--kv-budget-tokens", "160"])
        defer { server.stop() }
        let completions = server.baseURL + "/v1/completions"
        for body in [#"{"prompt":""}"#, #"{"prompt":[""]}"#] {
            let reply = try await send(completions, body)
            #expect(reply.status == 400, "\(body) -> \(reply.body)")
            #expect(try error(reply)["code"] == .string("empty_prompt"))
        }
        #expect(try await send(completions, #"{"prompt":[]}"#).status == 400)
        let unknown = try await send(completions, #"{"prompt":[1, 99999999]}"#)
        #expect(unknown.status == 400)
        #expect(try error(unknown)["code"] == .string("invalid_token"))
        // Beyond the KV budget of one request: both numbers in the message, with or without stream.
        let ids = Array(repeating: "9707", count: 200).joined(separator: ",")
        for stream in ["false", "true"] {
            let reply = try await send(completions, #"{"prompt":[\#(ids)],"max_tokens":4,"stream":\#(stream)}"#)
            #expect(reply.status == 400, "\(reply.body)")
            let e = try error(reply)
            #expect(e["code"] == .string("context_length_exceeded"))
            let message = e["message"]?.stringValue ?? ""
            #expect(message.contains("200") && message.contains("160"), "\(message)")
        }
        try await expectAlive(server)
    }

    @Test func aPromptLongerThanTheModelsContextIsRefusedBeforeItIsComputed() async throws {
        let server = try ServerProcess()
        defer { server.stop() }
        // About 40,000 tokens of text, more than the default model's 32,768 positions.
        let text = String(repeating: "word ", count: 40_000)
        let reply = try await send(server.baseURL + "/v1/chat/completions", #"{"messages":[{"role":"user","content":"\#(text)"}]}"#)
        #expect(reply.status == 400, "\(reply.body.prefix(300))")
        let e = try error(reply)
        #expect(e["code"] == .string("context_length_exceeded"))
        let message = e["message"]?.stringValue ?? ""
        #expect(message.contains("32768") && message.contains("maximum context length"), "\(message)")
        let count = try #require(message.split(separator: " ").compactMap { Int($0) }.first { $0 > 32768 }, "\(message)")
        #expect(count >= 40_000)
        try await expectAlive(server)
    }

    @Test func wrongMethodsAndPathsGetJSONErrors() async throws {
        let server = try ServerProcess(apiKey: "secret")
        defer { server.stop() }
        let auth = [("Authorization", "Bearer secret")]
        for path in ["/v1/chat/completions", "/v1/completions"] {
            for method in [HTTPMethod.GET, .PUT, .DELETE] {
                let reply = try await send(server.baseURL + path, nil, headers: auth, method: method)
                #expect(reply.status == 405, "\(method) \(path) -> \(reply.status)")
                #expect(reply.headers.first(name: "Allow") == "POST")
                #expect(try error(reply)["message"]?.stringValue?.contains("POST") == true)
            }
        }
        let post = try await send(server.baseURL + "/v1/models", "{}", headers: auth)
        #expect(post.status == 405 && post.headers.first(name: "Allow") == "GET")
        let missing = try await send(server.baseURL + "/v1/nothing-here", headers: auth)
        #expect(missing.status == 404)
        #expect(try error(missing)["message"] != nil)
        // The scheme is case-insensitive (RFC 7235); the key is not.
        for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
            #expect(try await send(server.baseURL + "/v1/models", headers: [("Authorization", "\(scheme) secret")]).status == 200, "\(scheme)")
        }
        for header in ["Bearer Secret", "Basic secret", "Bearer", "secret", "Bearer secret2"] {
            #expect(try await send(server.baseURL + "/v1/models", headers: [("Authorization", header)]).status == 401, "\(header)")
        }
        try await expectAlive(server, headers: auth)
    }
}
