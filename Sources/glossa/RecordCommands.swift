import ArgumentParser
import GlossaEngine
import GlossaPipeline
import GlossaText

extension Normalizer.Step: ExpressibleByArgument {}
extension Normalizer.Form: ExpressibleByArgument {}
extension InputFormat: ExpressibleByArgument {}

extension JSONValue {
    /// A number's digits as written (counts in stats), "?" for anything else.
    var numberText: String {
        if case let .number(n) = self { return n }
        return "?"
    }
}
extension KVCache.Precision: ExpressibleByArgument {}

/// Input, output and accounting options shared by the record-at-a-time commands.
struct RecordOptions: ParsableArguments {
    @Argument(help: "Input files (.jsonl, .jsonl.zst, .txt, .txt.zst; - for stdin).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output JSONL (.zst compresses); - for stdout.")
    var output: String = "-"

    @Option(help: "Rejects JSONL (default: next to the output; required when the output is stdout).")
    var rejects: String?

    @Option(name: .customLong("field"), help: "Text field to read (repeatable; strings or arrays of strings).")
    var fields: [String] = ["text"]

    @Option(help: "Input format: auto, jsonl or text (one document per line).")
    var format: InputFormat = .auto

    @Option(help: "Lines longer than this many bytes are rejected without being buffered.")
    var maxLineBytes: Int = 64 << 20

    @Option(help: "Threads: a number or auto (default: GLOSSA_THREADS, else auto = the CPUs this process may use). The output does not depend on it.")
    var threads: ThreadCount?

    @Option(help: "Write the run's statistics as JSON to this file.")
    var stats: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    /// Empty field names would reject every record as missing_field; refused up front.
    func validate() throws {
        if fields.contains("") { throw ValidationError("--field needs a field name, not an empty string") }
    }

