/// Regular expressions as constraints, matched against the whole output (anchors implicit; a
/// leading `^` and trailing `$` are accepted and change nothing).
///
/// The subset: literal characters; escapes `\n \r \t \f \v \0 \xHH \uHHHH \u{H...}` and any
/// escaped punctuation; classes `\d \D \w \W \s \S` (ASCII, as in JSON Schema's ECMA-262
/// default); `.` (any character but a line terminator: LF, CR, U+2028, U+2029); bracket classes `[a-z_]`, `[^...]` with those
/// escapes inside; groups `(...)` and `(?:...)`; alternation `|`; quantifiers `* + ? {m} {m,}
/// {m,n}` (a lazy `?` after one is accepted: on a whole-output match it changes nothing).
/// Anything else (back-references, look-around, named groups, possessive quantifiers) is an
/// error naming it.
public enum RegexParser {
    public static func parse(_ pattern: String) throws(ConstraintError) -> Grammar.Expression {
        var parser = Parser(Array(pattern.unicodeScalars), pattern: pattern)
        if parser.peek == "^" { parser.i += 1 }
        let e = try parser.alternation()
        guard parser.i == parser.s.count else { throw parser.error("unexpected ')'") }
        return e
    }

    static let digits = ScalarSet([0x30...0x39])
    /// ECMA-262's `.`: every character but the line terminators.
    static let anyButLineTerminator = ScalarSet.all.subtracting(ScalarSet([0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]))
    static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let space = ScalarSet([0x09...0x0D, 0x20...0x20])

    struct Parser {
        let s: [Unicode.Scalar]
        let pattern: String
        var i = 0

        init(_ s: [Unicode.Scalar], pattern: String) {
            self.s = s
            self.pattern = pattern
        }

        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        func error(_ message: String) -> ConstraintError {
            ConstraintError("regex \(pattern.debugDescription): \(message) at character \(i + 1)")
        }

        mutating func alternation() throws(ConstraintError) -> Grammar.Expression {
            var branches = [try sequence()]
            while peek == "|" {
                i += 1
                branches.append(try sequence())
            }
            return branches.count == 1 ? branches[0] : .choice(branches)
        }

