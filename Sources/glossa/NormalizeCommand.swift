import ArgumentParser
import GlossaPipeline
import GlossaText

extension Normalizer.Step: ExpressibleByArgument {}
extension Normalizer.Form: ExpressibleByArgument {}
extension NormalizeJob.InputFormat: ExpressibleByArgument {}

struct NormalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "normalize",
        abstract: "Clean and Unicode-normalize JSONL (plain or .zst) or text, streaming.",
        discussion: """
            Steps: \(Normalizer.Step.allCases.map(\.rawValue).joined(separator: ", ")).
            Every input record ends in the output or in the rejects file with a reason; the
            counts at the end satisfy records_in == records_out + rejected.
            """
    )

    @Argument(help: "Input files (.jsonl, .jsonl.zst, .txt, .txt.zst; - for stdin).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output JSONL (.zst compresses); - for stdout.")
    var output: String = "-"

    @Option(help: "Rejects JSONL (default: next to the output).")
    var rejects: String?

    @Option(name: .customLong("field"), help: "Text field to normalize (repeatable; strings or arrays of strings).")
    var fields: [String] = ["text"]

    @Option(help: "Input format: auto, jsonl or text (one document per line).")
    var format: NormalizeJob.InputFormat = .auto

    @Option(help: "Unicode form: none, nfc, nfd, nfkc, nfkd, nfkc_casefold (keys only).")
    var form: Normalizer.Form = .nfc

    @Option(name: .customLong("disable"), help: "Turn a cleanup step off (repeatable).")
    var disabled: [Normalizer.Step] = []

    @Option(name: .customLong("enable"), help: "Turn an optional step on, e.g. punctuation, digits (repeatable).")
    var enabled: [Normalizer.Step] = []

    @Flag(help: "Strip leading indentation of lines too.")
    var noIndentation = false

    @Option(help: "Lines longer than this many bytes are rejected without being buffered.")
    var maxLineBytes: Int = 64 << 20

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = System.coreCount

    @Option(help: "Write the run's statistics as JSON to this file.")
    var stats: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        var config = Normalizer.Configuration.default
        config.form = form
        config.preserveIndentation = !noIndentation
        for step in enabled { config.set(step, enabled: true) }
        for step in disabled { config.set(step, enabled: false) }

        var options = NormalizeJob.Options(inputs: inputs, output: output)
        options.rejects = rejects
        options.fields = fields
        options.format = format
        options.configuration = config
        options.maxLineBytes = maxLineBytes
        options.threads = max(1, threads)

        let report: NormalizeJob.Report
        do {
            report = try NormalizeJob(options).run()
        } catch let error as PipelineError {
            printError("glossa normalize: \(error)")
            throw ExitCode(2)
        }
        if let stats {
            let sink = try openByteSink(path: stats)
            var bytes = [UInt8]()
            JSONWriter.write(report.json, into: &bytes)
            bytes.append(0x0A)
            try sink.write(bytes)
            try sink.commit()
        }
        if !quiet { printError(summary(report)) }
        if !report.isConserved { throw ExitCode(3) }
    }

    private func summary(_ r: NormalizeJob.Report) -> String {
        var lines: [String] = []
        let seconds = max(r.seconds, 1e-9)
        lines.append("normalize: \(r.recordsIn) records in, \(r.recordsOut) out, \(r.rejected) rejected"
                     + (r.blankLines > 0 ? " (\(r.blankLines) blank lines skipped)" : "")
                     + (r.isConserved ? " — all accounted for" : " — COUNTS DO NOT ADD UP"))
        if !r.rejectReasons.isEmpty {
            lines.append("  rejects -> \(r.rejectsPath): " + r.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        lines.append("  \(String(format1(Double(r.bytesIn) / 1e6 / seconds))) MB/s, \(r.bytesIn) bytes in, \(r.bytesOut) out, \(format1(seconds)) s")
        lines.append("  step                 characters   documents")
        for step in r.enabledSteps {
            lines.append("  " + pad(step.rawValue, 20) + pad(String(r.steps[step]), 11, left: true) + pad(String(r.documentsChanged[step]), 12, left: true))
        }
        return lines.joined(separator: "\n")
    }
}

func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? fill + s : s + fill
}

func format1(_ x: Double) -> String { String((x * 10).rounded() / 10) }
func format2(_ x: Double) -> String { String((x * 100).rounded() / 100) }
