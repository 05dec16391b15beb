import Foundation
import Testing
@testable import GlossaPipeline

/// `glossa normalize` / `glossa detect` as a user runs them: where their temporary files live
/// and what happens to them when the process is stopped, and where rejects go.
@Suite(.serialized) struct RecordToolTests {
    /// Starts `glossa normalize - -o OUT` with standard input held open, so the process is
    /// mid-run (its temporary files exist) for as long as the test wants.
    func startNormalizeFromStdin(_ scratch: Scratch, output: String) throws -> (Process, Pipe) {
        try #require(FileManager.default.isExecutableFile(atPath: TestPaths.glossa), "build the CLI first (swift build --product glossa)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.glossa)
        p.arguments = ["normalize", "-", "-o", output, "--quiet"]
        p.currentDirectoryURL = scratch.url
        let input = Pipe()
        p.standardInput = input
        p.standardError = FileHandle.nullDevice
        try p.run()
        try input.fileHandleForWriting.write(contentsOf: Data("{\"text\":\"  some  text \"}\nnot json\n".utf8))
        return (p, input)
    }

    /// Waits until `count` temporary files exist in the hidden folder (the output and rejects).
    func waitForTemporaries(_ folder: String, count: Int) -> [String] {
        for _ in 0..<1000 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            if names.filter({ $0.contains(".tmp-") }).count >= count { return names }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return []
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aStoppedRunRemovesItsTemporaryFiles(_ signal: Int32) throws {
        let scratch = try Scratch()
        let (p, input) = try startNormalizeFromStdin(scratch, output: scratch.path("out.jsonl.zst"))
        let during = waitForTemporaries(scratch.path(".glossa-tmp"), count: 2)
        // Temporaries are hidden: nothing named out.* exists while the run is going.
        #expect(during.count == 2, "\(during)")
        #expect(!scratch.files.contains { $0.hasPrefix("out") }, "\(scratch.files)")
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == signal, "ended by \(p.terminationReason) \(p.terminationStatus)")
        #expect(allFiles(scratch.url.path).isEmpty, "left behind: \(allFiles(scratch.url.path))")
    }

    @Test func filesLeftBySigkillAreRemovedByTheNextRun() throws {
        let scratch = try Scratch()
        let output = scratch.path("out.jsonl.zst")
        let (p, input) = try startNormalizeFromStdin(scratch, output: output)
        #expect(waitForTemporaries(scratch.path(".glossa-tmp"), count: 2).count == 2)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        let left = allFiles(scratch.url.path)
        #expect(left.count == 2 && left.allSatisfy { $0.hasPrefix(".glossa-tmp/") }, "\(left)")
        // A temporary of the old layout (beside the output) from a dead process goes too.
        try writeFile(output + ".tmp-999999", Array("stale".utf8))
        try writeFile(scratch.path("in.jsonl"), Array("{\"text\":\"a\"}\n[1]\n".utf8))
        let next = try runGlossa(["normalize", scratch.path("in.jsonl"), "-o", output], in: scratch.url.path)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(scratch.files == ["in.jsonl", "out.jsonl.zst", "out.rejects.jsonl.zst"])
    }

    @Test func rejectsNeedTheirOwnFile() throws {
        let scratch = try Scratch()
        let input = scratch.path("in.jsonl")
        try writeFile(input, Array("{\"text\":\"a\"}\n{oops\n".utf8))
        // Output on stdout and no --rejects: refused, and no rejects.jsonl appears anywhere.
        let refused = try runGlossa(["normalize", input], in: scratch.url.path)
        #expect(refused.status == 2 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("--rejects"), "\(refused.stderr)")
        #expect(scratch.files == ["in.jsonl"])
        let detect = try runGlossa(["detect", input, "--lid-model", TestPaths.lidModel], in: scratch.url.path)
        #expect(detect.status == 2 && detect.stderr.contains("--rejects"), "\(detect.stderr)")
        // With --rejects the records go to stdout and the rejects to that file.
        let ok = try runGlossa(["normalize", input, "--rejects", scratch.path("r.jsonl")], in: scratch.url.path)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "{\"text\":\"a\"}\n")
        let rejects = try String(contentsOfFile: scratch.path("r.jsonl"), encoding: .utf8)
        #expect(rejects.contains("\"reason\":\"malformed_json\""))
        // The same file for both (also spelled differently) is refused before anything is written.
        for spelling in [scratch.path("o.jsonl"), scratch.url.path + "/./o.jsonl"] {
            let same = try runGlossa(["normalize", input, "-o", scratch.path("o.jsonl"), "--rejects", spelling], in: scratch.url.path)
            #expect(same.status == 2 && same.stderr.contains("is the output file too"), "\(same.stderr)")
        }
        #expect(scratch.files == ["in.jsonl", "r.jsonl"])
    }

    /// Empty names are refused before anything is read or written.
    @Test func emptyFieldAndMetadataNamesAreRefused() throws {
        let scratch = try Scratch()
        try writeFile(scratch.path("in.jsonl"), Array("{\"text\":\"a\"}\n".utf8))
        let field = try runGlossa(["normalize", scratch.path("in.jsonl"), "-o", scratch.path("o.jsonl"), "--field", ""], in: scratch.url.path)
        #expect(field.status != 0 && field.stderr.contains("--field needs a field name"), "\(field.stderr)")
        let meta = try runGlossa(["detect", scratch.path("in.jsonl"), "-o", scratch.path("o.jsonl"), "--metadata-field", "",
                                  "--lid-model", TestPaths.lidModel], in: scratch.url.path)
        #expect(meta.status != 0 && meta.stderr.contains("--metadata-field needs a name"), "\(meta.stderr)")
        #expect(scratch.files == ["in.jsonl"])
    }

    /// "bytes in" is every byte read: blank, rejected and too-long lines included.
    @Test func bytesInCountsEveryLine() throws {
        let scratch = try Scratch()
        // The long line is longer than the reader's 1 MiB buffer, so it is skipped unread.
        let bytes = Array("{\"text\":\"ok\"}\n\n   \nnot json\n{\"text\":\"\(String(repeating: "x", count: 2_000_000))\"}\n[1,2]\n{\"text\":\"end\"}".utf8)
        try writeFile(scratch.path("in.jsonl"), bytes)
        var options = NormalizeJob.Options(inputs: [scratch.path("in.jsonl")], output: scratch.path("o.jsonl"))
        options.maxLineBytes = 1000
        let report = try NormalizeJob(options).run()
        #expect(report.rejectReasons == ["malformed_json": 1, "line_too_long": 1, "not_an_object": 1])
        #expect(report.blankLines == 2)
        #expect(report.bytesIn == bytes.count)
    }
}
