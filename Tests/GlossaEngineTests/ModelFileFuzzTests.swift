import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaEngine

/// Where every integer field of a GGUF header lies, found by walking a known-good file (the
/// tiny fixtures): the fuzz and regression tests below overwrite fields by position.
struct GGUFLayout {
    struct Field {
        var offset: Int
        var width: Int  // 4 or 8 bytes
        var label: String
        /// The tensor name or metadata key an error about this field must name (when the
        /// field's owner is known before the field is read).
        var subject: String?
    }

    struct Tensor {
        var name: String
        var dimensionOffsets: [Int]
        var dimensions: [Int]
        var typeOffset: Int
        var dataOffsetOffset: Int
    }

    private(set) var headerFields: [Field] = []
    /// Lengths of the strings inside metadata arrays (the vocabulary): many, so kept apart.
    private(set) var elementFields: [Field] = []
    private(set) var tensors: [Tensor] = []
    /// Offset of each metadata value (for arrays: of the element type).
    private(set) var values: [String: Int] = [:]
    private(set) var headerEnd = 0
    private(set) var dataOffset = 0

    init(_ b: [UInt8]) {
        var p = 8
        func u32() -> UInt32 {
            defer { p += 4 }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[p + $1]) << (8 * $1) }
        }
        func u64() -> UInt64 {
            defer { p += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[p + $1]) << (8 * $1) }
        }
        func string() -> String {
            let n = Int(u64())
            defer { p += n }
            return String(decoding: b[p..<(p + n)], as: UTF8.self)
        }
        headerFields.append(Field(offset: 4, width: 4, label: "version"))
        let tensorCount = Int(u64()), kvCount = Int(u64())
        headerFields.append(Field(offset: 8, width: 8, label: "tensor count", subject: "tensor count"))
        headerFields.append(Field(offset: 16, width: 8, label: "metadata count", subject: "metadata key-value count"))
        func skipValue(_ type: UInt32, _ key: String, inArray: Bool) {
            func field(_ width: Int, _ label: String) {
                let f = Field(offset: p, width: width, label: label, subject: key)
                if inArray { elementFields.append(f) } else { headerFields.append(f) }
            }
            switch type {
            case 0, 1, 7: p += 1
            case 2, 3: p += 2
            case 4, 5: field(4, "value of '\(key)'"); p += 4
            case 6: p += 4
            case 10, 11: field(8, "value of '\(key)'"); p += 8
            case 12: p += 8
            case 8: field(8, "string length in '\(key)'"); p += Int(u64())
            case 9:
                field(4, "element type of '\(key)'")
                let elementType = u32()
                field(8, "array length of '\(key)'")
                let count = Int(u64())
                for _ in 0..<count { skipValue(elementType, key, inArray: true) }
            default: fatalError("the fixture has metadata of unknown type \(type)")
            }
        }
        for _ in 0..<kvCount {
            let lengthAt = p
            let key = string()
            headerFields.append(Field(offset: lengthAt, width: 8, label: "key length of '\(key)'"))
            headerFields.append(Field(offset: p, width: 4, label: "type of '\(key)'"))
            let type = u32()
            values[key] = p
            skipValue(type, key, inArray: false)
        }
        for _ in 0..<tensorCount {
            let lengthAt = p
            let name = string()
            headerFields.append(Field(offset: lengthAt, width: 8, label: "name length of '\(name)'"))
            headerFields.append(Field(offset: p, width: 4, label: "dimension count of '\(name)'"))
            let n = Int(u32())
            var offsets: [Int] = [], dimensions: [Int] = []
            for d in 0..<n {
                headerFields.append(Field(offset: p, width: 8, label: "dimension \(d) of '\(name)'", subject: "tensor '\(name)'"))
                offsets.append(p)
                dimensions.append(Int(u64()))
            }
            headerFields.append(Field(offset: p, width: 4, label: "type of '\(name)'"))
            let typeOffset = p
            p += 4
            headerFields.append(Field(offset: p, width: 8, label: "data offset of '\(name)'", subject: "tensor '\(name)'"))
            tensors.append(Tensor(name: name, dimensionOffsets: offsets, dimensions: dimensions, typeOffset: typeOffset, dataOffsetOffset: p))
            p += 8
        }
        headerEnd = p
        dataOffset = (p + 31) / 32 * 32
    }
}

