import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaText

/// Where the integer fields of a fastText model lie, found by walking a known-good file (the
/// fixtures): the fuzz and regression tests overwrite them by position.
struct FastTextLayout {
    struct Field {
        var offset: Int
        var width: Int  // 4 or 8 bytes
        var label: String
    }

    private(set) var fields: [Field] = []
    /// Where the input matrix's values (floats or codes) start: bytes before it are "header".
    private(set) var headerEnd = 0
    private(set) var dictionarySizeOffset = 0
    private(set) var pruneSizeOffset = 0

    init(_ b: [UInt8]) {
        var p = 0
        func int(_ width: Int, _ label: String) -> Int64 {
            fields.append(Field(offset: p, width: width, label: label))
            defer { p += width }
            let raw = b.load(at: p, width: width)
            return width == 4 ? Int64(Int32(truncatingIfNeeded: raw)) : Int64(bitPattern: raw)
        }
        _ = int(4, "magic"); _ = int(4, "version")
        for name in ["dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn", "lrUpdateRate"] {
            _ = int(4, "args.\(name)")
        }
        p += 8  // args.t
        dictionarySizeOffset = p
        let size = int(4, "dictionary size")
        _ = int(4, "word count"); _ = int(4, "label count"); _ = int(8, "token count")
        pruneSizeOffset = p
        let pruneSize = int(8, "prune index size")
        for i in 0..<Int(size) {
            while b[p] != 0 { p += 1 }
            p += 1
            _ = int(8, "count of entry \(i)")
            p += 1
        }
        for i in 0..<max(0, Int(pruneSize)) { _ = int(4, "prune bucket \(i)"); _ = int(4, "prune row \(i)") }
        // Only the input matrix's shape fields: its values are data, and the output matrix
        // follows them.
        let quantized = b[p] != 0
        p += 1
        if quantized {
            p += 1  // norm flag
            _ = int(8, "input rows"); _ = int(8, "input columns"); _ = int(4, "input code size")
        } else {
            _ = int(8, "input rows"); _ = int(8, "input columns")
        }
        headerEnd = p
    }
}

extension Array where Element == UInt8 {
    mutating func store(_ value: UInt64, at offset: Int, width: Int) {
        for i in 0..<width { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func load(at offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(self[offset + $1]) << (8 * UInt64($1)) }
    }
}

/// Opening a language-ID model as the engine does, then predicting a few lines (unknown words,
/// character and word n-grams) so that what the loader accepted is also safe to use.
func openFastText(_ bytes: [UInt8], path: String) throws(LanguageIDError) {
    let result = bytes.withUnsafeBytes { raw in
        Result { () throws(LanguageIDError) in try FastTextModel(bytes: raw, path: path) }
    }
    let model = try result.get()
    for line in ["hello world", "Bonjour à tous les amis", "xyzzy qwerty zz", "", "这是简体中文 12345"] {
        _ = model.predict(line, k: 3)
    }
}

/// Crafted fastText `.bin` / `.ftz` files: a clear error or a valid model, never a trap.
@Suite struct ModelFileFuzzFastTextTests {
    static let fixtureNames = ["softmax-bigrams.bin", "ova-trigrams.bin", "ns-subwords.bin", "hs-quantized.ftz"]
    static let fixtures = Repo.root.appendingPathComponent("Tests/GlossaTextTests/Fixtures/fasttext")

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static let extremes32: [UInt64] = [0, 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE, 1 << 16, 1 << 24]
    static let extremes64: [UInt64] = [0, 1, 1 << 31, 1 << 32, 1 << 40, 1 << 62, (1 << 63) - 1, 1 << 63, UInt64.max, UInt64.max - 1]

    enum Mutation: String, CaseIterable {
        case bitFlips, truncation, extreme32, extreme64, randomRun, randomAfterMagic
    }

    @Test func fixturesLoad() throws {
        for name in Self.fixtureNames {
            let bytes = try Self.fixture(name)
            try openFastText(bytes, path: name)
            let layout = FastTextLayout(bytes)
            #expect(layout.fields.count > 100 && layout.headerEnd > 1_000, "\(name)")
        }
    }

