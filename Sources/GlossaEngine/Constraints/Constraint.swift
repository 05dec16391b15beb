import Foundation
import GlossaIO

/// A position in a constraint's automaton (negative: dead).
public typealias ConstraintState = Int32

/// A rule on what a generation may say, applied token by token: at each step only tokens whose
/// bytes keep the constraint's automaton alive may be chosen, and the sequence may end only
/// where the constraint is satisfied. Compiled once, shared by any number of requests (its
/// automaton and token masks are cached inside and filled lazily).
public final class Constraint: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        /// Exactly one of these strings.
        case choice([String])
        /// A regular expression (see `RegexParser` for the subset) matching the whole output.
        case regex(String)
        /// A JSON value valid under the schema (see `JSONSchemaGrammar` for the keywords).
        case jsonSchema(JSONValue)
        /// A GBNF grammar as llama.cpp writes it, starting at `root`.
        case grammar(String)
        /// Any JSON value (OpenAI's `json_object` mode asks for an object: `jsonObject`).
        case json
        /// Any JSON object.
        case jsonObject
        /// Free text holding each of these strings verbatim, as often as each asks (protected
        /// spans of a translation, glossary terms).
        case requiredText([RequiredText])
    }

    public let kind: Kind
    let automaton: any ConstraintAutomaton
    private let lock = NSLock()
    private var masks: [ConstraintState: TokenMask] = [:]
    private static let maskCacheLimit = 2048

    public init(_ kind: Kind) throws(ConstraintError) {
        self.kind = kind
        let grammar: Grammar
        switch kind {
        case let .requiredText(needles):
            automaton = try RequiredTextAutomaton(needles)
            return
        case let .choice(options):
            guard !options.isEmpty else { throw ConstraintError("a choice needs at least one option") }
            grammar = Grammar(.choice(options.map { .literal($0) }))
        case let .regex(pattern): grammar = Grammar(try RegexParser.parse(pattern))
        case let .jsonSchema(schema): grammar = try JSONSchemaGrammar.compile(schema)
        case let .grammar(text): grammar = try GBNFParser.parse(text)
        case .json: grammar = JSONSchemaGrammar.anyJSON(objectOnly: false)
        case .jsonObject: grammar = JSONSchemaGrammar.anyJSON(objectOnly: true)
        }
        automaton = try ByteAutomaton(grammar)
    }

    /// Where every output starts.
    public var start: ConstraintState { automaton.start }

    /// Whether the model may end the answer before the constraint is satisfied, the rest then
    /// appended (`shortestCompletion`). True for required text: a translation the model has
    /// finished gets its missing spans after it, where otherwise the model, unable to stop,
    /// would go on writing until it happened to produce them. False for the grammars: a JSON
    /// value cut short would be valid but empty of what the model meant to write.
    public var completesWhenTheModelStops: Bool {
        if case .requiredText = kind { return true }
        return false
    }

    public func advance(_ state: ConstraintState, bytes: [UInt8]) -> ConstraintState {
        lock.withLock { automaton.next(state, bytes: bytes) }
    }

    public func isAccepting(_ state: ConstraintState) -> Bool { lock.withLock { automaton.isAccepting(state) } }

    /// Whether this exact text satisfies the constraint.
    public func matches(_ text: String) -> Bool {
        lock.withLock { automaton.isAccepting(automaton.next(automaton.start, bytes: Array(text.utf8))) }
    }

    /// The fewest bytes that complete the output from `state` (used when the token budget runs
    /// out: the answer still satisfies the constraint).
    public func shortestCompletion(from state: ConstraintState) -> [UInt8]? {
        lock.withLock { automaton.shortestCompletion(from: state) }
    }

    /// Tokens whose bytes keep `state` alive (special tokens never; ending is the caller's,
    /// through `isAccepting`). Cached per state.
    /// Token masks computed so far (each a walk of the vocabulary trie) and the seconds they
    /// took, for benchmarks.
    public var maskWalks: (count: Int, seconds: Double) { lock.withLock { (walks, walkSeconds) } }
    private var walks = 0, walkSeconds = 0.0

    public func allowedTokens(_ state: ConstraintState, vocabulary: VocabularyTrie) -> TokenMask {
        lock.withLock {
            if let cached = masks[state] { return cached }
            let started = DispatchTime.now().uptimeNanoseconds
            let mask = vocabulary.walk(from: state, automaton)
            walks += 1
            walkSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if masks.count >= Self.maskCacheLimit { masks.removeAll(keepingCapacity: true) }
            masks[state] = mask
            return mask
        }
    }
}

/// A deterministic byte automaton a constraint runs on: states are small integers, negative
/// means dead.
protocol ConstraintAutomaton: AnyObject {
    var start: ConstraintState { get }
    func next(_ state: ConstraintState, _ byte: UInt8) -> ConstraintState
    func isAccepting(_ state: ConstraintState) -> Bool
    /// The fewest bytes (or a short way) from `state` to acceptance, nil when there is none.
    func shortestCompletion(from state: ConstraintState) -> [UInt8]?
}

