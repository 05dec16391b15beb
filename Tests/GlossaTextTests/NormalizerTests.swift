import Foundation
import GlossaTestSupport
import Testing
@testable import GlossaText

@Suite struct NormalizerTests {
    let normalizer = Normalizer()

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var input: String
        var expected: String
        var description: String { name }
    }

    /// Table-driven cleanup over many scripts: what must change and what must survive intact.
    static let cases: [Case] = [
        Case(name: "Arabic with RLM and tatweel kept", input: "\u{200F}مرحبا بالعالم\u{200F}", expected: "مرحبا بالعالم"),
        Case(name: "Arabic ALM removed", input: "\u{061C}١٢٣ كتاب", expected: "١٢٣ كتاب"),
        Case(name: "Persian ZWNJ kept", input: "می\u{200C}خواهم به خانه\u{200C}ها بروم", expected: "می\u{200C}خواهم به خانه\u{200C}ها بروم"),
        Case(name: "Persian ZWNJ before space dropped", input: "کتاب\u{200C} خوب", expected: "کتاب خوب"),
        Case(name: "Devanagari ZWJ/ZWNJ conjunct control kept", input: "क्\u{200D}ष और क्\u{200C}ष", expected: "क्\u{200D}ष और क्\u{200C}ष"),
        Case(name: "Devanagari NFC (nukta stays decomposed)", input: "क़िला", expected: "क\u{93C}िला"),
        Case(name: "Bengali vowel sign composed", input: "ক\u{9C7}\u{9BE}", expected: "ক\u{9CB}"),
        Case(name: "Bengali khanda-ta ZWJ kept", input: "ৎ উৎ\u{200D}স", expected: "ৎ উৎ\u{200D}স"),
        Case(name: "Thai ZWSP removed", input: "ภาษา\u{200B}ไทย", expected: "ภาษาไทย"),
        Case(name: "Hangul jamo composed", input: "\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}", expected: "한글"),
        Case(name: "Han with ideographic space", input: "中文\u{3000}文本\u{3000}\u{3000}测试", expected: "中文 文本 测试"),
        Case(name: "Japanese NFC of dakuten, halfwidth kept in NFC", input: "か\u{3099}ｶﾞ", expected: "がｶﾞ"),
        Case(name: "Cyrillic soft hyphen and NBSP", input: "При\u{00AD}вет,\u{00A0}мир", expected: "Привет, мир"),
        Case(name: "Greek tonos composed", input: "ε\u{301}λα", expected: "έλα"),
        Case(name: "Hebrew with bidi marks and embeddings", input: "\u{202B}שלום\u{202C} \u{200E}עולם\u{2067}ABC\u{2069}", expected: "שלום עולםABC"),
        Case(name: "Hebrew niqqud order canonicalized", input: "ש\u{5C1}\u{5B8}", expected: "ש\u{5B8}\u{5C1}"),
        Case(name: "Emoji ZWJ family kept", input: "👨\u{200D}👩\u{200D}👧\u{200D}👦 ok", expected: "👨\u{200D}👩\u{200D}👧\u{200D}👦 ok"),
        Case(name: "Emoji with skin tone and VS16 ZWJ kept", input: "👩🏽\u{200D}💻 ❤\u{FE0F}\u{200D}🔥", expected: "👩🏽\u{200D}💻 ❤\u{FE0F}\u{200D}🔥"),
        Case(name: "Stray ZWJ in Latin removed", input: "ab\u{200D}cd\u{200C}", expected: "abcd"),
        Case(name: "Controls removed, tab kept", input: "a\u{0}b\u{7}c\u{9F}d\te", expected: "abcd\te"),
        Case(name: "CRLF, CR, NEL, LS to LF", input: "one\r\ntwo\rthree\u{85}four\u{2028}five", expected: "one\ntwo\nthree\nfour\nfive"),
        Case(name: "Blank lines capped at one", input: "p1\n\n\n\n\np2\n \n\t\np3", expected: "p1\n\np2\n\np3"),
        Case(name: "Trailing spaces per line dropped", input: "line one   \nline two\t \n", expected: "line one\nline two"),
        Case(name: "Runs of spaces collapsed, indentation kept", input: "  def f():\n        return  1", expected: "def f():\n        return 1"),
        Case(name: "Trim and BOM", input: "\u{FEFF}  \n hello \n\n ", expected: "hello"),
        Case(name: "Word joiner removed", input: "no\u{2060}break", expected: "nobreak"),
        Case(name: "Decomposed Latin composed", input: "Cafe\u{301} cre\u{300}me", expected: "Café crème"),
        Case(name: "Vietnamese stacked diacritics", input: "Vie\u{323}\u{302}t Nam", expected: "Việt Nam"),
        Case(name: "Khmer text intact", input: "ភាសាខ្មែរ", expected: "ភាសាខ្មែរ"),
        Case(name: "Burmese text intact", input: "မြန်မာစာ", expected: "မြန်မာစာ"),
        Case(name: "Tamil intact", input: "தமிழ் மொழி", expected: "தமிழ் மொழி"),
        Case(name: "Georgian and Armenian intact", input: "ქართული Հայերեն", expected: "ქართული Հայերեն"),
    ]

    @Test(arguments: cases)
    func cleanup(_ c: Case) {
        let result = normalizer.normalize(c.input)
        #expect(result.text.scalars == c.expected.scalars, "\(c.name): got \(result.text.debugDescription)")
        #expect(normalizer.normalize(result.text).text.scalars == result.text.scalars, "not idempotent")
        #expect(normalizer.normalize(result.text).counts.isEmpty, "second pass changed something")
    }

    @Test func countsPerStep() {
        let r = normalizer.normalize("\u{FEFF} a\u{0}\u{1}b\u{200E}c\u{00A0}\u{00A0}d\r\ne\u{301} ")
        #expect(r.text.scalars == "abc d\né".scalars)
        #expect(r.counts.zeroWidth == 1)
        #expect(r.counts.controls == 2)
        #expect(r.counts.bidiControls == 1)
        #expect(r.counts.spaces == 2)
        #expect(r.counts.collapseWhitespace == 1)
        #expect(r.counts.lineEndings == 1)
        #expect(r.counts.trim == 2)
        #expect(r.counts.unicodeForm == 1)
        #expect(r.counts.repairEncoding == 0)
    }

    @Test func nfkcAndCasefoldOnRequest() {
        var config = Normalizer.Configuration()
        config.form = .nfkc
        #expect(Normalizer(config).normalize("ﾊﾝｶｸ①②ﬁ").text == "ハンカク12fi")
        // Compatibility mapping creates spaces; whitespace steps must still hold afterwards.
        let spaced = Normalizer(config).normalize("a \u{A8} b\u{2003}\u{2003}c")
        #expect(spaced.text.scalars == "a \u{308} b c".scalars)
        let key = Normalizer(.dedupKey).normalize("Straße — «Ünïcode» №１２，ＡＢＣ\u{200C}")
        #expect(key.text.scalars == "strasse - \"ünïcode\" no00,abc".scalars)
        #expect(key.counts.digits == 2)  // ASCII digits count too: "12" after NFKC
        #expect(key.counts.punctuation >= 3)
    }

    @Test func invalidUTF8IsRepairedAndCounted() {
        let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0xE2, 0x82, 0x63, 0xF0, 0x9F, 0x98, 0xED, 0xA0, 0x80, 0xC0, 0xAF, 0x64]
        let r = normalizer.normalize(utf8: bytes)
        // Same policy as Swift's own decoder: one U+FFFD per maximal ill-formed subpart.
        let swift = String(decoding: bytes, as: UTF8.self)
        #expect(r.text.scalars == swift.scalars)
        #expect(r.counts.repairEncoding == swift.unicodeScalars.filter { $0 == "\u{FFFD}" }.count)
        #expect(r.counts.repairEncoding == 8)
    }

    @Test func nulBytesAndTruncatedTail() {
        let r = normalizer.normalize(utf8: [0x00, 0x41, 0x00, 0x00, 0x42, 0xE4, 0xB8])
        #expect(r.text.scalars == "AB\u{FFFD}".scalars)
        #expect(r.counts.controls == 3)
        #expect(r.counts.repairEncoding == 1)
    }

    @Test func tenMegabyteLine() {
        var bytes = [UInt8]()
        bytes.reserveCapacity(10_500_000)
        let unit = Array("Grüße, мир! 世界 ".utf8) + [0xFF] + Array("e\u{301}  \u{200B}".utf8)
        while bytes.count < 10_000_000 { bytes.append(contentsOf: unit) }
        let r = normalizer.normalize(utf8: bytes)
        let repetitions = (10_000_000 + unit.count - 1) / unit.count
        #expect(r.counts.repairEncoding == repetitions)
        #expect(r.counts.zeroWidth == repetitions)
        #expect(r.counts.unicodeForm == repetitions)
        #expect(!r.text.contains("\u{200B}"))
        #expect(r.text.utf8.count < bytes.count)
    }

    /// The quick-check fast path must agree with ICU for every configuration and any text.
    @Test func fastPathAgreesWithICU() {
        var rng = SeededGenerator(seed: 7)
        for form in Normalizer.Form.allCases {
            var config = Normalizer.Configuration()
            config.form = form
            let fast = Normalizer(config)
            var slow = Normalizer(config)
            slow.alwaysCallICU = true
            for _ in 0..<2_000 {
                let s = RandomText.make(&rng, length: Int.random(in: 0..<40, using: &rng))
                #expect(fast.normalize(s).text.scalars == slow.normalize(s).text.scalars, "\(form): \(s.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    @Test func idempotentOnRandomMultilingualText() {
        var rng = SeededGenerator(seed: 42)
        let configs: [Normalizer.Configuration] = [
            .default, .dedupKey, .formOnly(.nfc), .formOnly(.nfkc),
            { var c = Normalizer.Configuration(); c.form = .nfkc; return c }(),
            { var c = Normalizer.Configuration(); c.preserveIndentation = false; c.trim = false; return c }(),
            { var c = Normalizer.Configuration(); c.collapseWhitespace = false; return c }(),
        ]
        for config in configs {
            let n = Normalizer(config)
            for _ in 0..<3_000 {
                let s = RandomText.make(&rng, length: Int.random(in: 0..<60, using: &rng))
                let once = n.normalize(s).text
                let twice = n.normalize(once).text
                #expect(once.scalars == twice.scalars, "\(config) not idempotent on \(s.unicodeScalars.map { String($0.value, radix: 16) }): \(once.debugDescription) -> \(twice.debugDescription)")
            }
        }
    }
}

/// Random strings drawn from the troublesome parts of Unicode, mixed with ordinary letters.
enum RandomText {
    static let pools: [[UInt32]] = [
        Array(0x41...0x5A) + Array(0x61...0x7A) + [0x20, 0x20, 0x20, 0x09, 0x0A, 0x0D],
        Array(0x00...0x1F) + Array(0x7F...0x9F),
        Array(0x300...0x36F) + [0x93C, 0x94D, 0x9BE, 0x9C7, 0x5B0, 0x5B8, 0x5C1, 0x3099, 0x309A],
        Array(0x600...0x6FF) + Array(0x900...0x97F) + Array(0x980...0x9FF),
        [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066, 0x2069, 0x061C, 0xFEFF, 0xAD, 0x2060],
        [0xA0, 0x1680, 0x2000, 0x2003, 0x2009, 0x202F, 0x205F, 0x3000, 0x2028, 0x2029, 0x85, 0x0B, 0x0C],
        Array(0x1100...0x1112) + Array(0x1161...0x1175) + Array(0x11A8...0x11C2) + Array(0xAC00...0xAC40),
        [0xA8, 0xB4, 0x2FC, 0x1FED, 0x1FEE, 0xFE49, 0x2024, 0x2025, 0x2474, 0x33C0, 0xFB01, 0xFF21, 0xFF10, 0x2126, 0x212B, 0xF900],
        Array(0x1F468...0x1F46F) + [0x1F3FB, 0x1F3FD, 0xFE0F, 0x2764, 0x1F525, 0x1F1FA, 0x1F1F8, 0x20E3],
        Array(0x4E00...0x4E40) + Array(0x3040...0x30FF) + Array(0x0E00...0x0E5B) + Array(0x0400...0x045F) + Array(0x0370...0x03FF),
        [0x2014, 0x201C, 0x201D, 0x3001, 0x3002, 0xFF0C, 0x0964, 0x0660, 0x0661, 0x0966, 0xFF11, 0x2018, 0x00AB],
        [0x130, 0x131, 0x1E9E, 0xDF, 0x3A3, 0x3C2, 0x1F80, 0x345, 0x10400, 0x1D15E, 0x2F800, 0xE0041, 0xE0100],
    ]

    static func make(_ rng: inout SeededGenerator, length: Int) -> String {
        var view = String.UnicodeScalarView()
        for _ in 0..<length {
            let pool = pools[Int.random(in: 0..<pools.count, using: &rng)]
            view.append(Unicode.Scalar(pool[Int.random(in: 0..<pool.count, using: &rng)])!)
        }
        return String(view)
    }
}
