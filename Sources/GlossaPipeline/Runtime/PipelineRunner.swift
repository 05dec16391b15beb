import Foundation
import GlossaEngine
import GlossaText

/// Runs a pipeline over its input units (files), this rank's share of them.
///
/// Each unit's records go through the stages in batches and into shards named after the unit;
/// when a unit is finished its shards are published and a completion marker is written
/// atomically. A re-run skips finished units and redoes the rest, which gives byte-identical
/// output (greedy engine, deterministic compression). Every record ends in an output shard or a
/// rejects shard: the run checks `in == out + rejected`.
public final class PipelineRunner {
    public struct Report: Sendable {
        public var units = 0, skippedUnits = 0
        /// Segments of unfinished units found checkpointed and not redone.
        public var resumedSegments = 0
        public var recordsIn = 0, recordsOut = 0, rejected = 0, blankLines = 0
        public var rejectReasons: [String: Int] = [:]
        public var shards: [ShardInfo] = []
        /// Counts per stage, summed over units (finished earlier or now).
        public var stages = JSONObject()
        public var seconds = 0.0
        public var isConserved: Bool { recordsIn == recordsOut + rejected }
    }

    public let config: PipelineConfig
    public let rank: Int
    /// Engine requests of the translate stage are kept (and returned by `engineRequests`).
    public var recordsEngineRequests = false {
        didSet { for case let t as TranslateStage in stages { t.recordedRequests = recordsEngineRequests ? [] : nil } }
    }
    public var engineRequests: [GenerationRequest] { stages.compactMap { ($0 as? TranslateStage)?.recordedRequests }.flatMap { $0 } }
    /// The translate stage's embedded engine (the same model and settings the run uses).
    public var translationEngine: BatchEngine? { stages.compactMap { (($0 as? TranslateStage)?.backend as? EmbeddedBackend)?.engine }.first }
    public let worldSize: Int
    let log: (String) -> Void
    /// Called after every batch: (unit index, records done in the unit, fraction of the unit's
    /// bytes read, seconds since the unit started).
    public var progress: (Int, Int, Double, Double) -> Void = { _, _, _, _ in }
    /// Stops the run (throwing) after this many segments have been committed: a crash at a
    /// checkpoint, for tests.
    var interruptAfterSegments: Int?
    /// An output directory holding a different run's output (other definition or inputs) is
    /// cleared instead of refused (`glossa run --force-restart`).
    public var forceRestart = false
    /// Threads for parsing and record stages (normalize, detect-language, filter); the output
    /// is the same for any number.
    public let threads: Int
    /// Called once the output directory is claimed, before the first unit (`glossa run`
    /// reports its threads there, so that a refused run prints only its error).
    public var started: (() -> Void)?
    private var segmentsCommitted = 0
    private var stages: [PipelineStage] = []

    public init(config: PipelineConfig, rank: Int = 0, worldSize: Int = 1, environment: [String: String] = [:],
                threads: Int = System.coreCount, log: @escaping (String) -> Void = { _ in }) throws {
        guard worldSize >= 1, rank >= 0, rank < worldSize else {
            throw PipelineError.invalidArgument("rank \(rank) is outside a world of \(worldSize)")
        }
        self.config = config
        self.rank = rank
        self.worldSize = worldSize
        self.log = log
        self.threads = max(1, threads)
        stages = try Self.makeStages(config, environment: environment, threads: self.threads)
    }

