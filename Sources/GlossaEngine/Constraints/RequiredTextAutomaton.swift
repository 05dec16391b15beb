import Foundation

/// A string free text must contain: between `minimum` and `maximum` occurrences of its exact
/// bytes. Once the output holds the first `commitAfter` bytes of it (e.g. `https:` of a URL, the
/// `@` of an e-mail address), the occurrence has begun and must be finished byte for byte: the
/// model may choose where a span goes, not how it is spelled.
public struct RequiredText: Sendable, Hashable {
    public var text: String
    public var minimum: Int
    /// nil: any number of further occurrences.
    public var maximum: Int?
    /// nil: never committed (only counted), e.g. a glossary term, which is an ordinary word.
    public var commitAfter: Int?

    public init(_ text: String, minimum: Int, maximum: Int?, commitAfter: Int? = nil) {
        self.text = text
        self.minimum = minimum
        self.maximum = maximum
        self.commitAfter = commitAfter
    }

    /// Whether an occurrence must end at a word boundary to count: spans (they commit) whose
    /// last byte is an ASCII letter, digit or `_`, so that `ABC-12` is not found in `ABC-123`
    /// nor `https://a.io/?q=1` in `https://a.io/?q=12`. Glossary terms count inside words
    /// ("Glossa" in "Glossas").
    var needsBoundary: Bool { commitAfter != nil && text.utf8.last.map(Self.isWordByte) == true }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    /// How often the constraint counts this text in `text`: every occurrence, overlapping ones
    /// included, those that need a boundary only where one follows.
    public func occurrences(in text: String) -> Int {
        let n = Array(self.text.utf8), t = Array(text.utf8)
        guard !n.isEmpty, t.count >= n.count else { return 0 }
        var count = 0
        for i in 0...(t.count - n.count) where t[i] == n[0] && t[i..<(i + n.count)].elementsEqual(n) {
            let end = i + n.count
            if needsBoundary, end < t.count, Self.isWordByte(t[end]) { continue }
            count += 1
        }
        return count
    }
}

/// The automaton of `Constraint.Kind.requiredText`: an Aho-Corasick matcher over the required
/// strings whose state also counts the occurrences so far. A state is (matcher node, counts),
/// interned on first sight with its 256 byte transitions filled lazily, like `ByteAutomaton`'s.
/// It dies when a string would occur more often than its maximum or a begun occurrence goes
/// astray, and accepts where every minimum is met and no occurrence is half written.
final class RequiredTextAutomaton: ConstraintAutomaton {
    typealias State = ConstraintState
    private let needles: [RequiredText]
    private let needleBytes: [[UInt8]]

    // The matcher: a trie of the needles with failure links.
    private var children: [[UInt8: Int32]] = [[:]]
    private var fail: [Int32] = [0]
    private var depth: [Int] = [0]
    /// Needles that end at a node (its own and, through failure links, its suffixes').
    private var matches: [[Int]] = [[]]
    /// Needles whose proper prefix a node is.
    private var prefixOf: [[Int]] = [[]]
    private let boundary: [Bool]
    private var longest = 0

    // The deterministic automaton over (node, counts).
    private var keys: [Key] = []
    private var index: [Key: State] = [:]
    private var table: [State] = []
    private var acceptingStates: [Bool] = []
    private(set) var start: State = -1
    static let maxStates = 200_000

    private struct Key: Hashable {
        var node: Int32
        var counts: [UInt16]
        /// Needles just completed whose count waits for the next byte (a word boundary).
        var pending: [Int] = []
        /// Bytes since a committing needle was last completed (capped): a match that began
        /// inside that occurrence does not commit (the closing backtick of one code span
        /// followed by a space is not the start of another that begins with "` ").
        var sinceSpan: Int32 = .max
    }

    init(_ needles: [RequiredText]) throws(ConstraintError) {
        var seen = Set<String>()
        for n in needles {
            guard !n.text.isEmpty else { throw ConstraintError("a required text is empty") }
            guard n.minimum >= 0, n.maximum.map({ $0 >= n.minimum }) ?? true else {
                throw ConstraintError("the required text '\(n.text)' has its counts the wrong way round")
            }
            guard n.minimum <= 1000, (n.maximum ?? 0) <= 1000 else {
                throw ConstraintError("the required text '\(n.text)' asks for more than 1000 occurrences")
            }
            guard seen.insert(n.text).inserted else { throw ConstraintError("the required text '\(n.text)' is listed twice") }
        }
        self.needles = needles
        needleBytes = needles.map { Array($0.text.utf8) }
        boundary = needles.map(\.needsBoundary)
        longest = needleBytes.map(\.count).max() ?? 0
        buildMatcher()
        let key = Key(node: 0, counts: [UInt16](repeating: 0, count: needles.count), sinceSpan: Int32(longest + 1))
        start = intern(key)
    }

