import CGlossaKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One Qwen-family decoder: embedding, layers of attention (GQA, optional qkv bias and
/// qk-norm, RoPE) and a dense or mixture-of-experts SwiGLU MLP, final norm, output head.
public final class Transformer: @unchecked Sendable {
    struct Attention {
        let q: Linear, k: Linear, v: Linear, o: Linear
        let qNorm: RMSNorm?, kNorm: RMSNorm?
    }

    enum MLP {
        case dense(FeedForward)
        case experts(MixtureOfExperts)

        func callAsFunction(_ x: [Float], rows: Int, width: Int) -> [Float] {
            switch self {
            case let .dense(ff): ff(x, rows: rows)
            case let .experts(moe): moe(x, rows: rows, width: width)
            }
        }
    }

    struct Layer {
        let inputNorm: RMSNorm
        let attention: Attention
        let postAttentionNorm: RMSNorm
        let mlp: MLP
    }

    public let config: ModelConfig
    /// How the model runs (cache type, threads), as it was loaded.
    public let options: EngineOptions
    /// The threads every product, norm and attention of this model is split between.
    let pool: WorkerPool
    let embedding: WeightMatrix
    let layers: [Layer]
    let norm: RMSNorm
    let head: Linear
    let inverseFrequencies: [Float]

    public convenience init(directory: String, options: EngineOptions = EngineOptions()) throws(EngineError) {
        try self.init(weights: CheckpointDirectory(path: directory), options: options)
    }

    /// A GGUF model, weights kept in their block formats.
    public convenience init(gguf: GGUFFile, options: EngineOptions = EngineOptions()) throws(EngineError) {
        try self.init(weights: GGUFWeights(file: gguf), options: options)
    }

    /// Element type of the caches made for this model (`makeCache(capacity:)`): the options'
    /// choice, else the format's default.
    public var kvCache: KVCache.Precision { options.kvCache ?? .default(for: config) }

    /// An empty key/value cache for `capacity` positions of this model, of its `kvCache` type.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(config: config, capacity: capacity, precision: kvCache)
    }

    /// Threads this model computes on (`EngineOptions.threads`, else the process's).
    public var threads: Int { pool.threads }

    /// Loads every weight. Nothing process-wide changes here: the settings the engine is tuned
    /// for are the caller's (`Engine.configureProcess()` and `Engine.setThreads`, which `glossa`
    /// makes at start); a model without its own thread count uses (and, the first time, makes)
    /// the process's worker pool.
    public init(weights c: some WeightSource, options: EngineOptions = EngineOptions()) throws(EngineError) {
        let cfg = c.config
        config = cfg
        self.options = options
        let pool = options.threads.map { WorkerPool.pool(threads: $0) } ?? Engine.pool
        self.pool = pool
        let h = cfg.hiddenSize, d = cfg.headDimension
        let qWidth = cfg.headCount * d, kvWidth = cfg.keyValueHeadCount * d
        func linear(_ name: String, _ out: Int, _ inp: Int, bias: Bool = false) throws(EngineError) -> Linear {
            Linear(weight: try c.matrix(name + ".weight", rows: out, columns: inp),
                   bias: bias ? try c.vector(name + ".bias", count: out) : nil, pool: pool)
        }
        func rmsNorm(_ name: String, _ width: Int) throws(EngineError) -> RMSNorm {
            RMSNorm(weight: try c.vector(name + ".weight", count: width), epsilon: cfg.rmsNormEpsilon, pool: pool)
        }
        embedding = try c.matrix("model.embed_tokens.weight", rows: cfg.vocabularySize, columns: h)
        var layers: [Layer] = []
        for i in 0..<cfg.layerCount {
            let p = "model.layers.\(i)."
            let attention = Attention(
                q: try linear(p + "self_attn.q_proj", qWidth, h, bias: cfg.qkvBias),
                k: try linear(p + "self_attn.k_proj", kvWidth, h, bias: cfg.qkvBias),
                v: try linear(p + "self_attn.v_proj", kvWidth, h, bias: cfg.qkvBias),
                o: try linear(p + "self_attn.o_proj", h, qWidth),
                qNorm: cfg.qkNorm ? try rmsNorm(p + "self_attn.q_norm", d) : nil,
                kNorm: cfg.qkNorm ? try rmsNorm(p + "self_attn.k_norm", d) : nil)
            let mlp: MLP
            if cfg.isMoE(layer: i) {
                var experts: [FeedForward] = []
                for e in 0..<cfg.expertCount {
                    let q = p + "mlp.experts.\(e)."
                    experts.append(FeedForward(gate: try linear(q + "gate_proj", cfg.expertIntermediateSize, h),
                                               up: try linear(q + "up_proj", cfg.expertIntermediateSize, h),
                                               down: try linear(q + "down_proj", h, cfg.expertIntermediateSize)))
                }
                mlp = .experts(MixtureOfExperts(router: try linear(p + "mlp.gate", cfg.expertCount, h), experts: experts,
                                                topK: cfg.expertsPerToken, normalize: cfg.normalizeTopKProbabilities))
            } else {
                mlp = .dense(FeedForward(gate: try linear(p + "mlp.gate_proj", cfg.intermediateSize, h),
                                         up: try linear(p + "mlp.up_proj", cfg.intermediateSize, h),
                                         down: try linear(p + "mlp.down_proj", h, cfg.intermediateSize)))
            }
            layers.append(Layer(inputNorm: try rmsNorm(p + "input_layernorm", h), attention: attention,
                                postAttentionNorm: try rmsNorm(p + "post_attention_layernorm", h), mlp: mlp))
        }
        self.layers = layers
        norm = try rmsNorm("model.norm", h)
        if cfg.tiedEmbeddings && !c.contains("lm_head.weight") {
            head = Linear(weight: embedding, bias: nil, pool: pool)
        } else {
            head = try linear("lm_head", cfg.vocabularySize, h)
        }
        // inv_freq[i] = θ^(-2i/d), in fp32 like the reference.
        inverseFrequencies = (0..<(d / 2)).map { i in 1 / Float(pow(Double(Float(cfg.ropeTheta)), Double(Float(2 * i) / Float(d)))) }
    }

    /// Runs `tokens` (the next positions of one sequence) through the model, extending the
    /// cache, and returns logits for every position (or only the last) as rows of the vocabulary.
    public func forward(_ tokens: [Int], cache: KVCache, allLogits: Bool = true) -> [Float] {
        forward(batch: [Segment(tokens: tokens, cache: cache, logits: allLogits ? .all : .last)])[0]
    }

    /// Part of a batched step: the next tokens of one sequence.
    public struct Segment {
        /// `lastHidden`: the final-normed hidden state of the last token instead of logits
        /// (for scoring a few output rows without the whole vocabulary).
        public enum Logits: Sendable { case none, last, all, lastHidden }
        public var tokens: [Int]
        public var cache: KVCache
        public var logits: Logits
        public init(tokens: [Int], cache: KVCache, logits: Logits) {
            self.tokens = tokens
            self.cache = cache
            self.logits = logits
        }
    }

    /// One step over several sequences: their rows share every matrix product (each row is
    /// computed the same way whatever else is in the batch), attention stays per sequence.
    /// Returns each segment's requested logits.
    public func forward(batch: [Segment]) -> [[Float]] {
        for s in batch { precondition(s.cache.count + s.tokens.count <= s.cache.capacity, "KV cache full") }
        let h = config.hiddenSize
        let layout = BatchLayout(batch)
        let rope = rotations(layout.positions)
        var x = embed(batch.flatMap(\.tokens))
        for (index, layer) in layers.enumerated() {
            let attended = attention(layer.attention, layer.inputNorm(x, width: h), batch: batch, layout: layout,
                                     layer: index, rope: rope)
            add(attended, to: &x)
            add(layer.mlp(layer.postAttentionNorm(x, width: h), rows: layout.rowCount, width: h), to: &x)
        }
        for s in batch { s.cache.advance(by: s.tokens.count) }
        // Only the rows whose logits (or hidden state) were asked for go on.
        var hidden = rows(layout.outputRows, of: x)
        norm.apply(&hidden, width: h)
        let logits = layout.headRows.isEmpty ? [] : head(rows(layout.headRows, of: hidden), rows: layout.headRows.count)
        return layout.outputs(hidden: hidden, width: h, logits: logits, vocabulary: config.vocabularySize)
    }

    /// The embedding rows of `tokens`, one after another.
    private func embed(_ tokens: [Int]) -> [Float] {
        let h = config.hiddenSize
        var x = [Float](repeating: 0, count: tokens.count * h)
        for (r, token) in tokens.enumerated() {
            let row = embedding.row(token)
            for i in 0..<h { x[r * h + i] = row[i] }
        }
        return x
    }

    /// The residual connection: x += y.
    private func add(_ y: [Float], to x: inout [Float]) {
        for i in 0..<x.count { x[i] += y[i] }
    }

    /// The listed rows (hidden-size wide) of `x`, in that order.
    private func rows(_ indices: [Int], of x: [Float]) -> [Float] {
        let h = config.hiddenSize
        var out = [Float](repeating: 0, count: indices.count * h)
        for (k, row) in indices.enumerated() { for i in 0..<h { out[k * h + i] = x[row * h + i] } }
        return out
    }

    /// Runs `tokens` into `cache` in steps of at most `chunk` tokens, computing no logits.
    func prefill(_ tokens: ArraySlice<Int>, into cache: KVCache, chunk: Int) {
        var start = tokens.startIndex
        while start < tokens.endIndex {
            let end = min(start + chunk, tokens.endIndex)
            _ = forward(batch: [Segment(tokens: Array(tokens[start..<end]), cache: cache, logits: .none)])
            start = end
        }
    }

    /// Output-head logits of a few vocabulary rows for one final hidden state.
    public func logits(hidden: [Float], rows: [Int]) -> [Float] {
        head.rows(rows, of: hidden)
    }

    /// cos and sin of every row's RoPE angles (row-major, d/2 each), shared by all layers.
    private func rotations(_ positions: [Int]) -> (cos: [Float], sin: [Float]) {
        let half = config.headDimension / 2
        var c: [Float] = [], s: [Float] = []
        for position in positions {
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                c.append(cos(angle))
                s.append(sin(angle))
            }
        }
        return (c, s)
    }

    /// softmax(q kᵀ / √d + causal mask) v per sequence, with grouped key/value heads and RoPE.
    /// (row, head) pairs are independent and split between the threads; each one's arithmetic
    /// is the same whatever the batch or the split.
    private func attention(_ a: Attention, _ x: [Float], batch: [Segment], layout: BatchLayout, layer: Int,
                           rope: (cos: [Float], sin: [Float])) -> [Float] {
        let rows = layout.rowCount
        let cfg = config
        let d = cfg.headDimension, heads = cfg.headCount, kvHeads = cfg.keyValueHeadCount
        var q = a.q(x, rows: rows), k = a.k(x, rows: rows)
        let v = a.v(x, rows: rows)
        if let qNorm = a.qNorm { qNorm.apply(&q, width: d) }
        if let kNorm = a.kNorm { kNorm.apply(&k, width: d) }
        for r in 0..<rows {
            rotate(&q, row: r, heads: heads, rope: rope)
            rotate(&k, row: r, heads: kvHeads, rope: rope)
        }
        let kvWidth = kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let group = heads / kvHeads
        // Every (row, head) is written by one (row, key/value head) below.
        var out = [Float](unsafeUninitializedCapacity: rows * heads * d) { _, n in n = rows * heads * d }
        // For every row of the batch: its cache, and the positions it attends to (causal: the
        // cached ones and the segment's up to itself).
        var items: [(cache: KVCache, row: Int, positions: Int)] = []
        k.withUnsafeBufferPointer { k in
            v.withUnsafeBufferPointer { v in
                for (segment, segmentRows) in zip(batch, layout.segmentRows) {
                    let cache = segment.cache, first = segmentRows.lowerBound
                    cache.store(layer: layer, keys: k.baseAddress! + first * kvWidth, values: v.baseAddress! + first * kvWidth,
                                rows: segmentRows.count)
                    for r in segmentRows { items.append((cache, r, layout.positions[r] + 1)) }
                }
            }
        }
        // (row, key/value head) pairs: the query heads of a group share their keys and values.
        let work = items.count * kvHeads
        let threads = work >= 2 ? pool.threads : 1
        let longest = items.map(\.positions).max() ?? 0
        q.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { out in
                let qp = UnsafeSendable(q.baseAddress!), op = UnsafeSendable(out.baseAddress!)
                let shared = UnsafeSendable(items)
                pool.run(threads) { thread in
                    let items = shared.value
                    var scores = [Float](unsafeUninitializedCapacity: group * longest) { _, n in n = group * longest }
                    // Interleaved so that every thread gets short and long (late) rows.
                    for w in stride(from: thread, to: work, by: threads) {
                        let item = items[w / kvHeads], kvHead = w % kvHeads
                        let n = item.positions
                        let qBase = (item.row * heads + kvHead * group) * d
                        let cache = item.cache, head = kvHead * d * cache.precision.bytes
                        let keys = cache.keys(layer) + head, values = cache.values(layer) + head
                        scores.withUnsafeMutableBufferPointer { scores in
                            let p = scores.baseAddress!
                            // Our kernel for both cache types: its fixed arithmetic gives the same
                            // bits on every machine (OpenBLAS's products depend on the CPU kernel
                            // it picks at load, e.g. OPENBLAS_CORETYPE).
                            glossa_attention(qp.value + qBase, Int64(group), Int64(d), keys, values, cache.precision.type,
                                             Int64(kvWidth), Int64(n), scale, p, op.value + qBase)
                        }
                    }
                }
            }
        }
        return a.o(out, rows: rows)
    }

    /// Rotate-half RoPE: element i pairs with i + d/2.
    private func rotate(_ x: inout [Float], row: Int, heads: Int, rope: (cos: [Float], sin: [Float])) {
        let d = config.headDimension, half = d / 2
        for head in 0..<heads {
            let base = (row * heads + head) * d
            for i in 0..<half {
                let c = rope.cos[row * half + i], s = rope.sin[row * half + i]
                let a = x[base + i], b = x[base + i + half]
                x[base + i] = a * c - b * s
                x[base + i + half] = b * c + a * s
            }
        }
    }

    /// Greedy continuation of `prompt` by `count` tokens (stops early at `stop` tokens).
    public func greedy(_ prompt: [Int], count: Int, stop: Set<Int> = []) -> [Int] {
        let cache = makeCache(capacity: prompt.count + count)
        var logits = forward(prompt, cache: cache, allLogits: false)
        var out: [Int] = []
        while out.count < count {
            let next = argmax(logits)
            out.append(next)
            if stop.contains(next) || out.count == count { break }
            logits = forward([next], cache: cache, allLogits: false)
        }
        return out
    }
}

/// Index of the largest value (the first on ties, as torch.argmax).
public func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in 1..<values.count where values[i] > values[best] { best = i }
    return best
}
