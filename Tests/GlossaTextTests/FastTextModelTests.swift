import Foundation
import Testing
@testable import GlossaText

/// Parity with fastText itself (fasttext-predict 0.9.2.4) on lid.176.ftz; the fixture and the
/// script that produced it are in Fixtures/lid/.
@Suite struct FastTextModelTests {
    static let modelPath = Repo.models.appendingPathComponent("lid.176.ftz").path

    struct Reference: Decodable {
        var source: String
        var text: String
        var labels: [String]
        var probs: [Double]
    }

    static func references() throws -> [Reference] {
        let url = Repo.root.appendingPathComponent("Tests/GlossaTextTests/Fixtures/lid/lid176-predictions.jsonl.zst")
        let data = try Repo.zstdDecompress(url)
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(Reference.self, from: Data($0)) }
    }

    @Test func loadsLid176() throws {
        let model = try FastTextModel(path: Self.modelPath)
        #expect(model.labels.count == 176)
        #expect(model.labels.first == "en")
        #expect(model.loss == .hierarchicalSoftmax)
        #expect(model.arguments.dim == 16 && model.arguments.minn == 2 && model.arguments.maxn == 4)
        #expect(model.wordCount == 7_235)
        #expect(model.pruneIndex?.count == 42_765)
    }

    @Test func topFiveMatchFastText() throws {
        let model = try FastTextModel(path: Self.modelPath)
        let refs = try Self.references()
        #expect(refs.count >= 2_000)
        #expect(Set(refs.filter { $0.source.hasPrefix("cldr:") }.map(\.source)).count >= 60)
        var top1 = 0, fullOrder = 0, worst = 0.0
        for ref in refs {
            let ours = model.predict(ref.text, k: 5)
            if ours.first?.label == ref.labels.first { top1 += 1 }
            if ours.map(\.label) == ref.labels { fullOrder += 1 }
            for (label, p) in zip(ref.labels, ref.probs) {
                guard let mine = ours.first(where: { $0.label == label }) else { continue }
                worst = max(worst, abs(Double(mine.probability) - p))
            }
        }
        print("lid.176 parity: \(refs.count) lines, top-1 \(top1), full top-5 order \(fullOrder), max |dp| \(worst)")
        #expect(top1 == refs.count)
        #expect(fullOrder == refs.count)
        #expect(worst <= 1e-4)
    }

    @Test func thresholdAndK() throws {
        let model = try FastTextModel(path: Self.modelPath)
        // As in fastText, even threshold 0 prunes branches below log(1e-5): 49 labels here
        // (fasttext-predict returns the same 49).
        let all = model.predict("Bonjour tout le monde", k: 176)
        #expect(all.count == 49)
        let sum = all.reduce(Float(0)) { $0 + $1.probability }
        #expect(abs(sum - 1) < 0.01)
        #expect(model.predict("Bonjour tout le monde", k: 176, threshold: 0.5).map(\.label) == ["fr"])
        #expect(model.predict("Bonjour", k: 0).isEmpty)
    }

    @Test func corruptFilesAreClearErrors() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.modelPath))
        func load(_ data: Data) throws(LanguageIDError) {
            let copy = [UInt8](data)
            let result = copy.withUnsafeBytes { b in
                Result { () throws(LanguageIDError) in try FastTextModel(bytes: b, path: "test.ftz") }
            }
            _ = try result.get()
        }
        #expect(throws: LanguageIDError.notFastText(path: "test.ftz", magic: 0x0403_0201)) {
            try load(Data([1, 2, 3, 4]) + bytes.dropFirst(4))
        }
        var newer = bytes
        newer[4] = 13
        #expect(throws: LanguageIDError.unsupportedVersion(path: "test.ftz", version: 13)) { try load(newer) }
        for cut in [3, 50, 1_000, 100_000, bytes.count - 1] {
            do {
                try load(bytes.prefix(cut))
                Issue.record("a file cut at \(cut) bytes loaded")
            } catch {
                guard case .truncated = error else { Issue.record("cut at \(cut): \(error)"); continue }
                #expect(error.description.contains("truncated"))
            }
        }
        #expect(throws: LanguageIDError.self) { try FastTextModel(path: "/nonexistent/lid.ftz") }
    }

    @Test func fnvHashSignExtendsBytes() {
        // "é" is C3 A9: both bytes are negative as int8_t.
        let h = Array("é".utf8).withUnsafeBufferPointer { fnv1a($0) }
        var expected: UInt32 = 2_166_136_261
        for b: Int32 in [-61, -87] { expected ^= UInt32(bitPattern: b); expected = expected &* 16_777_619 }
        #expect(h == expected)
        #expect(h != { var x: UInt32 = 2_166_136_261; for b: UInt32 in [0xC3, 0xA9] { x ^= b; x = x &* 16_777_619 }; return x }())
    }
}

/// The variants lid.176 does not exercise (softmax, one-vs-all, negative sampling, word
/// n-grams, no subwords, dense input, quantized output, pruning), against fastText 0.9.3.
@Suite struct FastTextVariantTests {
    struct Reference: Decodable {
        var model: String
        var text: String
        var labels: [String]
        var probs: [Double]
    }

    @Test func predictionsMatchFastText() throws {
        let dir = Repo.root.appendingPathComponent("Tests/GlossaTextTests/Fixtures/fasttext")
        let refs = try Repo.zstdDecompress(dir.appendingPathComponent("predictions.jsonl.zst"))
            .split(separator: 0x0A).map { try JSONDecoder().decode(Reference.self, from: Data($0)) }
        let names = Set(refs.map(\.model))
        #expect(names.count == 4)
        for name in names.sorted() {
            let model = try FastTextModel(path: dir.appendingPathComponent(name).path)
            var agree = 0, total = 0, worst = 0.0
            for ref in refs where ref.model == name {
                total += 1
                let ours = model.predict(ref.text, k: 3)
                if ours.map(\.label) == ref.labels { agree += 1 }
                for (label, p) in zip(ref.labels, ref.probs) {
                    if let mine = ours.first(where: { $0.label == label }) { worst = max(worst, abs(Double(mine.probability) - p)) }
                }
            }
            print("\(name): \(agree)/\(total) identical top-3, max |dp| \(worst)")
            #expect(agree == total, "\(name)")
            #expect(worst <= 1e-4, "\(name)")
        }
    }
}
