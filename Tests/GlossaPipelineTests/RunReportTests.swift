import Foundation
import Testing
@testable import GlossaPipeline

/// `report.html`: the SVG renderer and escaping, merging the ranks' manifests, malformed
/// manifests, and a real run rendered by headless Chromium (screenshot and DOM).
@Suite struct RunReportTests {
    // MARK: renderer and escaping

    @Test func escapesEverythingFromOutside() {
        #expect(HTML.escape(#"<script>alert("x")</script> & 'y'"#) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(HTML.escape("a\u{1}b\tc\nd é 日本") == "a\u{FFFD}b\tc\nd é 日本")
        // Bar labels and values, line series names: escaped in text and in attributes.
        let bars = SVGChart.bars([("<b onclick=\"x\">", 3)], id: "c\"1", title: "<t>")
        #expect(!bars.contains("<b ") && !bars.contains("<t>") && !bars.contains("c\"1"))
        #expect(bars.contains("data-label=\"&lt;b onclick=&quot;x&quot;&gt;\""))
        let lines = SVGChart.lines([.init(name: "</svg><script>", points: [(1, 2), (2, 3)])], id: "l", title: "t", xLabel: "x", yLabel: "y")
        #expect(!lines.contains("<script>"))
    }

    @Test func drawsBarsAndLines() {
        let bars = SVGChart.bars([("en", 40), ("de", 10), ("zero", 0)], id: "b", title: "t")
        #expect(bars.hasPrefix("<svg") && bars.hasSuffix("</svg>"))
        #expect(bars.components(separatedBy: "<rect").count - 1 == 3)
        #expect(bars.contains("data-label=\"en\" data-value=\"40\"") && bars.contains("data-value=\"0\""))
        // The largest bar fills the bar space; the others are in proportion.
        #expect(bars.contains("width=\"500\"") && bars.contains("width=\"125\""))
        // A long tail is summed into one bar, no longer than the longest.
        let many = (0..<40).map { ("l\($0)", Double(40 - $0)) }
        let capped = SVGChart.bars(many, id: "m", title: "t", maxBars: 30)
        #expect(capped.components(separatedBy: "class=\"bar\"").count - 1 == 31)
        #expect(capped.contains("data-label=\"10 others\" data-value=\"55\""))
        #expect(capped.components(separatedBy: "width=\"500\"").count - 1 == 2)
        #expect(SVGChart.bars([], id: "e", title: "t").contains("nothing counted"))
        // Lines: a polyline per series, a dot for one point, a legend for several series.
        let two = SVGChart.lines([.init(name: "rank 0", points: [(1, 10), (2, 20)]), .init(name: "rank 1", points: [(1.5, 5)])],
                                 id: "r", title: "t", xLabel: "s", yLabel: "r/s")
        #expect(two.contains("<polyline") && two.contains("<circle") && two.contains(">rank 1</text>"))
        #expect(two.contains("data-series=\"rank 0\" data-points=\"2\""))
        #expect(SVGChart.lines([], id: "n", title: "t", xLabel: "s", yLabel: "y").contains("no points"))
        // Non-finite values are not drawn (no NaN in the SVG).
        #expect(!SVGChart.lines([.init(name: "a", points: [(.nan, 1), (1, .infinity), (2, 3)])], id: "f", title: "t", xLabel: "", yLabel: "").contains("nan"))
        #expect(SVGChart.niceCeiling(0) == 1 && SVGChart.niceCeiling(7) == 8 && SVGChart.niceCeiling(130) == 200 && abs(SVGChart.niceCeiling(0.22) - 0.4) < 1e-12)
        #expect(SVGChart.format(64) == "64" && SVGChart.format(2.346) == "2.35" && SVGChart.format(0.5) == "0.5" && SVGChart.format(.nan) == "0")
    }

