import GlossaText

/// A strict JSON parser over UTF-8 bytes, with two repairs a corpus needs: invalid UTF-8 inside
/// strings and lone UTF-16 surrogates from `\u` escapes become U+FFFD and are counted.
public struct JSONParser {
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        /// Set when the text is well-formed but names a key twice in one object. Readers differ
        /// on which one wins (the first here, the last in Python), so such input is refused
        /// rather than read one way here and another way downstream.
        public var duplicateKey: String? = nil
        public var description: String { "\(message) at byte \(offset + 1)" }
    }

    public static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0
    /// U+FFFD substitutions made while parsing (bad UTF-8 bytes and lone surrogates).
    public private(set) var repairs = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses exactly one value surrounded by optional whitespace.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> (value: JSONValue, repairs: Int) {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.i != bytes.count { throw parser.error("unexpected data after the JSON value") }
        return (value, parser.repairs)
    }

    public static func parse(_ text: String) throws(SyntaxError) -> (value: JSONValue, repairs: Int) {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBufferPointer { b in Result { () throws(SyntaxError) in try parse(b) } }
        return try result.get()
    }

    private func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: i) }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func parseValue() throws(SyntaxError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(printable(bytes[i]))'")
        }
    }

    private func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }

    private mutating func literal(_ word: String) throws(SyntaxError) {
        for expected in word.utf8 {
            guard i < bytes.count, bytes[i] == expected else { throw error("invalid literal") }
            i += 1
        }
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws(SyntaxError) -> JSONValue {
        try enter()
        i += 1
        var object = JSONObject()
        // Small objects are checked for a repeated key by a scan; large ones by a set.
        var keys: Set<String>?
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return .object(object) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = i
            let key = try parseString()
            if object.members.count >= 16 && keys == nil { keys = Set(object.members.map(\.key)) }
            let inserted: Bool? = keys?.insert(key).inserted
            let repeated = inserted.map { !$0 } ?? object.members.contains { $0.key == key }
            if repeated {
                throw SyntaxError(message: "duplicate key '\(key)' in one object", offset: keyOffset, duplicateKey: key)
            }
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
            i += 1
            skipWhitespace()
            let value = try parseValue()
            object.members.append(.init(key: key, value: value))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of input inside an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; break }
            throw error("expected ',' or '}'")
        }
        depth -= 1
        return .object(object)
    }

    private mutating func parseArray() throws(SyntaxError) -> JSONValue {
        try enter()
        i += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return .array(array) }
        while true {
            skipWhitespace()
            array.append(try parseValue())
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of input inside an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; break }
            throw error("expected ',' or ']'")
        }
        depth -= 1
        return .array(array)
    }

    private mutating func parseNumber() throws(SyntaxError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ i: inout Int) -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        guard i < bytes.count else { throw error("incomplete number") }
        if bytes[i] == 0x30 { i += 1 } else if digits(&i) == 0 { throw error("invalid number") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            if digits(&i) == 0 { throw error("invalid number: digits expected after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits(&i) == 0 { throw error("invalid number: digits expected in exponent") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
    }

    private mutating func parseString() throws(SyntaxError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes and plain ASCII or valid UTF-8.
        var needsSlowPath = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") || b >= 0x80 { needsSlowPath = true; break }
            i += 1
        }
        if !needsSlowPath {
            guard i < bytes.count else { throw error("unterminated string") }
            let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            i += 1
            return s
        }
        i = start
        var out = [UInt8]()
        out.reserveCapacity(64)
        var pendingHigh: UInt32? = nil  // a high surrogate waiting for its low half
        func appendScalar(_ c: UInt32, _ out: inout [UInt8]) {
            switch c {
            case 0..<0x80: out.append(UInt8(c))
            case 0x80..<0x800: out.append(UInt8(0xC0 | (c >> 6))); out.append(UInt8(0x80 | (c & 0x3F)))
            case 0x800..<0x10000:
                out.append(UInt8(0xE0 | (c >> 12))); out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
            default:
                out.append(UInt8(0xF0 | (c >> 18))); out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
                out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
            }
        }
        func flushHigh(_ out: inout [UInt8], _ repairs: inout Int) {
            if pendingHigh != nil { appendScalar(0xFFFD, &out); repairs += 1; pendingHigh = nil }
        }
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw error("unterminated escape") }
                let e = bytes[i + 1]
                if e == UInt8(ascii: "u") {
                    guard i + 6 <= bytes.count, let unit = hex4(i + 2) else { throw error("invalid \\u escape") }
                    i += 6
                    if (0xD800..<0xDC00).contains(unit) {
                        flushHigh(&out, &repairs)
                        pendingHigh = unit
                    } else if (0xDC00..<0xE000).contains(unit) {
                        if let high = pendingHigh {
                            appendScalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), &out)
                            pendingHigh = nil
                        } else {
                            appendScalar(0xFFFD, &out); repairs += 1
                        }
                    } else {
                        flushHigh(&out, &repairs)
                        appendScalar(unit, &out)
                    }
                    continue
                }
                flushHigh(&out, &repairs)
                let mapped: UInt8
                switch e {
                case UInt8(ascii: "\""): mapped = 0x22
                case UInt8(ascii: "\\"): mapped = 0x5C
                case UInt8(ascii: "/"): mapped = 0x2F
                case UInt8(ascii: "b"): mapped = 0x08
                case UInt8(ascii: "f"): mapped = 0x0C
                case UInt8(ascii: "n"): mapped = 0x0A
                case UInt8(ascii: "r"): mapped = 0x0D
                case UInt8(ascii: "t"): mapped = 0x09
                default: throw error("invalid escape '\\\(printable(e))'")
                }
                out.append(mapped)
                i += 2
                continue
            }
            flushHigh(&out, &repairs)
            if b < 0x80 { out.append(b); i += 1; continue }
            let (scalar, length) = decodeMultibyte(bytes, i)
            if scalar != 0xFFFF_FFFF { appendScalar(scalar, &out) } else { appendScalar(0xFFFD, &out); repairs += 1 }
            i += length
        }
        flushHigh(&out, &repairs)
        return String(decoding: out, as: UTF8.self)
    }

    private func hex4(_ at: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
