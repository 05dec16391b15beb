import Dispatch
import Foundation
import GlossaText

/// Streams records from JSONL (plain or zstd) or text files through one `RecordStep` into a
/// JSONL output, every record accounted for.
///
/// Records are read in batches; each batch is parsed, processed and serialized on all cores
/// (results keep input order), then written. Records that cannot be processed go to the
/// rejects file with a machine-readable reason, so `in == out + rejected` always holds.
/// Outputs are published atomically when the run succeeds, and not at all when it fails.
public enum InputFormat: String, Sendable, CaseIterable {
    case auto, jsonl, text
}

public struct RecordJob<Step: RecordStep> {
    public struct Options: Sendable {
        public var inputs: [String]
        public var output: String
        /// Defaults to `<output>.rejects.jsonl[.zst]`; required when the output is stdout.
        public var rejects: String?
        public var format: InputFormat = .auto
        public var maxLineBytes = 64 << 20
        public var threads = max(1, System.coreCount)
        public var batchRecords = 2_048

        public init(inputs: [String], output: String) {
            self.inputs = inputs
            self.output = output
        }

        /// Nil when the output is stdout and no rejects file was given (an error: see `init`).
        var rejectsPath: String? {
            if let rejects { return rejects }
            if output == "-" { return nil }
            for suffix in [".jsonl.zst", ".jsonl", ".zst"] where output.hasSuffix(suffix) {
                return String(output.dropLast(suffix.count)) + ".rejects" + suffix
            }
            return output + ".rejects.jsonl"
        }
    }

    /// What happened, for the terminal and for `--stats` JSON.
    public struct Report: Sendable {
        public var recordsIn = 0
        public var recordsOut = 0
        public var rejected = 0
        public var blankLines = 0
        public var rejectReasons: [String: Int] = [:]
        public var stats = Step.Stats()
        public var bytesIn = 0
        public var bytesOut = 0
        public var seconds = 0.0
        public var outputPath = ""
        public var rejectsPath = ""

        public var isConserved: Bool { recordsIn == recordsOut + rejected }

        public var json: JSONValue {
            var object = JSONObject([
                "records_in": .number(String(recordsIn)),
                "records_out": .number(String(recordsOut)),
                "rejected": .number(String(rejected)),
                "blank_lines": .number(String(blankLines)),
                "reject_reasons": .object(JSONObject(rejectReasons.sorted { $0.key < $1.key }.map {
                    .init(key: $0.key, value: .number(String($0.value)))
                })),
            ])
            if case let .object(step) = stats.json { object.members += step.members }
            object.members += JSONObject([
                "bytes_in": .number(String(bytesIn)),
                "bytes_out": .number(String(bytesOut)),
                "seconds": .number(String((seconds * 1000).rounded() / 1000)),
                "output": .string(outputPath),
                "rejects": .string(rejectsPath),
            ]).members
            return .object(object)
        }
    }

    public let options: Options
    public let step: Step

    public init(_ options: Options, step: Step) throws {
        guard !options.inputs.isEmpty else { throw PipelineError.invalidArgument("no input files given") }
        // Rejects are never written to a place nobody named: with the output on stdout there is
        // no file to put them next to.
        guard let rejects = options.rejectsPath else {
            throw PipelineError.invalidArgument("the output is standard output, so rejected records need a file of their own: add --rejects FILE")
        }
        if OutputPaths.sameFile(rejects, options.output) {
            throw PipelineError.invalidArgument("--rejects \(rejects) is the output file too; records and rejects need different files")
        }
        self.options = options
        self.step = step
    }

    public func run() throws -> Report {
        let started = System.monotonicSeconds()
        var report = Report()
        let rejectsPath = options.rejectsPath ?? "-"
        report.outputPath = options.output
        report.rejectsPath = rejectsPath
        let folders = [options.output, rejectsPath].filter { $0 != "-" }.map(Self.temporaryFolder(for:))
        let output = try Self.openSink(options.output)
        let rejects = try Self.openSink(rejectsPath)
        defer { for folder in folders { rmdir(folder) } }  // only when empty: another run may use it
        do {
            for input in options.inputs {
                try process(input: input, output: output, rejects: rejects, report: &report)
            }
            try output.commit()
            try rejects.commit()
        } catch {
            output.abandon()
            rejects.abandon()
            throw error
        }
        report.seconds = System.monotonicSeconds() - started
        return report
    }