    @Test func mutatedModels() throws {
        let seed: UInt64 = 0x6661_7374_7465_7874
        let cases = 4_000
        let fixtures = try Self.fixtureNames.map { ($0, try Self.fixture($0)) }
        let layouts = fixtures.map { FastTextLayout($0.1) }
        let crash = CrashContext()
        var errors: [Mutation: Int] = [:], loads: [Mutation: Int] = [:], samples: [Mutation: String] = [:]
        var unchanged = 0
        let started = Date()
        let only = ProcessInfo.processInfo.environment["FASTTEXT_FUZZ_CASE"].flatMap(Int.init)
        for index in 0..<cases where only == nil || only == index {
            var rng = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            let (name, original) = fixtures[index % fixtures.count]
            let layout = layouts[index % fixtures.count]
            let mutation = Mutation.allCases[Int.random(in: 0..<Mutation.allCases.count, using: &rng)]
            var bytes = original
            var touched: Range<Int>? = nil
            var detail = ""
            switch mutation {
            case .bitFlips:
                var flipped: [Int] = []
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<layout.headerEnd, using: &rng)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    flipped.append(at)
                }
                if !flipped.contains(where: { bytes[$0] != original[$0] }) { bytes[flipped[0]] ^= 1 }
                touched = flipped.min()!..<(flipped.max()! + 1)
                detail = "flips@\(flipped)"
            case .truncation:
                let end = Bool.random(using: &rng) ? original.count : layout.headerEnd
                let cut = Int.random(in: 0..<end, using: &rng)
                bytes.removeSubrange(cut...)
                detail = "cut@\(cut)"
            case .extreme32, .extreme64:
                let width = mutation == .extreme32 ? 4 : 8
                let pool = layout.fields.filter { $0.width == width }
                // Half of the picks among the structural fields (arguments, counts, shapes),
                // which are few next to the per-entry counts and prune pairs.
                let structural = pool.filter { !$0.label.hasPrefix("count of entry") && !$0.label.hasPrefix("prune bucket") && !$0.label.hasPrefix("prune row") }
                let field = Bool.random(using: &rng) ? structural[Int.random(in: 0..<structural.count, using: &rng)]
                    : pool[Int.random(in: 0..<pool.count, using: &rng)]
                let choices = width == 4 ? Self.extremes32 : Self.extremes64
                var value = choices[Int.random(in: 0..<choices.count, using: &rng)]
                if value == bytes.load(at: field.offset, width: width) { value ^= 1 << 2 }
                bytes.store(value, at: field.offset, width: width)
                touched = field.offset..<(field.offset + width)
                detail = "\(field.label) = \(value)"
            case .randomRun:
                let at = Int.random(in: 0..<layout.headerEnd, using: &rng)
                let count = min(Int.random(in: 1...32, using: &rng), original.count - at)
                for i in at..<(at + count) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                if bytes[at..<(at + count)] == original[at..<(at + count)] { bytes[at] ^= 1 }
                touched = at..<(at + count)
                detail = "\(count) random bytes@\(at)"
            case .randomAfterMagic:
                bytes = Array(original.prefix(4))
                // Half with a valid version, so the arguments and counts are what is random.
                if Bool.random(using: &rng) { bytes += [12, 0, 0, 0] }
                for _ in 0..<Int.random(in: 0...4_096, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
                detail = "\(bytes.count) bytes"
            }
            if let touched, bytes[touched] == original[touched] {
                unchanged += 1
                continue
            }
            let description = "fastText fuzz case \(index) (seed \(seed), \(name), \(mutation.rawValue): \(detail))"
            crash.set(description)
            do {
                try openFastText(bytes, path: "fuzz-\(index).bin")
                loads[mutation, default: 0] += 1
            } catch {
                errors[mutation, default: 0] += 1
                let message = error.description
                #expect(message.contains("fuzz-\(index).bin"), "\(description): \(message)")
                if samples[mutation] == nil || index % 211 == 0 { samples[mutation] = message }
            }
        }
        crash.set("")
        for mutation in Mutation.allCases {
            print("fastText fuzz \(mutation.rawValue): \(errors[mutation, default: 0]) errors, \(loads[mutation, default: 0]) valid loads; "
                  + "e.g. \(samples[mutation] ?? "-")")
        }
        let errorCount = errors.values.reduce(0, +), loadCount = loads.values.reduce(0, +)
        print("fastText fuzz: \(cases) cases, \(errorCount) errors, \(loadCount) valid loads, \(unchanged) unchanged, "
              + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        guard only == nil else { return }
        #expect(unchanged == 0)
        #expect(errorCount + loadCount == cases)
        #expect(errorCount > cases / 4 && loadCount > cases / 20)
        for mutation in Mutation.allCases { #expect(errors[mutation, default: 0] > 50, "\(mutation)") }
    }

    // MARK: - Regression tests

    static func error(opening bytes: [UInt8]) -> String? {
        do {
            try openFastText(bytes, path: "crafted.bin")
            return nil
        } catch {
            return error.description
        }
    }

    /// Counts that would reserve gigabytes, or overflow a product, before any bytes are read.
    @Test func hugeCountsAreErrors() throws {
        let original = try Self.fixture("hs-quantized.ftz")
        let layout = FastTextLayout(original)
        var bytes = original
        bytes.store(0x7FFF_FFFF, at: layout.dictionarySizeOffset, width: 4)
        bytes.store(0x7FFF_FFFE, at: layout.dictionarySizeOffset + 4, width: 4)
        bytes.store(1, at: layout.dictionarySizeOffset + 8, width: 4)
        #expect(try #require(Self.error(opening: bytes)).contains("dictionary"))
        bytes = original
        bytes.store(UInt64(Int64.max), at: layout.pruneSizeOffset, width: 8)
        #expect(try #require(Self.error(opening: bytes)).contains("prune index"))
        for field in layout.fields where field.label.hasPrefix("input rows") || field.label.hasPrefix("input columns") {
            for value: UInt64 in [1 << 62, UInt64(Int64.max), 1 << 63] {
                bytes = original
                bytes.store(value, at: field.offset, width: 8)
                #expect(try #require(Self.error(opening: bytes)).contains("input matrix"), "\(field.label) = \(value)")
            }
        }
    }

    /// Label counts feed the Huffman tree's sums: negative, 10^15 and up, or a total past 2^63.
    @Test func impossibleLabelCountsAreErrors() throws {
        let original = try Self.fixture("hs-quantized.ftz")
        let layout = FastTextLayout(original)
        let labelCounts = layout.fields.filter { $0.label.hasPrefix("count of entry") }.suffix(2)
        for value in [UInt64(bitPattern: -1), 1_000_000_000_000_000, UInt64(Int64.max)] {
            var bytes = original
            for field in labelCounts { bytes.store(value, at: field.offset, width: 8) }
            #expect(try #require(Self.error(opening: bytes)).contains("has count"), "\(value)")
        }
    }

    /// Word n-grams hash modulo the bucket count: zero buckets would divide by zero.
    @Test func nGramsWithoutBucketsAreAnError() throws {
        let original = try Self.fixture("softmax-bigrams.bin")
        let bucket = try #require(FastTextLayout(original).fields.first { $0.label == "args.bucket" })
        var bytes = original
        bytes.store(0, at: bucket.offset, width: 4)
        #expect(try #require(Self.error(opening: bytes)).contains("0 buckets"))
    }

    @Test func validMagicFollowedByRandomBytesIsAnError() throws {
        let magic = Array(try Self.fixture("ns-subwords.bin").prefix(8))
        var rng = SeededGenerator(seed: 176)
        for trial in 0..<200 {
            var bytes = Array(magic.prefix(trial % 2 == 0 ? 8 : 4))
            for _ in 0..<Int.random(in: 0...2_048, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            let message = Self.error(opening: bytes)
            #expect(message?.contains("crafted.bin") == true, "trial \(trial): \(message ?? "loaded")")
        }
    }
}
