#if canImport(Glibc)
import Glibc
#endif

/// A supervised fastText model (`.bin` or quantized `.ftz`) that predicts labels for a line.
///
/// Follows fastText's own file layout and prediction exactly (see shared notes): whitespace
/// tokens, word rows plus character n-grams hashed with 32-bit FNV-1a over sign-extended bytes,
/// optional word n-grams, pruned buckets, the mean of the input rows as hidden vector, then
/// hierarchical softmax (or softmax / one-vs-all) with top-k and threshold.
public final class FastTextModel: Sendable {
    public struct Arguments: Sendable, Equatable {
        public var dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate: Int32
        public var samplingThreshold: Double
    }

    public enum Loss: Int32, Sendable { case hierarchicalSoftmax = 1, negativeSampling = 2, softmax = 3, oneVersusAll = 4 }

    public struct Prediction: Sendable, Equatable {
        /// Label without the `__label__` prefix ("en").
        public var label: String
        public var probability: Float
    }

    public let path: String
    public let version: Int32
    public let arguments: Arguments
    public let loss: Loss
    /// Labels without prefix, in model order (most frequent first).
    public let labels: [String]
    let labelCounts: [Int64]
    let wordCount: Int
    let vocabulary: Vocabulary
    /// Row ids of each word: itself, then its character n-grams (flattened).
    let subwordOffsets: [Int32]
    let subwordRows: [Int32]
    let pruneIndex: [Int32: Int32]?
    let input: EmbeddingMatrix
    let output: EmbeddingMatrix
    let tree: HuffmanTree?

    static let magic: Int32 = 793_712_314
    static let labelPrefix = Array("__label__".utf8)
    static let endOfSentence = Array("</s>".utf8)

    public convenience init(path: String) throws(LanguageIDError) {
        let file = try MappedFile(path: path)
        try self.init(bytes: file.bytes, path: path)
    }