        mutating func sequence() throws(ConstraintError) -> Grammar.Expression {
            var items: [Grammar.Expression] = []
            while let c = peek, c != "|", c != ")" {
                if c == "$" && i == s.count - 1 { i += 1; break }
                var atom = try self.atom()
                atom = try quantified(atom)
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func quantified(_ atom: Grammar.Expression) throws(ConstraintError) -> Grammar.Expression {
            var e = atom
            while let c = peek {
                if let r = Grammar.Expression.repeated(e, by: c) {
                    i += 1
                    e = r
                } else if c == "{", let (lo, hi) = try bounds() {
                    e = .repetition(e, min: lo, max: hi)
                } else {
                    return e
                }
                if peek == "?" { i += 1 }   // lazy: the same language
                if peek == "+" { throw error("possessive quantifiers are not supported") }
            }
            return e
        }

        /// `{m}`, `{m,}`, `{m,n}`; nil (and nothing consumed) when the brace is a literal.
        mutating func bounds() throws(ConstraintError) -> (Int, Int?)? {
            let saved = i
            i += 1
            func number() -> Int? {
                var n = 0, any = false
                while let c = peek, let d = Int(String(c)), c.isASCII {
                    n = min(n * 10 + d, 1_000_000)
                    any = true
                    i += 1
                }
                return any ? n : nil
            }
            guard let lo = number() else { i = saved; return nil }
            var hi: Int? = lo
            if peek == "," {
                i += 1
                hi = number()
            }
            guard peek == "}" else { i = saved; return nil }
            i += 1
            if let hi, hi < lo { throw error("{\(lo),\(hi)} has its bounds the wrong way round") }
            return (lo, hi)
        }

        mutating func atom() throws(ConstraintError) -> Grammar.Expression {
            guard let c = peek else { throw error("unexpected end") }
            i += 1
            switch c {
            case "(":
                if peek == "?" {
                    guard i + 1 < s.count, s[i + 1] == ":" else { throw error("only (?:...) groups are supported (no look-around or named groups)") }
                    i += 2
                }
                let inner = try alternation()
                guard peek == ")" else { throw error("missing ')'") }
                i += 1
                return inner
            case "[": return .scalars(try bracketClass())
            case ".": return .scalars(RegexParser.anyButLineTerminator)
            case "\\": return try escape().expression
            case "*", "+", "?": throw error("'\(c)' has nothing to repeat")
            case "{":
                i -= 1
                if try bounds() != nil { throw error("a {m,n} quantifier has nothing to repeat") }
                i += 1
                return .bytes(Array("{".utf8))
            default: return .bytes(Array(String(c).utf8))
            }
        }

        /// An escape after the backslash: a set of scalars (one scalar or a class).
        mutating func escape() throws(ConstraintError) -> (set: ScalarSet, expression: Grammar.Expression) {
            guard let c = peek else { throw error("a pattern cannot end with '\\'") }
            i += 1
            func single(_ v: UInt32) -> (ScalarSet, Grammar.Expression) {
                let set = ScalarSet([v...v])
                return (set, .scalars(set))
            }
            switch c {
            case "d": return (RegexParser.digits, .scalars(RegexParser.digits))
            case "D": return (RegexParser.digits.inverted, .scalars(RegexParser.digits.inverted))
            case "w": return (RegexParser.word, .scalars(RegexParser.word))
            case "W": return (RegexParser.word.inverted, .scalars(RegexParser.word.inverted))
            case "s": return (RegexParser.space, .scalars(RegexParser.space))
            case "S": return (RegexParser.space.inverted, .scalars(RegexParser.space.inverted))
            case "n": return single(0x0A)
            case "r": return single(0x0D)
            case "t": return single(0x09)
            case "f": return single(0x0C)
            case "v": return single(0x0B)
            case "0": return single(0)
            case "x": return single(try hex(count: 2))
            case "u":
                if peek == "{" {
                    i += 1
                    var v: UInt32 = 0, n = 0
                    while let h = peek, h != "}" {
                        guard let d = UInt32(String(h), radix: 16), n < 6 else {
                            throw error("bad \\u{...} escape")
                        }
                        v = v * 16 + d
                        n += 1
                        i += 1
                    }
                    guard peek == "}", n > 0, v <= ScalarSet.maxScalar else { throw error("bad \\u{...} escape") }
                    i += 1
                    return single(v)
                }
                return single(try hex(count: 4))
            case "b", "B": throw error("word boundaries (\\\(c)) are not supported")
            default:
                if c.properties.isAlphabetic || ("1"..."9").contains(c) {
                    throw error("the escape \\\(c) is not supported")
                }
                return single(c.value)
            }
        }

        mutating func hex(count: Int) throws(ConstraintError) -> UInt32 {
            guard i + count <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + count)])), radix: 16) else {
                throw error("expected \(count) hexadecimal digits")
            }
            i += count
            return v
        }

        /// After `[`: the class up to its `]`.
        mutating func bracketClass() throws(ConstraintError) -> ScalarSet {
            var negated = false
            if peek == "^" { negated = true; i += 1 }
            var set = ScalarSet()
            var first = true
            while true {
                guard let c = peek else { throw error("missing ']'") }
                if c == "]" && !first { i += 1; break }
                first = false
                i += 1
                var low: UInt32
                if c == "\\" {
                    let (escaped, _) = try escape()
                    guard escaped.ranges.count == 1, escaped.ranges[0].count == 1 else { set.formUnion(escaped); continue }
                    low = escaped.ranges[0].lowerBound
                } else {
                    low = c.value
                }
                if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
                    i += 1
                    guard let h = peek else { throw error("missing ']'") }
                    i += 1
                    var high = h.value
                    if h == "\\" {
                        let (escaped, _) = try escape()
                        guard escaped.ranges.count == 1, escaped.ranges[0].count == 1 else { throw error("a class cannot end a range") }
                        high = escaped.ranges[0].lowerBound
                    }
                    guard low <= high else { throw error("range out of order in a character class") }
                    set.insert(low...high)
                } else {
                    set.insert(low...low)
                }
            }
            return negated ? set.inverted : set
        }
    }
}
