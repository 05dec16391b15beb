import ArgumentParser
import Foundation
import GlossaIO
import GlossaPipeline
import GlossaEngine

/// What `glossa translate | classify | extract` share: inputs and output like `glossa
/// normalize`, the engine settings of a pipeline, and `--set KEY=VALUE` for any stage key the
/// command has no flag for. Each command writes the pipeline definition it stands for (what
/// `--dry-run` prints) and runs it on the same runner as `glossa run`, with one output file
/// instead of a directory: one implementation, and a quick job becomes a nightly pipeline by
/// saving its `--dry-run`.
struct OneShotOptions: ParsableArguments {
    @Argument(help: "Input files (.jsonl, .jsonl.zst, .txt, .txt.zst); - or nothing for stdin.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output JSONL (.zst compresses); - for stdout.")
    var output: String = "-"

    @Option(help: "Rejects JSONL (default: next to the output, or rejects.jsonl when the output is stdout).")
    var rejects: String?

    @Option(help: "Text fields to read, comma-separated (strings or arrays of strings); text input has `text`.")
    var fields: String = "text"

    @Option(help: "Input format: auto, jsonl or text (one document per line).")
    var format: InputFormat = .auto

    @Flag(help: "Normalize the text fields first (NFC and cleanup, as the normalize stage).")
    var normalize = false

    @Option(help: "Model: a GGUF file, a Hugging Face checkpoint folder, or default.")
    var model: String = "default"

    @Option(help: "Records per engine batch.")
    var batchRecords: Int = 32

    @Option(help: "Threads: a number or auto (default: GLOSSA_THREADS, else the CPUs this process may use).")
    var threads: ThreadCount?

    @Option(name: .customLong("set"), help: "Any other key of the stage, as YAML: --set qa=reject --set 'protect=[\"v\\\\d+\"]' (repeatable).")
    var settings: [String] = []

    @Flag(help: "Print the equivalent pipeline YAML and exit.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if fieldList.isEmpty || fieldList.contains("") { throw ValidationError("--fields needs field names, e.g. --fields title,body") }
        if batchRecords < 1 { throw ValidationError("--batch-records must be at least 1") }
        for s in settings where !s.contains("=") || s.hasPrefix("=") {
            throw ValidationError("--set takes KEY=VALUE (a stage key and a YAML value), not '\(s)'")
        }
    }

