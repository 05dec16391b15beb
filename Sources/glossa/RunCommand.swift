import ArgumentParser
import Foundation
import GlossaEngine
import GlossaPipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a YAML pipeline (pipelines/*.yaml) over its inputs.",
        discussion: """
            Ranks: --rank/--world-size, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or
            JOB_COMPLETION_INDEX with --world-size. Re-running the same command after a crash skips
            finished input units and produces the same bytes. An output directory written from
            another definition or other inputs is refused: --force-restart deletes that output
            and starts afresh, --output writes elsewhere.
            """
    )

    @Argument(help: "Pipeline definition.")
    var pipeline: String

    @Option(help: "This process's rank.")
    var rank: Int?

    @Option(help: "Number of ranks.")
    var worldSize: Int?

    @Option(help: "Write to this directory instead of the definition's output.dir.")
    var output: String?

    @Flag(help: "If the output directory holds a run of another definition or other inputs, delete that output and start afresh (a matching run resumes as usual).")
    var forceRestart = false

    @Option(help: ArgumentHelp(
        "Threads for the engine and for parsing and the record stages (normalize, detect-language, filter): a number or auto (default: GLOSSA_THREADS, else engine.threads, else auto = the CPUs this process may use, divided between the ranks on this node). The output does not depend on it.",
        valueName: "n|auto"))
    var threads: ThreadCount?

    func run() throws {
        var config: PipelineConfig
        do {
            config = try PipelineConfig.load(path: pipeline)
            if let output {
                if let problem = OutputPaths.directoryProblem(output) { throw ValidationError("--output: " + problem.replacingOccurrences(of: "output.dir", with: "the directory")) }
                config.output.directory = output
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("glossa run: \(describe(error))")
            throw ExitCode(2)
        }
        let env = environment
        let world = worldSize ?? env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) ?? 1
        let me = rank ?? env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) ?? env["JOB_COMPLETION_INDEX"].flatMap(Int.init) ?? 0
        // One setting for the engine and the record stages; auto shares the node's CPUs between
        // the ranks running on it (LocalRanks).
        let localRanks: Int
        do { localRanks = try LocalRanks.count(worldSize: world, environment: env) } catch {
            printError("glossa run: \(describe(error))")
            throw ExitCode(2)
        }
        let choice = try chooseEngineThreads(threads, pipeline: config.engine.threads, localRanks: localRanks)
        let report: PipelineRunner.Report
        do {
            let runner = try PipelineRunner(config: config, rank: me, worldSize: world, environment: env,
                                            threads: choice.count) { message in
                printError((isatty(2) != 0 ? "\r\u{1B}[K" : "") + "  " + message)
            }
            runner.forceRestart = forceRestart
            // Reported once the output directory is claimed: a run refused before that prints
            // only its one-line error.
            runner.started = { printError("threads (engine and record stages): \(choice.summary)") }
            // On a terminal a live line (records/s, ETA); otherwise a log line every 10 seconds.
            var lastLine = 0.0
            runner.progress = { unit, records, fraction, seconds in
                let rate = Double(records) / max(seconds, 1e-9)
                let eta = fraction > 0.01 ? seconds * (1 - fraction) / fraction : .nan
                let line = "unit \(unit): \(records) records, \(format1(rate)) records/s, \(Int(fraction * 100))% read"
                    + (eta.isFinite ? ", ETA \(Int(eta)) s" : "")
                if isatty(2) != 0 {
                    StandardError().writeRaw("\r\u{1B}[K  " + line)
                } else if seconds - lastLine >= 10 {
                    lastLine = seconds
                    printError("  " + line)
                }
            }
            report = try runner.run()
        } catch {
            printError((isatty(2) != 0 ? "\r\u{1B}[K" : "") + "glossa run: \(describe(error))")
            throw ExitCode(2)
        }
        printError("\(config.name) (rank \(me)/\(world)): \(report.recordsIn) records in, \(report.recordsOut) out, \(report.rejected) rejected"
                   + (report.isConserved ? " — all accounted for" : " — COUNTS DO NOT ADD UP")
                   + ", \(report.units) units (\(report.skippedUnits) already done), \(format1(report.seconds)) s")
        if !report.rejectReasons.isEmpty {
            printError("  rejects: " + report.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        // Translation checks that failed (kept and flagged unless the stage rejects them).
        for member in report.stages.members {
            guard let flags = member.value.objectValue?["qa_flags"]?.objectValue?.members, !flags.isEmpty else { continue }
            printError("  qa flags (\(member.key)): " + flags.map { "\($0.key) \($0.value.numberText)" }.joined(separator: ", ")
                       + " — see metadata.qa of the records")
        }
        printError("  output: \(config.output.directory) (\(report.shards.count) shards, manifest-rank-\(me).json, report.html)")
        if !report.isConserved { throw ExitCode(3) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Finished and missing input units of a pipeline's output, and the ranks to re-run.",
        discussion: """
            The ranks that own missing units are printed as a Slurm array range with the sbatch
            command that re-runs exactly them (pipelines/slurm/glossa-array.sbatch). The world size
            is --world-size, else the one recorded in the output's manifests, else 1. Given an
            output directory, the definition is the copy the run left in OUTPUT_DIR/.glossa/
            (input paths are read relative to the current directory, as the run did).
            """
    )

    @Argument(help: "Pipeline definition, or the output directory of a run.")
    var pipeline: String

    @Option(help: "Number of ranks the pipeline runs with.")
    var worldSize: Int?

    func run() throws {
        var isDirectory: ObjCBool = false
        var pipeline = self.pipeline
        var config: PipelineConfig
        if FileManager.default.fileExists(atPath: pipeline, isDirectory: &isDirectory), isDirectory.boolValue {
            let directory = pipeline
            pipeline = Checkpoints.definitionPath(directory)
            guard FileManager.default.fileExists(atPath: pipeline) else {
                throw ValidationError("\(directory) has no \(pipeline): not the output of glossa run")
            }
            config = try PipelineConfig.load(path: pipeline)
            config.output.directory = directory
        } else {
            config = try PipelineConfig.load(path: pipeline)
        }
        let units = try InputUnits.list(config)
        let world = worldSize ?? Manifest.recordedWorldSize(config.output.directory) ?? 1
        guard world >= 1 else { throw ValidationError("--world-size must be >= 1") }
        var missing: [Int] = []
        var ranks = Set<Int>()
        for (i, unit) in units.enumerated() {
            let done = FileManager.default.fileExists(atPath: Checkpoints.markerPath(config.output.directory, unit: unit))
            let rank = Ranks.rank(of: unit, worldSize: world)
            print("\(done ? "done   " : "missing") \(i) \(unit) (rank \(rank))")
            if !done { missing.append(i); ranks.insert(rank) }
        }
        print("\(units.count - missing.count) of \(units.count) units done" + (missing.isEmpty ? "" : "; missing: \(missing.map(String.init).joined(separator: ","))"))
        if !missing.isEmpty {
            let array = Ranks.arrayRanges(ranks.sorted())
            print("ranks to re-run (world size \(world)): --array=\(array)")
            print("  sbatch --array=\(array) --export=ALL,GLOSSA_WORLD_SIZE=\(world) pipelines/slurm/glossa-array.sbatch \(pipeline)")
        }
    }
}

/// One line a user can read: our errors describe themselves (file:line, path and reason);
/// Foundation's errors give their localized description and the file they concern instead of
/// an `NSError` dump.
func describe(_ error: Error) -> String {
    if let error = error as? GlossaError { return error.description }
    if let error = error as? PipelineConfig.ConfigError { return error.description }
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
        var text = ns.localizedDescription
        if let path = ns.userInfo[NSFilePathErrorKey] as? String, !text.contains(path) { text += " (\(path))" }
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain,
           let code = Int32(exactly: posix.code) {
            text += ": " + String(cString: strerror(code))
        }
        return text.replacingOccurrences(of: "\n", with: " ")
    }
    return "\(error)".replacingOccurrences(of: "\n", with: " ")
}