    static func makeStages(_ config: PipelineConfig, environment: [String: String], threads: Int) throws -> [PipelineStage] {
        var backend: InferenceBackend?
        func engineBackend() throws -> InferenceBackend {
            if let backend { return backend }
            let made = try makeBackend(config.engine, environment: environment)
            backend = made
            return made
        }
        let fields = config.input.fields
        return try config.stages.map { stage -> PipelineStage in
            switch stage {
            case let .normalize(f, form):
                var c = Normalizer.Configuration.default
                if let form {
                    // The YAML reader checked the form (with its line); this guards configs built in code.
                    guard let parsed = Normalizer.Form(rawValue: form) else { throw PipelineError.invalidArgument("unknown normalization form \(form)") }
                    c.form = parsed
                }
                return RecordStepStage(name: "normalize", step: NormalizeStep(configuration: c, fields: f ?? fields), threads: threads)
            case let .detectLanguage(f):
                let path = LanguageIdentifier.defaultModelPath(environment: environment)
                let identifier: LanguageIdentifier
                do { identifier = try LanguageIdentifier(modelPath: path) } catch { throw PipelineError.invalidArgument("\(error)") }
                return RecordStepStage(name: "detect-language", step: DetectLanguageStep(identifier: identifier, fields: f ?? fields, metadataField: config.metadataField),
                                       threads: threads)
            case let .filter(languages, scripts, minC, maxC):
                return FilterStage(languages: languages, scripts: scripts, minCharacters: minC, maxCharacters: maxC, fields: fields, metadataField: config.metadataField)
            case let .translate(options):
                return TranslateStage(backend: try engineBackend(), options: options, fields: fields, metadataField: config.metadataField)
            case let .classify(options):
                return ClassifyStage(backend: try engineBackend(), options: options, fields: fields, metadataField: config.metadataField)
            case let .extract(options):
                return ExtractStage(backend: try engineBackend(), options: options, fields: fields, metadataField: config.metadataField)
            }
        }
    }

    /// The pipeline's model: loaded in-process, or an OpenAI-compatible server.
    public static func makeBackend(_ engine: PipelineConfig.Engine, environment: [String: String]) throws -> InferenceBackend {
        switch engine.backend {
        case .embedded:
            let path = engine.model == "default" ? LanguageModel.defaultModelPath(environment: environment) : engine.model
            let model: LanguageModel
            // Threads are the process's (`glossa run` sets them from --threads or engine.threads).
            do { model = try LanguageModel.load(path, options: EngineOptions(kvCache: engine.kvCache)) } catch {
                throw PipelineError.invalidArgument("cannot load model \(path): \(error)")
            }
            return EmbeddedBackend(model: model, kvBudgetTokens: engine.kvBudgetTokens, stepTokens: engine.stepTokens)
        case .remote:
            var options = RemoteBackend.Options(url: engine.url ?? "", model: engine.model)
            if let name = engine.apiKeyEnvironment {
                guard let key = environment[name], !key.isEmpty else {
                    throw PipelineError.invalidArgument("engine.api_key_env names \(name), which is not set in the environment")
                }
                options.apiKey = key
            }
            options.concurrency = engine.concurrency
            options.cacheDirectory = engine.cacheDirectory
            options.timeoutSeconds = engine.timeoutSeconds
            options.maxRetries = engine.maxRetries
            options.template = engine.chatTemplate
            return RemoteBackend(options: options)
        }
    }

