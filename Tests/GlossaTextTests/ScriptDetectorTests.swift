import Testing
@testable import GlossaText

@Suite struct ScriptDetectorTests {
    let detector = ScriptDetector()

    /// Spans as (script, text) pairs, for readable expectations.
    func spans(_ text: String) -> [(String, String)] {
        detector.spans(in: text).map { ($0.script, String(text[$0.range])) }
    }

    func expectSpans(_ text: String, _ expected: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = spans(text)
        #expect(actual.map(\.0) == expected.map(\.0), "\(actual)", sourceLocation: sourceLocation)
        #expect(actual.map(\.1) == expected.map(\.1), "\(actual)", sourceLocation: sourceLocation)
    }

    @Test func singleScriptTexts() {
        let cases: [(String, String)] = [
            ("Hello, world!", "Latn"),
            ("Привет, мир!", "Cyrl"),
            ("مرحبا بالعالم؟", "Arab"),
            ("नमस्ते दुनिया।", "Deva"),
            ("שלום עולם", "Hebr"),
            ("Γειά σου κόσμε", "Grek"),
            ("สวัสดีครับ", "Thai"),
        ]
        for (text, script) in cases {
            expectSpans(text, [(script, text)])
            #expect(detector.dominantScript(of: text) == script, "\(text)")
        }
    }

    @Test func mixedLatinAndCyrillic() {
        expectSpans("Hello мир", [("Latn", "Hello "), ("Cyrl", "мир")])
        expectSpans("abc, 123! где? ok", [("Latn", "abc, 123! "), ("Cyrl", "где? "), ("Latn", "ok")])
        #expect(detector.dominantScript(of: "Hello мир") == "Latn")
        #expect(detector.dominantScript(of: "Hi, привет") == "Cyrl")
    }

    @Test func digitsAndPunctuationAttachToNeighbours() {
        // Leading Common characters go to the first run, later ones to the run before them.
        expectSpans("«123» abc", [("Latn", "«123» abc")])
        expectSpans("abc 42 Ωμέγα 7!", [("Latn", "abc 42 "), ("Grek", "Ωμέγα 7!")])
        // Combining marks (Inherited) stay with their base.
        expectSpans("e\u{301}te\u{301} мир\u{301}", [("Latn", "e\u{301}te\u{301} "), ("Cyrl", "мир\u{301}")])
    }

    @Test func noLetters() {
        expectSpans("12345 !? 😀", [("Zyyy", "12345 !? 😀")])
        #expect(detector.spans(in: "").isEmpty)
        #expect(detector.dominantScript(of: "12345 !? 😀") == nil)
        #expect(detector.dominantScript(of: "") == nil)
    }

    @Test func scriptExtensions() {
        // U+30FC (prolonged sound mark) is Common with extensions {Hira, Kana}: it stays in
        // the katakana run; Han and kana runs stay separate.
        expectSpans("カタカナのコンピューター", [("Kana", "カタカナ"), ("Hira", "の"), ("Kana", "コンピューター")])
        // The danda is Common with extensions {Deva, Beng, ...}: it ends a Devanagari
        // sentence, and after Latin text it opens the Devanagari run that follows.
        expectSpans("नमस्ते। Hello", [("Deva", "नमस्ते। "), ("Latn", "Hello")])
        expectSpans("Hi । नमस्ते", [("Latn", "Hi "), ("Deva", "। नमस्ते")])
        // The Arabic comma is shared by Arabic, Syriac, Thaana...: it stays in the Arabic run.
        expectSpans("مرحبا، world", [("Arab", "مرحبا، "), ("Latn", "world")])
        // Shared punctuation no neighbour claims stays with the current run.
        expectSpans("abc、def", [("Latn", "abc、def")])
    }

    @Test func spansCoverTheText() {
        let texts = ["Hello мир", "  日本語のテキスト、漢字とカナ。", "a😀b", "١٢٣ كتب abc", "x\u{0951}y", "ー"]
        for text in texts {
            let spans = detector.spans(in: text)
            #expect(spans.first?.range.lowerBound == text.startIndex)
            #expect(spans.last?.range.upperBound == text.endIndex)
            for (a, b) in zip(spans, spans.dropFirst()) {
                #expect(a.range.upperBound == b.range.lowerBound)
                #expect(a.script != b.script)
            }
            #expect(spans.map { String(text.unicodeScalars[$0.range]) }.joined() == text)
        }
    }

    @Test func asciiFastPathMatchesICU() {
        for c in UInt32(0)..<0x80 {
            #expect(ScalarScripts(c) == ScalarScripts(icu: c), "U+\(String(c, radix: 16))")
        }
    }

    @Test func histogram() {
        let counts = detector.histogram(of: "Hello мир, 123!")
        #expect(counts.scripts == ["Latn", "Cyrl"])
        #expect(counts["Latn"] == 5)
        #expect(counts["Cyrl"] == 3)
        #expect(counts["Grek"] == 0)
        #expect(counts.total == 8)
        #expect(counts.byCount.map(\.script) == ["Latn", "Cyrl"])
        #expect(abs(counts.fraction(of: "Cyrl") - 0.375) < 1e-9)
        #expect(detector.histogram(of: "").total == 0)
    }

    @Test func transliteratorsAreInICUData() throws {
        let toSimplified = try #require(Transliterator("Hant-Hans"))
        let toTraditional = try #require(Transliterator("Hans-Hant"))
        #expect(toSimplified("這是繁體中文的句子") == "这是繁体中文的句子")
        #expect(toTraditional("这是简体中文的句子") == "這是簡體中文的句子")
        #expect(Transliterator("No-Such-Transliterator") == nil)
    }

    @Test func hanOrthography() {
        #expect(detector.dominantScript(of: "这是简体中文的句子") == "Hans")
        #expect(detector.dominantScript(of: "這是繁體中文的句子") == "Hant")
        #expect(detector.dominantScript(of: "「這是繁體中文的句子。」他說。") == "Hant")
        // Only characters both orthographies share.
        #expect(detector.dominantScript(of: "中文") == "Hani")
        #expect(detector.hanOrthography(of: "abc") == "Hani")
    }

    @Test func japaneseAndKorean() {
        #expect(detector.dominantScript(of: "私は東京大学で日本語を勉強しています。") == "Jpan")
        #expect(detector.dominantScript(of: "コンピューター") == "Jpan")
        // Hanja outnumber Hangul here, yet the text is Korean.
        #expect(detector.dominantScript(of: "大韓民國은 民主共和國이다") == "Kore")
        #expect(detector.dominantScript(of: "한국어를 공부합니다") == "Kore")
        let counts = detector.histogram(of: "大韓民國은 民主共和國이다")
        #expect(counts["Hani"] == 9)
        #expect(counts["Hang"] == 3)
    }

    @Test func concurrentUse() async {
        let detector = self.detector
        await withTaskGroup(of: Bool.self) { group in
            for n in 0..<16 {
                group.addTask {
                    let text = n.isMultiple(of: 2) ? "这是简体中文的句子" : "這是繁體中文的句子"
                    return detector.dominantScript(of: text) == (n.isMultiple(of: 2) ? "Hans" : "Hant")
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