    /// Files being written live in a hidden folder next to their output (`.glossa-tmp/`), never
    /// beside it where `OUTPUT*` globs would match them.
    static func temporaryFolder(for path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent) + "/.glossa-tmp"
    }

    /// An atomic sink whose temporary file is removed on SIGTERM/SIGINT; what a SIGKILLed run
    /// left (there, or as `OUTPUT.tmp-PID` beside the output) is removed first.
    static func openSink(_ path: String) throws -> ByteSink {
        if path == "-" { return try openByteSink(path: path) }
        let folder = temporaryFolder(for: path)
        TemporaryFiles.removeStale(in: folder)
        let parent = (path as NSString).deletingLastPathComponent
        TemporaryFiles.removeStale(in: parent.isEmpty ? "." : parent, prefix: basename(path) + ".tmp-")
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw PipelineError.cannotOpen(path: path, reason: "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        return try openByteSink(path: path, temporaryDirectory: folder, removeOnSignal: true)
    }

    private struct Pending {
        var bytes: [UInt8]
        var line: Int
        var offset: Int
        var tooLong: Int?  // length of a line that was skipped
    }

    private struct Outcome {
        var output: [UInt8] = []
        var rejection: Rejection?
        var stats = Step.Stats()
    }

    private func process(input: String, output: ByteSink, rejects: ByteSink, report: inout Report) throws {
        let source = try openByteSource(path: input)
        let reader = LineReader(source, maxLineBytes: options.maxLineBytes)
        let isText = options.format == .text
            || (options.format == .auto && (input.hasSuffix(".txt") || input.hasSuffix(".txt.zst")))
        var batch: [Pending] = []
        batch.reserveCapacity(options.batchRecords)
        var batchBytes = 0

        func flush() throws {
            guard !batch.isEmpty else { return }
            let outcomes = processBatch(batch, isText: isText, input: input)
            for (pending, outcome) in zip(batch, outcomes) {
                report.recordsIn += 1
                if let rejection = outcome.rejection {
                    report.rejected += 1
                    report.rejectReasons[rejection.reason, default: 0] += 1
                    try rejects.write(rejectRecord(pending, rejection, input: input))
                } else {
                    report.recordsOut += 1
                    report.bytesOut += outcome.output.count
                    try output.write(outcome.output)
                }
                report.stats.merge(outcome.stats)
            }
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
        }

        do {
            while let line = try reader.next() {
                switch line {
                case let .text(bytes, number, offset):
                    if isBlank(bytes) { report.blankLines += 1; continue }
                    batch.append(Pending(bytes: Array(bytes), line: number, offset: offset))
                    batchBytes += bytes.count
                case let .tooLong(length, number, offset):
                    batch.append(Pending(bytes: [], line: number, offset: offset, tooLong: length))
                }
                if batch.count >= options.batchRecords || batchBytes >= 16 << 20 { try flush() }
            }
            try flush()
            // Every byte read counts: blank lines, rejected and too-long lines included.
            report.bytesIn += reader.position
        } catch {
            try? flush()
            throw error
        }
    }

    private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private func processBatch(_ batch: [Pending], isText: Bool, input: String) -> [Outcome] {
        let chunks = min(options.threads, max(1, batch.count / 64))
        let results = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: batch.count)
        results.initialize(repeating: Outcome())
        defer { results.deinitialize(); results.deallocate() }
        let base = SendablePointer(results.baseAddress!)
        let step = self.step
        let name = basename(input)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = batch.count * chunk / chunks, hi = batch.count * (chunk + 1) / chunks
            for k in lo..<hi {
                base.pointer[k] = Self.processRecord(batch[k], isText: isText, name: name, step: step)
            }
        }
        return Array(results)
    }

    private static func processRecord(_ pending: Pending, isText: Bool, name: String, step: Step) -> Outcome {
        var outcome = Outcome()
        if let length = pending.tooLong {
            outcome.rejection = Rejection(Rejection.lineTooLong, "line of \(length) bytes exceeds --max-line-bytes")
            return outcome
        }
        let parsed = pending.bytes.withUnsafeBufferPointer { RecordLines.parse($0, isText: isText, name: name, line: pending.line) }
        if let rejection = parsed.rejection {
            outcome.rejection = rejection
            return outcome
        }
        var record = parsed.object
        if let rejection = step.process(&record, repairs: parsed.repairs, stats: &outcome.stats) {
            outcome.rejection = rejection
            return outcome
        }
        JSONWriter.write(.object(record), into: &outcome.output)
        outcome.output.append(0x0A)
        return outcome
    }

    private func rejectRecord(_ pending: Pending, _ rejection: Rejection, input: String) -> [UInt8] {
        RecordLines.reject(input: input, line: pending.line, offset: pending.offset, rejection, raw: pending.bytes, tooLong: pending.tooLong)
    }
}

struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

func basename(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}
