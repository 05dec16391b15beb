import ArgumentParser
import Foundation
import GlossaEngine
import GlossaPipeline
import GlossaText

@main
struct Glossa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossa",
        abstract: "Multilingual text through batch pipelines with an in-process Qwen LLM.",
        version: GlossaVersion.current,
        subcommands: [RunCommand.self, ServeCommand.self, StatusCommand.self, ReportCommand.self, NormalizeCommand.self, DetectCommand.self, TranslateCommand.self, ClassifyCommand.self, ExtractCommand.self, LanguagesCommand.self, GenerateCommand.self, ModelCommand.self, BenchCommand.self, InfoCommand.self]
    )

    /// The engine's process-wide settings come first: they must be in place before any model is
    /// loaded, whichever command loads it (generate, serve, run, bench).
    static func main() async {
        Engine.configureProcess()
        await main(nil)
    }
}

let environment = ProcessInfo.processInfo.environment

/// Prints to standard error: standard output is reserved for data.
func printError(_ message: String) {
    var stderr = StandardError()
    print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
    /// Writes without a newline (progress lines).
    func writeRaw(_ string: String) {
        var copy = self
        copy.write(string)
    }

    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? fill + s : s + fill
}

func format1(_ x: Double) -> String { String((x * 10).rounded() / 10) }
func format2(_ x: Double) -> String { String((x * 100).rounded() / 100) }
