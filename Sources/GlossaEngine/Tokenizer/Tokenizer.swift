import Foundation
import GlossaText

/// Qwen's byte-level BPE tokenizer, with the same ids as Hugging Face `tokenizers`.
///
/// encode: added tokens are split out first (leftmost-longest), the rest is optionally
/// NFC-normalized, cut into pieces by the Qwen2 pre-tokenizer (a hand-written scanner for its
/// regex), mapped to bytes and merged by rank.
public final class Tokenizer: @unchecked Sendable {
    public enum Normalization: Sendable { case none, nfc }

    public struct AddedToken: Sendable, Equatable {
        public var id: Int
        public var content: String
        /// Special tokens (control tokens) are dropped by `decode(skipSpecialTokens:)`.
        public var special: Bool
    }

    public let normalization: Normalization
    public let addedTokens: [AddedToken]
    public var vocabularySize: Int { tokenBytes.count }

    /// Raw bytes of each token (added tokens: their UTF-8 content).
    private let tokenBytes: [[UInt8]]
    private let byteToken: [Int32]                  // 256 entries: single-byte token ids
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    private let addedByID: [Int: AddedToken]
    private let addedByFirstByte: [UInt8: [(bytes: [UInt8], id: Int)]]
    private static let nfc = Normalizer(.formOnly(.nfc))

