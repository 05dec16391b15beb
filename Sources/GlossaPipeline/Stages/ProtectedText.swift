import Foundation
import GlossaEngine

/// Spans of a text a translation must carry over verbatim — fenced and inline code, URLs,
/// e-mail addresses, @mentions, ticket ids like ABC-123 and the user's own patterns — found
/// once and stood in for by numbered markers, so that sentence splitting never cuts one.
public struct ProtectedText: Sendable, Equatable {
    /// What a span is; it decides where a begun span commits the decoder (`commitAfter`).
    public enum Kind: String, Sendable, Equatable {
        case code, url, email, mention, ticket, pattern
    }

    /// The text with each span replaced by its marker.
    public var text: String
    public var spans: [String]
    public var kinds: [Kind]

    public static func marker(_ i: Int) -> String { "⟦\(i)⟧" }

    public init(text: String, spans: [String], kinds: [Kind]? = nil) {
        self.text = text
        self.spans = spans
        self.kinds = kinds ?? spans.map { _ in .pattern }
    }

    /// Replaces protected spans with markers ⟦0⟧, ⟦1⟧, ... `patterns` (ICU regular
    /// expressions) are looked for first; their matches are spans of kind `pattern`.
    public init(protecting source: String, patterns: [NSRegularExpression] = []) {
        let s = Array(source)
        var out = "", spans: [String] = [], kinds: [Kind] = []
        var i = 0
        let userSpans = Self.matches(of: patterns, in: source)
        var kind = Kind.pattern
        func emit(_ end: Int) {
            spans.append(String(s[i..<end]))
            kinds.append(kind)
            out += Self.marker(spans.count - 1)
            i = end
        }
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        // Scripts written without spaces (Han, kana, Thai, ...) put a URL, mention or id right
        // next to a letter: such a letter neither starts nor continues one.
        func continuesWord(_ c: Character) -> Bool { isWordChar(c) && !Self.isSpaceless(c) }
        while i < s.count {
            let c = s[i]
            let atWordStart = i == 0 || !continuesWord(s[i - 1])
            if let end = userSpans[i] { kind = .pattern; emit(end); continue }
            kind = .code
            // ```fenced block```
            if c == "`", i + 2 < s.count, s[i + 1] == "`", s[i + 2] == "`",
               let close = Self.find(["`", "`", "`"], in: s, from: i + 3) {
                emit(close + 3); continue
            }
            // `inline code`
            if c == "`", let close = s[(i + 1)...].firstIndex(where: { $0 == "`" || $0 == "\n" }), s[close] == "`", close > i + 1 {
                emit(close + 1); continue
            }
            kind = .url
            if atWordStart, Self.starts(s, i, "https://") || Self.starts(s, i, "http://") {
                var end = i
                while end < s.count, !s[end].isWhitespace, s[end] != "⟦", !Self.isSpaceless(s[end]) { end += 1 }
                while end > i, ".,;:!?)]}\"'".contains(s[end - 1]) { end -= 1 }
                emit(end); continue
            }
            // e-mail addresses (local part taken back from the '@')
            kind = .email
            if c == "@", i > 0, let local = Self.emailStart(s, i), let end = Self.domainEnd(s, i + 1) {
                // Move the local part already written into the span.
                let localText = String(s[local..<i])
                out.removeLast(localText.count)
                i = local
                emit(end); continue
            }
            kind = .mention
            if c == "@", atWordStart, i + 1 < s.count, continuesWord(s[i + 1]) {
                var end = i + 1
                while end < s.count, continuesWord(s[end]) || s[end] == "." || s[end] == "-" { end += 1 }
                while s[end - 1] == "." || s[end - 1] == "-" { end -= 1 }
                emit(end); continue
            }
            kind = .ticket
            if atWordStart, c.isASCII, c.isUppercase, let end = Self.ticketEnd(s, i) {
                emit(end); continue
            }
            out.append(c)
            i += 1
        }
        self.init(text: out, spans: spans, kinds: kinds)
    }

    /// Where each pattern match starts (a Character offset) and ends; earlier patterns and
    /// earlier, longer matches win overlaps. Empty matches are ignored.
    private static func matches(of patterns: [NSRegularExpression], in source: String) -> [Int: Int] {
        guard !patterns.isEmpty else { return [:] }
        // UTF-16 offsets (what NSRegularExpression reports) to Character offsets.
        var characterAt: [Int: Int] = [:]
        var utf16 = 0
        for (k, c) in source.enumerated() {
            characterAt[utf16] = k
            utf16 += c.utf16.count
        }
        characterAt[utf16] = source.count
        var taken = [Bool](repeating: false, count: source.count + 1)
        var starts: [Int: Int] = [:]
        let whole = NSRange(location: 0, length: utf16)
        for pattern in patterns {
            for m in pattern.matches(in: source, range: whole) where m.range.length > 0 {
                // Matches that cut a character in two are not spans.
                guard let a = characterAt[m.range.location], let b = characterAt[m.range.location + m.range.length],
                      !taken[a..<b].contains(true) else { continue }
                for k in a..<b { taken[k] = true }
                starts[a] = b
            }
        }
        return starts
    }

