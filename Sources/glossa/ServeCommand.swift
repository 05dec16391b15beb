import ArgumentParser
import Foundation
import GlossaEngine
import GlossaServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the embedded engine over an OpenAI-compatible HTTP API.",
        discussion: """
            POST /v1/chat/completions and /v1/completions (streaming with stream: true), GET /v1/models,
            GET /health. All requests share one continuous-batching engine. With GLOSSA_API_KEY set,
            requests need "Authorization: Bearer $GLOSSA_API_KEY". Port 0 picks a free port; the
            listening address is printed to standard error.
            """
    )

    @Option(help: "GGUF file or Hugging Face model directory.")
    var model: String = LanguageModel.defaultModelPath(environment: environment)

    @Option(help: "Name clients use in 'model' (default: the model file's name without extension).")
    var servedModelName: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port (0 = any free port).")
    var port = 8080

    @Option(help: "Requests admitted at once (running or queued); beyond that 429 with Retry-After.")
    var maxPending = 64

    @Option(help: "Largest request body in bytes (413 beyond).")
    var maxBodyBytes = 1 << 20

    @Option(help: "KV cache budget in tokens, shared by all running requests.")
    var kvBudgetTokens = 32_768

    @Option(help: "Tokens per batched step (prefill chunks plus decoding tokens).")
    var stepTokens = 512

    @Option(help: "Key/value cache element type: f16 (half the memory) or f32 (default: the model's, f16 for GGUF).")
    var kvCache: KVCache.Precision?

    @Option(help: "Sequences decoded together at most.")
    var maxSequences = 64

    @OptionGroup var engineThreads: EngineThreadsOption

    func run() async throws {
        try engineThreads.configure()
        let lm: LanguageModel
        do { lm = try LanguageModel.load(model, options: EngineOptions(kvCache: kvCache)) } catch {
            printError("glossa serve: cannot load \(model): \(error)")
            throw ExitCode(2)
        }
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.maxPending = maxPending
        options.maxBodyBytes = maxBodyBytes
        options.apiKey = environment["GLOSSA_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        options.modelName = servedModelName ?? ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let engine = BatchEngine(model: lm, kvBudgetTokens: kvBudgetTokens, stepTokens: stepTokens, maxSequences: maxSequences)
        let server = OpenAIServer(engine: engine, options: options)
        let host = self.host, name = options.modelName, keyed = options.apiKey != nil
        try await server.run { port in
            printError("glossa serve: listening on http://\(host):\(port)/v1 (model \(name)\(keyed ? ", API key required" : ""))")
        }
    }
}