    @Test func timelineKeepsAFewHundredPoints() {
        var timeline = RunTimeline(limit: 64)
        for i in 1...2_000 { timeline.add(seconds: Double(i), records: 10, promptTokens: 3, generatedTokens: 1) }
        #expect(timeline.points.count < 64 && timeline.points.count >= 32)
        // Running totals: the last point is the whole run, the points stay in order.
        #expect(timeline.points.last == .init(seconds: 2_000, records: 20_000, promptTokens: 6_000, generatedTokens: 2_000))
        #expect(zip(timeline.points, timeline.points.dropFirst()).allSatisfy { $0.seconds < $1.seconds && $0.records < $1.records })
        // Read back from its JSON; junk entries are skipped.
        #expect(RunTimeline(json: timeline.json).points == timeline.points)
        #expect(RunTimeline(json: .array([.string("x"), .object(JSONObject(["seconds": .number("1")]))])).points.isEmpty)
    }

    // MARK: manifests

    /// A manifest as a run of an engine pipeline writes it (tokens, QA flags, labels).
    static func manifest(rank: Int, world: Int, recordsIn: Int, rejected: Int, finished: Double = 1_700_000_100,
                         reason: String = "qa_language") -> String {
        """
        {"pipeline": "tickets <&>", "fingerprint": "f1", "glossa_version": "9.9.9", "rank": \(rank), "world_size": \(world),
         "units": 2, "records_in": \(recordsIn), "records_out": \(recordsIn - rejected), "rejected": \(rejected),
         "reject_reasons": {"\(reason)": \(rejected)},
         "stages": {"detect-language": {"languages": {"de": \(recordsIn - 1), "ja": 1}, "scripts": {"Latn": \(recordsIn)}},
                    "translate": {"chunks": 7, "prompt_tokens": 1000, "generated_tokens": 250, "qa_flags": {"length_ratio": 2, "<img src=x>": 1}},
                    "classify": {"bug": 5, "question": 2}},
         "stage_records": {"detect-language": {"records_in": \(recordsIn), "rejected": 0}, "translate": {"records_in": \(recordsIn), "rejected": \(rejected)}},
         "engine": {"used": true, "backend": "embedded", "model": "default", "threads": \(rank + 2), "batch_records": 32, "kv_cache": "f16"},
         "started_at": \(finished - 100), "finished_at": \(finished), "seconds": 100, "stage_seconds": {"detect-language": 0.5, "translate": 50},
         "timeline": [{"seconds": 10, "records": 8, "prompt_tokens": 100, "generated_tokens": 20},
                      {"seconds": 100, "records": \(recordsIn), "prompt_tokens": 1000, "generated_tokens": 250}],
         "shards": [{"path": "a.jsonl.zst", "records": 3, "bytes": 100, "sha256": "00"}]}
        """
    }

    @Test func mergesRanksTokensFlagsAndLabels() throws {
        let scratch = try Scratch()
        let out = scratch.path("out")
        try FileManager.default.createDirectory(atPath: out + "/.glossa", withIntermediateDirectories: true)
        try Self.manifest(rank: 0, world: 2, recordsIn: 10, rejected: 1).write(toFile: out + "/manifest-rank-0.json", atomically: true, encoding: .utf8)
        try Self.manifest(rank: 1, world: 2, recordsIn: 20, rejected: 2, finished: 1_700_000_150, reason: "<script>x</script>")
            .write(toFile: out + "/manifest-rank-1.json", atomically: true, encoding: .utf8)
        // An earlier run's rank with another world size: left out, said so.
        try Self.manifest(rank: 2, world: 3, recordsIn: 99, rejected: 0, finished: 1_600_000_000)
            .write(toFile: out + "/manifest-rank-2.json", atomically: true, encoding: .utf8)
        try "name: tickets\n# <b>not bold</b>\n".write(toFile: Checkpoints.definitionPath(out), atomically: true, encoding: .utf8)
        let report = try RunReport.load(directory: out)
        #expect(report.recordsIn == 30 && report.recordsOut == 27 && report.rejected == 3 && report.ranks.count == 2)
        #expect(report.notes.count == 1 && report.notes[0].contains("manifest-rank-2.json"))
        #expect(report.stageRuns.first(where: { $0.name == "translate" }) == StageRun(name: "translate", records: 30, rejected: 3, seconds: 100))
        #expect(report.wallSeconds == 150)
        try RunReport.write(directory: out)
        let html = try String(contentsOfFile: RunReport.path(out), encoding: .utf8)
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;x&lt;/script&gt;") && html.contains("&lt;b&gt;not bold"))
        #expect(!html.contains("<img") && html.contains("tickets &lt;&amp;&gt;"))
        // Rendered: the engine tokens, QA flags and labels are where a reader (and a test) finds them.
        let dom = try Chromium.dumpDOM(RunReport.path(out), scratch: scratch)
        for (id, value) in [("records-in", "30"), ("records-out", "27"), ("records-rejected", "3"), ("tokens-prompt", "2000"),
                            ("tokens-generated", "500"), ("glossa-version", "9.9.9"), ("ranks-reported", "2"), ("engine-kv-cache", "f16")] {
            #expect(Chromium.text(ofID: id, in: dom) == value, "#\(id)")
        }
        #expect(dom.contains("data-flag=\"length_ratio\"><td>length_ratio</td><td class=\"num\">4</td>"))
        #expect(dom.contains("id=\"chart-labels\"") && dom.contains("data-label=\"bug\" data-value=\"10\""))
        #expect(dom.contains("id=\"chart-languages\"") && dom.contains("data-label=\"de\" data-value=\"28\""))
        #expect(dom.contains("id=\"chart-tokens-rate\"") && dom.contains("data-series=\"rank 1\" data-points=\"2\""))
        #expect(dom.contains("data-stage=\"translate\"") && !dom.contains("<script"))
    }

