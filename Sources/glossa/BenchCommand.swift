import ArgumentParser
import GlossaText

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios against a peer measured in the same run.",
        subcommands: [NormalizeBench.self]
    )
}

struct NormalizeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "normalize",
        abstract: "Normalizer MB/s vs a raw ICU unorm2_normalize loop on the same generated text."
    )

    @Option(help: "Megabytes of generated multilingual text.")
    var megabytes: Double = 32

    @Option(help: "Runs per contender (best is kept).")
    var repetitions: Int = 3

    func run() throws {
        let r = NormalizationBenchmark.run(megabytes: megabytes, repetitions: repetitions)
        print("normalize benchmark: \(r.documents) documents, \(format1(r.megabytes)) MB, 1 thread, best of \(repetitions)")
        for m in [r.glossa, r.rawICU, r.rawICUWithConversion] {
            print("  " + pad(m.name, 48) + pad(format1(m.megabytesPerSecond), 8, left: true) + " MB/s")
        }
        print("  ratio glossa / raw unorm2_normalize loop:        \(format2(r.ratioToRawICU))x  (target >= 0.8x)")
        print("  ratio glossa / raw ICU incl. String conversion:  \(format2(r.ratioToRawICUWithConversion))x")
    }
}