    public init(bytes: UnsafeRawBufferPointer, path: String) throws(LanguageIDError) {
        self.path = path
        var r = BinaryReader(bytes, path: path)
        let magic = try r.int32("magic number")
        guard magic == Self.magic else { throw .notFastText(path: path, magic: magic) }
        version = try r.int32("version")
        guard version >= 0, version <= 12 else { throw .unsupportedVersion(path: path, version: version) }

        var a = Arguments(dim: 0, ws: 0, epoch: 0, minCount: 0, neg: 0, wordNgrams: 0, loss: 0, model: 0,
                          bucket: 0, minn: 0, maxn: 0, lrUpdateRate: 0, samplingThreshold: 0)
        a.dim = try r.int32("args.dim"); a.ws = try r.int32("args.ws"); a.epoch = try r.int32("args.epoch")
        a.minCount = try r.int32("args.minCount"); a.neg = try r.int32("args.neg")
        a.wordNgrams = try r.int32("args.wordNgrams"); a.loss = try r.int32("args.loss")
        a.model = try r.int32("args.model"); a.bucket = try r.int32("args.bucket")
        a.minn = try r.int32("args.minn"); a.maxn = try r.int32("args.maxn")
        a.lrUpdateRate = try r.int32("args.lrUpdateRate"); a.samplingThreshold = try r.double("args.t")
        guard a.model == 3 else { throw .notSupervised(path: path) }
        if version == 11 { a.maxn = 0 }  // fastText ignores subwords of v11 supervised models
        guard let loss = Loss(rawValue: a.loss) else { throw .invalid(path: path, reason: "unknown loss \(a.loss)") }
        guard a.dim > 0, a.bucket >= 0, a.minn >= 0, a.maxn >= 0 else {
            throw .invalid(path: path, reason: "bad dimensions (dim \(a.dim), bucket \(a.bucket))")
        }
        arguments = a
        self.loss = loss

        // Dictionary: words first, then labels, each most frequent first.
        let size = Int(try r.int32("dictionary size"))
        let nwords = Int(try r.int32("word count"))
        let nlabels = Int(try r.int32("label count"))
        _ = try r.int64("token count")
        let pruneSize = try r.int64("prune index size")
        guard size >= 0, nwords >= 0, nlabels > 0, nwords + nlabels == size else {
            throw .invalid(path: path, reason: "dictionary counts do not add up (\(nwords) words + \(nlabels) labels != \(size))")
        }
        // An entry is at least a NUL, a count and a type: 10 bytes.
        try r.expect(size, of: 10, "the dictionary")
        var words: [[UInt8]] = []
        words.reserveCapacity(nwords)
        var wordBytes = 0
        var labelTotal: Int64 = 0
        var labels: [String] = []
        var counts: [Int64] = []
        for i in 0..<size {
            let entry = try r.cString("dictionary entry \(i)")
            let count = try r.int64("count of dictionary entry \(i)")
            let type = try r.uint8("type of dictionary entry \(i)")
            if i < nwords {
                guard type == 0 else { throw .invalid(path: path, reason: "entry \(i) should be a word") }
                // The vocabulary addresses its bytes with Int32 offsets.
                wordBytes += entry.count
                guard wordBytes <= Int(Int32.max) else { throw .invalid(path: path, reason: "the words take more than \(Int32.max) bytes") }
                words.append(entry)
            } else {
                guard type == 1 else { throw .invalid(path: path, reason: "entry \(i) should be a label") }
                let name = entry.starts(with: Self.labelPrefix) ? Array(entry.dropFirst(Self.labelPrefix.count)) : entry
                // The Huffman tree adds counts (up to their total) and marks unbuilt nodes
                // with 10^15: a count outside 0..<10^15 could overflow or be taken for such a
                // node (a cycle in the tree).
                let (total, overflow) = labelTotal.addingReportingOverflow(count)
                labelTotal = total
                guard count >= 0, count < HuffmanTree.unbuilt, !overflow else {
                    throw .invalid(path: path, reason: "label '\(String(decoding: name.prefix(100), as: UTF8.self))' (entry \(i)) has count \(count); "
                                   + "counts must be between 0 and \(HuffmanTree.unbuilt - 1), and their total fit in 64 bits")
                }
                labels.append(String(decoding: name, as: UTF8.self))
                counts.append(count)
            }
        }
        if pruneSize >= 0 {
            try r.expect(Int(pruneSize), of: 8, "the prune index")
            var index: [Int32: Int32] = [:]
            index.reserveCapacity(Int(pruneSize))
            for _ in 0..<pruneSize {
                let bucket = try r.int32("prune index"), row = try r.int32("prune index")
                index[bucket] = row
            }
            pruneIndex = index
        } else {
            pruneIndex = nil
        }
        wordCount = nwords
        self.labels = labels
        labelCounts = counts
        vocabulary = Vocabulary(words)

        // Matrices.
        let quantizedInput = try r.bool("input matrix flag")
        input = try EmbeddingMatrix.read(&r, quantized: quantizedInput, name: "input matrix")
        if !quantizedInput && pruneSize > 0 {
            throw .invalid(path: path, reason: "pruned dictionary with an unquantized input matrix")
        }
        let quantizedOutput = try r.bool("output matrix flag")
        output = try EmbeddingMatrix.read(&r, quantized: quantizedInput && quantizedOutput, name: "output matrix")
        guard input.columns == Int(a.dim), output.columns == Int(a.dim) else {
            throw .invalid(path: path, reason: "matrix width \(input.columns)/\(output.columns) != dim \(a.dim)")
        }
        guard input.rows >= nwords + (pruneSize >= 0 ? Int(pruneSize) : Int(a.bucket)) else {
            throw .invalid(path: path, reason: "input matrix has \(input.rows) rows, fewer than words + buckets")
        }
        let outputRows = loss == .hierarchicalSoftmax ? nlabels - 1 : nlabels
        guard output.rows >= outputRows else {
            throw .invalid(path: path, reason: "output matrix has \(output.rows) rows for \(nlabels) labels")
        }
        tree = loss == .hierarchicalSoftmax ? HuffmanTree(counts: counts) : nil

        // Rows are Int32 (fastText's own type), word row + bucket included: every row a word,
        // a character n-gram or a word n-gram can reach must be a row of the input matrix.
        guard input.rows <= Int(Int32.max) else {
            throw .invalid(path: path, reason: "input matrix has \(input.rows) rows (at most \(Int32.max))")
        }
        if (a.maxn > 0 || a.wordNgrams > 1) && a.bucket == 0 {
            throw .invalid(path: path, reason: "n-grams are on (maxn \(a.maxn), wordNgrams \(a.wordNgrams)) but there are 0 buckets")
        }
        if let pruneIndex {
            for (bucket, row) in pruneIndex where row < 0 || nwords + Int(row) >= input.rows {
                throw .invalid(path: path, reason: "prune index maps bucket \(bucket) to row \(row), outside the input matrix "
                               + "(\(input.rows) rows, \(nwords) of them words)")
            }
        }

        // Subwords of every known word (fastText's initNgrams); "</s>" has none.
        var offsets: [Int32] = [0]
        var rows: [Int32] = []
        offsets.reserveCapacity(nwords + 1)
        let ngrams = NgramHasher(minn: Int(a.minn), maxn: Int(a.maxn), bucket: UInt32(max(a.bucket, 1)),
                                 wordCount: Int32(nwords), pruneIndex: pruneIndex)
        for (i, word) in words.enumerated() {
            rows.append(Int32(i))
            if word != Self.endOfSentence {
                word.withUnsafeBufferPointer { ngrams.append(word: $0, to: &rows) }
            }
            guard let end = Int32(exactly: rows.count) else { throw .invalid(path: path, reason: "the words have more than \(Int32.max) subwords") }
            offsets.append(end)
        }
        subwordOffsets = offsets
        subwordRows = rows
        for row in rows where Int(row) >= input.rows {
            throw .invalid(path: path, reason: "subword row \(row) outside the input matrix")
        }
    }

