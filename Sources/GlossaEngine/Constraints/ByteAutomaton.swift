import Foundation

/// Why a constraint cannot be built: a syntax error, an unsupported keyword, a grammar that
/// accepts nothing. The message names the problem in the user's terms.
public struct ConstraintError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A grammar as a network of byte automata, one per rule, that call each other (a recursive
/// transition network), run as a deterministic automaton built lazily: a state is the set of
/// call stacks the input so far can be in, interned, with its 256 byte transitions filled in as
/// they are first asked for. Regular constraints (regex, choice, most schemas) reach a bounded
/// set of states; recursive ones (any JSON, GBNF) as many as the text they read needs, up to a
/// nesting depth of `maxDepth` rule calls.
///
/// Not thread-safe by itself: `Constraint` serializes access.
final class ByteAutomaton: ConstraintAutomaton {
    typealias State = ConstraintState
    static let dead: State = -1
    private static let unknown: State = -2
    static let maxNodes = 2_000_000
    let maxDepth = 128

    // The network: per node, byte edges, empty moves, at most one call, and whether it ends its rule.
    private var edges: [[(lo: UInt8, hi: UInt8, to: Int32)]] = []
    private var epsilons: [[Int32]] = []
    private var calls: [(rule: Int32, next: Int32)?] = []
    private var ends: [Bool] = []
    private var ruleStart: [Int32] = []

    // The deterministic automaton over stack sets.
    private var kernels: [[[Int32]]] = []
    private var accepting: [Bool] = []
    private var table: [State] = []       // 256 per state
    private var index: [[[Int32]]: State] = [:]
    private(set) var start: State = -1

    var stateCount: Int { kernels.count }

    init(_ grammar: Grammar) throws(ConstraintError) {
        try Self.checkLeftRecursion(grammar)
        // A grammar whose root derives no finite text accepts nothing: found on the grammar
        // (cheap) rather than by searching the automaton.
        guard RuleProperty.productive.rules(of: grammar)[grammar.root] else { throw ConstraintError("the constraint accepts no text at all") }
        for _ in grammar.rules { ruleStart.append(newNode()) }
        var ruleEnd: [Int32] = []
        for _ in grammar.rules { ruleEnd.append(newNode(end: true)) }
        for (r, expression) in grammar.rules.enumerated() {
            let (s, e) = try fragment(expression, grammar)
            epsilons[Int(ruleStart[r])].append(s)
            epsilons[Int(e)].append(ruleEnd[r])
        }
        start = intern(closure([[ruleStart[grammar.root]]]))
        guard start != Self.dead else { throw ConstraintError("the constraint accepts no text at all") }
    }

    func isAccepting(_ state: State) -> Bool { state >= 0 && accepting[Int(state)] }

    /// The state after `byte`, or `dead`.
    func next(_ state: State, _ byte: UInt8) -> State {
        guard state >= 0 else { return Self.dead }
        let slot = Int(state) << 8 | Int(byte)
        let cached = table[slot]
        if cached != Self.unknown { return cached }
        var seeds: [[Int32]] = []
        for stack in kernels[Int(state)] {
            guard let top = stack.last else { continue }
            for edge in edges[Int(top)] where edge.lo <= byte && byte <= edge.hi {
                var moved = stack
                moved[moved.count - 1] = edge.to
                seeds.append(moved)
            }
        }
        let result = seeds.isEmpty ? Self.dead : intern(closure(seeds))
        table[slot] = result
        return result
    }

    /// The fewest bytes that take `state` to acceptance (breadth first, lowest byte first), or
    /// nil when none do within `limit` states.
    func shortestCompletion(from state: State) -> [UInt8]? {
        let limit = 200_000
        guard state >= 0 else { return nil }
        if isAccepting(state) { return [] }
        var parent: [State: (State, UInt8)] = [state: (Self.dead, 0)]
        var queue: [State] = [state]
        var head = 0
        while head < queue.count && parent.count < limit {
            let s = queue[head]
            head += 1
            for b in 0...255 {
                let n = next(s, UInt8(b))
                guard n >= 0, parent[n] == nil else { continue }
                parent[n] = (s, UInt8(b))
                if isAccepting(n) {
                    var path: [UInt8] = []
                    var at = n
                    while at != state, let (p, byte) = parent[at] { path.append(byte); at = p }
                    return path.reversed()
                }
                queue.append(n)
            }
        }
        return nil
    }

    // MARK: - Building the network

    private func newNode(end: Bool = false) -> Int32 {
        edges.append([])
        epsilons.append([])
        calls.append(nil)
        ends.append(end)
        return Int32(edges.count - 1)
    }

    /// Thompson's construction for one expression: its entry and exit nodes.
    private func fragment(_ expression: Grammar.Expression, _ grammar: Grammar) throws(ConstraintError) -> (Int32, Int32) {
        guard edges.count < Self.maxNodes else {
            throw ConstraintError("the constraint is too large (more than \(Self.maxNodes) automaton nodes); use smaller repetition counts")
        }
        switch expression {
        case let .bytes(bytes):
            let s = newNode()
            var current = s
            for b in bytes {
                let n = newNode()
                edges[Int(current)].append((b, b, n))
                current = n
            }
            return (s, current)
        case let .scalars(set):
            let s = newNode(), e = newNode()
            for sequence in set.utf8Sequences {
                var current = s
                for (k, range) in sequence.enumerated() {
                    let to = k == sequence.count - 1 ? e : newNode()
                    edges[Int(current)].append((range.lowerBound, range.upperBound, to))
                    current = to
                }
            }
            return (s, e)
        case let .rule(r):
            guard grammar.rules.indices.contains(r) else { throw ConstraintError("reference to an undefined rule #\(r)") }
            let s = newNode(), e = newNode()
            calls[Int(s)] = (Int32(r), e)
            return (s, e)
        case let .sequence(items):
            let s = newNode()
            var current = s
            for item in items {
                let (fs, fe) = try fragment(item, grammar)
                epsilons[Int(current)].append(fs)
                current = fe
            }
            return (s, current)
        case let .choice(items):
            let s = newNode(), e = newNode()
            for item in items {
                let (fs, fe) = try fragment(item, grammar)
                epsilons[Int(s)].append(fs)
                epsilons[Int(fe)].append(e)
            }
            return (s, e)
        case let .repetition(item, minimum, maximum):
            guard minimum >= 0, maximum.map({ $0 >= minimum }) ?? true else {
                throw ConstraintError("a repetition {\(minimum),\(maximum.map(String.init) ?? "")} has its bounds the wrong way round")
            }
            guard (maximum ?? minimum) <= 10_000 else {
                throw ConstraintError("a repetition count of \(maximum ?? minimum) is more than the 10000 supported")
            }
            let s = newNode()
            var current = s
            for _ in 0..<minimum {
                let (fs, fe) = try fragment(item, grammar)
                epsilons[Int(current)].append(fs)
                current = fe
            }
            let e = newNode()
            if let maximum {
                for _ in minimum..<maximum {
                    epsilons[Int(current)].append(e)
                    let (fs, fe) = try fragment(item, grammar)
                    epsilons[Int(current)].append(fs)
                    current = fe
                }
                epsilons[Int(current)].append(e)
            } else {
                let loop = newNode()
                epsilons[Int(current)].append(loop)
                let (fs, fe) = try fragment(item, grammar)
                epsilons[Int(loop)].append(fs)
                epsilons[Int(fe)].append(loop)
                epsilons[Int(loop)].append(e)
            }
            return (s, e)
        }
    }

    // MARK: - Stack sets

    /// Follows empty moves, calls and returns from `seeds`: the stacks that wait for a byte,
    /// and whether the whole input may end here.
    private func closure(_ seeds: [[Int32]]) -> (kernel: [[Int32]], accepting: Bool) {
        var seen = Set<[Int32]>()
        var work = seeds
        var kernel: [[Int32]] = []
        var accepting = false
        while let stack = work.popLast() {
            guard let top = stack.last, seen.insert(stack).inserted else { continue }
            let node = Int(top)
            if !edges[node].isEmpty { kernel.append(stack) }
            for e in epsilons[node] {
                var moved = stack
                moved[moved.count - 1] = e
                work.append(moved)
            }
            // Deeper nesting than maxDepth is a path that dies.
            if let call = calls[node], stack.count < maxDepth {
                var moved = stack
                moved[moved.count - 1] = call.next
                moved.append(ruleStart[Int(call.rule)])
                work.append(moved)
            }
            if ends[node] {
                if stack.count == 1 { accepting = true } else { work.append(Array(stack.dropLast())) }
            }
        }
        kernel.sort { $0.lexicographicallyPrecedes($1) }
        return (kernel, accepting)
    }

    private func intern(_ closure: (kernel: [[Int32]], accepting: Bool)) -> State {
        guard !closure.kernel.isEmpty || closure.accepting else { return Self.dead }
        // Acceptance is part of a state's identity: the same waiting stacks may differ in it.
        let key = closure.accepting ? closure.kernel + [[-1]] : closure.kernel
        if let s = index[key] { return s }
        let s = State(kernels.count)
        kernels.append(closure.kernel)
        accepting.append(closure.accepting)
        table += repeatElement(Self.unknown, count: 256)
        index[key] = s
        return s
    }

    // MARK: - Checks

    /// A rule that can call itself before reading a byte would nest without end.
    private static func checkLeftRecursion(_ grammar: Grammar) throws(ConstraintError) {
        let nullableRules = RuleProperty.nullable.rules(of: grammar)
        func isNullable(_ e: Grammar.Expression) -> Bool { RuleProperty.nullable.holds(e, nullableRules) }
        func leftCalls(_ e: Grammar.Expression, into out: inout Set<Int>) {
            switch e {
            case .bytes, .scalars: return
            case let .rule(r): out.insert(r)
            case let .sequence(items):
                for item in items {
                    leftCalls(item, into: &out)
                    if !isNullable(item) { return }
                }
            case let .choice(items): for item in items { leftCalls(item, into: &out) }
            case let .repetition(item, _, maximum): if maximum != 0 { leftCalls(item, into: &out) }
            }
        }
        let graph = grammar.rules.map { e -> Set<Int> in
            var out = Set<Int>()
            leftCalls(e, into: &out)
            return out
        }
        // Depth-first search for a cycle: 0 unvisited, 1 on the path, 2 done.
        var mark = [UInt8](repeating: 0, count: grammar.rules.count)
        func visit(_ r: Int) -> Int? {
            if mark[r] == 1 { return r }
            if mark[r] == 2 { return nil }
            mark[r] = 1
            for c in graph[r].sorted() where grammar.rules.indices.contains(c) {
                if let cycle = visit(c) { return cycle }
            }
            mark[r] = 2
            return nil
        }
        for r in grammar.rules.indices {
            if let cycle = visit(r) {
                throw ConstraintError("rule '\(grammar.names[cycle])' is left-recursive (it can reach itself before reading any text)")
            }
        }
    }
}

/// A property of grammar expressions that sequences need in all their parts, choices in one,
/// and repetitions in their item unless they may repeat zero times; rules have it by the least
/// fixed point. Deriving some finite text (productive) and deriving the empty text (nullable)
/// differ only in what bytes and character sets say.
struct RuleProperty: Sendable {
    let bytes: @Sendable ([UInt8]) -> Bool
    let scalars: @Sendable (ScalarSet) -> Bool

    static let productive = RuleProperty(bytes: { _ in true }, scalars: { !$0.isEmpty })
    static let nullable = RuleProperty(bytes: { $0.isEmpty }, scalars: { _ in false })

    func holds(_ e: Grammar.Expression, _ rules: [Bool]) -> Bool {
        switch e {
        case let .bytes(b): return bytes(b)
        case let .scalars(set): return scalars(set)
        case let .rule(r): return rules.indices.contains(r) && rules[r]
        case let .sequence(items): return items.allSatisfy { holds($0, rules) }
        case let .choice(items): return items.contains { holds($0, rules) }
        case let .repetition(item, minimum, _): return minimum == 0 || holds(item, rules)
        }
    }

    func rules(of grammar: Grammar) -> [Bool] {
        var rules = [Bool](repeating: false, count: grammar.rules.count)
        var changed = true
        while changed {
            changed = false
            for (r, e) in grammar.rules.enumerated() where !rules[r] && holds(e, rules) {
                rules[r] = true
                changed = true
            }
        }
        return rules
    }
}