    /// Input files: globs (`*`, `?` in the last component) and directories expanded to the
    /// regular files in them (hidden ones left out), sorted. A path that matches no file is an
    /// error naming the definition's file and line.
    public static func units(_ config: PipelineConfig) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        func isFile(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        for (k, pattern) in config.input.paths.enumerated() {
            let line = k < config.input.pathLines.count ? config.input.pathLines[k] : 1
            func fail(_ message: String) -> PipelineConfig.ConfigError {
                PipelineConfig.ConfigError(file: config.file, line: line, message: message)
            }
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: pattern, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let files = (try? fm.contentsOfDirectory(atPath: pattern))?.filter { !$0.hasPrefix(".") }.sorted()
                        .map { pattern + "/" + $0 }.filter(isFile) ?? []
                    if files.isEmpty { throw fail("input.paths: directory '\(pattern)' has no input files") }
                    out += files
                } else {
                    out.append(pattern)
                }
            } else if pattern.contains("*") || pattern.contains("?") {
                let directory = (pattern as NSString).deletingLastPathComponent
                let name = (pattern as NSString).lastPathComponent
                let matches = ((try? fm.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [])
                    .filter { !$0.hasPrefix(".") && fnmatch(name, $0, 0) == 0 }.sorted()
                    .map { directory.isEmpty ? $0 : directory + "/" + $0 }.filter(isFile)
                if matches.isEmpty { throw fail("input.paths: '\(pattern)' matches no file (relative paths are read from \(fm.currentDirectoryPath))") }
                out += matches
            } else {
                throw fail("input.paths: no such file or directory '\(pattern)' (relative paths are read from \(fm.currentDirectoryPath))")
            }
        }
        return out.flatMap { split($0, bytes: config.input.splitBytes) }
    }

    /// A plain file larger than `bytes` as byte ranges ("path#start-end"); each range's records
    /// are the lines that start inside it. Compressed files stay whole (no random access).
    static func split(_ path: String, bytes: Int) -> [String] {
        guard bytes > 0, path != "-", !isZstd(path: path),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > bytes
        else { return [path] }
        return stride(from: 0, to: size, by: bytes).map { "\(path)#\($0)-\(min(size, $0 + bytes))" }
    }

    /// Stable assignment of units to ranks: the same unit always lands on the same rank.
    public static func rank(of unit: String, worldSize: Int) -> Int {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in unit.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        return Int(h % UInt64(worldSize))
    }

    /// Sorted task ids as a Slurm array range: [0, 1, 2, 3, 7] -> "0-3,7".
    public static func arrayRanges(_ ids: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < ids.count {
            var j = i
            while j + 1 < ids.count && ids[j + 1] == ids[j] + 1 { j += 1 }
            parts.append(j == i ? String(ids[i]) : "\(ids[i])-\(ids[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// The world size written in the output's manifests by an earlier run, if any.
    public static func recordedWorldSize(_ directory: String) -> Int? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasPrefix("manifest-rank-") && name.hasSuffix(".json") {
            if let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
               case let .number(n)? = try? JSONParser.parse(String(decoding: data, as: UTF8.self)).value.objectValue?["world_size"] {
                return Int(n)
            }
        }
        return nil
    }

    var temporaryDirectory: String { "\(config.output.directory)/.glossa/tmp/rank-\(rank)" }

    /// The copy of the pipeline definition a run leaves in its output directory.
    public static func definitionPath(_ directory: String) -> String { "\(directory)/.glossa/pipeline.yaml" }

    /// Where the completion marker of an input unit lives (named by the unit's stable id).
    public static func markerPath(_ directory: String, unit: String) -> String {
        "\(directory)/.glossa/units/\(UnitNames.id(unit)).json"
    }

    public func run() throws -> Report {
        let started = Date()
        var report = Report()
        let directory = config.output.directory
        if let problem = OutputPaths.directoryProblem(directory) { throw PipelineError.invalidArgument(problem) }
        if let problem = OutputPaths.templateProblem(config.output.path) { throw PipelineError.invalidArgument(problem) }
        let all = try Self.units(config)
        try OutputPaths.makeDirectory(directory)
        try OutputPaths.makeDirectory(directory + "/.glossa/units")
        // Files being written live in this rank's scratch folder until they are renamed into
        // place; whatever a killed run left there is thrown away.
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
        try OutputPaths.makeDirectory(temporaryDirectory)
        try RunFingerprint(config: config, units: all).claim(directory, config: config, forceRestart: forceRestart,
                                                             temporaryDirectory: temporaryDirectory, log: log)
        try OutputPaths.makeDirectory(directory + "/.glossa/units")
        let definition = Self.definitionPath(directory)
        if FileManager.default.contents(atPath: definition) != Data(config.source.utf8) {
            let sink = try AtomicFileSink(path: definition, temporaryDirectory: temporaryDirectory)
            try sink.write(Array(config.source.utf8))
            try sink.commit()
        }
        self.started?()
        for (index, unit) in all.enumerated() where Self.rank(of: unit, worldSize: worldSize) == rank {
            report.units += 1
            let marker = Self.markerPath(directory, unit: unit)
            if let done = UnitMarker.read(marker), done.fingerprint == config.fingerprint, done.input == unit {
                report.skippedUnits += 1
                report.add(done)
                log("unit \(index) \(unit): already done (\(done.recordsIn) records)")
                continue
            }
            let (done, resumed) = try process(unit: unit, index: index)
            report.resumedSegments += resumed
            try done.write(marker, temporaryDirectory: temporaryDirectory)
            report.add(done)
            log("unit \(index) \(unit): \(done.recordsIn) in, \(done.recordsOut) out, \(done.rejected) rejected")
        }
        report.seconds = Date().timeIntervalSince(started)
        try writeManifest(report)
        return report
    }

    /// Where the checkpoint of segment `segment` of a unit lives.
    static func segmentPath(_ directory: String, unit: String, segment: Int) -> String {
        "\(directory)/.glossa/units/\(UnitNames.id(unit)).\(String(segment).leftPadded(to: 5)).json"
    }

    /// A unit is read in segments of `checkpointRecords` input lines. Each segment's shards are
    /// published with a checkpoint marker as soon as it is done; a resumed run skips finished
    /// segments (reading past their lines) and redoes the rest. Segment boundaries depend only
    /// on the input, so a resumed run writes exactly the files of an uninterrupted one.
    private func process(unit: String, index: Int) throws -> (UnitMarker, resumed: Int) {
        let lines = try UnitLines(unit: unit)
        let directory = config.output.directory
        var marker = UnitMarker(input: unit, fingerprint: config.fingerprint)
        var segment = 0, resumed = 0
        let started = Date()
        while true {
            let path = Self.segmentPath(directory, unit: unit, segment: segment)
            if let done = UnitMarker.read(path), done.fingerprint == config.fingerprint, done.input == unit {
                while lines.number < done.endLine, try lines.next() != nil {}
                marker.merge(done)
                segment += 1
                resumed += 1
                if done.isLast { break }
                continue
            }
            let done = try process(segment: segment, of: unit, index: index, lines: lines, started: started)
            try done.write(path, temporaryDirectory: temporaryDirectory)
            segmentsCommitted += 1
            if let limit = interruptAfterSegments, segmentsCommitted >= limit {
                throw PipelineError.invalidArgument("interrupted after \(limit) segments")
            }
            marker.merge(done)
            segment += 1
            if done.isLast { break }
        }
        for s in 0..<segment { try? FileManager.default.removeItem(atPath: Self.segmentPath(directory, unit: unit, segment: s)) }
        return (marker, resumed)
    }

    private func process(segment: Int, of unit: String, index: Int, lines: UnitLines, started: Date) throws -> UnitMarker {
        let template = try PathTemplate(config.output.path)
        // Named by the unit's stable id, never its position among the inputs.
        let name = UnitNames.id(unit) + "-" + String(segment).leftPadded(to: 4)
        let output = ShardedWriter(directory: config.output.directory, template: template, maxRecords: config.output.maxRecords,
                                   maxBytes: config.output.maxBytes, rank: rank, unit: name,
                                   temporaryDirectory: temporaryDirectory, avoidingReservedNames: true)
        let rejects = ShardedWriter(directory: config.output.directory, template: try PathTemplate("rejects/part-${rank}-${shard}.jsonl.zst"),
                                    maxRecords: config.output.maxRecords, maxBytes: config.output.maxBytes, rank: rank, unit: name,
                                    temporaryDirectory: temporaryDirectory)
        var marker = UnitMarker(input: unit, fingerprint: config.fingerprint)
        let writer = BackgroundWriter()
        do {
            let isText = config.input.format == .text || (config.input.format == .auto && (lines.path.hasSuffix(".txt") || lines.path.hasSuffix(".txt.zst")))
            let inputName = (lines.path as NSString).lastPathComponent
            var batch: [(PipelineRecord, line: Int, offset: Int, raw: [UInt8])] = []
            var batchBytes = 0
            // Engine stages fill the engine's batch; a pipeline of record stages alone reads
            // larger batches (up to 16 MiB of input) so that every thread has work.
            let engineBatch = stages.contains { $0.usesEngine }
            let batchRecords = engineBatch ? config.engine.batchRecords : 4096
            // Rejects name the file's line; a byte range's lines are numbered from its start,
            // so its first line's number in the file is looked up once, when first needed.
            var lineBase: Int?
            func fileLine(_ number: Int) throws -> Int {
                if lines.range == nil { return number }
                if lineBase == nil {
                    lineBase = try lines.fileLineBase(RangeLineCounter(cacheDirectory: config.output.directory + "/.glossa/newlines",
                                                                       temporaryDirectory: temporaryDirectory),
                                                      split: config.input.splitBytes)
                }
                return number + (lineBase ?? 0)
            }
            func flush() throws {
                guard !batch.isEmpty else { return }
                // Parsing, like the record stages, is split between the threads; each line is
                // parsed as it would be alone.
                Parallel.update(&batch, threads: threads) { pending, _ in
                    guard pending.0.rejection == nil else { return }
                    pending.0 = pending.raw.withUnsafeBufferPointer { RecordLines.parse($0, isText: isText, name: inputName, line: pending.line) }
                }
                batchBytes = 0
                var records = batch.map(\.0)
                for stage in stages { try stage.process(&records) }
                // Kept records are serialized on all threads too; the writers take them in order.
                var lines = [[UInt8]](repeating: [], count: records.count)
                let processed = records
                Parallel.update(&lines, threads: threads) { line, k in
                    guard processed[k].rejection == nil else { return }
                    JSONWriter.write(.object(processed[k].object), into: &line)
                    line.append(0x0A)
                }
                // Each line with its language (nil: a reject), in input order.
                var writes: [(bytes: [UInt8], language: String?)] = []
                writes.reserveCapacity(records.count)
                for (k, record) in records.enumerated() {
                    marker.recordsIn += 1
                    if let rejection = record.rejection {
                        marker.rejected += 1
                        marker.rejectReasons[rejection.reason, default: 0] += 1
                        writes.append((RecordLines.reject(input: unit, line: try fileLine(batch[k].line), offset: batch[k].offset, rejection, raw: batch[k].raw), nil))
                    } else {
                        marker.recordsOut += 1
                        writes.append((lines[k], record.object[config.metadataField]?.objectValue?["language"]?.stringValue ?? "und"))
                    }
                }
                batch.removeAll()
                // Compressed and written while the next batch is read and processed; in order.
                try writer.check()
                let handed = Handed(value: (writes, output, rejects))
                writer.submit {
                    let (writes, output, rejects) = handed.value
                    for w in writes {
                        if let language = w.language { try output.write(w.bytes, language: language) } else { try rejects.write(w.bytes) }
                    }
                }
            }
            let end = lines.number + config.output.checkpointRecords
            while lines.number < end {
                guard let line = try lines.next() else { break }
                switch line {
                case let .text(bytes, number, offset):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { marker.blankLines += 1; continue }
                    // Parsed when the batch is flushed (on all threads).
                    batch.append((PipelineRecord(object: JSONObject(), rejection: nil, repairs: 0), number, offset, Array(bytes)))
                    batchBytes += bytes.count
                case let .tooLong(length, number, offset):
                    let record = PipelineRecord(object: JSONObject(), rejection: Rejection(Rejection.lineTooLong, "line of \(length) bytes"), repairs: 0)
                    batch.append((record, number, offset, []))
                }
                if batch.count >= batchRecords || batchBytes >= 16 << 20 {
                    try flush()
                    progress(index, lines.number, lines.fractionRead, Date().timeIntervalSince(started))
                }
            }
            try flush()
            try writer.finish()
            // A full segment may end exactly at the end of the input; the next (empty) one says so.
            marker.isLast = lines.number < end
            marker.endLine = lines.number
            marker.shards = try output.commit() + rejects.commit()
        } catch {
            // No write may still be running on the writers being abandoned.
            try? writer.finish()
            output.abandon()
            rejects.abandon()
            throw error
        }
        marker.stages = stages.map { ($0.name, $0.statsJSON) }
        for stage in stages { stage.resetStats() }
        return marker
    }

    private func writeManifest(_ report: Report) throws {
        let manifest = JSONObject([
            "pipeline": .string(config.name),
            "fingerprint": .string(config.fingerprint),
            "rank": .number(String(rank)),
            "world_size": .number(String(worldSize)),
            "units": .number(String(report.units)),
            "records_in": .number(String(report.recordsIn)),
            "records_out": .number(String(report.recordsOut)),
            "rejected": .number(String(report.rejected)),
            "reject_reasons": .object(JSONObject(report.rejectReasons.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .number(String($0.value))) })),
            "stages": .object(report.stages),
            "shards": .array(report.shards.map(\.json)),
        ])
        let sink = try AtomicFileSink(path: "\(config.output.directory)/manifest-rank-\(rank).json", temporaryDirectory: temporaryDirectory)
        var bytes: [UInt8] = []
        JSONWriter.write(.object(manifest), into: &bytes)
        bytes.append(0x0A)
        try sink.write(bytes)
        try sink.commit()
    }
}

