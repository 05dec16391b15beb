import ArgumentParser
import GlossaText

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Versions of the libraries Glossa runs on.")

    func run() throws {
        print("ICU \(ICU.version) (Unicode \(ICU.unicodeVersion))")
        print("languages: \(LanguageRegistry.all.count) (Qwen3)")
    }
}
