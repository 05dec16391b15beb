import Foundation

/// Where a run records its progress in `OUTPUT/.glossa/`: a marker per finished unit, a
/// checkpoint per finished segment of an unfinished one, and the definition the run used.
/// A re-run skips what is marked and redoes the rest.
public enum Checkpoints {
    /// The copy of the pipeline definition a run leaves in its output directory.
    public static func definitionPath(_ directory: String) -> String { "\(directory)/.glossa/pipeline.yaml" }

    /// Where the completion marker of an input unit lives (named by the unit's stable id).
    public static func markerPath(_ directory: String, unit: String) -> String {
        "\(directory)/.glossa/units/\(UnitNames.id(unit)).json"
    }

    /// Where the checkpoint of segment `segment` of a unit lives.
    public static func segmentPath(_ directory: String, unit: String, segment: Int) -> String {
        "\(directory)/.glossa/units/\(UnitNames.id(unit)).\(String(segment).leftPadded(to: 5)).json"
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
    /// Records each stage saw and rejected, and the seconds it took (for the run report).
    var stageRuns: [StageRun] = []
    /// Checkpoints of segments: input lines read when the segment ended, and whether the input
    /// ended with it.
    var endLine = 0
    var isLast = false
    /// Bytes read and written (before compression), for the record commands' report; not stored.
    var bytesIn = 0, bytesOut = 0

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
        // Markers written before stage runs were kept have none: the report shows no times then.
        if case let .object(runs)? = object["stage_runs"] { m.stageRuns = runs.members.compactMap(StageRun.init(json:)) }
        m.endLine = int("end_line")
        if case .bool(let last)? = object["last"] { m.isLast = last }
        return m
    }

    func write(_ path: String, temporaryDirectory: String) throws {
        let object = JSONObject([
            "input": .string(input), "fingerprint": .string(fingerprint),
            "records_in": .number(String(recordsIn)), "records_out": .number(String(recordsOut)),
            "rejected": .number(String(rejected)), "blank_lines": .number(String(blankLines)),
            "reject_reasons": .object(JSONObject(counts: rejectReasons)),
            "shards": .array(shards.map(\.json)),
            "stages": .object(JSONObject(stages.map { .init(key: $0.0, value: $0.1) })),
            "stage_runs": .object(JSONObject(stageRuns.map { .init(key: $0.name, value: $0.json) })),
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
        bytesIn += m.bytesIn; bytesOut += m.bytesOut
        rejectReasons.merge(m.rejectReasons, uniquingKeysWith: +)
        shards += m.shards
        var merged = stages
        for (name, counts) in m.stages {
            if let i = merged.firstIndex(where: { $0.0 == name }) { merged[i].1 = mergeCounts(merged[i].1, counts) } else { merged.append((name, counts)) }
        }
        stages = merged
        stageRuns.merge(m.stageRuns)
        endLine = m.endLine
        isLast = m.isLast
    }
}

/// What one stage did over some records: how many reached it (not rejected before), how many
/// it rejected, and the seconds spent in its `process` calls. Kept apart from the stage's own
/// counts (`stages`): those are identical on every run of the same input, a time never is.
public struct StageRun: Sendable, Equatable {
    public var name: String
    public var records = 0, rejected = 0
    public var seconds = 0.0

    public init(name: String, records: Int = 0, rejected: Int = 0, seconds: Double = 0) {
        self.name = name
        self.records = records
        self.rejected = rejected
        self.seconds = seconds
    }

    /// Read from a marker member; nil when it is not an object (a damaged marker loses times, not counts).
    init?(json member: JSONObject.Member) {
        guard case let .object(o) = member.value else { return nil }
        name = member.key
        if case let .number(n)? = o["records"] { records = Int(n) ?? 0 }
        if case let .number(n)? = o["rejected"] { rejected = Int(n) ?? 0 }
        if case let .number(n)? = o["seconds"] { seconds = Double(n) ?? 0 }
    }

    var json: JSONValue {
        .object(JSONObject(["records": .number(String(records)), "rejected": .number(String(rejected)),
                            "seconds": .number(String((seconds * 1e4).rounded() / 1e4))]))
    }
}

extension [StageRun] {
    /// Adds `other` stage by stage (by name, as stage counts are merged); new stages go last.
    mutating func merge(_ other: [StageRun]) {
        for run in other {
            if let i = firstIndex(where: { $0.name == run.name }) {
                self[i].records += run.records
                self[i].rejected += run.rejected
                self[i].seconds += run.seconds
            } else {
                append(run)
            }
        }
    }
}