    /// A piece of the marker text with its markers replaced by their spans (one chunk's
    /// source) and the spans it holds.
    public func restoring(_ chunk: String) -> (text: String, spans: [Int]) {
        var result = "", used: [Int] = []
        var rest = Substring(chunk)
        while let open = rest.range(of: "⟦") {
            result += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if let close = after.firstIndex(of: "⟧"), let n = Int(after[..<close]), spans.indices.contains(n) {
                result += spans[n]
                used.append(n)
                rest = after[after.index(after: close)...]
            } else {
                result += "⟦"
                rest = after
            }
        }
        result += rest
        return (result, used)
    }

    /// Each distinct span as the decoder requires it (counts left at 0: they depend on the text).
    public var needles: [RequiredText] {
        var out: [RequiredText] = []
        for (span, kind) in zip(spans, kinds) where !out.contains(where: { $0.text == span }) {
            out.append(RequiredText(span, minimum: 0, maximum: 0, commitAfter: Self.commitAfter(span, kind: kind)))
        }
        return out
    }

    /// How many bytes of a span of this kind begin it for good: after them the decoder must
    /// finish it verbatim (`RequiredText.commitAfter`). Chosen where ordinary prose cannot
    /// go: a URL's `scheme:`, the `@` of an e-mail address or a mention, the
    /// opening backtick of code, the letters and dash of a ticket id. User patterns only count.
    public static func commitAfter(_ span: String, kind: Kind) -> Int? {
        let bytes = Array(span.utf8)
        func after(_ byte: UInt8, extra: Int = 0) -> Int? {
            bytes.firstIndex(of: byte).map { min(bytes.count, $0 + 1 + extra) }
        }
        switch kind {
        case .url: return after(UInt8(ascii: ":"))
        case .email: return after(UInt8(ascii: "@"))
        // Already at the `@`: small models like to capitalise a mention (@julien.b -> @Julien.B)
        // and then ramble on while the real one is still owed.
        case .mention: return 1
        case .code: return 1
        case .ticket: return after(UInt8(ascii: "-"))
        case .pattern: return nil
        }
    }

    /// The translation with markers swapped back, or nil when a marker is missing, repeated or
    /// invented.
    public func restore(_ translated: String) -> String? {
        var result = translated
        for (i, span) in spans.enumerated() {
            let m = Self.marker(i)
            guard result.components(separatedBy: m).count == 2 else { return nil }
            result = result.replacingOccurrences(of: m, with: span)
        }
        return result.contains("⟦") ? nil : result
    }

    /// A character of a script written without spaces between words (Han, kana, Hangul
    /// syllables, Thai, Lao, Myanmar, Khmer) or CJK / full-width punctuation.
    static func isSpaceless(_ c: Character) -> Bool {
        guard let v = c.unicodeScalars.first?.value else { return false }
        switch v {
        case 0x0E00...0x0EFF, 0x1000...0x109F, 0x1780...0x17FF, 0x2E80...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF,
             0xFF00...0xFFEF, 0x20000...0x3FFFF:
            return true
        default:
            return false
        }
    }

    private static func starts(_ s: [Character], _ i: Int, _ prefix: String) -> Bool {
        let p = Array(prefix)
        return i + p.count <= s.count && Array(s[i..<(i + p.count)]).map { $0.lowercased() } == p.map { String($0) }
    }

    private static func find(_ needle: [Character], in s: [Character], from: Int) -> Int? {
        var j = from
        while j + needle.count <= s.count {
            if Array(s[j..<(j + needle.count)]) == needle { return j }
            j += 1
        }
        return nil
    }

    private static func emailStart(_ s: [Character], _ at: Int) -> Int? {
        var j = at
        while j > 0, s[j - 1].isASCII, s[j - 1].isLetter || s[j - 1].isNumber || "._%+-".contains(s[j - 1]) { j -= 1 }
        return j < at ? j : nil
    }

    private static func domainEnd(_ s: [Character], _ from: Int) -> Int? {
        var j = from
        while j < s.count, s[j].isASCII, s[j].isLetter || s[j].isNumber || s[j] == "." || s[j] == "-" { j += 1 }
        while j > from, s[j - 1] == "." || s[j - 1] == "-" { j -= 1 }
        let domain = String(s[from..<j])
        guard let dot = domain.lastIndex(of: "."), domain.distance(from: dot, to: domain.endIndex) >= 3 else { return nil }
        return j
    }

    private static func ticketEnd(_ s: [Character], _ i: Int) -> Int? {
        var j = i
        while j < s.count, s[j].isASCII, s[j].isUppercase || s[j].isNumber { j += 1 }
        guard j - i >= 2, j < s.count, s[j] == "-" else { return nil }
        var k = j + 1
        while k < s.count, s[k].isASCII, s[k].isNumber { k += 1 }
        guard k > j + 1 else { return nil }
        if k < s.count, (s[k].isLetter && !isSpaceless(s[k])) || s[k] == "_" { return nil }
        return k
    }
}
