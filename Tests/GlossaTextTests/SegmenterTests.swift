import Testing
@testable import GlossaText

@Suite struct SegmenterTests {
    func words(_ text: String, _ locale: String) -> [String] {
        Segmenter(locale: locale).words(in: text).map(String.init)
    }

    /// The text without spaces and punctuation: what the words must add up to.
    func letters(_ text: String) -> String {
        String(text.filter { !$0.isWhitespace && !$0.isPunctuation })
    }

    /// Checks the stable facts of a dictionary segmentation: the words cover the letters,
    /// there is more than one, and the known words appear.
    func expectDictionaryWords(_ text: String, locale: String, known: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let words = words(text, locale)
        #expect(words.joined() == letters(text), "\(words)", sourceLocation: sourceLocation)
        #expect(words.count > 1, "\(words)", sourceLocation: sourceLocation)
        for word in known {
            #expect(words.contains(word), "\(word) not in \(words)", sourceLocation: sourceLocation)
        }
    }

    @Test func thaiWords() {
        #expect(words("ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ", "th")
            == ["ภาษา", "ไทย", "เป็น", "ภาษา", "ที่", "ไม่มี", "การ", "เว้น", "วรรค", "ระหว่าง", "คำ"])
    }

    @Test func khmerLaoBurmeseWords() {
        // ICU 72: ភាសាខ្មែរ|ជា|ភាសាផ្លូវការ|របស់|ប្រទេស|កម្ពុជា
        expectDictionaryWords("ភាសាខ្មែរជាភាសាផ្លូវការរបស់ប្រទេសកម្ពុជា", locale: "km", known: ["ប្រទេស", "កម្ពុជា", "របស់"])
        // ICU 72: ພາສາ|ລາວ|ເປັນ|ພາສາ|ທາງການ|ຂອງ|ປະເທດ|ລາວ
        expectDictionaryWords("ພາສາລາວເປັນພາສາທາງການຂອງປະເທດລາວ", locale: "lo", known: ["ພາສາ", "ລາວ", "ປະເທດ"])
        // ICU 72: မြန်မာဘာသာ|စကား|သည်|မြန်မာနိုင်ငံ|ရုံးသုံးဘာသာ|စကား|ဖြစ်သည်, and ။ as punctuation
        expectDictionaryWords("မြန်မာဘာသာစကားသည် မြန်မာနိုင်ငံ ရုံးသုံးဘာသာစကား ဖြစ်သည်။", locale: "my", known: ["စကား", "သည်"])
    }

    @Test func japaneseAndChineseWords() {
        // ICU 72: 私|は|東京|大学|で|日本語|を|勉強|し|てい|ます|。
        expectDictionaryWords("私は東京大学で日本語を勉強しています。", locale: "ja", known: ["東京", "大学", "日本語", "勉強"])
        // ICU 72: 我们|都|喜欢|学习|中文|和|历史|。
        expectDictionaryWords("我们都喜欢学习中文和历史。", locale: "zh", known: ["我们", "喜欢", "学习", "历史"])
        expectDictionaryWords("我們都喜歡學習中文和歷史。", locale: "zh-Hant", known: ["我們", "喜歡", "學習"])
    }

    @Test func wordKinds() {
        let segments = Segmenter(locale: "ja").wordSegments(in: "東京で123、カタカナ")
        #expect(segments.map(\.text).joined() == "東京で123、カタカナ")
        #expect(segments.first { $0.text == "東京" }?.kind == .ideograph)
        #expect(segments.first { $0.text == "123" }?.kind == .number)
        #expect(segments.first { $0.text == "、" }?.kind == Segmenter.WordKind.none)
        // ICU 72 reports words found in its CJK dictionary as ideographs, kana ones too.
        #expect(segments.first { $0.text == "カタカナ" }?.kind == .ideograph)
    }

    @Test func latinWordsSkipSpacesPunctuationAndEmoji() {
        #expect(words("Hello, world! It's 3.14 o'clock — e-mail me 😀.", "en")
            == ["Hello", "world", "It's", "3.14", "o'clock", "e", "mail", "me"])
    }

    @Test func sentences() {
        func sentences(_ text: String, _ locale: String) -> [String] {
            Segmenter(locale: locale).sentences(in: text).map(String.init)
        }
        #expect(sentences("Mr. Smith went home. He said \"hi!\" Then left? Yes.", "en")
            == ["Mr. Smith went home.", "He said \"hi!\"", "Then left?", "Yes."])
        #expect(sentences("今日は晴れです。明日は雨でしょう。本当？", "ja") == ["今日は晴れです。", "明日は雨でしょう。", "本当？"])
        #expect(sentences("你好。我很好！你呢？", "zh") == ["你好。", "我很好！", "你呢？"])
        #expect(sentences("मैं घर जा रहा हूँ। तुम कहाँ हो? ठीक है।", "hi") == ["मैं घर जा रहा हूँ।", "तुम कहाँ हो?", "ठीक है।"])
        #expect(sentences("كيف حالك؟ أنا بخير. شكرا!", "ar") == ["كيف حالك؟", "أنا بخير.", "شكرا!"])
        // Thai has no sentence punctuation: ICU splits at line breaks and ?/!, not at spaces.
        #expect(sentences("สวัสดีครับ\nวันนี้อากาศดีไหม? ผมจะไปตลาด", "th") == ["สวัสดีครับ", "วันนี้อากาศดีไหม?", "ผมจะไปตลาด"])
        #expect(sentences("สวัสดีครับ วันนี้อากาศดี", "th").count == 1)
    }

    @Test func abbreviationSuppression() {
        let text = "Mr. Smith went home. He left."
        #expect(Segmenter(locale: "en").sentences(in: text).count == 2)
        #expect(Segmenter(locale: "en", suppressingAbbreviationBreaks: false).sentences(in: text).count == 3)
        #expect(Segmenter(locale: "en-US").sentences(in: text).count == 2)
        #expect(Segmenter(locale: "en_US@ss=standard", suppressingAbbreviationBreaks: false).sentences(in: text).count == 2)
    }

    @Test func localeIDs() {
        #expect(Segmenter(locale: "zh-Hant-TW").icuLocale == "zh_Hant_TW")
        #expect(Segmenter(locale: "ja_JP").icuLocale == "ja_JP")
        #expect(Segmenter(locale: "en").sentenceLocale == "en@ss=standard")
        #expect(Segmenter(locale: "en-u-ss-none").sentenceLocale == "en@ss=none")
        // Unknown locales get the root rules, which still segment Thai.
        #expect(words("ภาษาไทย", "xx-bogus") == ["ภาษา", "ไทย"])
        #expect(words("ภาษาไทย", "") == ["ภาษา", "ไทย"])
    }

    @Test func emptyText() {
        let segmenter = Segmenter(locale: "th")
        #expect(segmenter.words(in: "").isEmpty)
        #expect(segmenter.sentences(in: "").isEmpty)
        #expect(segmenter.boundaries(in: "", by: .word).isEmpty)
        for unit in Segmenter.Unit.allCases { #expect(segmenter.segments(in: "", by: unit).isEmpty) }
        #expect(segmenter.sentences(in: "  \n ").isEmpty)
    }

    @Test func offsetsAcrossSupplementaryCharacters() {
        // Emoji and math letters take two UTF-16 units: indices after them must still line up.
        let text = "😀𝐀 ภาษาไทย 👍🏽 日本語 𠀋x"
        let segmenter = Segmenter(locale: "th")
        for unit in Segmenter.Unit.allCases {
            #expect(segmenter.segments(in: text, by: unit).joined() == text)
        }
        #expect(segmenter.words(in: text).contains("ภาษา"))
        #expect(segmenter.words(in: text).contains("ไทย"))
        let boundaries = segmenter.boundaries(in: text, by: .character)
        #expect(boundaries.count == text.count + 1)
        #expect(boundaries == Array(text.indices) + [text.endIndex])
    }

    @Test func longText() {
        let sentence = "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ 😀 "
        let text = String(repeating: sentence, count: 2000)
        #expect(text.utf16.count > 65_536)
        let words = Segmenter(locale: "th").words(in: text)
        #expect(words.count == 11 * 2000)
        #expect(words.last == "คำ")
        #expect(words.last?.endIndex == text.index(text.endIndex, offsetBy: -3))  // before " 😀 "
        #expect(Segmenter(locale: "th").segments(in: text, by: .word).joined() == text)
    }

    @Test func lineBreaks() {
        let pieces = Segmenter(locale: "en").segments(in: "a long line", by: .line)
        #expect(pieces == ["a ", "long ", "line"])
    }
}
