import Dispatch
import GlossaText

/// `glossa normalize`: JSONL or text in, JSONL out, every record accounted for.
///
/// Records are read in batches; each batch is parsed, normalized and serialized on all cores
/// (results keep input order), then written. Records that cannot be processed go to the
/// rejects file with a machine-readable reason, so `in == out + rejected` always holds.
public struct NormalizeJob {
    public enum InputFormat: String, Sendable, CaseIterable {
        case auto, jsonl, text
    }

    public struct Options: Sendable {
        public var inputs: [String]
        public var output: String
        /// Defaults to `<output>.rejects.jsonl[.zst]` (stderr-adjacent `rejects.jsonl` for stdout).
        public var rejects: String?
        public var fields: [String] = ["text"]
        public var format: InputFormat = .auto
        public var configuration = Normalizer.Configuration.default
        public var maxLineBytes = 64 << 20
        public var threads = max(1, System.coreCount)
        public var batchRecords = 2_048

        public init(inputs: [String], output: String) {
            self.inputs = inputs
            self.output = output
        }

        var rejectsPath: String {
            if let rejects { return rejects }
            if output == "-" { return "rejects.jsonl" }
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
        /// Characters touched per step, summed over documents.
        public var steps = Normalizer.Counts()
        /// Documents in which each step changed something.
        public var documentsChanged = Normalizer.Counts()
        public var bytesIn = 0
        public var bytesOut = 0
        public var seconds = 0.0
        public var outputPath = ""
        public var rejectsPath = ""
        public var enabledSteps: [Normalizer.Step] = []

        public var isConserved: Bool { recordsIn == recordsOut + rejected }

        public var json: JSONValue {
            func counts(_ c: Normalizer.Counts) -> JSONValue {
                .object(JSONObject(enabledSteps.map { .init(key: $0.rawValue, value: .number(String(c[$0]))) }))
            }
            return .object(JSONObject([
                "records_in": .number(String(recordsIn)),
                "records_out": .number(String(recordsOut)),
                "rejected": .number(String(rejected)),
                "blank_lines": .number(String(blankLines)),
                "reject_reasons": .object(JSONObject(rejectReasons.sorted { $0.key < $1.key }.map {
                    .init(key: $0.key, value: .number(String($0.value)))
                })),
                "characters_per_step": counts(steps),
                "documents_changed_per_step": counts(documentsChanged),
                "bytes_in": .number(String(bytesIn)),
                "bytes_out": .number(String(bytesOut)),
                "seconds": .number(String(format3(seconds))),
                "output": .string(outputPath),
                "rejects": .string(rejectsPath),
            ]))
        }
    }

    public enum RejectReason: String, Sendable {
        case malformedJSON = "malformed_json"
        case notAnObject = "not_an_object"
        case missingField = "missing_field"
        case fieldNotText = "field_not_text"
        case emptyText = "empty_text"
        case lineTooLong = "line_too_long"
    }

    public let options: Options

    public init(_ options: Options) throws {
        guard !options.inputs.isEmpty else { throw PipelineError.invalidArgument("no input files given") }
        guard !options.fields.isEmpty else { throw PipelineError.invalidArgument("no fields to normalize (--field)") }
        self.options = options
    }

    public func run() throws -> Report {
        let started = System.monotonicSeconds()
        var report = Report()
        report.outputPath = options.output
        report.rejectsPath = options.rejectsPath
        report.enabledSteps = options.configuration.enabledSteps
        let output = try openByteSink(path: options.output)
        let rejects = try openByteSink(path: options.rejectsPath)
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

    private struct Pending {
        var bytes: [UInt8]
        var line: Int
        var offset: Int
        var tooLong: Int?  // length of a line that was skipped
    }

    private struct Outcome {
        var output: [UInt8] = []
        var reject: RejectReason?
        var counts = Normalizer.Counts()
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
                report.bytesIn += pending.bytes.count + 1
                if let reason = outcome.reject {
                    report.rejected += 1
                    report.rejectReasons[reason.rawValue, default: 0] += 1
                    try rejects.write(rejectRecord(pending, reason: reason, input: input, message: outcome.output))
                } else {
                    report.recordsOut += 1
                    report.bytesOut += outcome.output.count
                    try output.write(outcome.output)
                }
                report.steps += outcome.counts
                for step in Normalizer.Step.allCases where outcome.counts[step] > 0 {
                    report.documentsChanged[step] += 1
                }
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
        } catch {
            // Keep what was read before a corrupt or truncated frame, then report the error.
            try flush()
            throw error
        }
    }

