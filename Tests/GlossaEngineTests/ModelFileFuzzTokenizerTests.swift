import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaEngine

/// Writes GGUF metadata (no tensors): enough for a tokenizer-only file.
struct GGUFMetadataWriter {
    private var entries: [[UInt8]] = []

    private static func string(_ s: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 8)
        out.store(UInt64(s.utf8.count), at: 0, width: 8)
        return out + Array(s.utf8)
    }

    private static func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    private static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    mutating func add(_ key: String, string value: String) {
        entries.append(Self.string(key) + Self.u32(8) + Self.string(value))
    }

    mutating func add(_ key: String, strings: [String]) {
        entries.append(Self.string(key) + Self.u32(9) + Self.u32(8) + Self.u64(UInt64(strings.count)) + strings.flatMap(Self.string))
    }

    mutating func add(_ key: String, int32s: [Int32]) {
        entries.append(Self.string(key) + Self.u32(9) + Self.u32(5) + Self.u64(UInt64(int32s.count))
                       + int32s.flatMap { Self.u32(UInt32(bitPattern: $0)) })
    }

    var bytes: [UInt8] {
        var out = Array("GGUF".utf8) + Self.u32(3) + Self.u64(0) + Self.u64(UInt64(entries.count))
        for e in entries { out += e }
        while out.count % 32 != 0 { out.append(0) }
        return out
    }
}

/// Tokenizers built from GGUF metadata: wrongly typed or sized token arrays and merges that do
/// not parse are errors naming the key; mutated files never trap, in loading or in use.
@Suite struct ModelFileFuzzTokenizerTests {
    /// A byte-level BPE vocabulary: the 256 byte tokens, a few merges, filler tokens (over
    /// 1,000 strings, so that the vocabulary takes GGUFFile's lazy string-array path) and two
    /// control tokens.
    static func writer(tokens extra: [String] = [], merges: [String]? = nil, types: [Int32]? = nil,
                       tokensOverride: ((inout GGUFMetadataWriter) -> Void)? = nil) -> GGUFMetadataWriter {
        var tokens = (0..<256).map { String(Character(Unicode.Scalar(ByteLevel.byteToUnicode[$0]) ?? "?")) }
        tokens += ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"]
        tokens += (0..<800).map { "filler\($0)" }
        tokens += ["<|im_start|>", "<|im_end|>"] + extra
        let mergeList = merges ?? ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
        var w = GGUFMetadataWriter()
        w.add("general.architecture", string: "qwen2")
        if let tokensOverride { tokensOverride(&w) } else { w.add("tokenizer.ggml.tokens", strings: tokens) }
        w.add("tokenizer.ggml.merges", strings: mergeList)
        w.add("tokenizer.ggml.token_type", int32s: types ?? tokens.map { $0.hasPrefix("<|") ? 3 : 1 })
        return w
    }

    static func tokenizer(_ bytes: [UInt8], path: String = "tokenizer.gguf") throws(EngineError) -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(data: Data(bytes), path: path))
    }

    static func error(_ bytes: [UInt8]) -> String? {
        do {
            _ = try tokenizer(bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theFixtureBuildsATokenizer() throws {
        let t = try Self.tokenizer(Self.writer().bytes)
        #expect(t.encode("hello world<|im_end|>") == [259, 264, 1066])  // hello, Ġworld, <|im_end|>
        #expect(t.decode(t.encode("hello world")) == "hello world")
    }

    @Test func wronglyTypedOrSizedTokenArraysAreErrors() throws {
        // Tokens that are numbers.
        let numbers = Self.writer(tokensOverride: { $0.add("tokenizer.ggml.tokens", int32s: [1, 2, 3]) })
        #expect(try #require(Self.error(numbers.bytes)).contains("tokenizer.ggml.tokens"))
        // Token types that are strings, and token types of the wrong length.
        var strings = GGUFMetadataWriter()
        strings.add("tokenizer.ggml.tokens", strings: ["a", "b"])
        strings.add("tokenizer.ggml.merges", strings: [])
        strings.add("tokenizer.ggml.token_type", strings: ["1", "1"])
        #expect(try #require(Self.error(strings.bytes)).contains("tokenizer.ggml.token_type"))
        let short = Self.writer(types: [1, 1, 1])
        #expect(try #require(Self.error(short.bytes)).contains("tokenizer.ggml.token_type"))
    }

    @Test(arguments: ["hello", "h e x", "zz qq", " ", "hell o extra"])
    func mergesThatDoNotParseAreErrors(_ merge: String) throws {
        let message = try #require(Self.error(Self.writer(merges: ["h e", merge]).bytes), "\(merge) was accepted")
        #expect(message.contains("merge 1") && message.contains(merge), "\(message)")
    }

    @Test func mutatedTokenizerFiles() throws {
        let seed: UInt64 = 0x746F_6B65_6E73
        let cases = 2_000
        let original = Self.writer().bytes
        let layout = GGUFLayout(original)
        let longFields = layout.headerFields.filter { $0.width == 8 } + layout.elementFields
        let crash = CrashContext()
        var errors = 0, builds = 0
        for index in 0..<cases {
            var rng = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            var bytes = original
            var detail = ""
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<layout.headerEnd, using: &rng)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    detail += "flip@\(at) "
                }
            case 1:
                let field = longFields[Int.random(in: 0..<longFields.count, using: &rng)]
                var value = extremeIntegers64[Int.random(in: 0..<extremeIntegers64.count, using: &rng)]
                if value == bytes.load(at: field.offset, width: 8) { value ^= 1 }
                bytes.store(value, at: field.offset, width: 8)
                detail = "\(field.label) = \(value)"
            default:
                let cut = Int.random(in: 0..<original.count, using: &rng)
                bytes.removeSubrange(cut...)
                detail = "cut@\(cut)"
            }
            let description = "tokenizer fuzz case \(index) (seed \(seed): \(detail))"
            crash.set(description)
            do {
                let t = try Self.tokenizer(bytes, path: "fuzz-\(index).gguf")
                let ids = t.encode("hello world <|im_end|> ÿ\u{0}x")
                _ = t.decode(ids + [-1, 5, Int.max])
                builds += 1
            } catch {
                errors += 1
                #expect(error.description.contains("fuzz-\(index).gguf"), "\(description): \(error)")
            }
        }
        crash.set("")
        print("tokenizer fuzz: \(cases) cases, \(errors) errors, \(builds) tokenizers built")
        #expect(errors + builds == cases && errors > cases / 4 && builds > cases / 50)
    }
}
