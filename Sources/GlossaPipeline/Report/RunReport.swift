import Foundation

/// `report.html`: one run's output directory summed up for a person — records in, out and
/// rejected, languages, stages (counts and times), engine tokens and settings, throughput over
/// time, translation QA flags, classify labels, and the pipeline definition.
///
/// Gathered from every `manifest-rank-R.json` in the directory (each rank writes its own when
/// it finishes), so the rank that finishes last — or `glossa report OUTPUT_DIR` afterwards —
/// writes the report of the whole run. One self-contained file: inline CSS and SVG, no script,
/// nothing fetched; every value from the manifests is HTML-escaped. The numbers that matter
/// carry stable ids or data attributes (`#records-in`, `tr[data-stage]`), for tests and tools.
public struct RunReport: Sendable {
    /// What one rank's manifest says about its part of the run.
    public struct Rank: Sendable {
        public var rank: Int
        public var recordsIn = 0, recordsOut = 0, rejected = 0, units = 0
        public var seconds = 0.0
        public var startedAt: Double?
        public var finishedAt: Double?
        public var threads: Int?
        public var timeline = RunTimeline()
    }

    public var pipeline = ""
    public var glossaVersion = ""
    public var worldSize = 1
    public var ranks: [Rank] = []
    public var recordsIn = 0, recordsOut = 0, rejected = 0, units = 0
    public var shards = 0, shardBytes = 0
    public var rejectReasons: [String: Int] = [:]
    /// Each stage's counts, summed over the ranks (as the manifests' `stages`).
    public var stages = JSONObject()
    /// Records each stage saw and rejected, and its seconds summed over the ranks.
    public var stageRuns: [StageRun] = []
    /// The engine settings of the lowest rank (every rank reads the same definition; only the
    /// thread count may differ, and the ranks table shows each).
    public var engine = JSONObject()
    /// The pipeline's YAML as the run kept it (`.glossa/pipeline.yaml`), if it is there.
    public var definition: String?
    /// Manifests found but left out (another run's world size or definition), with why.
    public var notes: [String] = []

    public static func path(_ directory: String) -> String { "\(directory)/report.html" }

    /// Rebuilds `report.html` from the directory's manifests, atomically.
    public static func write(directory: String, temporaryDirectory: String? = nil) throws {
        let html = try load(directory: directory).html()
        let sink = try AtomicFileSink(path: path(directory), temporaryDirectory: temporaryDirectory)
        try sink.write(Array(html.utf8))
        try sink.commit()
    }

