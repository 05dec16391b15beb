import Foundation
import GlossaEngine
import Testing
@testable import GlossaPipeline

/// The run's thread setting: `engine.threads` in YAML, the ranks sharing a node, and what
/// `glossa run` reports and uses.
@Suite struct RunThreadsTests {
    static let yaml = "name: x\ninput:\n  paths: [a]\nstages: []\noutput:\n  dir: o\n"

    @Test func engineThreadsIsAutoOrACount() throws {
        #expect(try PipelineConfig.parse(Self.yaml, file: "p.yaml").engine.threads == nil)
        #expect(try PipelineConfig.parse(Self.yaml + "engine:\n  threads: auto\n", file: "p.yaml").engine.threads == .auto)
        #expect(try PipelineConfig.parse(Self.yaml + "engine:\n  threads: 6\n", file: "p.yaml").engine.threads == .exactly(6))
        // A remote run still has record stages: the key applies with either backend.
        let remote = "engine:\n  backend: remote\n  url: http://h/v1\n  model: m\n  threads: 2\n"
        #expect(try PipelineConfig.parse(Self.yaml + remote, file: "p.yaml").engine.threads == .exactly(2))
        for bad in ["0", "-2", "many", "1.5", "[2]", "100000"] {
            do {
                _ = try PipelineConfig.parse(Self.yaml + "engine:\n  threads: \(bad)\n", file: "p.yaml")
                Issue.record("engine.threads: \(bad) accepted")
            } catch let error as PipelineConfig.ConfigError {
                #expect(error.line == 8, "\(error)")
                #expect(error.message.contains("engine.threads"), "\(error)")
            }
        }
    }

    /// Ranks started together on one node share it; Slurm tasks and Kubernetes pods have
    /// CPUs of their own; GLOSSA_LOCAL_RANKS says it outright.
    @Test func localRanks() throws {
        #expect(try LocalRanks.count(worldSize: 1, environment: [:]) == 1)
        #expect(try LocalRanks.count(worldSize: 4, environment: [:]) == 4)
        #expect(try LocalRanks.count(worldSize: 4, environment: ["SLURM_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": "1"]) == 1)
        #expect(try LocalRanks.count(worldSize: 4, environment: ["JOB_COMPLETION_INDEX": "2"]) == 1)
        #expect(try LocalRanks.count(worldSize: 4, environment: ["GLOSSA_LOCAL_RANKS": "2", "SLURM_JOB_ID": "77"]) == 2)
        #expect(try LocalRanks.count(worldSize: 0, environment: [:]) == 1)
        for bad in ["0", "x", "-1", "99999999999999999999999"] {
            #expect(throws: GlossaError.self) { try LocalRanks.count(worldSize: 2, environment: ["GLOSSA_LOCAL_RANKS": bad]) }
        }
        // Two ranks on a node of 2 CPUs: one thread each, not two.
        let node = CPUAllowance(affinity: 2, quota: nil, online: 2)
        #expect(ThreadCount.auto.resolved(allowance: node, localRanks: try LocalRanks.count(worldSize: 2, environment: [:])) == 1)
        let big = CPUAllowance(affinity: 64, quota: nil, online: 64)
        #expect(ThreadCount.auto.resolved(allowance: big, localRanks: try LocalRanks.count(worldSize: 3, environment: [:])) == 21)
    }

    /// `glossa run --world-size 2` with auto threads reports and uses its share of the CPUs;
    /// --threads, GLOSSA_THREADS and engine.threads take precedence in that order.
    @Test func glossaRunSplitsTheCPUsBetweenItsLocalRanks() throws {
        let scratch = try Scratch()
        try writeFile(scratch.path("in.jsonl"), Array("{\"text\":\"hello\"}\n{\"text\":\"world\"}\n".utf8))
        func pipeline(_ name: String, engine: String = "") throws -> String {
            let path = scratch.path("\(name).yaml")
            try "name: \(name)\ninput:\n  paths: [\(scratch.path("in.jsonl"))]\nstages:\n  - normalize: {}\noutput:\n  dir: \(scratch.path(name))\n\(engine)"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var environment = TestPaths.environment
        for key in ["GLOSSA_THREADS", "GLOSSA_LOCAL_RANKS", "SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"] {
            environment[key] = nil
        }
        func threadsLine(_ result: CLIResult) -> String {
            result.stderr.split(separator: "\n").first { $0.hasPrefix("threads (engine and record stages): ") }.map(String.init) ?? "none: \(result.stderr)"
        }
        let cpus = CPUAllowance.current()
        let share = max(1, cpus.count / 2)
        let auto = try runGlossa(["run", try pipeline("auto"), "--rank", "0", "--world-size", "2"], environment: environment)
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(threadsLine(auto) == "threads (engine and record stages): \(share) thread\(share == 1 ? "" : "s") (auto; \(cpus.summary), shared by 2 ranks on this node)")

        let explicit = try runGlossa(["run", try pipeline("explicit"), "--threads", "3"], environment: environment)
        #expect(threadsLine(explicit).hasPrefix("threads (engine and record stages): 3 threads (--threads; "), "\(explicit.stderr)")

        let yaml = try pipeline("yaml", engine: "engine:\n  threads: 1\n")
        let fromYAML = try runGlossa(["run", yaml], environment: environment)
        #expect(threadsLine(fromYAML).hasPrefix("threads (engine and record stages): 1 thread (engine.threads; "), "\(fromYAML.stderr)")
        environment["GLOSSA_THREADS"] = "2"
        let fromEnvironment = try runGlossa(["run", yaml, "--output", scratch.path("env")], environment: environment)
        #expect(threadsLine(fromEnvironment).hasPrefix("threads (engine and record stages): 2 threads (GLOSSA_THREADS; "), "\(fromEnvironment.stderr)")
        environment["GLOSSA_THREADS"] = "lots"
        let bad = try runGlossa(["run", yaml, "--output", scratch.path("bad")], environment: environment)
        #expect(bad.status == 2 && bad.stderr.contains("GLOSSA_THREADS is 'lots'"), "\(bad.stderr)")
    }
}
