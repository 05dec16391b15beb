import CICUShim

/// Splits text into sentences and words with ICU's break iterators.
///
/// Words in Thai, Lao, Khmer and Burmese come from ICU's dictionaries, Chinese and Japanese
/// from its CJK dictionary; the locale only tunes the rules (sentence abbreviations, a few
/// language-specific word rules), so any locale segments every script.
/// Break iterators are not thread-safe, so each call opens its own (a few microseconds).
public struct Segmenter: Sendable {
    public enum Unit: Int32, Sendable, CaseIterable {
        case character = 0, word = 1, line = 2, sentence = 3
    }

    /// What ICU's word rules made of a piece of text (its rule status).
    public enum WordKind: Sendable, Hashable {
        /// Spaces, punctuation, symbols, emoji.
        case none
        case number
        /// Letters of alphabets and abugidas, and dictionary words of Thai, Lao, Khmer, Burmese.
        case letter
        /// Kana outside ICU's CJK dictionary; in practice ICU 72 reports all kana it segments
        /// through that dictionary as `.ideograph`, so expect either for Japanese words.
        case kana
        /// Words of ICU's CJK dictionary: Chinese, Japanese kanji and kana.
        case ideograph

        init(ruleStatus: Int32) {
            // UBRK_WORD_NONE 0..<100, NUMBER ..<200, LETTER ..<300, KANA ..<400, IDEO ..<500.
            switch ruleStatus {
            case 100..<200: self = .number
            case 200..<300: self = .letter
            case 300..<400: self = .kana
            case 400..<500: self = .ideograph
            default: self = .none
            }
        }
    }

    public struct WordSegment: Sendable, Hashable {
        public var text: Substring
        public var kind: WordKind
    }

    /// The locale as given.
    public let locale: String
    /// ICU locale id used for word, line and character breaks.
    let icuLocale: String
    /// ICU locale id for sentences: with `ss=standard` unless disabled, so that "Mr. Smith"
    /// is not split after "Mr." (ICU's list covers common abbreviations of its locales).
    let sentenceLocale: String

    /// `locale` is a BCP-47 tag ("zh-Hant", "th") or an ICU id ("ja_JP"); unknown ones get
    /// ICU's root rules.
    public init(locale: String, suppressingAbbreviationBreaks: Bool = true) {
        self.locale = locale
        icuLocale = ICULocale.canonical(locale)
        sentenceLocale = suppressingAbbreviationBreaks
            ? ICULocale.adding(keyword: "ss", value: "standard", to: icuLocale) : icuLocale
    }

    /// Sentences without their trailing whitespace; blank pieces are dropped.
    ///
    /// Thai, Lao and Khmer have no sentence punctuation ICU knows (a space separates
    /// sentences, as it separates phrases), so there only line breaks and ?/! split.
    public func sentences(in text: String) -> [Substring] {
        segments(in: text, by: .sentence).compactMap { piece in
            var end = piece.endIndex
            while end > piece.startIndex {
                let before = piece.index(before: end)
                guard piece[before].isWhitespace else { break }
                end = before
            }
            return end == piece.startIndex ? nil : piece[..<end]
        }
    }

    /// Words, numbers, kana and ideograph runs; spaces, punctuation and emoji are left out.
    public func words(in text: String) -> [Substring] {
        wordSegments(in: text).compactMap { $0.kind == .none ? nil : $0.text }
    }

    /// Every piece between word boundaries, with what ICU made of it; the pieces concatenate
    /// to the text.
    public func wordSegments(in text: String) -> [WordSegment] {
        var result: [WordSegment] = []
        breaks(in: text, unit: .word, locale: icuLocale) { range, status in
            result.append(WordSegment(text: text[range], kind: WordKind(ruleStatus: status)))
        }
        return result
    }

    /// Every piece between boundaries of `unit`; the pieces concatenate to the text.
    public func segments(in text: String, by unit: Unit) -> [Substring] {
        var result: [Substring] = []
        breaks(in: text, unit: unit, locale: unit == .sentence ? sentenceLocale : icuLocale) { range, _ in
            result.append(text[range])
        }
        return result
    }

    /// Boundaries of `unit` as String indices, including the start and end of the text
    /// (empty for empty text).
    public func boundaries(in text: String, by unit: Unit) -> [String.Index] {
        var result: [String.Index] = []
        breaks(in: text, unit: unit, locale: unit == .sentence ? sentenceLocale : icuLocale) { range, _ in
            if result.isEmpty { result.append(range.lowerBound) }
            result.append(range.upperBound)
        }
        return result
    }

    /// Calls `body` with each piece and its rule status, in order.
    ///
    /// ICU reports UTF-16 offsets; they are turned into String indices by walking the UTF-16
    /// view forward from the previous boundary, so the whole text costs one pass. If ICU
    /// cannot open an iterator (its data is missing) the text is one piece.
    private func breaks(in text: String, unit: Unit, locale: String,
                        _ body: (Range<String.Index>, Int32) -> Void) {
        guard !text.isEmpty else { return }
        let units = text.utf16Array
        precondition(units.count <= Int(Int32.max), TextError.tooLong(units.count).description)
        units.withUnsafeBufferPointer { buffer in
            var status: Int32 = 0
            guard let iterator = glossa_break_open(unit.rawValue, locale, buffer.baseAddress!,
                                                   Int32(buffer.count), &status),
                  status <= 0
            else {
                body(text.startIndex..<text.endIndex, 0)
                return
            }
            defer { glossa_break_close(iterator) }
            let utf16 = text.utf16
            var offset = Int(glossa_break_first(iterator))
            var index = utf16.index(utf16.startIndex, offsetBy: offset)
            while true {
                let next = Int(glossa_break_next(iterator))
                guard next >= 0 else { break }
                // Offsets from ICU fall on scalar boundaries (it never splits a surrogate pair),
                // so these are valid String indices.
                let nextIndex = utf16.index(index, offsetBy: next - offset)
                body(index..<nextIndex, glossa_break_rule_status(iterator))
                (offset, index) = (next, nextIndex)
            }
        }
    }
}
