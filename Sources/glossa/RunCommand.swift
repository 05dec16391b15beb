import ArgumentParser
import Foundation
import GlossaPipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a YAML pipeline (pipelines/*.yaml) over its inputs.",
        discussion: """
            Ranks: --rank/--world-size, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or
            JOB_COMPLETION_INDEX with --world-size. Re-running the same command after a crash skips
            finished input units and produces the same bytes.
            """
    )

    @Argument(help: "Pipeline definition.")
    var pipeline: String

    @Option(help: "This process's rank.")
    var rank: Int?

    @Option(help: "Number of ranks.")
    var worldSize: Int?

    func run() throws {
        let config: PipelineConfig
        do {
            config = try PipelineConfig.load(path: pipeline)
        } catch {
            printError("glossa run: \(error)")
            throw ExitCode(2)
        }
        let env = environment
        let world = worldSize ?? env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) ?? 1
        let me = rank ?? env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) ?? env["JOB_COMPLETION_INDEX"].flatMap(Int.init) ?? 0
        let report: PipelineRunner.Report
        do {
            let runner = try PipelineRunner(config: config, rank: me, worldSize: world, environment: env) { message in
                printError((isatty(2) != 0 ? "\r\u{1B}[K" : "") + "  " + message)
            }
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
            printError("glossa run: \(error)")
            throw ExitCode(2)
        }
        printError("\(config.name) (rank \(me)/\(world)): \(report.recordsIn) records in, \(report.recordsOut) out, \(report.rejected) rejected"
                   + (report.isConserved ? " — all accounted for" : " — COUNTS DO NOT ADD UP")
                   + ", \(report.units) units (\(report.skippedUnits) already done), \(format1(report.seconds)) s")
        if !report.rejectReasons.isEmpty {
            printError("  rejects: " + report.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        printError("  output: \(config.output.directory) (\(report.shards.count) shards, manifest-rank-\(me).json)")
        if !report.isConserved { throw ExitCode(3) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Finished and missing input units of a pipeline's output.")

    @Argument(help: "Pipeline definition.")
    var pipeline: String

    func run() throws {
        let config = try PipelineConfig.load(path: pipeline)
        let units = try PipelineRunner.units(config)
        var missing: [Int] = []
        for (i, unit) in units.enumerated() {
            let done = FileManager.default.fileExists(atPath: PipelineRunner.markerPath(config.output.directory, unit: i))
            print("\(done ? "done   " : "missing") \(i) \(unit)")
            if !done { missing.append(i) }
        }
        print("\(units.count - missing.count) of \(units.count) units done" + (missing.isEmpty ? "" : "; missing: \(missing.map(String.init).joined(separator: ","))"))
    }
}