    private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private func processBatch(_ batch: [Pending], isText: Bool, input: String) -> [Outcome] {
        let normalizer = Normalizer(options.configuration)
        let fields = options.fields
        let chunks = min(options.threads, max(1, batch.count / 64))
        let results = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: batch.count)
        results.initialize(repeating: Outcome())
        defer { results.deallocate() }
        let base = SendablePointer(results.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = batch.count * chunk / chunks, hi = batch.count * (chunk + 1) / chunks
            for k in lo..<hi {
                base.pointer[k] = Self.processRecord(batch[k], isText: isText, input: input,
                                                     fields: fields, normalizer: normalizer)
            }
        }
        return Array(results)
    }

    private static func processRecord(_ record: Pending, isText: Bool, input: String,
                                      fields: [String], normalizer: Normalizer) -> Outcome {
        var outcome = Outcome()
        if let length = record.tooLong {
            outcome.reject = .lineTooLong
            outcome.output = Array("line of \(length) bytes exceeds --max-line-bytes".utf8)
            return outcome
        }
        if isText {
            let result = record.bytes.withUnsafeBufferPointer { normalizer.normalize(utf8: $0) }
            outcome.counts = result.counts
            if result.text.isEmpty { outcome.reject = .emptyText; return outcome }
            let object = JSONObject(["id": .string("\(basename(input)):\(record.line)"), "text": .string(result.text)])
            JSONWriter.write(.object(object), into: &outcome.output)
            outcome.output.append(0x0A)
            return outcome
        }
        let parsed: (value: JSONValue, repairs: Int)
        switch record.bytes.withUnsafeBufferPointer({ b in Result { () throws(JSONParser.SyntaxError) in try JSONParser.parse(b) } }) {
        case let .success(value): parsed = value
        case let .failure(error):
            outcome.reject = .malformedJSON
            outcome.output = Array(error.description.utf8)
            return outcome
        }
        guard case var .object(object) = parsed.value else {
            outcome.reject = .notAnObject
            outcome.output = Array("record is \(parsed.value.kindName), not an object".utf8)
            return outcome
        }
        outcome.counts.repairEncoding += parsed.repairs
        var found = false, anyText = false
        for field in fields {
            guard let value = object[field] else { continue }
            found = true
            switch value {
            case let .string(text):
                let result = normalizer.normalize(text)
                outcome.counts += result.counts
                anyText = anyText || !result.text.isEmpty
                object[field] = .string(result.text)
            case let .array(items) where items.allSatisfy({ $0.stringValue != nil }):
                var normalized: [JSONValue] = []
                for item in items {
                    let result = normalizer.normalize(item.stringValue!)
                    outcome.counts += result.counts
                    anyText = anyText || !result.text.isEmpty
                    normalized.append(.string(result.text))
                }
                object[field] = .array(normalized)
            case .null:
                continue
            default:
                outcome.reject = .fieldNotText
                outcome.output = Array("field '\(field)' is \(value.kindName), expected a string or an array of strings".utf8)
                return outcome
            }
        }
        if !found {
            outcome.reject = .missingField
            outcome.output = Array("none of the fields \(fields.joined(separator: ", ")) is present".utf8)
            return outcome
        }
        if !anyText {
            outcome.reject = .emptyText
            outcome.output = Array("text is empty after normalization".utf8)
            return outcome
        }
        JSONWriter.write(.object(object), into: &outcome.output)
        outcome.output.append(0x0A)
        return outcome
    }

    /// The original line travels with the reason; bytes that are not UTF-8 travel as hex so
    /// nothing is lost.
    private func rejectRecord(_ record: Pending, reason: RejectReason, input: String, message: [UInt8]) -> [UInt8] {
        var object = JSONObject([
            "input": .string(input),
            "line": .number(String(record.line)),
            "offset": .number(String(record.offset)),
            "reason": .string(reason.rawValue),
            "message": .string(String(decoding: message, as: UTF8.self)),
        ])
        if record.tooLong == nil {
            if let text = String(validating: record.bytes, as: UTF8.self) {
                object["record"] = .string(text)
            } else {
                object["record_hex"] = .string(record.bytes.map { hexByte($0) }.joined())
            }
        } else {
            object["length"] = .number(String(record.tooLong!))
        }
        var out = [UInt8]()
        JSONWriter.write(.object(object), into: &out)
        out.append(0x0A)
        return out
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

func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return String(scaled)
}
