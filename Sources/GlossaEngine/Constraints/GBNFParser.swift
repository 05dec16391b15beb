/// GBNF grammars as llama.cpp writes them: `name ::= alternatives`, quoted literals with
/// escapes (`\n \r \t \\ \" \xHH \uHHHH \UHHHHHHHH`), character classes `[a-z]` / `[^...]`,
/// `.`, groups, `|`, and `* + ? {m} {m,} {m,n}`; `#` comments. The output must match `root`.
/// A rule continues over line breaks until the next `name ::=`, so alternatives may be laid out
/// one per line. Left recursion is an error (it would never read a byte).
public enum GBNFParser {
    public static func parse(_ text: String) throws(ConstraintError) -> Grammar {
        var parser = Parser(Array(text.unicodeScalars))
        try parser.rules()
        guard let root = parser.index["root"] else { throw ConstraintError("grammar: there is no 'root' rule") }
        for (name, r) in parser.index where !parser.defined.contains(r) {
            throw ConstraintError("grammar: rule '\(name)' is used but never defined")
        }
        parser.grammar.root = root
        return parser.grammar
    }

    struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var grammar = Grammar()
        var index: [String: Int] = [:]
        var defined = Set<Int>()

        init(_ s: [Unicode.Scalar]) { self.s = s }

        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        func error(_ message: String) -> ConstraintError {
            let line = s[..<min(i, s.count)].filter { $0 == "\n" }.count + 1
            return ConstraintError("grammar line \(line): \(message)")
        }

        mutating func skipSpace() {
            while let c = peek {
                if c == "#" {
                    while let d = peek, d != "\n" { _ = d; i += 1 }
                } else if c == " " || c == "\t" || c == "\n" || c == "\r" {
                    i += 1
                } else {
                    return
                }
            }
        }

        static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
        }

        mutating func name() -> String? {
            let start = i
            while let c = peek, Self.isNameCharacter(c) { i += 1 }
            return i > start ? String(String.UnicodeScalarView(s[start..<i])) : nil
        }

        /// Whether a rule definition (`name ::=`) starts here.
        func atDefinition() -> Bool {
            var j = i
            while j < s.count, Self.isNameCharacter(s[j]) { j += 1 }
            guard j > i else { return false }
            while j < s.count, s[j] == " " || s[j] == "\t" || s[j] == "\n" || s[j] == "\r" { j += 1 }
            return j + 2 < s.count && s[j] == ":" && s[j + 1] == ":" && s[j + 2] == "="
        }

        mutating func rule(named name: String) -> Int {
            if let r = index[name] { return r }
            let r = grammar.declare(name)
            index[name] = r
            return r
        }

        mutating func rules() throws(ConstraintError) {
            skipSpace()
            while peek != nil {
                guard let n = name() else { throw error("expected a rule name, found '\(peek.map(String.init) ?? "")'") }
                skipSpace()
                guard i + 2 < s.count, s[i] == ":", s[i + 1] == ":", s[i + 2] == "=" else { throw error("expected '::=' after '\(n)'") }
                i += 3
                let r = rule(named: n)
                guard !defined.contains(r) else { throw error("rule '\(n)' is defined twice") }
                let body = try alternates(nested: false)
                grammar.define(r, body)
                defined.insert(r)
                skipSpace()
            }
        }

        mutating func alternates(nested: Bool) throws(ConstraintError) -> Grammar.Expression {
            var branches = [try sequence(nested: nested)]
            while peek == "|" {
                i += 1
                branches.append(try sequence(nested: nested))
            }
            return branches.count == 1 ? branches[0] : .choice(branches)
        }

        mutating func sequence(nested: Bool) throws(ConstraintError) -> Grammar.Expression {
            var items: [Grammar.Expression] = []
            while true {
                skipSpace()
                guard let c = peek, c != "|", c != ")" else { break }
                if !nested && atDefinition() { break }
                var e = try primary()
                e = try postfix(e)
                items.append(e)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func postfix(_ atom: Grammar.Expression) throws(ConstraintError) -> Grammar.Expression {
            var e = atom
            while let c = peek {
                if let r = Grammar.Expression.repeated(e, by: c) {
                    i += 1
                    e = r
                    continue
                }
                switch c {
                case "{":
                    i += 1
                    func number() -> Int? {
                        skipSpace()
                        var n = 0, any = false
                        while let c = peek, c.isASCII, let d = Int(String(c)) { n = min(n * 10 + d, 1_000_000); any = true; i += 1 }
                        skipSpace()
                        return any ? n : nil
                    }
                    guard let lo = number() else { throw error("expected a number after '{'") }
                    var hi: Int? = lo
                    if peek == "," { i += 1; hi = number() }
                    guard peek == "}" else { throw error("expected '}'") }
                    i += 1
                    if let hi, hi < lo { throw error("{\(lo),\(hi)} has its bounds the wrong way round") }
                    e = .repetition(e, min: lo, max: hi)
                default: return e
                }
            }
            return e
        }

        mutating func primary() throws(ConstraintError) -> Grammar.Expression {
            guard let c = peek else { throw error("unexpected end") }
            switch c {
            case "\"":
                i += 1
                var bytes: [UInt8] = []
                while true {
                    guard let d = peek, d != "\n" else { throw error("unterminated string literal") }
                    i += 1
                    if d == "\"" { break }
                    let v = d == "\\" ? try escape() : d.value
                    guard let scalar = Unicode.Scalar(v) else { throw error("\\u escape names no character") }
                    bytes += Array(String(scalar).utf8)
                }
                return .bytes(bytes)
            case "[":
                i += 1
                var negated = false
                if peek == "^" { negated = true; i += 1 }
                var set = ScalarSet()
                while true {
                    guard let d = peek else { throw error("missing ']'") }
                    i += 1
                    if d == "]" { break }
                    let low = d == "\\" ? try escape() : d.value
                    if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
                        i += 1
                        guard let h = peek else { throw error("missing ']'") }
                        i += 1
                        let high = h == "\\" ? try escape() : h.value
                        guard low <= high else { throw error("range out of order in a character class") }
                        set.insert(low...high)
                    } else {
                        set.insert(low...low)
                    }
                }
                return .scalars(negated ? set.inverted : set)
            case "(":
                i += 1
                let inner = try alternates(nested: true)
                skipSpace()
                guard peek == ")" else { throw error("missing ')'") }
                i += 1
                return inner
            case ".":
                i += 1
                return .scalars(.all)
            default:
                guard let n = name() else { throw error("unexpected '\(c)'") }
                return .rule(rule(named: n))
            }
        }

        /// After a backslash: the escaped character's value.
        mutating func escape() throws(ConstraintError) -> UInt32 {
            guard let c = peek else { throw error("a backslash at the end") }
            i += 1
            func hex(_ count: Int) throws(ConstraintError) -> UInt32 {
                guard i + count <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + count)])), radix: 16) else {
                    throw error("expected \(count) hexadecimal digits after \\\(c)")
                }
                i += count
                return v
            }
            switch c {
            case "n": return 0x0A
            case "r": return 0x0D
            case "t": return 0x09
            case "x": return try hex(2)
            case "u": return try hex(4)
            case "U": return try hex(8)
            default: return c.value
            }
        }
    }
}