    // MARK: - Prediction

    /// Top `k` labels for one line of text, as fastText's `predict` (which appends the
    /// end-of-sentence token). Text with a newline is read up to it.
    public func predict(_ text: String, k: Int = 1, threshold: Float = 0) -> [Prediction] {
        var text = text
        return text.withUTF8 { predict(utf8: $0, k: k, threshold: threshold) }
    }

    public func predict(utf8 line: UnsafeBufferPointer<UInt8>, k: Int = 1, threshold: Float = 0) -> [Prediction] {
        var rows: [Int32] = []
        rows.reserveCapacity(64)
        features(of: line, into: &rows)
        guard !rows.isEmpty, k > 0 else { return [] }
        var hidden = [Float](repeating: 0, count: input.columns)
        hidden.withUnsafeMutableBufferPointer { h in
            for row in rows { input.addRow(Int(row), to: h.baseAddress!) }
            let scale = Float(1.0 / Double(rows.count))
            for j in 0..<h.count { h[j] *= scale }
        }
        let best = hidden.withUnsafeBufferPointer { scores(hidden: $0, k: k, threshold: threshold) }
        return best.map { Prediction(label: labels[$0.label], probability: exp($0.score)) }
    }

    /// Input rows for a line: each token's word row and n-grams, then word n-grams.
    func features(of line: UnsafeBufferPointer<UInt8>, into rows: inout [Int32]) {
        let ngrams = NgramHasher(minn: Int(arguments.minn), maxn: Int(arguments.maxn),
                                 bucket: UInt32(max(arguments.bucket, 1)), wordCount: Int32(wordCount),
                                 pruneIndex: pruneIndex)
        var wordHashes: [Int32] = []
        var i = 0
        let n = line.count
        var done = false
        while !done {
            // fastText's readWord: skip separators; a newline is the token "</s>".
            while i < n, isSeparator(line[i]), line[i] != 0x0A { i += 1 }
            let start = i
            let isEOS: Bool
            if i >= n || line[i] == 0x0A {
                isEOS = true
                done = true
            } else {
                while i < n, !isSeparator(line[i]) { i += 1 }
                isEOS = false
            }
            func take(_ token: UnsafeBufferPointer<UInt8>) {
                let hash = fnv1a(token)
                if let id = vocabulary.find(token, hash: hash) {
                    for k in Int(subwordOffsets[id])..<Int(subwordOffsets[id + 1]) { rows.append(subwordRows[k]) }
                    wordHashes.append(Int32(bitPattern: hash))
                } else if !token.starts(with: Self.labelPrefix) {
                    if !isEOS { ngrams.append(word: token, to: &rows) }
                    wordHashes.append(Int32(bitPattern: hash))
                }
            }
            if isEOS {
                Self.endOfSentence.withUnsafeBufferPointer { take($0) }
            } else {
                take(UnsafeBufferPointer(rebasing: line[start..<i]))
            }
        }
        // Word n-grams: fastText widens each int32 hash to uint64 with sign extension.
        let order = Int(arguments.wordNgrams)
        if order > 1 {
            for i in 0..<wordHashes.count {
                var h = UInt64(bitPattern: Int64(wordHashes[i]))
                var j = i + 1
                while j < wordHashes.count && j < i + order {
                    h = h &* 116_049_371 &+ UInt64(bitPattern: Int64(wordHashes[j]))
                    ngrams.push(Int32(truncatingIfNeeded: h % UInt64(arguments.bucket)), to: &rows)
                    j += 1
                }
            }
        }
    }

