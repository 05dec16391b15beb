/// A context-free grammar over bytes: what every kind of constraint (choice, regex, JSON Schema,
/// GBNF, any JSON) compiles to before it becomes a `ByteAutomaton`.
public struct Grammar: Sendable, Equatable {
    public indirect enum Expression: Sendable, Equatable {
        /// These bytes in this order (empty: matches nothing, consumes nothing).
        case bytes([UInt8])
        /// One Unicode scalar from the set, UTF-8 encoded.
        case scalars(ScalarSet)
        /// The rule with this index.
        case rule(Int)
        case sequence([Expression])
        case choice([Expression])
        /// `min` to `max` repetitions (nil: unbounded).
        case repetition(Expression, min: Int, max: Int?)

        public static func literal(_ text: String) -> Expression { .bytes(Array(text.utf8)) }
        public static let empty = Expression.bytes([])
        public static func optional(_ e: Expression) -> Expression { .repetition(e, min: 0, max: 1) }

        /// `e*`, `e+` or `e?` for the postfix operator `op` (the same in regexes and GBNF); nil
        /// for any other character.
        static func repeated(_ e: Expression, by op: Unicode.Scalar) -> Expression? {
            switch op {
            case "*": return .repetition(e, min: 0, max: nil)
            case "+": return .repetition(e, min: 1, max: nil)
            case "?": return .repetition(e, min: 0, max: 1)
            default: return nil
            }
        }
    }

    public var rules: [Expression] = []
    public var names: [String] = []
    public var root = 0

    public init() {}

    /// Adds a rule and returns its index (rules may refer to ones added later through `define`).
    @discardableResult
    public mutating func add(_ name: String, _ expression: Expression) -> Int {
        rules.append(expression)
        names.append(name)
        return rules.count - 1
    }

    /// Reserves a rule whose body is set later (for recursive rules).
    public mutating func declare(_ name: String) -> Int { add(name, .empty) }

    public mutating func define(_ rule: Int, _ expression: Expression) { rules[rule] = expression }

    /// A grammar of one expression.
    public init(_ expression: Expression, name: String = "root") {
        root = add(name, expression)
    }
}

/// A set of Unicode scalar values as sorted, disjoint, non-adjacent ranges (surrogates excluded).
public struct ScalarSet: Sendable, Equatable {
    public private(set) var ranges: [ClosedRange<UInt32>]

    public static let maxScalar: UInt32 = 0x10FFFF

    public init(_ ranges: [ClosedRange<UInt32>] = []) {
        self.ranges = []
        for r in ranges { insert(r) }
    }

    public static let all = ScalarSet([0...maxScalar])

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ scalar: UInt32) -> Bool {
        ranges.contains { $0.contains(scalar) }
    }

    /// Adds a range (clamped to the code space, surrogates removed), merging neighbours.
    public mutating func insert(_ range: ClosedRange<UInt32>) {
        let lower = range.lowerBound, upper = min(range.upperBound, Self.maxScalar)
        guard lower <= upper else { return }
        // Surrogates are not scalars: cut them out.
        if lower <= 0xDFFF && upper >= 0xD800 {
            if lower < 0xD800 { insert(lower...0xD7FF) }
            if upper > 0xDFFF { insert(0xE000...upper) }
            return
        }
        var merged = lower...upper
        var kept: [ClosedRange<UInt32>] = []
        for r in ranges {
            if r.upperBound &+ 1 < merged.lowerBound || merged.upperBound &+ 1 < r.lowerBound {
                kept.append(r)
            } else {
                merged = min(r.lowerBound, merged.lowerBound)...max(r.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    public mutating func formUnion(_ other: ScalarSet) { for r in other.ranges { insert(r) } }

    /// Every scalar not in this set.
    public var inverted: ScalarSet {
        var result = ScalarSet()
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { result.insert(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= Self.maxScalar { result.insert(next...Self.maxScalar) }
        return result
    }

    public func subtracting(_ other: ScalarSet) -> ScalarSet {
        var result = ScalarSet()
        let complement = other.inverted
        for a in ranges {
            for b in complement.ranges {
                let lo = max(a.lowerBound, b.lowerBound), hi = min(a.upperBound, b.upperBound)
                if lo <= hi { result.insert(lo...hi) }
            }
        }
        return result
    }

    /// The UTF-8 encodings of the set as sequences of byte ranges: a scalar is in the set
    /// exactly when its encoding matches one sequence. (Ranges are split where the encoding's
    /// length changes and where a continuation byte would otherwise wrap.)
    public var utf8Sequences: [[ClosedRange<UInt8>]] {
        var out: [[ClosedRange<UInt8>]] = []
        for r in ranges {
            var lower = r.lowerBound
            for limit: UInt32 in [0x7F, 0x7FF, 0xFFFF, 0x10FFFF] where lower <= r.upperBound && lower <= limit {
                Self.split(lower, min(r.upperBound, limit), into: &out)
                lower = limit + 1
            }
        }
        return out
    }

    /// Splits [lo, hi] (one encoding length) until each piece's bytes vary independently.
    private static func split(_ lo: UInt32, _ hi: UInt32, into out: inout [[ClosedRange<UInt8>]]) {
        let length = encodedLength(lo)
        for i in 1..<max(length, 1) {
            let mask: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~mask != hi & ~mask {
                if lo & mask != 0 {
                    split(lo, lo | mask, into: &out)
                    split((lo | mask) + 1, hi, into: &out)
                    return
                }
                if hi & mask != mask {
                    split(lo, (hi & ~mask) - 1, into: &out)
                    split(hi & ~mask, hi, into: &out)
                    return
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append(zip(a, b).map { $0...$1 })
    }

    static func encodedLength(_ scalar: UInt32) -> Int {
        scalar < 0x80 ? 1 : scalar < 0x800 ? 2 : scalar < 0x10000 ? 3 : 4
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch encodedLength(scalar) {
        case 1: return [UInt8(scalar)]
        case 2: return [UInt8(0xC0 | (scalar >> 6)), UInt8(0x80 | (scalar & 0x3F))]
        case 3: return [UInt8(0xE0 | (scalar >> 12)), UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        default:
            return [UInt8(0xF0 | (scalar >> 18)), UInt8(0x80 | ((scalar >> 12) & 0x3F)),
                    UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        }
    }
}