/// What a finished unit produced; its presence marks the unit done.
struct UnitMarker {
    var input: String
    var fingerprint: String
    var recordsIn = 0, recordsOut = 0, rejected = 0, blankLines = 0
    var rejectReasons: [String: Int] = [:]
    var shards: [ShardInfo] = []
    var stages: [(String, JSONValue)] = []
    /// Checkpoints of segments: input lines read when the segment ended, and whether the input
    /// ended with it.
    var endLine = 0
    var isLast = false

    init(input: String, fingerprint: String) {
        self.input = input
        self.fingerprint = fingerprint
    }

    static func read(_ path: String) -> UnitMarker? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONParser.parse(String(decoding: data, as: UTF8.self)).value.objectValue,
              let input = object["input"]?.stringValue, let fingerprint = object["fingerprint"]?.stringValue,
              case let .array(shards)? = object["shards"]
        else { return nil }
        var m = UnitMarker(input: input, fingerprint: fingerprint)
        if case let .object(stages)? = object["stages"] { m.stages = stages.members.map { ($0.key, $0.value) } }
        func int(_ k: String) -> Int { if case let .number(n)? = object[k] { return Int(n) ?? 0 } else { return 0 } }
        m.recordsIn = int("records_in"); m.recordsOut = int("records_out"); m.rejected = int("rejected"); m.blankLines = int("blank_lines")
        if case let .object(r)? = object["reject_reasons"] {
            for member in r.members { if case let .number(n) = member.value { m.rejectReasons[member.key] = Int(n) ?? 0 } }
        }
        m.shards = shards.compactMap(ShardInfo.init(json:))
        m.endLine = int("end_line")
        if case .bool(let last)? = object["last"] { m.isLast = last }
        return m
    }

    func write(_ path: String, temporaryDirectory: String) throws {
        let object = JSONObject([
            "input": .string(input), "fingerprint": .string(fingerprint),
            "records_in": .number(String(recordsIn)), "records_out": .number(String(recordsOut)),
            "rejected": .number(String(rejected)), "blank_lines": .number(String(blankLines)),
            "reject_reasons": .object(JSONObject(rejectReasons.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .number(String($0.value))) })),
            "shards": .array(shards.map(\.json)),
            "stages": .object(JSONObject(stages.map { .init(key: $0.0, value: $0.1) })),
            "end_line": .number(String(endLine)), "last": .bool(isLast),
        ])
        let sink = try AtomicFileSink(path: path, temporaryDirectory: temporaryDirectory)
        var bytes: [UInt8] = []
        JSONWriter.write(.object(object), into: &bytes)
        bytes.append(0x0A)
        try sink.write(bytes)
        try sink.commit()
    }
}