    @inline(__always) private func isSeparator(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0B || b == 0x0C || b == 0x00
    }

    /// Log-probabilities of the best labels, highest first.
    private func scores(hidden: UnsafeBufferPointer<Float>, k: Int, threshold: Float) -> [TopK.Entry] {
        let logThreshold = stdLog(threshold)
        var best = TopK(k: k)
        switch loss {
        case .hierarchicalSoftmax:
            let tree = tree!
            let osz = labels.count
            func dfs(_ node: Int, _ score: Float) {
                if score < logThreshold { return }
                if best.isFull && score < best.smallest { return }
                let left = tree.left[node], right = tree.right[node]
                if left == -1 && right == -1 { best.offer(score, node); return }
                let f = sigmoid(output.dot(row: node - osz, hidden))
                dfs(Int(left), score + stdLog(1 - f))
                dfs(Int(right), score + stdLog(f))
            }
            dfs(2 * osz - 2, 0)
        case .softmax:
            var values = (0..<labels.count).map { output.dot(row: $0, hidden) }
            let maximum = values.max() ?? 0
            var z: Float = 0
            for i in values.indices { values[i] = exp(values[i] - maximum); z += values[i] }
            for (i, v) in values.enumerated() where v / z >= threshold {
                let p = v / z
                if best.isFull && stdLog(p) < best.smallest { continue }
                best.offer(stdLog(p), i)
            }
        case .negativeSampling, .oneVersusAll:
            for i in labels.indices {
                let p = Self.tabulatedSigmoid(output.dot(row: i, hidden))
                if p < threshold || (best.isFull && stdLog(p) < best.smallest) { continue }
                best.offer(stdLog(p), i)
            }
        }
        return best.sorted()
    }

    @inline(__always) private func stdLog(_ x: Float) -> Float { log(x + 1e-5) }

    /// fastText's binary-logistic losses read the sigmoid from a 513-entry table over [-8, 8]
    /// (hierarchical softmax computes it exactly); predictions must use the same table.
    private static let sigmoidTable: [Float] = (0...512).map { i in
        let x = Float(i * 2 * 8) / 512 - 8
        return Float(1.0 / (1.0 + exp(-Double(x))))
    }

    static func tabulatedSigmoid(_ x: Float) -> Float {
        if x < -8 { return 0 }
        if x > 8 { return 1 }
        return sigmoidTable[Int((x + 8) * 512 / 8 / 2)]
    }
    @inline(__always) private func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
}