    /// - Parameters:
    ///   - tokens: token strings in GPT-2 byte-level form ("Ġhello"), by id.
    ///   - merges: "left right" pairs in rank order.
    ///   - added: tokens matched verbatim before pre-tokenization.
    ///   - source: names the file the tokens came from in errors.
    public init(tokens: [String], merges mergeList: [String], added: [AddedToken], normalization: Normalization,
                source: String = "tokenizer") throws(EngineError) {
        self.normalization = normalization
        // Ids and merge ranks are kept as Int32.
        guard tokens.count <= Int(Int32.max), mergeList.count <= Int(Int32.max) else {
            throw .invalidFile(path: source, reason: "\(tokens.count) tokens and \(mergeList.count) merges (at most \(Int32.max) each)")
        }
        let decoder = ByteLevel.unicodeToByte
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            ids[t] = Int32(i)
            bytes.append(t.unicodeScalars.map { decoder[$0.value] ?? 0x3F })
        }
        for a in added where a.id < bytes.count { bytes[a.id] = Array(a.content.utf8) }
        var byteToken = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            guard let id = ids[String(Character(Unicode.Scalar(ByteLevel.byteToUnicode[b])!))] else {
                throw .invalidFile(path: source, reason: "byte \(b) has no token")
            }
            byteToken[b] = id
        }
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(mergeList.count)
        // A merge that does not name two tokens and their concatenation is an error, as in
        // Hugging Face tokenizers: skipping it would silently tokenize differently.
        for (rank, merge) in mergeList.enumerated() {
            guard let space = merge.firstIndex(of: " ") else {
                throw .invalidFile(path: source, reason: "merge \(rank) (\(quoted(merge))) is not two tokens separated by a space")
            }
            let left = String(merge[..<space]), right = String(merge[merge.index(after: space)...])
            guard let l = ids[left], let r = ids[right], let m = ids[left + right] else {
                throw .invalidFile(path: source, reason: "merge \(rank) (\(quoted(merge))) names a token that is not in the vocabulary")
            }
            table[UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))] = (Int32(rank), m)
        }
        tokenBytes = bytes
        self.byteToken = byteToken
        merges = table
        addedTokens = added
        addedByID = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { _, b in b })
        var byFirst: [UInt8: [(bytes: [UInt8], id: Int)]] = [:]
        for a in added {
            let b = Array(a.content.utf8)
            guard let first = b.first else { continue }
            byFirst[first, default: []].append((b, a.id))
        }
        for k in byFirst.keys { byFirst[k]!.sort { $0.bytes.count > $1.bytes.count } }
        addedByFirstByte = byFirst
    }

    /// The tokenizer stored in a GGUF file (`tokenizer.ggml.*`); control and user-defined
    /// tokens become added tokens. `overrides` replaces tokens by id (Qwen3's added tokens on
    /// the Qwen2.5 vocabulary).
    public convenience init(gguf: GGUFFile, normalization: Normalization = .none,
                            overrides: [Int: AddedToken] = [:]) throws(EngineError) {
        var tokens = try gguf.stringArray("tokenizer.ggml.tokens").map { String(decoding: $0, as: UTF8.self) }
        let merges = try gguf.stringArray("tokenizer.ggml.merges").map { String(decoding: $0, as: UTF8.self) }
        guard case let .array(types)? = gguf.metadata["tokenizer.ggml.token_type"], types.count == tokens.count else {
            throw .invalidFile(path: gguf.path, reason: "tokenizer.ggml.token_type missing or the wrong length")
        }
        var added: [AddedToken] = []
        for (i, type) in types.enumerated() {
            guard let kind = type.int else {
                throw .invalidFile(path: gguf.path, reason: "metadata 'tokenizer.ggml.token_type': element \(i) is \(type.summary), not an integer")
            }
            if let o = overrides[i] { added.append(o); tokens[i] = o.content; continue }
            switch kind {
            case 3: added.append(AddedToken(id: i, content: tokens[i], special: true))
            case 4: added.append(AddedToken(id: i, content: tokens[i], special: false))
            default: break
            }
        }
        try self.init(tokens: tokens, merges: merges, added: added, normalization: normalization, source: gguf.path)
    }

    /// Qwen3's added tokens, which sit on ids that are padding placeholders in Qwen2.5's vocabulary.
    public static let qwen3AddedTokens: [Int: AddedToken] = [
        151665: AddedToken(id: 151665, content: "<tool_response>", special: false),
        151666: AddedToken(id: 151666, content: "</tool_response>", special: false),
        151667: AddedToken(id: 151667, content: "<think>", special: false),
        151668: AddedToken(id: 151668, content: "</think>", special: false),
    ]

    /// A Hugging Face `tokenizer.json` (BPE model, NFC normalizer or none, added tokens).
    public convenience init(tokenizerJSON path: String) throws(EngineError) {
        guard let data = FileManager.default.contents(atPath: path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int]
        else { throw .invalidFile(path: path, reason: "not a BPE tokenizer.json") }
        let mergeList: [String]
        if let m = model["merges"] as? [String] { mergeList = m }
        else if let m = model["merges"] as? [[String]] { mergeList = m.map { $0.joined(separator: " ") } }
        else { throw .invalidFile(path: path, reason: "no merges") }
        var added: [AddedToken] = []
        for entry in (root["added_tokens"] as? [[String: Any]]) ?? [] {
            guard let id = entry["id"] as? Int, let content = entry["content"] as? String else { continue }
            added.append(AddedToken(id: id, content: content, special: (entry["special"] as? Bool) ?? false))
        }
        let tokens = try Self.tokensByID(vocab, added: added, path: path)
        let normalizer = (root["normalizer"] as? [String: Any])?["type"] as? String
        try self.init(tokens: tokens, merges: mergeList, added: added, normalization: normalizer == "NFC" ? .nfc : .none, source: path)
    }

    /// The token table of a JSON vocabulary plus added tokens (which replace the vocabulary's
    /// entry on their id). Ids number the tokens from 0, with as many gaps at most as there are
    /// tokens: a crafted id can neither index outside the table nor make it huge.
    static func tokensByID(_ vocab: [String: Int], added: [AddedToken], path: String) throws(EngineError) -> [String] {
        let limit = 2 * (vocab.count + added.count)
        let ids = Array(vocab.values) + added.map(\.id)
        if let bad = ids.first(where: { $0 < 0 || $0 >= limit }) {
            throw .invalidFile(path: path, reason: "token id \(bad) is out of range for \(vocab.count) tokens and \(added.count) added tokens")
        }
        var tokens = [String](repeating: "", count: (ids.max() ?? -1) + 1)
        for (t, i) in vocab { tokens[i] = t }
        for a in added { tokens[a.id] = a.content }
        return tokens
    }

    /// `vocab.json` + `merges.txt` (+ `added_tokens_decoder` from tokenizer_config.json).
    public convenience init(vocabJSON: String, mergesTXT: String, addedTokensDecoder: [String: [String: Any]]) throws(EngineError) {
        guard let data = FileManager.default.contents(atPath: vocabJSON),
              let vocab = try? JSONSerialization.jsonObject(with: data) as? [String: Int]
        else { throw .invalidFile(path: vocabJSON, reason: "not a JSON object of token ids") }
        guard let mergesData = FileManager.default.contents(atPath: mergesTXT) else {
            throw .cannotOpen(path: mergesTXT, reason: "unreadable")
        }
        // Lines end in "\n" or "\r\n".
        let merges = String(decoding: mergesData, as: UTF8.self).split(separator: "\n")
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
            .filter { !$0.hasPrefix("#version") && !$0.isEmpty }.map(String.init)
        var added: [AddedToken] = []
        for (key, entry) in addedTokensDecoder {
            guard let id = Int(key), let content = entry["content"] as? String else { continue }
            added.append(AddedToken(id: id, content: content, special: (entry["special"] as? Bool) ?? false))
        }
        let tokens = try Self.tokensByID(vocab, added: added, path: vocabJSON)
        try self.init(tokens: tokens, merges: merges, added: added.sorted { $0.id < $1.id }, normalization: .nfc, source: mergesTXT)
    }

    // MARK: - Encoding

    /// Token ids of `text`. With `parseSpecialTokens` false, added-token text (e.g. a user
    /// typing "<|im_end|>") is tokenized as ordinary text.
    public func encode(_ text: String, parseSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        let bytes = Array(text.utf8)
        var segmentStart = 0
        var i = 0
        while i < bytes.count {
            if parseSpecialTokens, let candidates = addedByFirstByte[bytes[i]],
               let match = candidates.first(where: { i + $0.bytes.count <= bytes.count && bytes[i..<(i + $0.bytes.count)].elementsEqual($0.bytes) }) {
                encodeSegment(bytes[segmentStart..<i], into: &ids)
                ids.append(match.id)
                i += match.bytes.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        encodeSegment(bytes[segmentStart...], into: &ids)
        return ids
    }

    private func encodeSegment(_ segment: ArraySlice<UInt8>, into ids: inout [Int]) {
        guard !segment.isEmpty else { return }
        var text = String(decoding: segment, as: UTF8.self)
        if normalization == .nfc { text = Self.nfc.normalize(text).text }
        let scalars = Array(text.unicodeScalars)
        var offsets = [Int](repeating: 0, count: scalars.count + 1)
        for (k, s) in scalars.enumerated() { offsets[k + 1] = offsets[k] + UTF8.width(s) }
        let utf8 = Array(text.utf8)
        for piece in PreTokenizer.pieces(scalars) {
            bpe(utf8[offsets[piece.lowerBound]..<offsets[piece.upperBound]], into: &ids)
        }
    }

    /// Merges the byte tokens of one piece, lowest rank first (leftmost among equals).
    private func bpe(_ piece: ArraySlice<UInt8>, into ids: inout [Int]) {
        var symbols = piece.map { byteToken[Int($0)] }
        while symbols.count > 1 {
            var best: (rank: Int32, index: Int, id: Int32)? = nil
            for k in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(symbols[k])) << 32 | UInt64(UInt32(symbols[k + 1]))
                if let m = merges[key], best == nil || m.rank < best!.rank { best = (m.rank, k, m.id) }
            }
            guard let merge = best else { break }
            symbols[merge.index] = merge.id
            symbols.remove(at: merge.index + 1)
        }
        ids.append(contentsOf: symbols.lazy.map(Int.init))
    }

    // MARK: - Decoding

    public func bytes(of id: Int) -> [UInt8] { id >= 0 && id < tokenBytes.count ? tokenBytes[id] : [] }

    public func isSpecial(_ id: Int) -> Bool { addedByID[id]?.special ?? false }

    public func id(of added: String) -> Int? { addedTokens.first { $0.content == added }?.id }

    /// Text of `ids`; invalid UTF-8 (a split multi-byte character) becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var out: [UInt8] = []
        for id in ids where !(skipSpecialTokens && isSpecial(id)) { out += bytes(of: id) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Incremental decoding that never emits half a UTF-8 character: bytes of an incomplete
    /// sequence wait for the next token.
    public struct StreamingDecoder {
        let tokenizer: Tokenizer
        var pending: [UInt8] = []


        public init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }

        /// Text that became complete with `id`.
        public mutating func append(_ id: Int) -> String {
            pending += tokenizer.bytes(of: id)
            let keep = incompleteSuffix(pending)
            let ready = pending[..<(pending.count - keep)]
            defer { pending.removeFirst(pending.count - keep) }
            return String(decoding: ready, as: UTF8.self)
        }

        /// Whatever is left (an incomplete sequence becomes U+FFFD).
        public mutating func finish() -> String {
            defer { pending.removeAll() }
            return String(decoding: pending, as: UTF8.self)
        }

        /// Length of a trailing, possibly-valid but unfinished UTF-8 sequence.
        private func incompleteSuffix(_ b: [UInt8]) -> Int {
            var k = 0
            while k < min(3, b.count) {
                let c = b[b.count - 1 - k]
                if c & 0xC0 != 0x80 {
                    let need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
                    return need > k + 1 ? k + 1 : 0
                }
                k += 1
            }
            return 0
        }
    }
}

