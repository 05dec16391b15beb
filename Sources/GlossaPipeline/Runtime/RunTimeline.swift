import Foundation

/// A run's progress over time, for the report's throughput charts: one point per batch
/// (seconds since the run started, records done, engine tokens so far), all cumulative.
/// Kept to at most `limit` points: when full, every other point is dropped — the points are
/// running totals, so the rest still describe the whole run, at half the resolution.
public struct RunTimeline: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var seconds: Double
        public var records: Int
        public var promptTokens: Int
        public var generatedTokens: Int

        public init(seconds: Double, records: Int, promptTokens: Int = 0, generatedTokens: Int = 0) {
            self.seconds = seconds
            self.records = records
            self.promptTokens = promptTokens
            self.generatedTokens = generatedTokens
        }
    }

    public private(set) var points: [Point] = []
    public let limit: Int
    /// Running totals, so that `add` takes what one batch did.
    private var records = 0, promptTokens = 0, generatedTokens = 0

    public init(limit: Int = 512, points: [Point] = []) {
        self.limit = max(2, limit)
        self.points = points
        if let last = points.last { records = last.records; promptTokens = last.promptTokens; generatedTokens = last.generatedTokens }
    }

    /// What one batch added, `seconds` after the run started.
    public mutating func add(seconds: Double, records: Int, promptTokens: Int, generatedTokens: Int) {
        self.records += records
        self.promptTokens += promptTokens
        self.generatedTokens += generatedTokens
        points.append(Point(seconds: seconds, records: self.records, promptTokens: self.promptTokens, generatedTokens: self.generatedTokens))
        if points.count >= limit {
            // Odd indices: the newest point (the totals so far) always stays.
            points = stride(from: points.count % 2 == 0 ? 1 : 0, to: points.count, by: 2).map { points[$0] }
        }
    }

    public var json: JSONValue {
        .array(points.map { p in
            .object(JSONObject(["seconds": .number(String((p.seconds * 1e3).rounded() / 1e3)), "records": .number(String(p.records)),
                                "prompt_tokens": .number(String(p.promptTokens)), "generated_tokens": .number(String(p.generatedTokens))]))
        })
    }

    /// Points read back from a manifest; entries that are not objects with numbers are skipped.
    public init(json: JSONValue?) {
        var points: [Point] = []
        for case let .object(o) in json?.arrayValue ?? [] {
            func number(_ key: String) -> Double? { if case let .number(n)? = o[key] { Double(n) } else { nil } }
            guard let seconds = number("seconds"), seconds.isFinite, let records = number("records"), records.isFinite else { continue }
            points.append(Point(seconds: seconds, records: Int(records.clamped(to: 0...9e15)),
                                promptTokens: Int((number("prompt_tokens") ?? 0).clamped(to: 0...9e15)),
                                generatedTokens: Int((number("generated_tokens") ?? 0).clamped(to: 0...9e15))))
        }
        self.init(limit: max(512, points.count + 1), points: points)
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { isNaN ? range.lowerBound : Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
