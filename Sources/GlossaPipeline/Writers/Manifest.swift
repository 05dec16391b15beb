import Foundation

/// `manifest-rank-R.json`: what one rank of a run produced — counts, reject reasons, each
/// stage's counts and every shard with its records, bytes and SHA-256; also the engine
/// settings, times (per stage, and a timeline of the run) and Glossa's version, for the run
/// report. Written atomically when the rank finishes; `glossa status`, `glossa run`'s summary
/// and `report.html` (RunReport) read it.
public enum Manifest {
    static func path(_ directory: String, rank: Int) -> String { "\(directory)/manifest-rank-\(rank).json" }

    /// Keys whose values differ from run to run of the same input (times): everything else in
    /// a manifest is the same for a resumed or a re-run.
    public static let timingKeys = ["started_at", "finished_at", "seconds", "stage_seconds", "timeline"]

    static func write(_ report: PipelineRunner.Report, config: PipelineConfig, rank: Int, worldSize: Int, threads: Int,
                      usesEngine: Bool, temporaryDirectory: String) throws {
        func number(_ n: Int) -> JSONValue { .number(String(n)) }
        func seconds(_ x: Double) -> JSONValue { .number(String((x * 1e3).rounded() / 1e3)) }
        let e = config.engine
        var engine = JSONObject([
            "used": .bool(usesEngine), "backend": .string(e.backend.rawValue), "model": .string(e.model),
            "threads": number(threads), "batch_records": number(e.batchRecords),
        ])
        switch e.backend {
        case .embedded:
            engine["kv_cache"] = .string(e.kvCache?.rawValue ?? "model default")
            engine["kv_budget_tokens"] = number(e.kvBudgetTokens)
            engine["step_tokens"] = number(e.stepTokens)
        case .remote:
            // The server's address, never its key.
            engine["url"] = e.url.map(JSONValue.string) ?? .null
            engine["concurrency"] = number(e.concurrency)
        }
        let manifest = JSONObject([
            "pipeline": .string(config.name),
            "fingerprint": .string(config.fingerprint),
            "glossa_version": .string(GlossaVersion.current),
            "rank": number(rank),
            "world_size": number(worldSize),
            "units": number(report.units),
            "records_in": number(report.recordsIn),
            "records_out": number(report.recordsOut),
            "rejected": number(report.rejected),
            "reject_reasons": .object(JSONObject(counts: report.rejectReasons)),
            "stages": .object(report.stages),
            "stage_records": .object(JSONObject(report.stageRuns.map {
                .init(key: $0.name, value: .object(JSONObject(["records_in": number($0.records), "rejected": number($0.rejected)])))
            })),
            "engine": .object(engine),
            "started_at": seconds(report.startedAt.timeIntervalSince1970),
            "finished_at": seconds(report.startedAt.timeIntervalSince1970 + report.seconds),
            "seconds": seconds(report.seconds),
            "stage_seconds": .object(JSONObject(report.stageRuns.map { .init(key: $0.name, value: seconds($0.seconds)) })),
            "timeline": report.timeline.json,
            "shards": .array(report.shards.map(\.json)),
        ])
        let sink = try AtomicFileSink(path: path(config.output.directory, rank: rank), temporaryDirectory: temporaryDirectory)
        var bytes: [UInt8] = []
        JSONWriter.write(.object(manifest), into: &bytes)
        bytes.append(0x0A)
        try sink.write(bytes)
        try sink.commit()
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
}
