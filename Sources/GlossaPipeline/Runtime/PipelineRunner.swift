import Foundation
import GlossaEngine
import GlossaText

/// Runs a pipeline over its input units (files), this rank's share of them: every `glossa run`,
/// and `glossa normalize` / `glossa detect` as one-stage pipelines.
///
/// Each unit's lines are read in batches, parsed, passed through the stages and written:
/// into shards named after the unit, published with a checkpoint per segment and a completion
/// marker per unit (a re-run skips finished units and segments and gives byte-identical
/// output: greedy engine, deterministic compression); or, for a `FileOutput`, into one file
/// published at the end. Every record ends in an output or a rejects file: the run checks
/// `in == out + rejected`.
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
        /// Records each stage saw and rejected and its seconds, summed over units as `stages` is.
        public var stageRuns: [StageRun] = []
        /// This run's progress, batch by batch (not that of units finished by an earlier run).
        public var timeline = RunTimeline()
        /// When this run started (wall clock: the report lines up the ranks' timelines by it).
        public var startedAt = Date()
        /// Bytes read and written (before compression) by this run (not by resumed units).
        public var bytesIn = 0, bytesOut = 0
        public var seconds = 0.0
        public var isConserved: Bool { recordsIn == recordsOut + rejected }
    }

    public let config: PipelineConfig
    public let rank: Int
    public let worldSize: Int
    /// Threads for parsing, record stages (normalize, detect-language, filter) and
    /// serialization; the output is the same for any number.
    public let threads: Int
    let log: (String) -> Void
    /// Called after every batch: (unit index, records done in the unit, fraction of the unit's
    /// bytes read, seconds since the unit started).
    public var progress: (Int, Int, Double, Double) -> Void = { _, _, _, _ in }
    /// An output directory holding a different run's output (other definition or inputs) is
    /// cleared instead of refused (`glossa run --force-restart`).
    public var forceRestart = false
    /// Stops the run (throwing) after this many segments have been committed: a crash at a
    /// checkpoint, for tests.
    var interruptAfterSegments: Int?
    /// Records per batch when no stage uses the engine (engine stages fill `engine.batch_records`).
    var recordBatchRecords = 4096
    /// Called once the output directory is claimed, before the first unit (`glossa run`
    /// reports its threads there, so that a refused run prints only its error).
    public var started: (() -> Void)?
    private var segmentsCommitted = 0
    /// Filled batch by batch while `run()` goes; copied into its report.
    private var timeline = RunTimeline()
    private var runStarted = 0.0
    private let stages: [any PipelineStage]
    /// The model the engine stages share (nil until a stage asks for it, or with no engine stage).
    private var backend: InferenceBackend?
    private let recorder: RecordingBackend?

    /// With `recordingEngineRequests`, every request the stages send is kept (`engineRequests`):
    /// the pipeline-overhead benchmark replays them on a bare engine.
    public init(config: PipelineConfig, rank: Int = 0, worldSize: Int = 1, environment: [String: String] = [:],
                threads: Int = System.coreCount, recordingEngineRequests: Bool = false,
                log: @escaping (String) -> Void = { _ in }) throws {
        guard worldSize >= 1, rank >= 0, rank < worldSize else {
            throw GlossaError.invalidArgument("rank \(rank) is outside a world of \(worldSize)")
        }
        self.config = config
        self.rank = rank
        self.worldSize = worldSize
        self.log = log
        self.threads = max(1, threads)
        var backend: InferenceBackend?
        var recorder: RecordingBackend?
        let context = StageContext(fields: config.input.fields, metadataField: config.metadataField, environment: environment) {
            if let backend { return backend }
            var made = try Self.makeBackend(config.engine, environment: environment)
            if recordingEngineRequests {
                let r = RecordingBackend(made)
                recorder = r
                made = r
            }
            backend = made
            return made
        }
        stages = try config.stages.map { try $0.makeStage(context) }
        self.backend = backend
        self.recorder = recorder
    }

    /// The embedded engine the stages use (nil for a remote backend or no engine stage).
    public var engine: BatchEngine? { backend?.embeddedEngine }
    /// The requests the engine stages sent, in order (with `recordingEngineRequests`).
    public var engineRequests: [GenerationRequest] { recorder?.requests ?? [] }

    /// The pipeline's model: loaded in-process, or an OpenAI-compatible server.
    public static func makeBackend(_ engine: PipelineConfig.Engine, environment: [String: String]) throws -> InferenceBackend {
        switch engine.backend {
        case .embedded:
            let path = engine.model == "default" ? LanguageModel.defaultModelPath(environment: environment) : engine.model
            let model: LanguageModel
            // Threads are the process's (`glossa run` sets them from --threads or engine.threads).
            do { model = try LanguageModel.load(path, options: EngineOptions(kvCache: engine.kvCache)) } catch {
                throw GlossaError.invalidArgument("cannot load model \(path): \(error)")
            }
            return EmbeddedBackend(model: model, kvBudgetTokens: engine.kvBudgetTokens, stepTokens: engine.stepTokens)
        case .remote:
            var options = RemoteBackend.Options(url: engine.url ?? "", model: engine.model)
            if let name = engine.apiKeyEnvironment {
                guard let key = environment[name], !key.isEmpty else {
                    throw GlossaError.invalidArgument("engine.api_key_env names \(name), which is not set in the environment")
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

    var temporaryDirectory: String { "\(config.output.directory)/.glossa/tmp/rank-\(rank)" }

    public func run() throws -> Report {
        if let file = config.output.file { return try run(into: file) }
        let started = Date()
        var report = Report()
        report.startedAt = started
        timeline = RunTimeline()
        runStarted = System.monotonicSeconds()
        let directory = config.output.directory
        if let problem = OutputPaths.directoryProblem(directory) { throw GlossaError.invalidArgument(problem) }
        if let problem = OutputPaths.templateProblem(config.output.path) { throw GlossaError.invalidArgument(problem) }
        let all = try InputUnits.list(config)
        try OutputPaths.makeDirectory(directory)
        try OutputPaths.makeDirectory(directory + "/.glossa/units")
        // Files being written live in this rank's scratch folder until they are renamed into
        // place; whatever a killed run left there is thrown away.
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
        try OutputPaths.makeDirectory(temporaryDirectory)
        try RunFingerprint(config: config, units: all).claim(directory, config: config, forceRestart: forceRestart,
                                                             temporaryDirectory: temporaryDirectory, log: log)
        try OutputPaths.makeDirectory(directory + "/.glossa/units")
        let definition = Checkpoints.definitionPath(directory)
        if FileManager.default.contents(atPath: definition) != Data(config.source.utf8) {
            let sink = try AtomicFileSink(path: definition, temporaryDirectory: temporaryDirectory)
            try sink.write(Array(config.source.utf8))
            try sink.commit()
        }
        self.started?()
        for (index, unit) in all.enumerated() where Ranks.rank(of: unit, worldSize: worldSize) == rank {
            report.units += 1
            let marker = Checkpoints.markerPath(directory, unit: unit)
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
        report.timeline = timeline
        try Manifest.write(report, config: config, rank: rank, worldSize: worldSize, threads: threads,
                           usesEngine: stages.contains { $0.usesEngine }, temporaryDirectory: temporaryDirectory)
        // The report merges every rank's manifest found so far, so the last rank to finish
        // writes the complete one. The records are safe by now: a report that cannot be
        // written is said, not a failed run (`glossa report OUTPUT_DIR` writes it again).
        do { try RunReport.write(directory: directory, temporaryDirectory: temporaryDirectory) } catch {
            log("report.html not written: \(error)")
        }
        return report
    }

    /// Every unit, in order, into one file: no checkpoints (a failed run publishes nothing and
    /// starts over).
    private func run(into file: FileOutput) throws -> Report {
        let started = System.monotonicSeconds()
        runStarted = started
        guard !config.input.paths.isEmpty else { throw GlossaError.invalidArgument("no input files given") }
        var report = Report()
        let destination = try FileDestination(file)
        do {
            for (index, path) in config.input.paths.enumerated() {
                let lines = try UnitLines(unit: path, maxLineBytes: config.input.maxLineBytes)
                var done = UnitMarker(input: path, fingerprint: config.fingerprint)
                try pump(lines, unit: path, index: index, until: nil, into: destination, counts: &done, started: Date())
                done.bytesIn = lines.bytesRead
                report.units += 1
                report.add(done)
            }
            try destination.commit()
        } catch {
            destination.abandon()
            throw error
        }
        report.seconds = System.monotonicSeconds() - started
        return report
    }

    /// A unit is read in segments of `checkpointRecords` input lines. Each segment's shards are
    /// published with a checkpoint marker as soon as it is done; a resumed run skips finished
    /// segments (reading past their lines) and redoes the rest. Segment boundaries depend only
    /// on the input, so a resumed run writes exactly the files of an uninterrupted one.
    private func process(unit: String, index: Int) throws -> (UnitMarker, resumed: Int) {
        let lines = try UnitLines(unit: unit, maxLineBytes: config.input.maxLineBytes)
        let directory = config.output.directory
        var marker = UnitMarker(input: unit, fingerprint: config.fingerprint)
        var segment = 0, resumed = 0
        let started = Date()
        while true {
            let path = Checkpoints.segmentPath(directory, unit: unit, segment: segment)
            if let done = UnitMarker.read(path), done.fingerprint == config.fingerprint, done.input == unit {
                while lines.number < done.endLine, try lines.next() != nil {}
                marker.merge(done)
                segment += 1
                resumed += 1
                if done.isLast { break }
                continue
            }
            // Named by the unit's stable id, never its position among the inputs.
            let name = UnitNames.id(unit) + "-" + String(segment).leftPadded(to: 4)
            let shards = try ShardDestination(config: config, rank: rank, name: name, temporaryDirectory: temporaryDirectory)
            var done = UnitMarker(input: unit, fingerprint: config.fingerprint)
            do {
                let end = lines.number + config.output.checkpointRecords
                try pump(lines, unit: unit, index: index, until: end, into: shards, counts: &done, started: started)
                // A full segment may end exactly at the end of the input; the next (empty) one says so.
                done.isLast = lines.number < end
                done.endLine = lines.number
                done.shards = try shards.commit()
            } catch {
                shards.abandon()
                throw error
            }
            try done.write(path, temporaryDirectory: temporaryDirectory)
            segmentsCommitted += 1
            if let limit = interruptAfterSegments, segmentsCommitted >= limit {
                throw GlossaError.invalidArgument("interrupted after \(limit) segments")
            }
            marker.merge(done)
            segment += 1
            if done.isLast { break }
        }
        for s in 0..<segment { try? FileManager.default.removeItem(atPath: Checkpoints.segmentPath(directory, unit: unit, segment: s)) }
        return (marker, resumed)
    }

    /// A line waiting in a batch: parsed when the batch is flushed (on all threads).
    private struct Pending {
        var record: PipelineRecord
        var line: Int
        var offset: Int
        var raw: [UInt8]
        /// The length of a line too long to keep (its reject says how long it was).
        var tooLong: Int? = nil
    }

    /// Reads `lines` (up to line `end`, or to the end) in batches through the stages into
    /// `destination`, counting into `counts`; each stage's counts go into `counts.stages`.
    private func pump(_ lines: UnitLines, unit: String, index: Int, until end: Int?, into destination: RecordDestination,
                      counts: inout UnitMarker, started: Date) throws {
        let isText = config.input.format.isText(path: lines.path)
        let inputName = (lines.path as NSString).lastPathComponent
        var stats = stages.map(\.emptyStats)
        var runs = stages.map { StageRun(name: $0.name) }
        var batch: [Pending] = []
        var batchBytes = 0
        // Engine stages fill the engine's batch; a pipeline of record stages alone reads
        // larger batches (up to 16 MiB of input) so that every thread has work.
        let batchRecords = stages.contains { $0.usesEngine } ? config.engine.batchRecords : recordBatchRecords
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
        let writer = BackgroundWriter()
        func flush() throws {
            guard !batch.isEmpty else { return }
            // Each line is parsed as it would be alone, so the split between threads changes nothing.
            Parallel.update(&batch, threads: threads) { pending, _ in
                guard pending.record.rejection == nil else { return }
                pending.record = pending.raw.withUnsafeBufferPointer { RecordLines.parse($0, isText: isText, name: inputName, line: pending.line) }
            }
            batchBytes = 0
            var records = batch.map(\.record)
            let tokensBefore = stats.reduce((0, 0)) { ($0.0 + $1["prompt_tokens"], $0.1 + $1["generated_tokens"]) }
            var live = records.reduce(0) { $0 + ($1.rejection == nil ? 1 : 0) }
            for (s, stage) in stages.enumerated() {
                let t0 = System.monotonicSeconds()
                try stage.process(&records, stats: &stats[s], threads: threads)
                runs[s].seconds += System.monotonicSeconds() - t0
                let left = records.reduce(0) { $0 + ($1.rejection == nil ? 1 : 0) }
                runs[s].records += live
                runs[s].rejected += live - left
                live = left
            }
            // Engine stages count their tokens (translate, extract); the timeline takes the batch's.
            let tokensAfter = stats.reduce((0, 0)) { ($0.0 + $1["prompt_tokens"], $0.1 + $1["generated_tokens"]) }
            timeline.add(seconds: System.monotonicSeconds() - runStarted, records: records.count,
                         promptTokens: tokensAfter.0 - tokensBefore.0, generatedTokens: tokensAfter.1 - tokensBefore.1)
            // Kept records are serialized on all threads too; the writer takes them in order.
            var serialized = [[UInt8]](repeating: [], count: records.count)
            let processed = records
            Parallel.update(&serialized, threads: threads) { line, k in
                guard processed[k].rejection == nil else { return }
                JSONWriter.write(.object(processed[k].object), into: &line)
                line.append(0x0A)
            }
            // Each line with its language (nil: a reject), in input order.
            var writes: [(bytes: [UInt8], language: String?)] = []
            writes.reserveCapacity(records.count)
            for (k, record) in records.enumerated() {
                counts.recordsIn += 1
                if let rejection = record.rejection {
                    counts.rejected += 1
                    counts.rejectReasons[rejection.reason, default: 0] += 1
                    let reject = RecordLines.reject(input: unit, line: try fileLine(batch[k].line), offset: batch[k].offset, rejection,
                                                    raw: batch[k].raw, tooLong: batch[k].tooLong)
                    writes.append((reject, nil))
                } else {
                    counts.recordsOut += 1
                    counts.bytesOut += serialized[k].count
                    writes.append((serialized[k], record.object[config.metadataField]?.objectValue?["language"]?.stringValue ?? "und"))
                }
            }
            batch.removeAll()
            // Compressed and written while the next batch is read and processed; in order.
            try writer.check()
            let handed = Handed(value: (writes, destination))
            writer.submit {
                let (writes, destination) = handed.value
                for w in writes {
                    if let language = w.language { try destination.write(w.bytes, language: language) } else { try destination.reject(w.bytes) }
                }
            }
        }
        do {
            while end.map({ lines.number < $0 }) ?? true {
                guard let line = try lines.next() else { break }
                switch line {
                case let .text(bytes, number, offset):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { counts.blankLines += 1; continue }
                    batch.append(Pending(record: PipelineRecord(object: JSONObject()), line: number, offset: offset, raw: Array(bytes)))
                    batchBytes += bytes.count
                case let .tooLong(length, number, offset):
                    let rejection = Rejection(Rejection.lineTooLong, "line of \(length) bytes exceeds the limit of \(config.input.maxLineBytes) bytes")
                    batch.append(Pending(record: PipelineRecord(object: JSONObject(), rejection: rejection), line: number, offset: offset, raw: [], tooLong: length))
                }
                if batch.count >= batchRecords || batchBytes >= 16 << 20 {
                    try flush()
                    progress(index, lines.number, lines.fractionRead, Date().timeIntervalSince(started))
                }
            }
            try flush()
            try writer.finish()
        } catch {
            // No write may still be running on a destination about to be abandoned.
            try? writer.finish()
            throw error
        }
        counts.stages = zip(stages, stats).map { ($0.name, $1.json) }
        counts.stageRuns = []
        counts.stageRuns.merge(runs)
    }
}

extension PipelineRunner.Report {
    mutating func add(_ m: UnitMarker) {
        recordsIn += m.recordsIn; recordsOut += m.recordsOut; rejected += m.rejected; blankLines += m.blankLines
        bytesIn += m.bytesIn; bytesOut += m.bytesOut
        rejectReasons.merge(m.rejectReasons, uniquingKeysWith: +)
        shards += m.shards
        for (name, counts) in m.stages { stages[name] = stages[name].map { mergeCounts($0, counts) } ?? counts }
        stageRuns.merge(m.stageRuns)
    }
}
