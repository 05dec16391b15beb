import Foundation
import Testing
@testable import GlossaText

@Suite struct LanguageIdentifierTests {
    static let identifier = try! LanguageIdentifier(modelPath: FastTextModelTests.modelPath)

    @Test(arguments: [
        ("Le chat dort sur le canapé depuis ce matin.", "fr", "fra"),
        ("Der Server wurde gestern Abend neu gestartet.", "de", "deu"),
        ("这是一个简体中文的句子，我们在测试语言识别。", "zh-Hans", "zho_Hans"),
        ("這是一個繁體中文的句子，我們在測試語言識別。", "zh-Hant", "zho_Hant"),
        ("Ово је реченица на српском језику.", "sr", "srp"),
        ("Ovo je rečenica na srpskom jeziku, napisana latinicom i ćirilicom.", nil, nil),
        ("Regjeringen har bestemt at skolene skal holde stengt fram til påske, opplyser Kunnskapsdepartementet.", "nb", "nob"),
        ("ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ", "th", "tha"),
        ("ログイン画面でパスワードを入力するとエラーが表示されます。", "ja", "jpn"),
        ("결제 페이지에서 오류가 발생하여 주문이 완료되지 않았습니다.", "ko", "kor"),
    ] as [(String, String?, String?)])
    func identifiesAndMapsToQwenLanguages(_ text: String, _ tag: String?, _ code: String?) {
        let guess = Self.identifier.identify(text)
        if let tag {
            #expect(guess.tag == tag, "\(text): \(guess)")
            #expect(guess.language?.code == code)
            #expect(guess.score > 0.3)
        } else {
            // Serbian in Latin script: lid.176 says hr/sr/bs; whatever it says must be Latin-capable.
            #expect(guess.script == "Latn")
            #expect(["sr-Latn", "hr", "bs", "sh"].contains(guess.tag), "\(guess)")
        }
    }

    @Test func labelsTheModelCannotSplitAreReportedAsTheParent() {
        let arabic = Self.identifier.identify("مرحبا بكم في موقعنا، نتمنى لكم يوما سعيدا")
        #expect(arabic.tag == "ar")
        #expect(arabic.language == nil)
        let persian = Self.identifier.identify("می‌خواهم گزارش هفتگی را به زبان فارسی دریافت کنم")
        #expect(persian.tag == "fa")
        #expect(persian.language == nil)
        #expect(LanguageIdentifier.resolve(label: "zh", script: "Hani").0 == "zh")
        #expect(LanguageIdentifier.resolve(label: "bh", script: "Deva").0 == "bh")
        #expect(LanguageIdentifier.resolve(label: "la", script: "Latn").0 == "la")
        #expect(LanguageIdentifier.resolve(label: "sr", script: "Latn").0 == "sr-Latn")
    }

    @Test func scriptVetoesImpossibleLabels() {
        #expect(!LanguageIdentifier.scriptFits("Thai", label: "fr"))
        #expect(!LanguageIdentifier.scriptFits("Latn", label: "ja"))
        #expect(LanguageIdentifier.scriptFits("Hani", label: "ja"))
        #expect(!LanguageIdentifier.scriptFits("Hans", label: "ja"))
        #expect(LanguageIdentifier.scriptFits("Hant", label: "zh"))
        // lid.176 calls this simplified Chinese news sentence Japanese; its characters say otherwise.
        #expect(Self.identifier.identify("北京市今天宣布，明年将新开通三条地铁线路，进一步缓解早晚高峰的交通压力。").tag == "zh-Hans")
        // Conjoining jamo are composed before the model sees them.
        #expect(Self.identifier.identify("\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}\u{1105}\u{1169} \u{110B}\u{1175}\u{11AF}\u{1100}\u{1165}\u{11BB}\u{1109}\u{1173}\u{11B8}\u{1102}\u{1175}\u{1103}\u{1161}").tag == "ko")
        #expect(LanguageIdentifier.scriptFits("Latn", label: "sr"))
        #expect(!LanguageIdentifier.scriptFits("Cyrl", label: "am"))
        // Text with letters in no script the model's labels allow is "und", never a guess.
        let guess = Self.identifier.identify("ᚠᛇᚻ᛫ᛒᛦᚦ᛫ᚠᚱᚩᚠᚢᚱ᛫ᚠᛁᚱᚪ᛫ᚷᛖᚻᚹᛦᛚᚳᚢᛗ")  // Runic
        #expect(guess.script == "Runr")
        #expect(guess.tag == "und" || LanguageIdentifier.otherLabelScripts[guess.tag] == nil)
    }

    @Test func noLettersIsUnd() {
        for text in ["", "12345", "🙂🙃", "--- *** ---"] {
            let guess = Self.identifier.identify(text)
            #expect(guess.tag == "und")
            #expect(guess.script == nil)
        }
    }

    @Test func newlinesAreSpaces() {
        let a = Self.identifier.identify("Das ist ein Satz.\nUnd noch einer.")
        let b = Self.identifier.identify("Das ist ein Satz. Und noch einer.")
        #expect(a.candidates == b.candidates)
    }

    @Test func coverageTableIsCompleteAndCommitted() throws {
        let rows = LanguageCoverage.rows
        #expect(rows.count == 119)
        #expect(rows.filter { $0.coverage.hasPrefix("own") }.count == 97)
        #expect(rows.filter { $0.coverage.hasPrefix("parent") }.count == 10)
        let doc = try String(contentsOf: Repo.root.appendingPathComponent("docs/language-coverage.md"), encoding: .utf8)
        #expect(doc == LanguageCoverage.markdown, "docs/language-coverage.md is stale: regenerate with `glossa languages > docs/language-coverage.md`")
    }
}