    var fieldList: [String] { fields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    /// Whether the input is text (one document per line) rather than JSONL.
    var readsText: Bool { inputList.allSatisfy { format.isText(path: $0) } }

    /// Standard input with `--format auto` cannot be told by a file name: it is saved to a
    /// temporary file and read as JSONL when its first non-blank byte is `{`, else as text, so
    /// that `echo "Hallo Welt" | glossa translate --to en` works. Returns the file to remove.
    /// Calls `body` with these options, standard input spooled as above (not for --dry-run,
    /// whose definition names `-`), and removes the spooled file afterwards.
    func withStandardInput(_ body: (inout OneShotOptions) throws -> Void) throws {
        var options = self
        let spooled = dryRun ? nil : try options.spoolStandardInput()
        defer { if let spooled { try? FileManager.default.removeItem(atPath: spooled) } }
        try body(&options)
    }

    private mutating func spoolStandardInput() throws -> String? {
        guard inputList == ["-"], format == .auto else { return nil }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-stdin-\(getpid())").path
        let source = try openByteSource(path: "-")
        let sink = try openByteSink(path: path)
        var first: UInt8?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            let chunk = Array(buffer[0..<n])
            if first == nil { first = chunk.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } }
            try sink.write(chunk)
        }
        try sink.commit()
        inputs = [path]
        format = first == UInt8(ascii: "{") ? .jsonl : .text
        return path
    }
    var inputList: [String] { inputs.isEmpty ? ["-"] : inputs }

    /// A YAML scalar for any text: JSON strings are YAML.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.write(.string(text), into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Paths given on the command line, made absolute: the definition may be saved and run elsewhere.
    static func absolute(_ path: String) -> String {
        path == "-" || path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The pipeline definition: `before` stages (e.g. detect-language), then the command's
    /// stage with its keys (a key given with --set replaces the command's own).
    func yaml(command: String, before: [String], stage: String, keys: [(String, String)]) -> String {
        var merged = keys
        for s in settings {
            let key = String(s[..<(s.firstIndex(of: "=") ?? s.endIndex)]).trimmingCharacters(in: .whitespaces)
            let value = String(s[s.index(after: s.firstIndex(of: "=") ?? s.startIndex)...])
            merged.removeAll { $0.0 == key }
            merged.append((key, value))
        }
        var lines = [
            "# glossa \(command) as a pipeline: save it and run `glossa run FILE` (output as shards under output.dir)",
            "name: glossa-\(command)",
            "input:",
            "  paths: [" + inputList.map { Self.quoted(Self.absolute($0)) }.joined(separator: ", ") + "]",
            "  format: \(format.rawValue)",
            "  fields: [" + fieldList.map(Self.quoted).joined(separator: ", ") + "]",
            "stages:",
        ]
        if normalize { lines.append("  - normalize: {}") }
        lines += before.map { "  - \($0)" }
        lines.append("  - \(stage):")
        lines += merged.map { "      \($0.0): \($0.1)" }
        if merged.isEmpty { lines[lines.count - 1] += " {}" }
        lines += [
            "output:",
            "  dir: out/glossa-\(command)",
            "engine:",
            "  model: \(Self.quoted(model))",
            "  batch_records: \(batchRecords)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs the definition into one output file (or prints it with --dry-run).
    func run(command: String, yaml text: String, rejectsDefaulted: Bool = false, summary: (JSONObject) -> [String]) throws {
        if dryRun {
            print(text, terminator: "")
            return
        }
        var config: PipelineConfig
        do {
            config = try PipelineConfig.parse(text, file: FileManager.default.currentDirectoryPath + "/glossa-\(command).yaml")
        } catch {
            printError("glossa \(command): \(describe(error))")
            throw ExitCode(2)
        }
        let rejectsPath = rejects ?? (output == "-" ? "rejects.jsonl" : nil)
        config.output = PipelineConfig.Output(directory: "", file: FileOutput(path: output, rejects: rejectsPath))
        config.input.splitBytes = 0
        TemporaryFiles.removeOnTerminationSignals()
        let report: PipelineRunner.Report
        do {
            let choice = try chooseEngineThreads(threads)
            let runner = try PipelineRunner(config: config, environment: environment, threads: choice.count)
            if isatty(2) != 0 && !quiet {
                runner.progress = { _, records, _, seconds in
                    StandardError().writeRaw("\r\u{1B}[K  \(records) records, \(format1(Double(records) / max(seconds, 1e-9))) records/s")
                }
            }
            report = try runner.run()
            if isatty(2) != 0 && !quiet { StandardError().writeRaw("\r\u{1B}[K") }
        } catch {
            printError((isatty(2) != 0 ? "\r\u{1B}[K" : "") + "glossa \(command): \(describe(error))")
            throw ExitCode(2)
        }
        if !quiet {
            var lines = ["\(command): \(report.recordsIn) records in, \(report.recordsOut) out, \(report.rejected) rejected"
                         + (report.isConserved ? " — all accounted for" : " — COUNTS DO NOT ADD UP") + ", \(format1(report.seconds)) s"]
            if !report.rejectReasons.isEmpty {
                lines.append("  rejects -> \(config.output.file?.rejectsPath ?? "-"): "
                             + report.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            lines += summary(report.stages)
            printError(lines.joined(separator: "\n"))
        }
        // A rejects file nobody asked for is not left behind empty.
        if rejects == nil || rejectsDefaulted, report.rejected == 0, let path = config.output.file?.rejectsPath, path != "-",
           let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size == 0 {
            try? FileManager.default.removeItem(atPath: path)
        }
        if !report.isConserved { throw ExitCode(3) }
    }
}

/// A tally of a stage's stats as one line ("  qa flags: copy 2, language 3").
private func tallyLine(_ stats: JSONObject, stage: String, tally: String, title: String) -> [String] {
    guard let members = stats[stage]?.objectValue?[tally]?.objectValue?.members, !members.isEmpty else { return [] }
    return ["  \(title): " + members.map { "\($0.key) \($0.value.numberText)" }.joined(separator: ", ")]
}

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate JSONL or text records with the engine: `echo \"Hallo Welt\" | glossa translate --to en`.",
        discussion: """
            The translate stage of a pipeline (spans and glossary enforced, every field checked
            into metadata.qa), without a definition file: without --from, a detect-language
            stage comes first. Text input (.txt, --format text, or standard input that does not
            start with `{`) reads one document per line into `text`, and to stdout prints only
            the translations, a line each; otherwise the output is JSONL with
            `translation.<field>` and metadata (stdout by default, -o FILE). Rejects go next to
            the output (rejects.jsonl when it is stdout). --dry-run prints the pipeline YAML.
            """
    )

    @OptionGroup var options: OneShotOptions

    @Option(help: "Target language (BCP-47, see `glossa languages`).")
    var to: String

    @Option(help: "Source language (default: detected per record).")
    var from: String?

    @Option(help: "Glossary TSV: source<TAB>target or language<TAB>source<TAB>target lines.")
    var glossary: String?

    @Option(help: "Tokens per translated chunk at most.")
    var maxTokens: Int = 512

    @Flag(help: "JSONL on stdout even for text input (text input to stdout prints only the translations).")
    var jsonl = false

    func run() throws {
        try options.withStandardInput(translate)
    }

    private func translate(_ options: inout OneShotOptions) throws {
        var keys: [(String, String)] = [("target", OneShotOptions.quoted(to)), ("max_tokens", String(maxTokens))]
        if let from { keys.append(("source", OneShotOptions.quoted(from))) }
        if let glossary { keys.append(("glossary_file", OneShotOptions.quoted(OneShotOptions.absolute(glossary)))) }
        let before = from == nil ? ["detect-language: {}"] : []
        let definition = options.yaml(command: "translate", before: before, stage: "translate", keys: keys)
        let summary: (JSONObject) -> [String] = { tallyLine($0, stage: "translate", tally: "qa_flags", title: "qa flags") }
        guard !options.dryRun, options.readsText, options.output == "-", !jsonl else {
            return try options.run(command: "translate", yaml: definition, summary: summary)
        }
        // Text in, terminal or pipe out: the translations alone, one line per input line (the
        // JSONL goes to a temporary file first; rejects stay next to the working directory).
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-translate-\(getpid()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        options.output = scratch
        if options.rejects == nil { options.rejects = "rejects.jsonl" }
        try options.run(command: "translate", yaml: definition, rejectsDefaulted: self.options.rejects == nil, summary: summary)
        let data = FileManager.default.contents(atPath: scratch) ?? Data()
        for line in data.split(separator: 0x0A) {
            guard let record = try? Array(line).withUnsafeBufferPointer({ try JSONParser.parse($0) }).value.objectValue,
                  let translation = record["translation"]?.objectValue else { continue }
            let parts: [String] = options.fieldList.flatMap { field -> [String] in
                switch translation[field] {
                case let .string(s)?: return [s.replacingOccurrences(of: "\n", with: " ")]
                case let .array(items)?: return items.compactMap(\.stringValue)
                default: return []
                }
            }
            print(parts.joined(separator: " "))
        }
    }
}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify JSONL or text records into labels with the engine (label and probabilities in metadata).",
        discussion: "The classify stage of a pipeline, without a definition file. --dry-run prints the pipeline YAML."
    )

    @OptionGroup var options: OneShotOptions

    @Option(help: "Labels, comma-separated.")
    var labels: String

    @Option(help: "Instructions with {text} (and the labels written out).")
    var instructions: String?

    func run() throws {
        let list = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var keys: [(String, String)] = [("labels", "[" + list.map(OneShotOptions.quoted).joined(separator: ", ") + "]")]
        if let instructions { keys.append(("instructions", OneShotOptions.quoted(instructions))) }
        try options.withStandardInput { options in
            try options.run(command: "classify", yaml: options.yaml(command: "classify", before: [], stage: "classify", keys: keys)) {
                tallyLine($0, stage: "classify", tally: "labels", title: "labels")
            }
        }
    }
}

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract a JSON value that follows a schema from each record (constrained decoding).",
        discussion: "The extract stage of a pipeline, without a definition file. --dry-run prints the pipeline YAML."
    )

    @OptionGroup var options: OneShotOptions

    @Option(help: "JSON Schema file.")
    var schema: String

    @Option(help: "Instructions with {text} and {schema}.")
    var instructions: String?

    @Option(help: "System message.")
    var system: String?

    @Option(help: "Metadata field that receives the value.")
    var field: String = "extracted"

    @Option(help: "Tokens per answer at most.")
    var maxTokens: Int = 512

    func run() throws {
        var keys: [(String, String)] = [("schema_file", OneShotOptions.quoted(OneShotOptions.absolute(schema))),
                                        ("field", OneShotOptions.quoted(field)), ("max_tokens", String(maxTokens))]
        if let instructions { keys.append(("instructions", OneShotOptions.quoted(instructions))) }
        if let system { keys.append(("system", OneShotOptions.quoted(system))) }
        try options.withStandardInput { options in
            try options.run(command: "extract", yaml: options.yaml(command: "extract", before: [], stage: "extract", keys: keys)) { _ in [] }
        }
    }
}