    private func buildMatcher() {
        for (i, bytes) in needleBytes.enumerated() {
            var node: Int32 = 0
            for b in bytes {
                prefixOf[Int(node)].append(i)
                if let next = children[Int(node)][b] { node = next; continue }
                children.append([:]); fail.append(0); depth.append(depth[Int(node)] + 1)
                matches.append([]); prefixOf.append([])
                let next = Int32(children.count - 1)
                children[Int(node)][b] = next
                node = next
            }
            matches[Int(node)].append(i)
        }
        // Breadth first: a node's failure link is the longest proper suffix that is in the trie.
        var queue: [Int32] = children[0].keys.sorted().compactMap { children[0][$0] }
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            matches[Int(node)] += matches[Int(fail[Int(node)])]
            for (b, child) in children[Int(node)].sorted(by: { $0.key < $1.key }) {
                var f = fail[Int(node)]
                while f != 0 && children[Int(f)][b] == nil { f = fail[Int(f)] }
                let target = children[Int(f)][b] ?? 0
                fail[Int(child)] = target == child ? 0 : target
                queue.append(child)
            }
        }
    }

    /// Whether an occurrence has begun at `node` and must be finished: the node is a proper
    /// prefix, at least `commitAfter` bytes long, of a needle that may still occur, and does not
    /// itself complete a needle.
    private func isCommitted(_ key: Key) -> Bool {
        let node = Int(key.node)
        guard depth[node] <= Int(key.sinceSpan), matches[node].isEmpty || !matches[node].contains(where: { needleBytes[$0].count == depth[node] }) else { return false }
        return prefixOf[node].contains { i in
            guard let commit = needles[i].commitAfter, depth[node] >= commit else { return false }
            return mayOccur(i, key.counts)
        }
    }

    private func mayOccur(_ i: Int, _ counts: [UInt16]) -> Bool {
        needles[i].maximum.map { Int(counts[i]) < $0 } ?? true
    }

    private func intern(_ key: Key) -> State {
        if let s = index[key] { return s }
        guard keys.count < Self.maxStates else { return ByteAutomaton.dead }
        let s = State(keys.count)
        keys.append(key)
        index[key] = s
        table += [State](repeating: -2, count: 256)
        // The end of the text is a boundary: pending occurrences count there.
        let final = confirming(key.pending, key.counts)
        acceptingStates.append(!isCommitted(key) && final.map { c in needles.indices.allSatisfy { Int(c[$0]) >= needles[$0].minimum } } ?? false)
        return s
    }

    func isAccepting(_ state: State) -> Bool { state >= 0 && acceptingStates[Int(state)] }

    func next(_ state: State, _ byte: UInt8) -> State {
        guard state >= 0 else { return ByteAutomaton.dead }
        let slot = Int(state) << 8 | Int(byte)
        if table[slot] != -2 { return table[slot] }
        let result = step(keys[Int(state)], byte)
        table[slot] = result
        return result
    }

    /// Counts with the pending occurrences added; nil when one exceeds its maximum.
    private func confirming(_ pending: [Int], _ counts: [UInt16]) -> [UInt16]? {
        var counts = counts
        for i in pending {
            let n = Int(counts[i]) + 1
            if let maximum = needles[i].maximum, n > maximum { return nil }
            // Beyond the minimum, an unbounded needle's count no longer matters: capped, so the
            // states stay few.
            counts[i] = UInt16(needles[i].maximum == nil ? min(n, max(needles[i].minimum, 1)) : n)
        }
        return counts
    }

    private func step(_ key: Key, _ byte: UInt8) -> State {
        var node = key.node
        var counts = key.counts
        if !key.pending.isEmpty, !RequiredText.isWordByte(byte) {
            guard let confirmed = confirming(key.pending, counts) else { return ByteAutomaton.dead }
            counts = confirmed
        }
        if isCommitted(Key(node: node, counts: counts, sinceSpan: key.sinceSpan)) {
            // A begun occurrence goes on along the trie, towards a needle that may still occur.
            guard let child = children[Int(node)][byte],
                  prefixOf[Int(child)].contains(where: { mayOccur($0, counts) })
                    || matches[Int(child)].contains(where: { needleBytes[$0].count == depth[Int(child)] && mayOccur($0, counts) })
            else { return ByteAutomaton.dead }
            node = child
        } else {
            while node != 0 && children[Int(node)][byte] == nil { node = fail[Int(node)] }
            node = children[Int(node)][byte] ?? 0
        }
        let completed = matches[Int(node)]
        guard let now = confirming(completed.filter { !boundary[$0] }, counts) else { return ByteAutomaton.dead }
        let endsSpan = completed.contains { needles[$0].commitAfter != nil && needleBytes[$0].count == depth[Int(node)] }
        let since = endsSpan ? 0 : min(key.sinceSpan + 1, Int32(longest + 1))
        return intern(Key(node: node, counts: now, pending: completed.filter { boundary[$0] }, sinceSpan: since))
    }

    /// Finishes a begun occurrence (the shortest way), then adds each missing occurrence after
    /// a space; nil if that does not satisfy the constraint (needles overlapping each other).
    func shortestCompletion(from state: State) -> [UInt8]? {
        guard state >= 0 else { return nil }
        if isAccepting(state) { return [] }
        var out: [UInt8] = []
        var s = state
        let key = keys[Int(state)]
        if isCommitted(key) {
            let node = Int(key.node)
            let candidates = prefixOf[node].filter { mayOccur($0, key.counts) }.sorted { needleBytes[$0].count < needleBytes[$1].count }
            guard let i = candidates.first else { return nil }
            out += needleBytes[i][depth[node]...]
            s = next(s, bytes: needleBytes[i][depth[node]...])
        }
        // Longest first: a span that holds another (a code span with a mention in it) counts
        // for both, so the shorter one is added only if still missing after it.
        for i in needles.indices.sorted(by: { needleBytes[$0].count > needleBytes[$1].count }) {
            while s >= 0, let counts = confirming(keys[Int(s)].pending, keys[Int(s)].counts), Int(counts[i]) < needles[i].minimum {
                // A space first: it also ends a pending occurrence.
                let piece = [UInt8(ascii: " ")] + needleBytes[i]
                out += piece
                s = next(s, bytes: piece)
            }
            guard s >= 0 else { return nil }
        }
        return isAccepting(s) ? out : nil
    }
}