    @Test func malformedManifestsAreErrors() throws {
        let scratch = try Scratch()
        let out = scratch.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(throws: GlossaError.self) { try RunReport.load(directory: out) }  // no manifest at all
        #expect(throws: GlossaError.self) { try RunReport.load(directory: scratch.path("missing")) }
        let file = out + "/manifest-rank-0.json"
        for bad in ["{", "[]", "{\"rank\": 0, \"world_size\": 1}", "{\"rank\": 0, \"world_size\": 1, \"records_in\": -4, \"records_out\": 0, \"rejected\": 0}",
                    "{\"rank\": \"0\", \"world_size\": 1, \"records_in\": 1, \"records_out\": 1, \"rejected\": 0}"] {
            try bad.write(toFile: file, atomically: true, encoding: .utf8)
            do {
                _ = try RunReport.load(directory: out)
                Issue.record("\(bad) was accepted")
            } catch let error as GlossaError {
                #expect(error.description.contains("manifest-rank-0.json"), "\(error)")
            }
        }
        // Optional parts of the wrong type are ignored, not fatal.
        try """
            {"rank": 0, "world_size": 1, "records_in": 2, "records_out": 2, "rejected": 0, "stages": [], "timeline": {"x": 1},
             "stage_seconds": {"normalize": "fast"}, "engine": 7, "shards": [1, {"bytes": "x"}], "reject_reasons": {"a": "b"}}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let report = try RunReport.load(directory: out)
        #expect(report.recordsIn == 2 && report.html().contains("id=\"records-in\" class=\"num\">2<"))
    }

    // MARK: a real run, rendered

    /// The first `count` lines of the sample documents, as a scratch input.
    static func sampleInput(_ scratch: Scratch, count: Int) throws -> String {
        let source = NormalizeJobTests.corpora.appendingPathComponent("sample-documents.jsonl.zst").path
        let lines = String(decoding: try readAll(openByteSource(path: source)), as: UTF8.self).split(separator: "\n").prefix(count)
        let path = scratch.path("docs.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func realRunRendersInChromium() throws {
        let scratch = try Scratch()
        let input = try Self.sampleInput(scratch, count: 24)
        let out = scratch.path("out")
        let config = try PipelineConfig.parse("""
            name: report-sample
            input:
              paths: [\(input)]
            stages:
              - normalize: {}
              - detect-language: {}
              - filter:
                  min_chars: 150
            output:
              dir: \(out)
              path: "${language}/part-${rank}-${shard}.jsonl.zst"
            """, file: "report.yaml")
        let run = try PipelineRunner(config: config, environment: TestPaths.environment, threads: 2).run()
        #expect(run.recordsIn == 24 && run.rejected > 0 && run.isConserved)
        let path = RunReport.path(out)
        #expect(FileManager.default.fileExists(atPath: path))
        // The manifest carries what the report shows.
        let manifest = try #require(try JSONParser.parse(String(contentsOfFile: out + "/manifest-rank-0.json", encoding: .utf8)).value.objectValue)
        #expect(manifest["glossa_version"] == .string(GlossaVersion.current))
        #expect(manifest["stage_records"]?.objectValue?["filter"]?.objectValue?["rejected"] == .number(String(run.rejected)))
        #expect(manifest["timeline"]?.arrayValue?.isEmpty == false)
        #expect(manifest["stage_seconds"]?.objectValue?.members.map(\.key) == ["normalize", "detect-language", "filter"])

        let screenshot = scratch.path("report.png")
        try Chromium.screenshot(path, to: screenshot, scratch: scratch)
        let ink = try Chromium.inkFraction(screenshot)
        #expect(ink > 0.02 && ink < 0.6, "fraction of non-white pixels: \(ink)")

        let dom = try Chromium.dumpDOM(path, scratch: scratch)
        #expect(Chromium.text(ofID: "records-in", in: dom) == String(run.recordsIn))
        #expect(Chromium.text(ofID: "records-out", in: dom) == String(run.recordsOut))
        #expect(Chromium.text(ofID: "records-rejected", in: dom) == String(run.rejected))
        #expect(Chromium.text(ofID: "pipeline-name", in: dom) == "report-sample")
        #expect(Chromium.text(ofID: "engine-used", in: dom) == nil && dom.contains("No stage of this pipeline uses the engine"))
        for (reason, n) in run.rejectReasons { #expect(dom.contains("data-reason=\"\(reason)\"><td>\(reason)</td><td class=\"num\">\(n)</td>")) }
        #expect(dom.contains("id=\"chart-languages\"") && dom.contains("id=\"chart-records-rate\"") && dom.contains("id=\"definition\""))
        #expect(dom.contains("data-stage=\"filter\"") && !dom.contains("id=\"engine-tokens\""))
    }

    /// Each rank writes the report from the manifests there so far: the last one's is complete.
    @Test func lastRankWritesTheWholeRunsReport() throws {
        let scratch = try Scratch()
        let source = try Self.sampleInput(scratch, count: 8)
        let inputs = try (0..<4).map { i -> String in
            let path = scratch.path("in-\(i).jsonl")
            try FileManager.default.copyItem(atPath: source, toPath: path)
            return path
        }
        let out = scratch.path("out")
        let config = try PipelineConfig.parse("""
            name: two-ranks
            input:
              paths: [\(inputs.joined(separator: ", "))]
            stages:
              - normalize: {}
            output:
              dir: \(out)
            """, file: "ranks.yaml")
        let first = try PipelineRunner(config: config, rank: 0, worldSize: 2, threads: 1).run()
        let partial = try RunReport.load(directory: out)
        #expect(partial.ranks.count == 1 && partial.recordsIn == first.recordsIn)
        #expect(partial.notes.contains { $0.contains("ranks not finished") && $0.contains("1") })
        let second = try PipelineRunner(config: config, rank: 1, worldSize: 2, threads: 1).run()
        let html = try String(contentsOfFile: RunReport.path(out), encoding: .utf8)
        #expect(first.recordsIn + second.recordsIn == 32)
        #expect(html.contains("id=\"records-in\" class=\"num\">32<") && html.contains("id=\"ranks-reported\">2<"))
        #expect(!html.contains("ranks not finished") && html.contains("seconds (all ranks)"))
        #expect(html.contains("data-stage=\"normalize\"><td>normalize</td><td class=\"num\" data-field=\"records_in\">32<"))
    }

    @Test func reportCommandRebuildsAndRefusesMalformedManifests() throws {
        let scratch = try Scratch()
        let out = scratch.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Self.manifest(rank: 0, world: 1, recordsIn: 5, rejected: 1).write(toFile: out + "/manifest-rank-0.json", atomically: true, encoding: .utf8)
        let ok = try runGlossa(["report", out])
        #expect(ok.status == 0 && ok.stdout == RunReport.path(out) + "\n", "\(ok.stderr)")
        #expect(try String(contentsOfFile: RunReport.path(out), encoding: .utf8).contains("id=\"records-in\" class=\"num\">5<"))
        try "{\"rank\": 0}".write(toFile: out + "/manifest-rank-0.json", atomically: true, encoding: .utf8)
        let bad = try runGlossa(["report", out])
        #expect(bad.status == 2 && !bad.signaled && bad.stderr.contains("manifest-rank-0.json") && bad.stderr.contains("world_size"), "\(bad.stderr)")
        // No temporary file is left next to the report.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["manifest-rank-0.json", "report.html"])
    }
}

/// Headless Chromium, as the report's tests use it: a screenshot and the DOM after layout.
/// Chromium must be installed (scripts/setup.sh installs Debian's `chromium`): a missing
/// browser fails the tests rather than skipping them.
enum Chromium {
    static let executable = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs Chromium on `file` with `arguments`; its own profile folder under `scratch` keeps
    /// tests that run at once apart. Standard output is returned; a non-zero exit or a hang
    /// (60 s) fails.
    static func run(_ arguments: [String], file: String, scratch: Scratch) throws -> String {
        let chromium = try #require(executable, "chromium is not installed: run scripts/setup.sh")
        let profile = scratch.path("chromium-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                       "--user-data-dir=\(profile)"] + arguments + [URL(fileURLWithPath: file).absoluteString]
        let outURL = URL(fileURLWithPath: profile + ".out"), errURL = URL(fileURLWithPath: profile + ".err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); Issue.record("chromium did not finish within 60 s") }
        p.waitUntilExit()
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "chromium failed: \(stderr.suffix(2000))")
        return String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
    }

    static func screenshot(_ file: String, to png: String, scratch: Scratch, width: Int = 1200, height: Int = 1600) throws {
        _ = try run(["--screenshot=\(png)", "--window-size=\(width),\(height)"], file: file, scratch: scratch)
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 1_000, "no screenshot at \(png)")
    }

    static func dumpDOM(_ file: String, scratch: Scratch) throws -> String {
        let dom = try run(["--dump-dom"], file: file, scratch: scratch)
        #expect(dom.contains("<html") && dom.contains("</html>"), "no DOM dumped")
        return dom
    }

    /// The text of the element with `id`, when it holds text only.
    static func text(ofID id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\"") else { return nil }
        guard let open = dom[start.upperBound...].firstIndex(of: ">") else { return nil }
        let rest = dom[dom.index(after: open)...]
        guard let close = rest.firstIndex(of: "<") else { return nil }
        return String(rest[..<close])
    }

    /// The fraction of a PNG's pixels that are not (near) white, decoded by python3 with zlib
    /// (PNG's row filters undone by hand: no imaging library needed).
    static func inkFraction(_ png: String) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", pngInkScript, png]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "python3 could not decode \(png)")
        return try #require(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)), "python3 printed \(output)")
    }

    static let pngInkScript = """
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            if kind == b'IHDR':
                w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
                assert depth == 8 and ctype in (2, 6), 'unexpected PNG format'
                bpp = 3 if ctype == 2 else 4
            elif kind == b'IDAT':
                idat += body
            pos += 12 + n
        raw = zlib.decompress(idat)
        stride = w * bpp
        prev = bytearray(stride)
        ink = 0
        for y in range(h):
            f = raw[y * (stride + 1)]
            row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            if f == 1:
                for i in range(bpp, stride): row[i] = (row[i] + row[i - bpp]) & 255
            elif f == 2:
                row = bytearray((a + b) & 255 for a, b in zip(row, prev))
            elif f == 3:
                for i in range(stride): row[i] = (row[i] + ((row[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
            elif f == 4:
                for i in range(stride):
                    a = row[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            ink += sum(1 for x in range(0, stride, bpp) if min(row[x], row[x + 1], row[x + 2]) < 230)
            prev = row
        print(ink / (w * h))
        """
}
