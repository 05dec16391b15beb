import Foundation
import Testing
@testable import GlossaText

/// Unicode's own conformance file, every line and all four forms, through Glossa's API
/// (the Normalizer with only the form enabled, i.e. its quick-check fast path plus ICU).
@Suite struct NormalizationConformanceTests {
    struct Line { var columns: [String]; var number: Int }

    static func load() throws -> (lines: [Line], part1: Set<UInt32>) {
        let url = Repo.assets.appendingPathComponent("unicode/NormalizationTest.txt")
        guard FileManager.default.fileExists(atPath: url.path) else {
            Issue.record("missing \(url.path): run scripts/setup.sh (installs unicode-data)")
            throw CocoaError(.fileNoSuchFile)
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines: [Line] = []
        var part1 = Set<UInt32>()
        var part = ""
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if raw.hasPrefix("@") { part = String(raw.prefix(6)); continue }
            let body = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let fields = body.split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count >= 5 else { continue }
            let columns = fields.prefix(5).map { field in
                String(String.UnicodeScalarView(field.split(separator: " ").map {
                    Unicode.Scalar(UInt32($0, radix: 16)!)!
                }))
            }
            if part == "@Part1" { part1.insert(columns[0].unicodeScalars.first!.value) }
            lines.append(Line(columns: columns, number: index + 1))
        }
        return (lines, part1)
    }

    @Test func everyLineAllFourForms() throws {
        let (lines, _) = try Self.load()
        #expect(lines.count > 19_000, "NormalizationTest.txt looks truncated")
        let nfc = Normalizer(.formOnly(.nfc)), nfd = Normalizer(.formOnly(.nfd))
        let nfkc = Normalizer(.formOnly(.nfkc)), nfkd = Normalizer(.formOnly(.nfkd))
        var failures = 0, checks = 0
        for line in lines {
            let c = line.columns
            // The invariants stated in the file's header.
            let expectations: [(Normalizer, Int, [Int])] = [
                (nfc, 1, [0, 1, 2]), (nfc, 3, [3, 4]),
                (nfd, 2, [0, 1, 2]), (nfd, 4, [3, 4]),
                (nfkc, 3, [0, 1, 2, 3, 4]), (nfkd, 4, [0, 1, 2, 3, 4]),
            ]
            for (normalizer, expected, sources) in expectations {
                for source in sources {
                    checks += 1
                    if normalizer.normalize(c[source]).text.scalars != c[expected].scalars {
                        failures += 1
                        if failures < 10 { Issue.record("line \(line.number): \(normalizer.configuration.form) of c\(source + 1) != c\(expected + 1)") }
                    }
                }
            }
        }
        print("NormalizationTest.txt: \(lines.count) lines, \(checks) checks, \(failures) failures (ICU \(ICU.version), Unicode \(ICU.unicodeVersion))")
        #expect(failures == 0)
        #expect(checks == lines.count * 20)
    }

    /// Part 1's complement: every other code point is unchanged by all four forms.
    @Test func codePointsOutsidePart1AreStable() throws {
        let (_, part1) = try Self.load()
        let forms = [Normalizer(.formOnly(.nfc)), Normalizer(.formOnly(.nfd)),
                     Normalizer(.formOnly(.nfkc)), Normalizer(.formOnly(.nfkd))]
        var failures = 0
        // Chunks of 64 code points per string keep this fast while covering every one.
        var chunk = String.UnicodeScalarView()
        func check() {
            let s = String(chunk)
            for f in forms where f.normalize(s).text.scalars != s.scalars {
                // A chunk can fail only by interaction; retry its code points one by one.
                for scalar in chunk {
                    let one = String(scalar)
                    if f.normalize(one).text.scalars != one.scalars { failures += 1 }
                }
            }
            chunk.removeAll(keepingCapacity: true)
        }
        for c in UInt32(0)...0x10FFFF where !part1.contains(c) {
            guard let scalar = Unicode.Scalar(c) else { continue }
            chunk.append(scalar)
            // Keep neighbours from composing with each other: separate with a starter.
            chunk.append("\u{0}")
            if chunk.count >= 128 { check() }
        }
        check()
        #expect(failures == 0)
    }
}