/// fastText keeps the best k in a std::vector managed with libstdc++'s push_heap / pop_heap
/// (a min-heap on score) and returns it through sort_heap. Equal scores are common with the
/// tabulated sigmoid, and their order is whatever those algorithms leave, so this is a
/// faithful re-implementation of them rather than a sort.
struct TopK {
    struct Entry { var score: Float; var label: Int }
    let k: Int
    private var heap: [Entry] = []

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k + 1)
    }

    var isFull: Bool { heap.count == k }
    /// The heap's front: the smallest kept score.
    var smallest: Float { heap[0].score }

    // comparePairs(l, r) = l.score > r.score: "less" puts larger scores deeper.
    @inline(__always) private static func less(_ l: Entry, _ r: Entry) -> Bool { l.score > r.score }

    mutating func offer(_ score: Float, _ label: Int) {
        heap.append(Entry(score: score, label: label))
        Self.pushHeap(&heap, hole: heap.count - 1, top: 0, value: heap[heap.count - 1])
        if heap.count > k {
            Self.popHeap(&heap, count: heap.count)
            heap.removeLast()
        }
    }

    /// sort_heap: repeatedly move the front to the end of the shrinking heap.
    func sorted() -> [Entry] {
        var h = heap
        var n = h.count
        while n > 1 {
            Self.popHeap(&h, count: n)
            n -= 1
        }
        return h
    }

    private static func pushHeap(_ h: inout [Entry], hole: Int, top: Int, value: Entry) {
        var hole = hole
        var parent = (hole - 1) / 2
        while hole > top && less(h[parent], value) {
            h[hole] = h[parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        h[hole] = value
    }

    /// __pop_heap over h[0..<count]: the front goes to count-1, the rest is re-heaped.
    private static func popHeap(_ h: inout [Entry], count: Int) {
        guard count > 1 else { return }
        let last = count - 1
        let value = h[last]
        h[last] = h[0]
        adjustHeap(&h, hole: 0, length: last, value: value)
    }

    private static func adjustHeap(_ h: inout [Entry], hole: Int, length: Int, value: Entry) {
        let top = hole
        var hole = hole
        var child = hole
        while child < (length - 1) / 2 {
            child = 2 * (child + 1)
            if less(h[child], h[child - 1]) { child -= 1 }
            h[hole] = h[child]
            hole = child
        }
        if length & 1 == 0 && child == (length - 2) / 2 {
            child = 2 * (child + 1)
            h[hole] = h[child - 1]
            hole = child - 1
        }
        pushHeap(&h, hole: hole, top: top, value: value)
    }
}

/// 32-bit FNV-1a over bytes, each sign-extended first (fastText hashes `int8_t` chars).
@inline(__always)
func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    for b in bytes {
        h ^= UInt32(bitPattern: Int32(Int8(bitPattern: b)))
        h = h &* 16_777_619
    }
    return h
}

/// Character n-grams of `<word>` mapped to input rows (fastText's computeSubwords + pushHash).
struct NgramHasher {
    let minn: Int, maxn: Int
    let bucket: UInt32
    let wordCount: Int32
    let pruneIndex: [Int32: Int32]?

    /// Row of a bucket, or nothing when pruning dropped the bucket.
    @inline(__always)
    func push(_ id: Int32, to rows: inout [Int32]) {
        if let pruneIndex {
            guard let mapped = pruneIndex[id] else { return }
            rows.append(wordCount + mapped)
        } else {
            rows.append(wordCount + id)
        }
    }

    func append(word: UnsafeBufferPointer<UInt8>, to rows: inout [Int32]) {
        guard maxn > 0 else { return }
        // "<" + word + ">" without building it: position p maps to a byte.
        let length = word.count + 2
        @inline(__always) func byte(_ p: Int) -> UInt8 { p == 0 ? 0x3C : (p == length - 1 ? 0x3E : word[p - 1]) }
        var i = 0
        while i < length {
            if byte(i) & 0xC0 == 0x80 { i += 1; continue }
            var h: UInt32 = 2_166_136_261
            var j = i, n = 1
            while j < length && n <= maxn {
                h ^= UInt32(bitPattern: Int32(Int8(bitPattern: byte(j)))); h = h &* 16_777_619
                j += 1
                while j < length && byte(j) & 0xC0 == 0x80 {
                    h ^= UInt32(bitPattern: Int32(Int8(bitPattern: byte(j)))); h = h &* 16_777_619
                    j += 1
                }
                if n >= minn && !(n == 1 && (i == 0 || j == length)) {
                    push(Int32(h % bucket), to: &rows)
                }
                n += 1
            }
            i += 1
        }
    }
}

