import ArgumentParser
import Foundation
import GlossaEngine

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

    func run() throws {
        let lm: LanguageModel
        do {
            lm = try LanguageModel.load(model)
        } catch {
            printError("glossa generate: \(error)")
            throw ExitCode(2)
        }
        if let kvCache { lm.transformer.kvCache = kvCache }
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(.system, system)) }
        messages.append(ChatMessage(.user, prompt))
        var options = Generator.Options()
        options.maxTokens = maxTokens
        options.thinkingBudget = thinkingBudget
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