extension Array where Element == UInt8 {
    /// Overwrites `width` bytes at `offset` with `value`, little-endian.
    mutating func store(_ value: UInt64, at offset: Int, width: Int) {
        for i in 0..<width { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func load(at offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(self[offset + $1]) << (8 * UInt64($1)) }
    }
}

/// The integers a crafted file would use to break size arithmetic.
let extremeIntegers64: [UInt64] = [0, 1, 1 << 31, (1 << 32) - 1, 1 << 32, 1 << 40, (1 << 62), (1 << 63) - 1, 1 << 63,
                                   (1 << 63) + 1, UInt64.max - 1, UInt64.max]
let extremeIntegers32: [UInt64] = [0, 1, 2, 3, 9, 31, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]

/// What opening a model means here: parse the file, build the weight source and config, and
/// construct the model (cheap for the tiny fixtures), then run one token through it.
func openGGUFModel(_ data: Data, path: String) throws(EngineError) {
    let model = try Transformer(gguf: GGUFFile(data: data, path: path))
    _ = model.forward([0], cache: KVCache(config: model.config, capacity: 2), allLogits: false)
}

/// Crafted GGUF files: every mutation of a tiny model's header is a clear error or a model
/// that loads (and runs), never a trap.
@Suite struct ModelFileFuzzTests {
    static let fixtureNames = ["qwen3", "qwen2", "qwen3moe"]

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Fixtures.tiny.appendingPathComponent("\(name).gguf")))
    }

    /// The fixtures themselves load: the mutations start from valid files.
    @Test func fixturesLoad() throws {
        for name in Self.fixtureNames {
            let bytes = try Self.fixture(name)
            try openGGUFModel(Data(bytes), path: "\(name).gguf")
            let layout = GGUFLayout(bytes)
            #expect(layout.tensors.count >= 10 && layout.headerFields.count >= 50 && layout.elementFields.count >= 500)
            #expect(try GGUFFile(data: Data(bytes), path: name).dataOffset == layout.dataOffset)
        }
    }

    enum Mutation: String, CaseIterable {
        case bitFlips, truncation, extreme64, extreme32, randomRun, randomAfterMagic
    }

    struct Tally {
        var errors = 0, loads = 0, unchanged = 0
        var errorsNamingSubject = 0, errorsThatMustNameSubject = 0
    }

    @Test func tenThousandMutatedHeaders() throws {
        let seed: UInt64 = 0x6767_7566_2D66_757A
        let cases = 10_000
        let fixtures = try Self.fixtureNames.map { name in (name, try Self.fixture(name)) }
        let layouts = fixtures.map { GGUFLayout($0.1) }
        let longFields = layouts.map { $0.headerFields.filter { $0.width == 8 } }
        let shortFields = layouts.map { $0.headerFields.filter { $0.width == 4 } }
        let crash = CrashContext()
        var tallies: [Mutation: Tally] = [:]
        var samples: [Mutation: String] = [:]
        let started = Date()
        // GGUF_FUZZ_CASE=n runs case n alone (same bytes: each case has its own generator).
        let only = ProcessInfo.processInfo.environment["GGUF_FUZZ_CASE"].flatMap(Int.init)
        for index in 0..<cases where only == nil || only == index {
            var rng = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            let (name, original) = fixtures[index % fixtures.count]
            let layout = layouts[index % fixtures.count]
            let roll = Int.random(in: 0..<100, using: &rng)
            let mutation: Mutation = roll < 30 ? .bitFlips : roll < 45 ? .truncation : roll < 70 ? .extreme64
                : roll < 80 ? .extreme32 : roll < 90 ? .randomRun : .randomAfterMagic
            var bytes = original
            var mustName: String?
            var detail = ""
            // Whether the bytes differ from the fixture (checked where they were touched).
            var changed = true
            switch mutation {
            case .bitFlips:
                var flipped: [Int] = []
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<layout.headerEnd, using: &rng)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    flipped.append(at)
                    detail += "flip@\(at) "
                }
                // The same bit flipped twice puts it back.
                if !flipped.contains(where: { bytes[$0] != original[$0] }) { bytes[flipped[0]] ^= 1 }
                changed = flipped.contains { bytes[$0] != original[$0] }
            case .truncation:
                // Mostly inside the header; sometimes inside the tensor data.
                let end = Int.random(in: 0..<4, using: &rng) == 0 ? original.count : layout.dataOffset + 64
                let cut = Int.random(in: 0..<end, using: &rng)
                bytes.removeSubrange(cut...)
                detail = "cut@\(cut)"
            case .extreme64:
                let pool = Int.random(in: 0..<4, using: &rng) == 0 ? layout.elementFields : longFields[index % fixtures.count]
                let field = pool[Int.random(in: 0..<pool.count, using: &rng)]
                var value = extremeIntegers64[Int.random(in: 0..<extremeIntegers64.count, using: &rng)]
                if value == bytes.load(at: field.offset, width: 8) { value ^= 1 << 63 }
                bytes.store(value, at: field.offset, width: 8)
                changed = bytes.load(at: field.offset, width: 8) != original.load(at: field.offset, width: 8)
                if value >= 1 << 63 { mustName = field.subject }
                detail = "\(field.label) = \(value)"
            case .extreme32:
                let pool = shortFields[index % fixtures.count]
                let field = pool[Int.random(in: 0..<pool.count, using: &rng)]
                var value = extremeIntegers32[Int.random(in: 0..<extremeIntegers32.count, using: &rng)]
                if value == bytes.load(at: field.offset, width: 4) { value ^= 0x8000_0000 }
                bytes.store(value, at: field.offset, width: 4)
                changed = bytes.load(at: field.offset, width: 4) != original.load(at: field.offset, width: 4)
                detail = "\(field.label) = \(value)"
            case .randomRun:
                let at = Int.random(in: 0..<layout.headerEnd, using: &rng)
                let count = min(Int.random(in: 1...64, using: &rng), original.count - at)
                for i in at..<(at + count) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                if bytes[at..<(at + count)] == original[at..<(at + count)] { bytes[at] ^= 1 }
                changed = bytes[at..<(at + count)] != original[at..<(at + count)]
                detail = "\(count) random bytes@\(at)"
            case .randomAfterMagic:
                bytes = Array("GGUF".utf8)
                // Half of them with a valid version, so that the counts and tables are random.
                if Bool.random(using: &rng) { bytes += [3, 0, 0, 0] }
                for _ in 0..<Int.random(in: 0...4_096, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
                detail = "\(bytes.count) bytes"
            }
            let description = "GGUF fuzz case \(index) (seed \(seed), \(name).gguf, \(mutation.rawValue): \(detail))"
            crash.set(description)
            var tally = tallies[mutation, default: Tally()]
            if !changed { tally.unchanged += 1 }
            let outcome: EngineError?
            do throws(EngineError) {
                try openGGUFModel(Data(bytes), path: "fuzz-\(index).gguf")
                outcome = nil
            } catch {
                outcome = error
            }
            if let error = outcome {
                tally.errors += 1
                let message = error.description
                // Says which file, or which tensor or architecture (errors found past parsing).
                #expect(!message.isEmpty, "\(description)")
                #expect(["fuzz-\(index).gguf", "tensor", "architecture"].contains { message.contains($0) }, "\(description): \(message)")
                if let mustName {
                    tally.errorsThatMustNameSubject += 1
                    if message.contains(mustName) { tally.errorsNamingSubject += 1 }
                    #expect(message.contains(mustName), "\(description): \(message)")
                }
                if samples[mutation] == nil || index % 997 == 0 { samples[mutation] = message }
            } else {
                tally.loads += 1
            }
            tallies[mutation] = tally
        }
        crash.set("")
        let seconds = Date().timeIntervalSince(started)
        for mutation in Mutation.allCases {
            let t = tallies[mutation, default: Tally()]
            print("GGUF fuzz \(mutation.rawValue): \(t.errors) errors, \(t.loads) valid loads, \(t.unchanged) unchanged; "
                  + "\(t.errorsNamingSubject)/\(t.errorsThatMustNameSubject) named the tensor or key; e.g. \(samples[mutation] ?? "-")")
        }
        print("GGUF fuzz: \(cases) cases in \(String(format: "%.1f", seconds)) s")
        guard only == nil else { return }
        let total = tallies.values.reduce(into: Tally()) { $0.errors += $1.errors; $0.loads += $1.loads; $0.unchanged += $1.unchanged }
        #expect(total.errors + total.loads == cases)
        #expect(total.unchanged == 0, "every case must change the file")
        // Both outcomes happen: the test is not vacuous in either direction.
        #expect(total.errors > cases / 4 && total.loads > cases / 50)
        for mutation in Mutation.allCases { #expect(tallies[mutation, default: Tally()].errors > 50, "\(mutation)") }
        #expect((tallies[.extreme64]?.errorsThatMustNameSubject ?? 0) > 100)
    }

    // MARK: - Regression tests for the cases the issue names

    /// The error for `bytes`, or nil when the model opened.
    static func error(opening bytes: [UInt8], path: String = "crafted.gguf") -> String? {
        do {
            try openGGUFModel(Data(bytes), path: path)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [1 << 63, (1 << 63) + 4_096, UInt64.max] as [UInt64])
    func tensorDimensionAtOrAbove2To63IsAnError(_ value: UInt64) throws {
        let original = try Self.fixture("qwen3")
        let layout = GGUFLayout(original)
        for tensor in layout.tensors.prefix(4) {
            for offset in tensor.dimensionOffsets {
                var bytes = original
                bytes.store(value, at: offset, width: 8)
                let message = try #require(Self.error(opening: bytes))
                #expect(message.contains("tensor '\(tensor.name)'") && message.contains("\(value)"), "\(message)")
            }
        }
    }

    @Test(arguments: [1 << 63, (1 << 63) + 32, UInt64.max - 31] as [UInt64])
    func tensorOffsetAtOrAbove2To63IsAnError(_ value: UInt64) throws {
        let original = try Self.fixture("qwen3")
        for tensor in GGUFLayout(original).tensors {
            var bytes = original
            bytes.store(value, at: tensor.dataOffsetOffset, width: 8)
            let message = try #require(Self.error(opening: bytes))
            #expect(message.contains("tensor '\(tensor.name)'") && message.contains("data offset \(value)"), "\(message)")
        }
    }

    /// An offset that fits in Int but puts the data past the end of the file.
    @Test func tensorDataPastTheEndIsAnError() throws {
        let original = try Self.fixture("qwen3")
        let layout = GGUFLayout(original)
        let tensor = layout.tensors[0]
        for value: UInt64 in [UInt64(original.count), 1 << 62, UInt64(Int.max) / 32 * 32] {
            var bytes = original
            bytes.store(value, at: tensor.dataOffsetOffset, width: 8)
            let message = try #require(Self.error(opening: bytes))
            #expect(message.contains("the data of tensor '\(tensor.name)'") && message.contains("truncated"), "\(message)")
        }
        // A file cut inside the last tensor's data.
        let message = try #require(Self.error(opening: Array(original.dropLast(1))))
        #expect(message.contains("the data of tensor '") && message.contains("truncated"), "\(message)")
    }

    @Test(arguments: [1 << 32, 1 << 40, 1 << 63, UInt64.max] as [UInt64])
    func hugeTensorCountIsAnError(_ value: UInt64) throws {
        var bytes = try Self.fixture("qwen3")
        bytes.store(value, at: 8, width: 8)
        let message = try #require(Self.error(opening: bytes))
        #expect(message.contains("the tensor count is \(value)"), "\(message)")
    }

    @Test(arguments: [1 << 32, 1 << 40, 1 << 63, UInt64.max] as [UInt64])
    func hugeMetadataCountIsAnError(_ value: UInt64) throws {
        var bytes = try Self.fixture("qwen3")
        bytes.store(value, at: 16, width: 8)
        let message = try #require(Self.error(opening: bytes))
        #expect(message.contains("the metadata key-value count") && message.contains("\(value)"), "\(message)")
    }

    @Test func hugeArrayAndStringLengthsAreErrors() throws {
        let original = try Self.fixture("qwen3")
        let layout = GGUFLayout(original)
        let lengths = layout.headerFields.filter { $0.label.hasPrefix("array length of") || $0.label.hasPrefix("string length in") }
        #expect(lengths.count >= 2)
        for field in lengths {
            for value: UInt64 in [1 << 40, 1 << 63, UInt64.max] {
                var bytes = original
                bytes.store(value, at: field.offset, width: 8)
                let message = try #require(Self.error(opening: bytes))
                #expect(message.contains(try #require(field.subject)) && message.contains("\(value)"), "\(field.label): \(message)")
            }
        }
    }

    @Test func validMagicFollowedByRandomBytesIsAnError() {
        var rng = SeededGenerator(seed: 2_025)
        for trial in 0..<200 {
            var bytes = Array("GGUF".utf8)
            if trial % 2 == 0 { bytes += [3, 0, 0, 0] }
            for _ in 0..<Int.random(in: 0...2_048, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            let message = Self.error(opening: bytes, path: "random-\(trial).gguf")
            #expect(message?.contains("random-\(trial).gguf") == true, "trial \(trial): \(message ?? "loaded")")
        }
    }

    /// GGUF strings are UTF-8: a key or tensor name that is not is a corrupt file.
    @Test func stringsThatAreNotUTF8AreErrors() throws {
        let original = try Self.fixture("qwen3")
        let layout = GGUFLayout(original)
        let lengths = layout.headerFields.filter { $0.label.hasPrefix("key length of") || $0.label.hasPrefix("name length of") }
        #expect(lengths.count > 20)
        for field in lengths {
            var bytes = original
            bytes[field.offset + 8] = 0xFF  // the first byte of the string
            let message = try #require(Self.error(opening: bytes), "\(field.label)")
            #expect(message.contains("is not valid UTF-8"), "\(field.label): \(message)")
        }
    }

    /// Settings a model cannot be built from: zero heads (a division), a head count that does
    /// not group, an odd head dimension, a zero layer count.
    @Test func impossibleSettingsAreErrorsNamingTheKey() throws {
        let original = try Self.fixture("qwen3")
        let layout = GGUFLayout(original)
        let cases: [(String, UInt64)] = [
            ("qwen3.attention.head_count", 0), ("qwen3.attention.head_count_kv", 0), ("qwen3.attention.head_count_kv", 3),
            ("qwen3.attention.key_length", 15), ("qwen3.block_count", 0), ("qwen3.embedding_length", 0),
            ("qwen3.attention.head_count", 0xFFFF_FFFF), ("qwen3.context_length", 0),
        ]
        for (key, value) in cases {
            let at = try #require(layout.values[key], "\(key) in the fixture")
            var bytes = original
            bytes.store(value, at: at, width: 4)
            let message = try #require(Self.error(opening: bytes), "\(key) = \(value) loaded")
            #expect(message.contains(key), "\(key) = \(value): \(message)")
        }
    }

    /// A tensor whose shape disagrees with the settings is an error at load, not a read past
    /// the tensor in a kernel.
    @Test func wronglyShapedTensorIsAnError() throws {
        let original = try Self.fixture("qwen3")
        let tensor = try #require(GGUFLayout(original).tensors.first { $0.name == "blk.0.attn_q.weight" })
        var bytes = original
        bytes.store(UInt64(tensor.dimensions[1] / 2), at: tensor.dimensionOffsets[1], width: 8)
        let message = try #require(Self.error(opening: bytes))
        #expect(message.contains("blk.0.attn_q.weight") && message.contains("shape"), "\(message)")
    }
}