    /// Runs one stage over the inputs into one output file: a pipeline built in memory, on the
    /// same runner as `glossa run`.
    func run(_ name: String, stage: any StageOptions, metadataField: String = "metadata", summary: (JSONObject) -> [String]) throws {
        let file = FileOutput(path: output, rejects: rejects)
        let config = PipelineConfig.singleStage(stage, inputs: inputs, output: file, format: format, fields: fields,
                                                maxLineBytes: maxLineBytes, metadataField: metadataField)
        let report: PipelineRunner.Report
        // SIGTERM / SIGINT remove the files being written before the process ends.
        TemporaryFiles.removeOnTerminationSignals()
        do {
            let threads = try chooseEngineThreads(self.threads).count
            report = try PipelineRunner(config: config, environment: environment, threads: threads).run()
        } catch let error as GlossaError {
            printError("glossa \(name): \(error)")
            throw ExitCode(2)
        }
        let rejectsPath = file.rejectsPath ?? "-"
        let stageStats = report.stages[stage.name]?.objectValue ?? JSONObject()
        if let stats {
            let sink = try openByteSink(path: stats)
            var bytes = [UInt8]()
            var object = JSONObject([
                "records_in": .number(String(report.recordsIn)),
                "records_out": .number(String(report.recordsOut)),
                "rejected": .number(String(report.rejected)),
                "blank_lines": .number(String(report.blankLines)),
                "reject_reasons": .object(JSONObject(counts: report.rejectReasons)),
            ])
            object.members += stageStats.members
            object.members += JSONObject([
                "bytes_in": .number(String(report.bytesIn)),
                "bytes_out": .number(String(report.bytesOut)),
                "seconds": .number(String((report.seconds * 1000).rounded() / 1000)),
                "output": .string(self.output),
                "rejects": .string(rejectsPath),
            ]).members
            JSONWriter.write(.object(object), into: &bytes)
            bytes.append(0x0A)
            try sink.write(bytes)
            try sink.commit()
        }
        if !quiet {
            var lines = ["\(name): \(report.recordsIn) records in, \(report.recordsOut) out, \(report.rejected) rejected"
                         + (report.blankLines > 0 ? " (\(report.blankLines) blank lines skipped)" : "")
                         + (report.isConserved ? " — all accounted for" : " — COUNTS DO NOT ADD UP")]
            if !report.rejectReasons.isEmpty {
                lines.append("  rejects -> \(rejectsPath): "
                             + report.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            let seconds = max(report.seconds, 1e-9)
            lines.append("  \(report.bytesIn) bytes in, \(report.bytesOut) out, \(format2(seconds)) s, "
                         + "\(Int(Double(report.recordsIn) / seconds)) records/s")
            lines += summary(stageStats)
            printError(lines.joined(separator: "\n"))
        }
        if !report.isConserved { throw ExitCode(3) }
    }
}

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

    @OptionGroup var records: RecordOptions

    @Option(help: "Unicode form: none, nfc, nfd, nfkc, nfkd, nfkc_casefold (keys only).")
    var form: Normalizer.Form = .nfc

    @Option(name: .customLong("disable"), help: "Turn a cleanup step off (repeatable).")
    var disabled: [Normalizer.Step] = []

    @Option(name: .customLong("enable"), help: "Turn an optional step on, e.g. punctuation, digits (repeatable).")
    var enabled: [Normalizer.Step] = []

    @Flag(help: "Strip leading indentation of lines too.")
    var noIndentation = false

    func run() throws {
        var config = Normalizer.Configuration.default
        config.form = form
        config.preserveIndentation = !noIndentation
        for step in enabled { config.set(step, enabled: true) }
        for step in disabled { config.set(step, enabled: false) }
        try records.run("normalize", stage: NormalizeOptions(configuration: config)) { stats in
            func count(_ tally: String, _ step: Normalizer.Step) -> String {
                if case let .number(n)? = stats[tally]?.objectValue?[step.rawValue] { return n }
                return "0"
            }
            return ["  step                 characters   documents"]
                + config.enabledSteps.map { step in
                    "  " + pad(step.rawValue, 20) + pad(count("characters_per_step", step), 11, left: true)
                        + pad(count("documents_changed_per_step", step), 12, left: true)
                }
        }
    }
}

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Identify language and script of JSONL (plain or .zst) or text records.",
        discussion: """
            Adds language (BCP-47), language_score and script (ISO 15924) to each record's
            metadata object. The model is fastText lid.176 (installed by scripts/setup.sh) or any
            fastText language-ID model given with --lid-model; labels are mapped onto Qwen3's
            languages, and ICU script detection separates Hans/Hant and Serbian Cyrillic/Latin
            and vetoes labels whose script cannot be right. See docs/language-coverage.md.
            """
    )

    @OptionGroup var records: RecordOptions

    @Option(help: "fastText model (.bin or .ftz).")
    var lidModel: String = LanguageIdentifier.defaultModelPath(environment: environment)

    @Option(help: "Metadata object the results are written into.")
    var metadataField: String = "metadata"

    @Option(help: "Below this probability the language is und (the guess goes to language_guess).")
    var minScore: Double = Double(DetectLanguageOptions.defaultMinimumScore)

    func validate() throws {
        if metadataField.isEmpty { throw ValidationError("--metadata-field needs a name (default: metadata)") }
        if !(0...1).contains(minScore) { throw ValidationError("--min-score must be from 0 to 1") }
    }

    func run() throws {
        // A model that cannot be read is an error (exit 2) before any input is opened.
        var stage = DetectLanguageOptions(modelPath: lidModel)
        stage.minimumScore = Float(minScore)
        try records.run("detect", stage: stage, metadataField: metadataField) { stats in
            // Tallies come largest first.
            let top = stats["languages"]?.objectValue?.members ?? []
            return ["  languages: " + top.prefix(25).map { "\($0.key) \($0.value.numberText)" }.joined(separator: ", ")
                    + (top.count > 25 ? ", ... (\(top.count) in all)" : "")]
        }
    }
}

struct LanguagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "languages",
        abstract: "Qwen3's 119 languages and how language identification covers them (Markdown)."
    )

    func run() throws {
        print(LanguageCoverage.markdown, terminator: "")
    }
}
