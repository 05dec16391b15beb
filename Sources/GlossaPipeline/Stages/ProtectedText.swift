import Foundation

/// Spans of a text a translation must carry over verbatim — fenced and inline code, URLs,
/// e-mail addresses, @mentions and ticket ids like ABC-123 — swapped for numbered markers
/// before translation and put back afterwards.
public struct ProtectedText: Sendable, Equatable {
    public var text: String
    public var spans: [String]

    public static func marker(_ i: Int) -> String { "⟦\(i)⟧" }

    public init(text: String, spans: [String]) {
        self.text = text
        self.spans = spans
    }

    /// Replaces protected spans with markers ⟦0⟧, ⟦1⟧, ...
    public init(protecting source: String) {
        let s = Array(source)
        var out = "", spans: [String] = []
        var i = 0
        func emit(_ end: Int) {
            spans.append(String(s[i..<end]))
            out += Self.marker(spans.count - 1)
            i = end
        }
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while i < s.count {
            let c = s[i]
            let atWordStart = i == 0 || !isWordChar(s[i - 1])
            // ```fenced block```
            if c == "`", i + 2 < s.count, s[i + 1] == "`", s[i + 2] == "`",
               let close = Self.find(["`", "`", "`"], in: s, from: i + 3) {
                emit(close + 3); continue
            }
            // `inline code`
            if c == "`", let close = s[(i + 1)...].firstIndex(where: { $0 == "`" || $0 == "\n" }), s[close] == "`", close > i + 1 {
                emit(close + 1); continue
            }
            // URLs
            if atWordStart, Self.starts(s, i, "https://") || Self.starts(s, i, "http://") {
                var end = i
                while end < s.count, !s[end].isWhitespace, s[end] != "⟦" { end += 1 }
                while end > i, ".,;:!?)]}\"'".contains(s[end - 1]) { end -= 1 }
                emit(end); continue
            }
            // e-mail addresses (local part taken back from the '@')
            if c == "@", i > 0, let local = Self.emailStart(s, i), let end = Self.domainEnd(s, i + 1) {
                // Move the local part already written into the span.
                let localText = String(s[local..<i])
                out.removeLast(localText.count)
                i = local
                emit(end); continue
            }
            // @mentions
            if c == "@", atWordStart, i + 1 < s.count, isWordChar(s[i + 1]) {
                var end = i + 1
                while end < s.count, isWordChar(s[end]) || s[end] == "." || s[end] == "-" { end += 1 }
                while s[end - 1] == "." || s[end - 1] == "-" { end -= 1 }
                emit(end); continue
            }
            // ticket ids: ABC-123
            if atWordStart, c.isASCII, c.isUppercase, let end = Self.ticketEnd(s, i) {
                emit(end); continue
            }
            out.append(c)
            i += 1
        }
        self.init(text: out, spans: spans)
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
        if k < s.count, s[k].isLetter || s[k] == "_" { return nil }
        return k
    }
}