/// GPT-2's reversible map between bytes and printable code points.
enum ByteLevel {
    static let byteToUnicode: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                map[b] = UInt32(b)
            } else {
                map[b] = next
                next += 1
            }
        }
        return map
    }()

    static let unicodeToByte: [UInt32: UInt8] = Dictionary(uniqueKeysWithValues: byteToUnicode.enumerated().map { ($1, UInt8($0)) })
}

/// The Qwen2 pre-tokenizer regex as a scanner:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// Alternatives are tried in order at each position, as the regex engine does.
enum PreTokenizer {
    static func pieces(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        let n = s.count
        var out: [Range<Int>] = []
        var i = 0
        @inline(__always) func L(_ k: Int) -> Bool { CharacterProperties.isLetter(s[k].value) }
        @inline(__always) func N(_ k: Int) -> Bool { CharacterProperties.isNumber(s[k].value) }
        @inline(__always) func S(_ k: Int) -> Bool { CharacterProperties.isWhiteSpace(s[k].value) }
        @inline(__always) func newline(_ k: Int) -> Bool { s[k] == "\r" || s[k] == "\n" }
        @inline(__always) func lower(_ k: Int) -> UInt32 {
            let v = s[k].value
            return (0x41...0x5A).contains(v) ? v + 32 : v
        }
        while i < n {
            // 's 't 're 've 'm 'll 'd, ASCII case-insensitive.
            if s[i] == "'" && i + 1 < n {
                let a = lower(i + 1)
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { out.append(i..<(i + 2)); i += 2; continue }
                if i + 2 < n {
                    let b = lower(i + 2)
                    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
                        out.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if L(i) || (!newline(i) && !N(i) && i + 1 < n && L(i + 1)) {
                var j = i + 1
                while j < n && L(j) { j += 1 }
                out.append(i..<j); i = j; continue
            }
            // \p{N}
            if N(i) { out.append(i..<(i + 1)); i += 1; continue }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let start = s[i] == " " ? i + 1 : i
            if start < n && !S(start) && !L(start) && !N(start) {
                var j = start + 1
                while j < n && !S(j) && !L(j) && !N(j) { j += 1 }
                while j < n && newline(j) { j += 1 }
                out.append(i..<j); i = j; continue
            }
            // Whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
            var end = i
            while end < n && S(end) { end += 1 }
            if let last = (i..<end).last(where: newline) {
                out.append(i..<(last + 1)); i = last + 1; continue
            }
            if end == n || end - i == 1 {
                out.append(i..<end); i = end; continue
            }
            out.append(i..<(end - 1)); i = end - 1
        }
        return out
    }
}
