import ArgumentParser
import Foundation
import GlossaEngine
import GlossaIO

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a reply with the embedded engine (greedy).",
        discussion: """
            --model takes a GGUF file (default: the default model installed by scripts/setup.sh)
            or a Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json or
            vocab.json + merges.txt). Thinking follows Qwen3: --think / --no-think,
            /think and /no_think in the prompt, and --thinking-budget N (0 = no thinking).
            """
    )

    @Option(help: "GGUF file or Hugging Face model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "User message.")
    var prompt: String

    @Option(help: "System message.")
    var system: String?

    @Flag(inversion: .prefixedNo, help: "Qwen3 thinking mode (default off for batch work).")
    var think = false

    @Option(help: "Tokens of thinking before the answer is forced.")
    var thinkingBudget: Int?

    @Option(help: "Tokens of answer at most.")
    var maxTokens: Int = 256

    @Flag(help: "Print reasoning and answer as JSON instead of streaming text.")
    var json = false

    @Option(help: "Key/value cache element type: f16 or f32 (default: the model's, f16 for GGUF).")
    var kvCache: KVCache.Precision?

    @Option(help: "Constrain the answer to one of these strings (repeatable).")
    var choice: [String] = []

    @Option(help: "Constrain the answer to match this regular expression (the whole answer).")
    var regex: String?

    @Option(help: "Constrain the answer to JSON valid under the JSON Schema in this file.")
    var jsonSchema: String?

    @Option(help: "Constrain the answer to this GBNF grammar file (llama.cpp's syntax, starting at root).")
    var grammar: String?

    @Flag(help: "Constrain the answer to a JSON object.")
    var jsonObject = false

    @OptionGroup var engineThreads: EngineThreadsOption

    /// The one constraint the options ask for, compiled (nil when none).
    func constraint() throws -> Constraint? {
        var kinds: [Constraint.Kind] = []
        if !choice.isEmpty { kinds.append(.choice(choice)) }
        if let regex { kinds.append(.regex(regex)) }
        if let jsonSchema {
            guard let data = FileManager.default.contents(atPath: jsonSchema) else { throw ValidationError("--json-schema: cannot read \(jsonSchema)") }
            do { kinds.append(.jsonSchema(try JSONParser.parse(String(decoding: data, as: UTF8.self)).value)) } catch {
                throw ValidationError("--json-schema: \(jsonSchema) is not valid JSON: \(error)")
            }
        }
        if let grammar {
            guard let data = FileManager.default.contents(atPath: grammar) else { throw ValidationError("--grammar: cannot read \(grammar)") }
            kinds.append(.grammar(String(decoding: data, as: UTF8.self)))
        }
        if jsonObject { kinds.append(.jsonObject) }
        guard kinds.count <= 1 else { throw ValidationError("give at most one of --choice, --regex, --json-schema, --grammar, --json-object") }
        guard let kind = kinds.first else { return nil }
        do { return try Constraint(kind) } catch { throw ValidationError("invalid constraint: \(error.message)") }
    }

    func run() throws {
        try engineThreads.configure()
        let lm: LanguageModel
        do {
            lm = try LanguageModel.load(model, options: EngineOptions(kvCache: kvCache))
        } catch {
            printError("glossa generate: \(error)")
            throw ExitCode(2)
        }
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(.system, system)) }
        messages.append(ChatMessage(.user, prompt))
        var options = Generator.Options()
        options.maxTokens = maxTokens
        options.thinkingBudget = thinkingBudget
        options.constraint = try constraint()
        let started = Date()
        let stream = !json
        let result = Generator(lm).chat(messages, enableThinking: think, options: options) { piece in
            if stream { FileHandle.standardOutput.write(Data(piece.utf8)) }
        }
        let seconds = Date().timeIntervalSince(started)
        if result.stopReason == .error {
            printError("glossa generate: \(result.error ?? "the engine could not run the request")")
            throw ExitCode(2)
        }
        if json {
            var object: [String: Any] = ["content": result.content, "stop_reason": result.stopReason.rawValue,
                                         "prompt_tokens": result.promptTokens, "completion_tokens": result.tokens.count]
            if let r = result.reasoning { object["reasoning"] = r }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print()
            printError("[\(result.promptTokens) prompt + \(result.tokens.count) generated tokens, \(result.stopReason.rawValue), "
                       + "\(format2(Double(result.tokens.count) / max(seconds, 1e-9))) tok/s]")
        }
    }
}