extension ConstraintAutomaton {
    func next<S: Sequence>(_ state: ConstraintState, bytes: S) -> ConstraintState where S.Element == UInt8 {
        var s = state
        for b in bytes where s >= 0 { s = next(s, b) }
        return s
    }
}

/// A set of token ids as a bitset.
public struct TokenMask: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }

    public func contains(_ id: Int) -> Bool {
        id >= 0 && id >> 6 < words.count && words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    mutating func insert(_ id: Int) { words[id >> 6] |= 1 << UInt64(id & 63) }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with each member, in increasing order (word by word, set bits only).
    public func forEach(_ body: (Int) -> Void) {
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                body(w << 6 | bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
    }
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
}

/// The vocabulary's ordinary tokens (added and special tokens left out) as a byte trie laid out
/// in depth-first order: a subtree is a contiguous run of nodes, so a walk that finds a prefix
/// dead skips the whole run. One per tokenizer, built on first use.
public final class VocabularyTrie: @unchecked Sendable {
    let size: Int
    private var bytes: [UInt8] = []
    private var depths: [Int32] = []
    private var subtreeEnds: [Int32] = []
    private var tokens: [Int32] = []           // the token ending at a node, or -1
    private let excluded: Set<Int>
    private var byteTokens = [Int?](repeating: nil, count: 256)
    private var duplicates: [Int32: [Int32]] = [:]
    private(set) var maxDepth = 0

    private static let lock = NSLock()
    /// Tries by tokenizer; each entry holds its tokenizer so that its identifier is never reused.
    nonisolated(unsafe) private static var built: [ObjectIdentifier: (tokenizer: Tokenizer, trie: VocabularyTrie)] = [:]

    /// The trie of `tokenizer`, built once per tokenizer object.
    public static func of(_ tokenizer: Tokenizer) -> VocabularyTrie {
        lock.withLock {
            if let entry = built[ObjectIdentifier(tokenizer)] { return entry.trie }
            let t = VocabularyTrie(tokenizer)
            built[ObjectIdentifier(tokenizer)] = (tokenizer, t)
            return t
        }
    }

    init(_ tokenizer: Tokenizer) {
        size = tokenizer.vocabularySize
        // Added tokens (special or not) and tokens without bytes never appear in a constraint.
        var excluded = Set(tokenizer.addedTokens.map(\.id))
        var entries: [(bytes: [UInt8], id: Int)] = []
        for id in 0..<size where !excluded.contains(id) {
            let b = tokenizer.bytes(of: id)
            if b.isEmpty { excluded.insert(id); continue }
            entries.append((b, id))
            if b.count == 1, byteTokens[Int(b[0])] == nil { byteTokens[Int(b[0])] = id }
        }
        self.excluded = excluded
        entries.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        var path: [(byte: UInt8, node: Int)] = []
        for entry in entries {
            var common = 0
            while common < path.count && common < entry.bytes.count && path[common].byte == entry.bytes[common] { common += 1 }
            while path.count > common { subtreeEnds[path.removeLast().node] = Int32(bytes.count) }
            for b in entry.bytes[common...] {
                bytes.append(b)
                depths.append(Int32(path.count + 1))
                subtreeEnds.append(0)
                tokens.append(-1)
                path.append((b, bytes.count - 1))
            }
            maxDepth = max(maxDepth, entry.bytes.count)
            let node = path[path.count - 1].node
            if tokens[node] < 0 { tokens[node] = Int32(entry.id) } else { duplicates[Int32(node), default: []].append(Int32(entry.id)) }
        }
        while let last = path.popLast() { subtreeEnds[last.node] = Int32(bytes.count) }
    }

    /// Whether a token may appear inside a constraint (added and special tokens never do).
    public func isOrdinary(_ id: Int) -> Bool { id >= 0 && id < size && !excluded.contains(id) }

    /// The token of a single byte (byte-level vocabularies have one for each).
    public func byteToken(_ byte: UInt8) -> Int? { byteTokens[Int(byte)] }

    /// Every token whose bytes keep the automaton alive from `state`.
    func walk<A: ConstraintAutomaton>(from state: ConstraintState, _ automaton: A) -> TokenMask {
        var mask = TokenMask(count: size)
        var states = [ConstraintState](repeating: ByteAutomaton.dead, count: maxDepth + 1)
        states[0] = state
        var i = 0
        let n = bytes.count
        while i < n {
            let depth = Int(depths[i])
            let s = automaton.next(states[depth - 1], bytes[i])
            if s == ByteAutomaton.dead {
                i = Int(subtreeEnds[i])
                continue
            }
            states[depth] = s
            let t = tokens[i]
            if t >= 0 {
                mask.insert(Int(t))
                for d in duplicates[Int32(i)] ?? [] { mask.insert(Int(d)) }
            }
            i += 1
        }
        return mask
    }
}
