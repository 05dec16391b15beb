import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaEngine

/// A safetensors file taken apart: its JSON header (as an object) and its data section.
struct SafetensorsParts {
    var header: [String: Any]
    var data: [UInt8]
    var headerLength: Int

    init(_ bytes: [UInt8]) throws {
        headerLength = Int(bytes.load(at: 0, width: 8))
        header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        data = Array(bytes[(8 + headerLength)...])
    }

    /// The file with `header` serialized again (length field rewritten to match).
    static func file(header: [String: Any], data: [UInt8]) throws -> [UInt8] {
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes.store(UInt64(json.count), at: 0, width: 8)
        return bytes + json + data
    }
}

/// Opening a checkpoint from bytes: parse the safetensors file, read the config, construct the
/// model (widening every weight to F32) and run one token through it.
func openCheckpoint(_ bytes: [UInt8], config: ModelConfig, path: String) throws(EngineError) {
    let file = try SafetensorsFile(data: Data(bytes), path: path)
    let model = try Transformer(weights: CheckpointDirectory(path: path, config: config, file: file))
    _ = model.forward([0], cache: KVCache(config: model.config, capacity: 2), allLogits: false)
}

/// Crafted safetensors headers (length field, JSON bytes, dtype / shape / data_offsets values):
/// a clear error or a valid load, never a trap.
@Suite struct ModelFileFuzzSafetensorsTests {
    static let fixtureNames = ["qwen3", "qwen2", "qwen3moe"]