    /// Reads every `manifest-rank-R.json` in `directory`. A manifest that cannot be read or
    /// lacks the counts is an error naming the file: a report that silently left a rank out
    /// would show wrong totals.
    public static func load(directory: String) throws -> RunReport {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw GlossaError.cannotOpen(path: directory, reason: "not a readable directory")
        }
        var manifests: [(file: String, object: JSONObject)] = []
        for name in names.sorted() where name.hasPrefix("manifest-rank-") && name.hasSuffix(".json") {
            let file = "\(directory)/\(name)"
            guard let data = FileManager.default.contents(atPath: file) else {
                throw GlossaError.readFailed(path: file, reason: "cannot read it")
            }
            let value: JSONValue
            do { value = try JSONParser.parse(String(decoding: data, as: UTF8.self)).value } catch {
                throw GlossaError.invalidArgument("\(file) is not valid JSON: \(error)")
            }
            guard let object = value.objectValue else {
                throw GlossaError.invalidArgument("\(file) is not a manifest: it holds \(value.kindName), not an object")
            }
            manifests.append((file, object))
        }
        guard !manifests.isEmpty else {
            throw GlossaError.invalidArgument("\(directory) has no manifest-rank-*.json: no rank of a glossa run has finished there")
        }
        return try RunReport(manifests: manifests, definition: readDefinition(directory))
    }

    /// The definition's text, if the run left its copy (at most 1 MiB of it: it is shown, not parsed).
    static func readDefinition(_ directory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: Checkpoints.definitionPath(directory)) else { return nil }
        let limit = 1 << 20
        return String(decoding: data.prefix(limit), as: UTF8.self) + (data.count > limit ? "\n… (\(data.count) bytes in all)" : "")
    }

    /// Merges manifests given as (file name for errors, parsed object).
    public init(manifests: [(file: String, object: JSONObject)], definition: String? = nil) throws {
        self.definition = definition
        struct Parsed { var file: String; var object: JSONObject; var rank: Int; var world: Int; var finished: Double }
        var parsed: [Parsed] = []
        for (file, object) in manifests {
            func required(_ key: String) throws -> Int {
                guard let n = Self.int(object[key]), n >= 0 else {
                    throw GlossaError.invalidArgument("\(file) is not a manifest of glossa run: \"\(key)\" is missing or not a whole number >= 0")
                }
                return n
            }
            let rank = try required("rank"), world = try required("world_size")
            _ = try (required("records_in"), required("records_out"), required("rejected"))
            parsed.append(Parsed(file: file, object: object, rank: rank, world: world, finished: Self.double(object["finished_at"]) ?? 0))
        }
        // A directory may keep manifests of an earlier run with another world size (same
        // definition and inputs, so the directory was not cleared): only the ranks of the run
        // that finished last count, or records would be counted twice.
        guard let newest = parsed.max(by: { ($0.finished, $0.rank) < ($1.finished, $1.rank) }) else {
            throw GlossaError.invalidArgument("no manifests given")
        }
        worldSize = max(1, newest.world)
        let fingerprint = newest.object["fingerprint"]?.stringValue
        var used: [Parsed] = []
        for p in parsed.sorted(by: { $0.rank < $1.rank }) {
            if p.world != newest.world || p.rank >= newest.world {
                notes.append("\((p.file as NSString).lastPathComponent) left out: rank \(p.rank) of a run with \(p.world) ranks; the latest has \(newest.world)")
            } else if p.object["fingerprint"]?.stringValue != fingerprint {
                notes.append("\((p.file as NSString).lastPathComponent) left out: written from another pipeline definition")
            } else {
                used.append(p)
            }
        }
        for p in used {
            let o = p.object
            var rank = Rank(rank: p.rank)
            rank.recordsIn = Self.int(o["records_in"]) ?? 0
            rank.recordsOut = Self.int(o["records_out"]) ?? 0
            rank.rejected = Self.int(o["rejected"]) ?? 0
            rank.units = Self.int(o["units"]) ?? 0
            rank.seconds = Self.double(o["seconds"]) ?? 0
            rank.startedAt = Self.double(o["started_at"])
            rank.finishedAt = Self.double(o["finished_at"])
            rank.timeline = RunTimeline(json: o["timeline"])
            if let e = o["engine"]?.objectValue {
                rank.threads = Self.int(e["threads"])
                if engine.members.isEmpty { engine = e }
            }
            ranks.append(rank)
            recordsIn += rank.recordsIn; recordsOut += rank.recordsOut; rejected += rank.rejected; units += rank.units
            if pipeline.isEmpty { pipeline = o["pipeline"]?.stringValue ?? "" }
            if glossaVersion.isEmpty { glossaVersion = o["glossa_version"]?.stringValue ?? "" }
            for member in o["reject_reasons"]?.objectValue?.members ?? [] {
                rejectReasons[member.key, default: 0] += Self.int(member.value) ?? 0
            }
            for member in o["stages"]?.objectValue?.members ?? [] {
                stages[member.key] = stages[member.key].map { mergeCounts($0, member.value) } ?? member.value
            }
            // Records per stage and seconds per stage are kept under two keys (counts are the
            // same on every run, times are not); joined again by stage name.
            var runs: [StageRun] = []
            for member in o["stage_records"]?.objectValue?.members ?? [] {
                let counts = member.value.objectValue
                runs.append(StageRun(name: member.key, records: Self.int(counts?["records_in"]) ?? 0, rejected: Self.int(counts?["rejected"]) ?? 0))
            }
            for member in o["stage_seconds"]?.objectValue?.members ?? [] {
                let seconds = Self.double(member.value) ?? 0
                if let i = runs.firstIndex(where: { $0.name == member.key }) { runs[i].seconds = seconds } else { runs.append(StageRun(name: member.key, seconds: seconds)) }
            }
            stageRuns.merge(runs)
            for case let .object(shard) in o["shards"]?.arrayValue ?? [] {
                shards += 1
                shardBytes += Self.int(shard["bytes"]) ?? 0
            }
        }
        let present = Set(ranks.map(\.rank))
        let missing = (0..<worldSize).filter { !present.contains($0) }
        if !missing.isEmpty {
            notes.append("ranks not finished (no manifest yet): \(missing.map(String.init).joined(separator: ", ")); the totals cover the others")
        }
    }

    /// A JSON number as a whole number (manifests write counts as integers; nil otherwise).
    static func int(_ value: JSONValue?) -> Int? {
        guard case let .number(n)? = value else { return nil }
        if let i = Int(n) { return i }
        guard let d = Double(n), d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    static func double(_ value: JSONValue?) -> Double? {
        guard case let .number(n)? = value, let d = Double(n), d.isFinite else { return nil }
        return d
    }

    // MARK: - Derived figures

    /// A stage's tally (`languages`, `qa_flags`) summed over every stage that has one, largest first.
    func tally(_ name: String, stages names: Set<String>? = nil) -> [(label: String, value: Double)] {
        var sum: [String: Int] = [:]
        for member in stages.members where names?.contains(member.key) ?? true {
            for entry in member.value.objectValue?[name]?.objectValue?.members ?? [] {
                sum[entry.key, default: 0] += Self.int(entry.value) ?? 0
            }
        }
        return sum.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, Double($0.value)) }
    }

    /// A count summed over all stages (`prompt_tokens`, `generated_tokens`).
    func total(_ name: String) -> Int? {
        var sum: Int?
        for member in stages.members {
            if let n = Self.int(member.value.objectValue?[name]) { sum = (sum ?? 0) &+ n }
        }
        return sum
    }

    /// Wall time of the run: from the first rank's start to the last one's end (ranks may run
    /// at once or one after another); the longest rank when the manifests carry no clock times.
    var wallSeconds: Double {
        let starts = ranks.compactMap(\.startedAt), ends = ranks.compactMap(\.finishedAt)
        if let s = starts.min(), let e = ends.max(), e >= s, starts.count == ranks.count { return e - s }
        return ranks.map(\.seconds).max() ?? 0
    }

    /// Throughput series, one per rank: the rate between consecutive timeline points, placed
    /// at the later point's time since the first rank started.
    func rateSeries(_ value: (RunTimeline.Point) -> Int) -> [SVGChart.Series] {
        let origin = ranks.compactMap(\.startedAt).min()
        return ranks.compactMap { rank -> SVGChart.Series? in
            let shift = (rank.startedAt.flatMap { s in origin.map { s - $0 } }) ?? 0
            var previous = RunTimeline.Point(seconds: 0, records: 0)
            var points: [(x: Double, y: Double)] = []
            for p in rank.timeline.points {
                let dt = p.seconds - previous.seconds
                if dt > 1e-6 {
                    points.append((shift + p.seconds, Double(value(p) - value(previous)) / dt))
                    previous = p
                }
            }
            return points.isEmpty ? nil : SVGChart.Series(name: "rank \(rank.rank)", points: points)
        }
    }

    // MARK: - HTML

    public func html() -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<title>Glossa run report: \(HTML.escape(pipeline))</title><style>\(Self.css)</style></head><body>\n"
        h += "<h1>Run report: <span id=\"pipeline-name\">\(HTML.escape(pipeline))</span></h1>\n"
        h += "<p class=\"muted\">Glossa <span id=\"glossa-version\">\(HTML.escape(glossaVersion.isEmpty ? "unknown" : glossaVersion))</span>"
        h += " · <span id=\"ranks-reported\">\(ranks.count)</span> of <span id=\"world-size\">\(worldSize)</span> rank(s) reported"
        if let end = ranks.compactMap(\.finishedAt).max() {
            h += " · finished \(HTML.escape(Self.utc(end)))"
        }
        h += "</p>\n"
        for note in notes { h += "<p class=\"note\">\(HTML.escape(note))</p>\n" }

        // Records.
        let conserved = recordsIn == recordsOut + rejected
        h += "<div class=\"columns\"><section id=\"records\"><h2>Records</h2><table class=\"figures\">"
        h += row("records in", id: "records-in", recordsIn)
        h += row("records out", id: "records-out", recordsOut)
        h += row("rejected", id: "records-rejected", rejected)
        h += "<tr><th>accounted for</th><td id=\"records-conserved\" class=\"\(conserved ? "ok" : "bad")\">\(conserved ? "yes: in = out + rejected" : "NO: in ≠ out + rejected")</td></tr>"
        h += row("input units", id: "units", units)
        h += row("output shards", id: "shards", shards)
        h += row("bytes in shards (compressed)", id: "shard-bytes", shardBytes)
        let wall = wallSeconds
        h += "<tr><th>wall time (s)</th><td id=\"wall-seconds\" class=\"num\">\(SVGChart.format(wall))</td></tr>"
        if wall > 0 { h += "<tr><th>records/s</th><td id=\"records-per-second\" class=\"num\">\(SVGChart.format(Double(recordsIn) / wall))</td></tr>" }
        h += "</table>"
        if rejectReasons.isEmpty {
            h += "<p class=\"muted\">No record was rejected.</p>"
        } else {
            h += "<h3>Rejected by reason</h3><table id=\"reject-reasons\"><tr><th>reason</th><th>records</th></tr>"
            for (reason, n) in rejectReasons.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                h += "<tr data-reason=\"\(HTML.escape(reason))\"><td>\(HTML.escape(reason))</td><td class=\"num\">\(n)</td></tr>"
            }
            h += "</table>"
        }
        h += "</section>\n"

        // Engine.
        h += "<section id=\"engine\"><h2>Engine</h2>"
        if engine.members.isEmpty {
            h += "<p class=\"muted\">The manifests carry no engine settings (written by an older Glossa).</p>"
        } else {
            if case .bool(false)? = engine["used"] { h += "<p class=\"muted\">No stage of this pipeline uses the engine.</p>" }
            h += "<table id=\"engine-settings\">"
            for member in engine.members where member.key != "used" {
                let id = "engine-" + member.key.replacingOccurrences(of: "_", with: "-")
                h += "<tr><th>\(HTML.escape(member.key.replacingOccurrences(of: "_", with: " ")))</th><td id=\"\(HTML.escape(id))\">\(HTML.escape(Self.text(member.value)))</td></tr>"
            }
            h += "</table>"
        }
        let prompt = total("prompt_tokens"), generated = total("generated_tokens"), cached = total("cached_prompt_tokens")
        if prompt != nil || generated != nil {
            let engineSeconds = stageRuns.filter { stages[$0.name]?.objectValue?["generated_tokens"] != nil }.reduce(0) { $0 + $1.seconds }
            h += "<h3>Tokens</h3><table id=\"engine-tokens\" class=\"figures\">"
            h += row("prompt tokens", id: "tokens-prompt", prompt ?? 0)
            if let cached { h += row("prompt tokens from a cached prefix", id: "tokens-cached", cached) }
            h += row("generated tokens", id: "tokens-generated", generated ?? 0)
            if engineSeconds > 0 {
                h += "<tr><th>generated tokens/s (engine stages' time)</th><td id=\"tokens-per-second\" class=\"num\">\(SVGChart.format(Double(generated ?? 0) / engineSeconds))</td></tr>"
            }
            h += "</table>"
        }
        h += "</section></div>\n"

        // Languages, as detect-language saw them (before any later filter).
        let languages = tally("languages", stages: ["detect-language"])
        h += "<section id=\"languages\"><h2>Languages</h2>"
        if languages.isEmpty {
            h += "<p class=\"muted\">No detect-language stage counted languages.</p>"
        } else {
            h += "<p class=\"muted\">Records per language as detect-language identified them (<span id=\"language-count\">\(languages.count)</span> languages; counted before later stages filter or reject).</p>"
            h += SVGChart.bars(languages, id: "chart-languages", title: "records per language", maxBars: 24)
        }
        h += "</section>\n"

        // Stages.
        // With several ranks a stage's seconds are summed over them (time spent, not elapsed).
        let secondsHeader = ranks.count > 1 ? "seconds (all ranks)" : "seconds"
        h += "<section id=\"stages\"><h2>Stages</h2><table id=\"stage-table\"><tr><th>stage</th><th>records in</th><th>rejected</th><th>\(secondsHeader)</th><th>counts</th></tr>"
        var names = stageRuns.map(\.name)
        for member in stages.members where !names.contains(member.key) { names.append(member.key) }
        for name in names {
            let run = stageRuns.first { $0.name == name }
            h += "<tr data-stage=\"\(HTML.escape(name))\"><td>\(HTML.escape(name))</td>"
            h += "<td class=\"num\" data-field=\"records_in\">\(run.map { String($0.records) } ?? "–")</td>"
            h += "<td class=\"num\" data-field=\"rejected\">\(run.map { String($0.rejected) } ?? "–")</td>"
            h += "<td class=\"num\" data-field=\"seconds\">\(run.map { SVGChart.format($0.seconds) } ?? "–")</td>"
            h += "<td class=\"counts\">\(Self.describeCounts(stages[name]))</td></tr>"
        }
        h += "</table>"
        let timed = stageRuns.filter { $0.seconds > 0 }
        if !timed.isEmpty {
            h += SVGChart.bars(timed.map { ($0.name, $0.seconds) }, id: "chart-stage-seconds", title: "seconds per stage")
        }
        h += "</section>\n"

        // Throughput over time.
        h += "<section id=\"throughput\"><h2>Throughput over time</h2>"
        let records = rateSeries(\.records)
        if records.isEmpty {
            h += "<p class=\"muted\">No timeline: every unit was done by an earlier run, or the manifests predate timelines.</p>"
        } else {
            h += SVGChart.lines(records, id: "chart-records-rate", title: "records per second", xLabel: "seconds since the run started", yLabel: "records/s")
        }
        if (generated ?? 0) > 0 {
            let tokens = rateSeries { $0.generatedTokens + $0.promptTokens }
            h += "<h3>Engine tokens per second (prompt + generated)</h3>"
            h += SVGChart.lines(tokens, id: "chart-tokens-rate", title: "tokens per second", xLabel: "seconds since the run started", yLabel: "tokens/s")
        }
        h += "</section>\n"

        // Translation QA and glossary.
        let flags = tally("qa_flags")
        if stages.members.contains(where: { $0.value.objectValue?["qa_flags"] != nil }) {
            h += "<section id=\"qa\"><h2>Translation QA flags</h2>"
            if flags.isEmpty {
                h += "<p id=\"qa-none\">No translated field was flagged.</p>"
            } else {
                h += "<table id=\"qa-flags\"><tr><th>check</th><th>fields flagged</th></tr>"
                for (flag, n) in flags { h += "<tr data-flag=\"\(HTML.escape(flag))\"><td>\(HTML.escape(flag))</td><td class=\"num\">\(SVGChart.format(n))</td></tr>" }
                h += "</table>" + SVGChart.bars(flags, id: "chart-qa-flags", title: "QA flags by check")
            }
            let glossary = tally("glossary")
            if !glossary.isEmpty {
                h += "<h3>Glossary terms</h3><table id=\"glossary\">"
                for (key, n) in glossary { h += "<tr data-glossary=\"\(HTML.escape(key))\"><td>\(HTML.escape(key))</td><td class=\"num\">\(SVGChart.format(n))</td></tr>" }
                h += "</table>"
            }
            h += "</section>\n"
        }

        // Classify labels: the classify stage counts each record's best label by name.
        if let counts = stages["classify"]?.objectValue {
            let labels = counts.members.compactMap { m in Self.int(m.value).map { (label: m.key, value: Double($0)) } }
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.label < $1.label }
            h += "<section id=\"labels\"><h2>Labels (classify)</h2>"
            h += labels.isEmpty ? "<p class=\"muted\">No record was classified.</p>" : SVGChart.bars(labels, id: "chart-labels", title: "records per label")
            h += "</section>\n"
        }

        // Ranks.
        h += "<section id=\"ranks\"><h2>Ranks</h2><table id=\"rank-table\"><tr><th>rank</th><th>units</th><th>records in</th><th>out</th><th>rejected</th><th>seconds</th><th>threads</th></tr>"
        for r in ranks {
            h += "<tr data-rank=\"\(r.rank)\"><td>\(r.rank)</td><td class=\"num\">\(r.units)</td><td class=\"num\">\(r.recordsIn)</td><td class=\"num\">\(r.recordsOut)</td>"
            h += "<td class=\"num\">\(r.rejected)</td><td class=\"num\">\(SVGChart.format(r.seconds))</td><td class=\"num\">\(r.threads.map(String.init) ?? "–")</td></tr>"
        }
        h += "</table></section>\n"

        // The definition.
        h += "<section id=\"definition-section\"><h2>Pipeline definition</h2>"
        if let definition {
            h += "<pre id=\"definition\">\(HTML.escape(definition))</pre>"
        } else {
            h += "<p class=\"muted\">The run's copy of the definition (.glossa/pipeline.yaml) is missing.</p>"
        }
        h += "</section>\n</body></html>\n"
        return h
    }

    private func row(_ label: String, id: String, _ n: Int) -> String {
        "<tr><th>\(HTML.escape(label))</th><td id=\"\(id)\" class=\"num\">\(n)</td></tr>"
    }

    /// A stage's counts on one line: numbers as `name n`, tallies as their five largest entries
    /// (entries at zero and empty tallies are left out: a stage names all it could count).
    static func describeCounts(_ value: JSONValue?) -> String {
        let none = "<span class=\"muted\">none</span>"
        guard let object = value?.objectValue else { return none }
        let parts = object.members.compactMap { m -> String? in
            if let tally = m.value.objectValue {
                let top = tally.members.compactMap { e in int(e.value).map { (e.key, $0) } }.filter { $0.1 != 0 }
                    .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                if top.isEmpty { return nil }
                let shown = top.prefix(5).map { "\(HTML.escape($0.0)) \($0.1)" }.joined(separator: ", ")
                return "<b>\(HTML.escape(m.key))</b>: {\(shown)\(top.count > 5 ? ", … \(top.count - 5) more" : "")}"
            }
            return "<b>\(HTML.escape(m.key))</b> \(HTML.escape(text(m.value)))"
        }
        return parts.isEmpty ? none : parts.joined(separator: "; ")
    }

    /// A setting or count as text (still to be escaped).
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "–"
        case let .bool(b): return b ? "yes" : "no"
        case let .number(n): return n
        case let .string(s): return s
        case .array, .object:
            var bytes: [UInt8] = []
            JSONWriter.write(value, into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func utc(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static let css = """
        body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:960px;color:#1d2733;background:#fff;font-size:14px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:1px solid #d5dbe3;padding-bottom:3px;margin-top:26px}h3{font-size:14px}
        table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;border-bottom:1px solid #eef1f5;text-align:left;vertical-align:top}
        th{font-weight:600;color:#445}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .figures td{min-width:90px}.columns{display:flex;gap:40px;flex-wrap:wrap}.columns section{flex:1;min-width:300px}.muted{color:#6b7785}.note{background:#fff6db;border:1px solid #f0d98a;padding:6px 10px}
        .ok{color:#2f7d45}.bad{color:#b0413e;font-weight:700}td.counts{font-size:12px;color:#445;max-width:520px}
        pre{background:#f5f7fa;border:1px solid #e1e6ec;padding:10px;overflow-x:auto;font-size:12px;white-space:pre-wrap}
        svg.chart{display:block;margin:8px 0;font-size:12px}svg text{fill:#1d2733}svg .tick{fill:#556;font-size:11px}
        svg .grid{stroke:#e6eaef}svg .axis{stroke:#889}svg .muted{fill:#6b7785}
        """
}