extension UnitMarker {
    mutating func merge(_ m: UnitMarker) {
        recordsIn += m.recordsIn; recordsOut += m.recordsOut; rejected += m.rejected; blankLines += m.blankLines
        rejectReasons.merge(m.rejectReasons, uniquingKeysWith: +)
        shards += m.shards
        var merged = stages
        for (name, counts) in m.stages {
            if let i = merged.firstIndex(where: { $0.0 == name }) { merged[i].1 = mergeCounts(merged[i].1, counts) } else { merged.append((name, counts)) }
        }
        stages = merged
        endLine = m.endLine
        isLast = m.isLast
    }
}

/// The lines of one unit: a whole file, or the lines that start inside a byte range of a plain
/// file ("path#start-end"). Line numbers count from the unit's first line; offsets are the file's.
final class UnitLines {
    let path: String
    let range: Range<Int>?
    private let source: ByteSource
    private let reader: LineReader
    private var skipped = 0
    /// The byte before the range is a line feed (the skipped partial line was empty).
    private var startsOnLine = false
    private var finished = false
    private let size: Double
    private(set) var number = 0

    init(unit: String) throws {
        if let hash = unit.lastIndex(of: "#"), case let bounds = unit[unit.index(after: hash)...].split(separator: "-"),
           bounds.count == 2, let start = Int(bounds[0]), let end = Int(bounds[1]), start < end {
            path = String(unit[..<hash])
            range = start..<end
        } else {
            path = unit
            range = nil
        }
        if let range, range.lowerBound > 0 {
            // Start on the byte before the range: the (partial) line read first belongs to the
            // previous range, unless that byte is a line feed, when it is empty.
            source = try FileSource(path: path, offset: range.lowerBound - 1)
            reader = LineReader(source, baseOffset: range.lowerBound - 1)
            if case let .text(bytes, _, _)? = try reader.next() { startsOnLine = bytes.isEmpty }
            skipped = 1
        } else {
            source = try openByteSource(path: path)
            reader = LineReader(source)
        }
        size = Double(range?.count ?? ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0))
    }

    func next() throws -> LineReader.Line? {
        guard !finished, let line = try reader.next() else { finished = true; return nil }
        if let range, line.offset >= range.upperBound { finished = true; return nil }
        switch line {
        case let .text(bytes, n, offset):
            number = n - skipped
            return .text(bytes, number: number, offset: offset)
        case let .tooLong(length, n, offset):
            number = n - skipped
            return .tooLong(bytes: length, number: number, offset: offset)
        }
    }

    /// What to add to a line number of this unit to get the file's line number: 0 for a whole
    /// file; for a range starting at s, the line feeds before s - 1, plus one (the line read
    /// first from s - 1 is the previous range's, unless byte s - 1 is itself a line feed).
    func fileLineBase(_ counter: RangeLineCounter, split: Int) throws -> Int {
        guard let range, range.lowerBound > 0 else { return 0 }
        let feeds = try counter.lineFeeds(in: path, before: range.lowerBound, split: split)
        return feeds + 1 - (startsOnLine ? 1 : 0)
    }

    var fractionRead: Double {
        size > 0 ? min(1, Double(source.position - (range?.lowerBound ?? 0)) / size) : 0
    }
}

extension LineReader.Line {
    var offset: Int {
        switch self {
        case let .text(_, _, offset), let .tooLong(_, _, offset): offset
        }
    }
}

extension PipelineRunner.Report {
    mutating func add(_ m: UnitMarker) {
        recordsIn += m.recordsIn; recordsOut += m.recordsOut; rejected += m.rejected; blankLines += m.blankLines
        rejectReasons.merge(m.rejectReasons, uniquingKeysWith: +)
        shards += m.shards
        for (name, counts) in m.stages { stages[name] = stages[name].map { mergeCounts($0, counts) } ?? counts }
    }
}