    static func fixture(_ name: String) throws -> (bytes: [UInt8], config: ModelConfig) {
        let dir = Fixtures.tiny.appendingPathComponent(name)
        return ([UInt8](try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))),
                try ModelConfig.huggingFace(path: dir.appendingPathComponent("config.json").path))
    }

    static var extremeInts: [Any] { [0, -1, 1, 3, 1 << 31, 1 << 32, 1 << 53, 1 << 62, Int.max, Int.min, Int.max - 1] }
    static var oddValues: [Any] { [1.5, "12", NSNull(), [1, 2], -0.0, 1e300] }
    static let dtypes = ["F32", "F16", "BF16", "I32", "I64", "U8", "I8", "F64", "I16", "Q4_K", "", "f32", "F8_E4M3"]

    enum Mutation: String, CaseIterable {
        case headerLength, bitFlips, dtype, shape, dataOffsets, entry, truncation, randomRun
        /// Changes a valid file may have: metadata, unknown keys in an entry, an unused tensor.
        case benign
    }

    @Test func mutatedHeaders() throws {
        let seed: UInt64 = 0x7361_6665_7465_6E73
        let cases = 3_000
        let fixtures = try Self.fixtureNames.map { name in (name, try Self.fixture(name)) }
        let parts = try fixtures.map { try SafetensorsParts($0.1.bytes) }
        let crash = CrashContext()
        var errors: [Mutation: Int] = [:], loads: [Mutation: Int] = [:], samples: [Mutation: String] = [:]
        var unchanged = 0, namedTensor = 0, mustNameTensor = 0
        let started = Date()
        let only = ProcessInfo.processInfo.environment["SAFETENSORS_FUZZ_CASE"].flatMap(Int.init)
        for index in 0..<cases where only == nil || only == index {
            var rng = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            let (name, fixture) = fixtures[index % fixtures.count]
            let original = fixture.bytes, part = parts[index % fixtures.count]
            let headerEnd = 8 + part.headerLength
            let mutation = Mutation.allCases[Int.random(in: 0..<Mutation.allCases.count, using: &rng)]
            var bytes = original
            var detail = ""
            var tensor: String?
            let names = part.header.keys.filter { $0 != "__metadata__" }.sorted()
            func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &rng)] }
            switch mutation {
            case .headerLength:
                let choices: [UInt64] = extremeIntegers64 + [UInt64(part.headerLength) - 1, UInt64(part.headerLength) + 1,
                                                             UInt64(original.count), UInt64(original.count - 8), UInt64(original.count - 7)]
                var value = pick(choices)
                if value == UInt64(part.headerLength) { value += 2 }
                bytes.store(value, at: 0, width: 8)
                detail = "length = \(value)"
            case .bitFlips:
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 8..<headerEnd, using: &rng)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    detail += "flip@\(at) "
                }
            case .benign:
                var header = part.header
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: header["__metadata__"] = ["format": "pt", "note": String(repeating: "x", count: Int.random(in: 0...300, using: &rng))]
                case 1:
                    let target = pick(names)
                    var entry = try #require(header[target] as? [String: Any])
                    entry["comment"] = pick(Self.oddValues)
                    header[target] = entry
                default:
                    let start = Int.random(in: 0..<(part.data.count / 4), using: &rng) * 4
                    header["unused.\(index)"] = ["dtype": "F32", "shape": [1], "data_offsets": [start, start + 4]] as [String: Any]
                }
                bytes = try SafetensorsParts.file(header: header, data: part.data)
                detail = "benign"
            case .dtype, .shape, .dataOffsets, .entry:
                var header = part.header
                let target = pick(names)
                var entry = try #require(header[target] as? [String: Any])
                tensor = target
                switch mutation {
                case .dtype:
                    entry["dtype"] = pick(Self.dtypes.filter { $0 != entry["dtype"] as? String })
                case .shape:
                    var shape = try #require(entry["shape"] as? [Int]).map { $0 as Any }
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0 where !shape.isEmpty: shape[Int.random(in: 0..<shape.count, using: &rng)] = pick(Self.extremeInts)
                    case 1: shape.append(pick(Self.extremeInts))
                    case 2 where !shape.isEmpty: shape[0] = pick(Self.oddValues)
                    default: shape = shape.isEmpty ? [7] : Array(shape.dropLast())
                    }
                    entry["shape"] = shape
                case .dataOffsets:
                    var offsets = try #require(entry["data_offsets"] as? [Int]).map { $0 as Any }
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: offsets[Int.random(in: 0..<2, using: &rng)] = pick(Self.extremeInts)
                    case 1: offsets = [offsets[1], offsets[0]]
                    case 2: offsets.append(pick(Self.extremeInts))
                    default: offsets[1] = pick(Self.oddValues)
                    }
                    entry["data_offsets"] = offsets
                default:
                    // The entry vanishes, is renamed, or is not an object.
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: header[target] = nil
                    case 1: header[target] = nil; header[target + "x"] = entry
                    default: header[target] = pick(Self.oddValues)
                    }
                }
                if header[target] != nil, header[target] is [String: Any] { header[target] = entry }
                bytes = try SafetensorsParts.file(header: header, data: part.data)
                detail = "\(target): \(header[target].map { "\($0)" } ?? "removed")"
            case .truncation:
                let cut = Int.random(in: 0..<original.count, using: &rng)
                bytes.removeSubrange(cut...)
                detail = "cut@\(cut)"
            case .randomRun:
                let at = Int.random(in: 0..<headerEnd, using: &rng)
                let count = min(Int.random(in: 1...32, using: &rng), headerEnd - at)
                for i in at..<(at + count) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                detail = "\(count) random bytes@\(at)"
            }
            if bytes.count == original.count && bytes.prefix(headerEnd) == original.prefix(headerEnd) {
                unchanged += 1
                continue
            }
            let description = "safetensors fuzz case \(index) (seed \(seed), \(name), \(mutation.rawValue): \(detail))"
            crash.set(description)
            do {
                try openCheckpoint(bytes, config: fixture.config, path: "fuzz-\(index).safetensors")
                loads[mutation, default: 0] += 1
            } catch {
                errors[mutation, default: 0] += 1
                let message = error.description
                #expect(!message.isEmpty, "\(description)")
                if let tensor {
                    mustNameTensor += 1
                    if message.contains(tensor) { namedTensor += 1 }
                    #expect(message.contains(tensor), "\(description): \(message)")
                }
                if samples[mutation] == nil || index % 101 == 0 { samples[mutation] = message }
            }
        }
        crash.set("")
        for mutation in Mutation.allCases {
            print("safetensors fuzz \(mutation.rawValue): \(errors[mutation, default: 0]) errors, \(loads[mutation, default: 0]) valid loads; "
                  + "e.g. \(samples[mutation] ?? "-")")
        }
        let errorCount = errors.values.reduce(0, +), loadCount = loads.values.reduce(0, +)
        print("safetensors fuzz: \(cases) cases (\(unchanged) left the bytes unchanged and were skipped), \(errorCount) errors, "
              + "\(loadCount) valid loads, \(namedTensor)/\(mustNameTensor) JSON-entry errors named the tensor, "
              + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        guard only == nil else { return }
        #expect(errorCount + loadCount + unchanged == cases)
        // Only a random run can rewrite bytes with the same bytes; nearly never.
        #expect(unchanged < cases / 100)
        #expect(errorCount > cases / 2 && loadCount > cases / 20)
        for mutation in Mutation.allCases where mutation != .benign { #expect(errors[mutation, default: 0] > 20, "\(mutation)") }
        #expect(errors[.benign, default: 0] == 0 && loads[.benign, default: 0] > 100)
        #expect(mustNameTensor > cases / 4)
    }

    // MARK: - Regression tests

    static func error(opening bytes: [UInt8], config: ModelConfig) -> String? {
        do {
            try openCheckpoint(bytes, config: config, path: "crafted.safetensors")
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [1 << 63, UInt64.max, 1 << 40, 0] as [UInt64])
    func headerLengthBeyondTheFileIsAnError(_ value: UInt64) throws {
        let (original, config) = try Self.fixture("qwen3")
        var bytes = original
        bytes.store(value, at: 0, width: 8)
        let message = try #require(Self.error(opening: bytes, config: config))
        #expect(message.contains("header") && message.contains("\(value)"), "\(message)")
    }

    @Test func overflowingShapesAndOffsetsAreErrorsNamingTheTensor() throws {
        let (original, config) = try Self.fixture("qwen3")
        let parts = try SafetensorsParts(original)
        let name = "model.layers.0.self_attn.q_proj.weight"
        let entry = try #require(parts.header[name] as? [String: Any])
        let variants: [[String: Any]] = [
            ["shape": [1 << 62, 1 << 62]], ["shape": [Int.max, 2]], ["shape": [-64, -64]], ["shape": [0, Int.max, Int.max]],
            ["data_offsets": [0, Int.max]], ["data_offsets": [Int.max - 8, Int.max]], ["data_offsets": [Int.min, 0]],
            ["data_offsets": [16_384, 0]], ["dtype": "F64"], ["dtype": "Q4_K"],
        ]
        for change in variants {
            var header = parts.header
            header[name] = entry.merging(change) { $1 }
            let message = try #require(Self.error(opening: try SafetensorsParts.file(header: header, data: parts.data), config: config),
                                       "\(change) loaded")
            #expect(message.contains(name), "\(change): \(message)")
        }
    }

    /// Readers refuse dtypes they would read past the data with (U8 read as I32 words).
    @Test func integersAndFloatsCheckTheDType() throws {
        let data: [UInt8] = Array(repeating: 1, count: 4)
        let header: [String: Any] = ["bytes": ["dtype": "U8", "shape": [4], "data_offsets": [0, 4]] as [String: Any]]
        let bytes = try SafetensorsParts.file(header: header, data: data)
        let file = try SafetensorsFile(data: Data(bytes), path: "u8.safetensors")
        #expect(throws: EngineError.unsupportedDType(name: "bytes", dtype: "U8")) { try file.integers("bytes") }
        #expect(throws: EngineError.unsupportedDType(name: "bytes", dtype: "U8")) { try file.floats("bytes") }
        #expect(try file.rawBytes("bytes") == data)
    }
}
