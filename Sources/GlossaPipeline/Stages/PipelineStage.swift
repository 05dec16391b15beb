import Foundation
import GlossaEngine

/// A record on its way through a pipeline.
public struct PipelineRecord: Sendable {
    public var object: JSONObject
    public var rejection: Rejection?
    public var repairs: Int

    public init(object: JSONObject, rejection: Rejection? = nil, repairs: Int = 0) {
        self.object = object
        self.rejection = rejection
        self.repairs = repairs
    }
}

/// One stage of a pipeline, as a run uses it: works on a batch in place; records rejected by an
/// earlier stage are left alone. Engine stages use the whole batch to keep the engine's batch
/// full; record stages (`RecordStage`) split it between the run's threads.
public protocol PipelineStage {
    /// The stage's key in a pipeline definition, which also names its counts.
    var name: String { get }
    /// Engine stages want batches of `engine.batch_records`; record stages run on large batches.
    var usesEngine: Bool { get }
    /// The counts a unit starts from (named here so that they are reported even when zero).
    var emptyStats: StageStats { get }
    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws
}

extension PipelineStage {
    public var usesEngine: Bool { true }
    public var emptyStats: StageStats { StageStats() }
}

/// A stage that looks at one record at a time (normalize, detect-language, filter). Records are
/// independent, so a batch is split into contiguous chunks, one per thread; each chunk keeps
/// its own counts, merged in order, so output and counts are the same for any number of threads.
public protocol RecordStage: PipelineStage, Sendable {
    /// Changes `record` in place, or returns why it must go to the rejects. `repairs` counts
    /// U+FFFD substitutions made while decoding the record.
    func process(_ record: inout JSONObject, repairs: Int, stats: inout StageStats) -> Rejection?
}

extension RecordStage {
    public var usesEngine: Bool { false }

    public func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        let partial = Parallel.update(&batch, threads: threads, initial: StageStats()) { [self] record, _, chunk in
            if record.rejection == nil { record.rejection = process(&record.object, repairs: record.repairs, stats: &chunk) }
        }
        for p in partial { stats.merge(p) }
    }
}

/// The counts a stage keeps for each input unit: numbers by name (`chunks`, `retried`) and
/// tallies, a number per key (`languages: {de: 3, en: 5}`). One type for every stage, so the
/// runner keeps, resets, merges and writes them without knowing which stage counted.
/// Names keep the order they were first counted in; merging keeps that order, so counts merged
/// chunk by chunk read as if one thread had counted everything.
public struct StageStats: Sendable, Equatable {
    /// Names in the order they were first counted.
    private var names: [String] = []
    private var counts: [String: Int] = [:]
    /// Key order inside a tally is not kept: `json` sorts them.
    private var tallies: [String: [String: Int]] = [:]

    public init() {}

    /// Starts from zero for each of `counts` and empty tallies named `tallies` (each with
    /// `keys` at zero), so they are reported even when nothing was counted.
    public init(counts: [String], tallies: [String] = [], keys: [String] = []) {
        for name in counts { add(name, 0) }
        for name in tallies {
            names.append(name)
            self.tallies[name] = Dictionary(keys.map { ($0, 0) }, uniquingKeysWith: +)
        }
    }

    public mutating func add(_ name: String, _ n: Int = 1) {
        if counts[name] == nil {
            guard tallies[name] == nil else { return }  // a name is either; a stage never mixes them
            names.append(name)
        }
        counts[name, default: 0] &+= n
    }

    /// Changes the tally in place (no copy of it per record: record stages count every record).
    public mutating func add(_ name: String, key: String, _ n: Int = 1) {
        if tallies[name] == nil {
            guard counts[name] == nil else { return }
            names.append(name)
        }
        tallies[name, default: [:]][key, default: 0] &+= n
    }

    public subscript(_ name: String) -> Int { counts[name] ?? 0 }

    public func tally(_ name: String) -> [String: Int] { tallies[name] ?? [:] }

    public mutating func merge(_ other: StageStats) {
        for name in other.names {
            if let c = other.counts[name] { add(name, c) }
            for (key, c) in other.tallies[name] ?? [:] { add(name, key: key, c) }
            if other.tallies[name] != nil && tallies[name] == nil && counts[name] == nil {
                names.append(name)
                tallies[name] = [:]
            }
        }
    }

    /// Numbers as numbers; a tally as an object, largest count first (then by key), so the
    /// manifest reads most-frequent-first whatever order the records came in.
    public var json: JSONValue {
        .object(JSONObject(names.map { name -> JSONObject.Member in
            if let c = counts[name] { return .init(key: name, value: .number(String(c))) }
            let tally = (tallies[name] ?? [:]).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            return .init(key: name, value: .object(JSONObject(tally.map { .init(key: $0.key, value: .number(String($0.value))) })))
        }))
    }
}

/// Adds the numbers of two stats objects key by key (the stats of several units, as their
/// markers stored them).
func mergeCounts(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
    switch (a, b) {
    case let (.number(x), .number(y)):
        if let i = Int(x), let j = Int(y) { return .number(String(i &+ j)) }
        return .number(String((Double(x) ?? 0) + (Double(y) ?? 0)))
    case let (.object(x), .object(y)):
        var out = x
        for member in y.members { out[member.key] = out[member.key].map { mergeCounts($0, member.value) } ?? member.value }
        return .object(out)
    default:
        return b
    }
}
