import Foundation
import GlossaText
import Testing
@testable import GlossaEngine

enum DefaultModel {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var models: URL {
        ProcessInfo.processInfo.environment["GLOSSA_MODELS"].map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("models")
    }
    static var path: String { models.appendingPathComponent("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").path }
    static let gguf: GGUFFile = {
        _ = processConfigured
        return try! GGUFFile(path: path)
    }()
    static let tokenizer: Tokenizer = try! Tokenizer(gguf: gguf)
    static let qwen3Tokenizer: Tokenizer = try! Tokenizer(gguf: gguf, normalization: .nfc, overrides: Tokenizer.qwen3AddedTokens)
}

func zstdLines(_ url: URL) throws -> [Data] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
    process.arguments = ["-dc", url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data.split(separator: 0x0A).map { Data($0) }
}

/// Ids from Hugging Face `tokenizers` (Fixtures/tokenizer/make_tokenizer_fixture.py) with the
/// real Qwen vocabulary: the GGUF's tokenizer as transformers builds it (no normalizer), and
/// Qwen3's (NFC plus <think> and friends as added tokens).
@Suite struct TokenizerTests {
    struct Row: Decodable { var text: String; var gguf: [Int]; var qwen3: [Int] }

    static func rows() throws -> [Row] {
        try zstdLines(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizer/tokenizer-ids.jsonl.zst")).map { try JSONDecoder().decode(Row.self, from: $0) }
    }

    @Test func idsMatchHuggingFace() throws {
        let rows = try Self.rows()
        #expect(rows.count >= 1_000)
        var ggufMismatches = 0, qwen3Mismatches = 0
        for row in rows {
            let a = DefaultModel.tokenizer.encode(row.text)
            if a != row.gguf {
                ggufMismatches += 1
                if ggufMismatches <= 5 { Issue.record("gguf \(row.text.debugDescription): \(a) != \(row.gguf)") }
            }
            let b = DefaultModel.qwen3Tokenizer.encode(row.text)
            if b != row.qwen3 {
                qwen3Mismatches += 1
                if qwen3Mismatches <= 5 { Issue.record("qwen3 \(row.text.debugDescription): \(b) != \(row.qwen3)") }
            }
        }
        print("tokenizer parity: \(rows.count) strings, gguf mismatches \(ggufMismatches), qwen3 mismatches \(qwen3Mismatches)")
        #expect(ggufMismatches == 0)
        #expect(qwen3Mismatches == 0)
    }

    @Test func decodeInvertsEncode() throws {
        let nfc = Normalizer(.formOnly(.nfc))
        for row in try Self.rows() {
            #expect(DefaultModel.tokenizer.decode(DefaultModel.tokenizer.encode(row.text)).unicodeScalars.elementsEqual(row.text.unicodeScalars))
            let expected = nfc.normalize(row.text).text
            #expect(DefaultModel.qwen3Tokenizer.decode(DefaultModel.qwen3Tokenizer.encode(row.text)).unicodeScalars.elementsEqual(expected.unicodeScalars))
        }
    }

    @Test func streamingDecoderNeverSplitsCharacters() {
        let text = "héllo 世界 👩‍💻 مرحبا"
        let ids = DefaultModel.tokenizer.encode(text)
        var decoder = Tokenizer.StreamingDecoder(DefaultModel.tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(decoder.append(id)) }
        pieces.append(decoder.finish())
        #expect(pieces.joined() == text)
        #expect(!pieces.contains { $0.contains("\u{FFFD}") })
    }

    @Test func specialTokensAndUserContent() {
        let t = DefaultModel.qwen3Tokenizer
        #expect(t.encode("<|im_start|>user") == [151644, 872])
        #expect(t.encode("<think>") == [151667])
        #expect(!t.encode("<|im_end|>", parseSpecialTokens: false).contains(151645))
        #expect(t.isSpecial(151645) && !t.isSpecial(151667))
        #expect(t.decode([151644, 872, 151645], skipSpecialTokens: true) == "user")
    }
}