/// Exact-match lookup of byte strings (tokens need not be valid UTF-8), keyed by their hash.
struct Vocabulary: Sendable {
    private let arena: [UInt8]
    private let starts: [Int32]      // word i is arena[starts[i]..<starts[i+1]]
    private let slots: [Int32]       // open addressing: word index or -1
    private let mask: Int

    init(_ words: [[UInt8]]) {
        var arena: [UInt8] = []
        var starts: [Int32] = [0]
        for w in words { arena.append(contentsOf: w); starts.append(Int32(arena.count)) }
        var capacity = 16
        while capacity < words.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        for (i, w) in words.enumerated() {
            var s = Int(w.withUnsafeBufferPointer { fnv1a($0) }) & (capacity - 1)
            while slots[s] != -1 { s = (s + 1) & (capacity - 1) }
            slots[s] = Int32(i)
        }
        self.arena = arena
        self.starts = starts
        self.slots = slots
        mask = capacity - 1
    }

    @inline(__always)
    func find(_ token: UnsafeBufferPointer<UInt8>, hash: UInt32) -> Int? {
        var s = Int(hash) & mask
        while true {
            let id = Int(slots[s])
            if id < 0 { return nil }
            let a = Int(starts[id]), b = Int(starts[id + 1])
            if b - a == token.count && arena.withUnsafeBufferPointer({ memcmpEqual($0.baseAddress! + a, token.baseAddress, token.count) }) {
                return id
            }
            s = (s + 1) & mask
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
    guard let b else { return n == 0 }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// fastText's Huffman tree over label counts (labels sorted by decreasing count).
struct HuffmanTree: Sendable {
    let left: [Int32]
    let right: [Int32]
    /// fastText's count of a node not built yet; label counts must stay below it.
    static let unbuilt: Int64 = 1_000_000_000_000_000

    init(counts: [Int64]) {
        let osz = counts.count
        var count = [Int64](repeating: Self.unbuilt, count: 2 * osz - 1)
        var left = [Int32](repeating: -1, count: 2 * osz - 1)
        var right = [Int32](repeating: -1, count: 2 * osz - 1)
        for i in 0..<osz { count[i] = counts[i] }
        var leaf = osz - 1, node = osz
        for i in osz..<(2 * osz - 1) {
            var mini = [0, 0]
            for j in 0..<2 {
                if leaf >= 0 && count[leaf] < count[node] { mini[j] = leaf; leaf -= 1 } else { mini[j] = node; node += 1 }
            }
            left[i] = Int32(mini[0]); right[i] = Int32(mini[1])
            count[i] = count[mini[0]] + count[mini[1]]
        }
        self.left = left
        self.right = right
    }
}

/// Input or output rows: dense floats, or product-quantized codes with optional norms.
enum EmbeddingMatrix: Sendable {
    case dense(rows: Int, columns: Int, data: [Float])
    case quantized(QuantizedMatrix)

    var rows: Int {
        switch self {
        case let .dense(rows, _, _): rows
        case let .quantized(q): q.rows
        }
    }

    var columns: Int {
        switch self {
        case let .dense(_, columns, _): columns
        case let .quantized(q): q.columns
        }
    }

    static func read(_ r: inout BinaryReader, quantized: Bool, name: String) throws(LanguageIDError) -> EmbeddingMatrix {
        if quantized { return .quantized(try QuantizedMatrix(&r, name: name)) }
        let m = try r.int64("\(name) rows"), n = try r.int64("\(name) columns")
        let (elements, overflow) = m.multipliedReportingOverflow(by: n)
        guard m >= 0, n > 0, !overflow, elements < 1 << 34 else { throw .invalid(path: r.path, reason: "\(name) has shape \(m) x \(n)") }
        return .dense(rows: Int(m), columns: Int(n), data: try r.floats(Int(elements), "\(name) data"))
    }

    @inline(__always)
    func addRow(_ i: Int, to x: UnsafeMutablePointer<Float>) {
        switch self {
        case let .dense(_, columns, data):
            data.withUnsafeBufferPointer { d in
                let row = d.baseAddress! + i * columns
                for j in 0..<columns { x[j] += row[j] }
            }
        case let .quantized(q):
            q.addRow(i, to: x)
        }
    }

    /// Row `i` dotted with `x`, accumulated in order in Float like fastText.
    @inline(__always)
    func dot(row i: Int, _ x: UnsafeBufferPointer<Float>) -> Float {
        switch self {
        case let .dense(_, columns, data):
            return data.withUnsafeBufferPointer { d in
                let row = d.baseAddress! + i * columns
                var s: Float = 0
                for j in 0..<columns { s += row[j] * x[j] }
                return s
            }
        case let .quantized(q):
            var row = [Float](repeating: 0, count: q.columns)
            row.withUnsafeMutableBufferPointer { q.addRow(i, to: $0.baseAddress!) }
            var s: Float = 0
            for j in 0..<q.columns { s += row[j] * x[j] }
            return s
        }
    }
}

/// fastText's QuantMatrix: each row is `nsubq` codes into 256-entry codebooks of sub-vectors,
/// times a separately quantized norm.
struct QuantizedMatrix: Sendable {
    struct ProductQuantizer: Sendable {
        let dim, nsubq, dsub, lastdsub: Int
        let centroids: [Float]

        init(_ r: inout BinaryReader, name: String) throws(LanguageIDError) {
            dim = Int(try r.int32("\(name) quantizer dim")); nsubq = Int(try r.int32("\(name) quantizer nsubq"))
            dsub = Int(try r.int32("\(name) quantizer dsub")); lastdsub = Int(try r.int32("\(name) quantizer lastdsub"))
            guard dim > 0, nsubq > 0, dsub > 0, lastdsub > 0, (nsubq - 1) * dsub + lastdsub == dim else {
                throw .invalid(path: r.path, reason: "\(name) quantizer shape \(dim)/\(nsubq)/\(dsub)/\(lastdsub)")
            }
            centroids = try r.floats(dim * 256, "\(name) centroids")
        }

        /// Offset of centroid `code` of sub-quantizer `m`.
        @inline(__always) func centroid(_ m: Int, _ code: Int) -> Int {
            m == nsubq - 1 ? m * 256 * dsub + code * lastdsub : (m * 256 + code) * dsub
        }
    }

    let rows, columns: Int
    let codes: [UInt8]
    let pq: ProductQuantizer
    let normCodes: [UInt8]?
    let normPQ: ProductQuantizer?

    init(_ r: inout BinaryReader, name: String) throws(LanguageIDError) {
        let qnorm = try r.bool("\(name) norm flag")
        let m = try r.int64("\(name) rows"), n = try r.int64("\(name) columns")
        let codesize = Int(try r.int32("\(name) code size"))
        guard codesize >= 0 else { throw .invalid(path: r.path, reason: "\(name) has a code size of \(codesize)") }
        codes = try r.uint8s(codesize, "\(name) codes")
        pq = try ProductQuantizer(&r, name: name)
        let (expectedCodes, overflow) = m.multipliedReportingOverflow(by: Int64(pq.nsubq))
        guard m >= 0, n == Int64(pq.dim), !overflow, Int64(codesize) == expectedCodes else {
            throw .invalid(path: r.path, reason: "\(name): \(m) x \(n) with \(codesize) codes does not match its quantizer")
        }
        rows = Int(m); columns = Int(n)
        if qnorm {
            normCodes = try r.uint8s(Int(m), "\(name) norm codes")
            normPQ = try ProductQuantizer(&r, name: "\(name) norm")
        } else {
            normCodes = nil; normPQ = nil
        }
    }

    @inline(__always)
    func addRow(_ i: Int, to x: UnsafeMutablePointer<Float>) {
        var norm: Float = 1
        if let normCodes, let normPQ { norm = normPQ.centroids[normPQ.centroid(0, Int(normCodes[i]))] }
        codes.withUnsafeBufferPointer { c in
            pq.centroids.withUnsafeBufferPointer { cent in
                let code = c.baseAddress! + pq.nsubq * i
                for m in 0..<pq.nsubq {
                    let base = cent.baseAddress! + pq.centroid(m, Int(code[m]))
                    let d = m == pq.nsubq - 1 ? pq.lastdsub : pq.dsub
                    let out = x + m * pq.dsub
                    for j in 0..<d { out[j] += norm * base[j] }
                }
            }
        }
    }
}
