import Foundation

/// `manifest-rank-R.json`: what one rank of a run produced — counts, reject reasons, each
/// stage's counts and every shard with its records, bytes and SHA-256. Written atomically
/// when the rank finishes; `glossa status` and `glossa run`'s summary read it.
public enum Manifest {
    static func path(_ directory: String, rank: Int) -> String { "\(directory)/manifest-rank-\(rank).json" }

    static func write(_ report: PipelineRunner.Report, config: PipelineConfig, rank: Int, worldSize: Int, temporaryDirectory: String) throws {
        let manifest = JSONObject([
            "pipeline": .string(config.name),
            "fingerprint": .string(config.fingerprint),
            "rank": .number(String(rank)),
            "world_size": .number(String(worldSize)),
            "units": .number(String(report.units)),
            "records_in": .number(String(report.recordsIn)),
            "records_out": .number(String(report.recordsOut)),
            "rejected": .number(String(report.rejected)),
            "reject_reasons": .object(JSONObject(counts: report.rejectReasons)),
            "stages": .object(report.stages),
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
