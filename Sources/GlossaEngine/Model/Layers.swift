import CGlossaKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// y = x Wᵀ + b over `rows` rows of x; W has one row per output feature.
///
/// One path for every storage: each input row is brought to the weights' activation format
/// (quantized per block the way llama.cpp does — Q8_0 / Q8_K — or kept F32) and the C kernels
/// compute each output row with a fixed per-row arithmetic, rows split between threads by a
/// fixed rule, so that a row's result never depends on the batch or the thread count (BLAS
/// sgemm would pick different blockings for different shapes).
struct Linear: Sendable {
    let weight: WeightMatrix
    let bias: [Float]?
    /// The threads the output rows are split between.
    let pool: WorkerPool
    var inFeatures: Int { weight.columns }
    var outFeatures: Int { weight.rows }

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        // Every element is written by the product, so the buffer is not zeroed first.
        var y = [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, count in count = rows * outFeatures }
        QuantizedKernels.multiply(weight, x: x, rows: rows, into: &y, bias: bias, pool: pool)
        return y
    }

    /// Only the listed output rows for one input vector, each computed exactly as in a full
    /// product (same activation format, same per-row kernel); the input is prepared once.
    func rows(_ indices: [Int], of x: [Float]) -> [Float] {
        let activations = QuantizedKernels.activations(for: weight, x: x, rows: 1)
        return indices.map { index in
            var y: Float = 0
            activations.bytes.withUnsafeBytes { a in
                glossa_matmul(weight.type, weight.base + index * weight.rowBytes, Int64(inFeatures), 0, 1,
                              a.baseAddress, Int64(activations.stride), 1, &y, 1)
            }
            return y + (bias?[index] ?? 0)
        }
    }
}

/// w · x / sqrt(mean(x²) + ε), per row of `width` (fp32 throughout, as the reference does).
struct RMSNorm: Sendable {
    let weight: [Float]
    let epsilon: Float
    let pool: WorkerPool

    func callAsFunction(_ x: [Float], width: Int) -> [Float] {
        var y = x
        apply(&y, width: width)
        return y
    }

    func apply(_ x: inout [Float], width: Int) {
        let rows = x.count / width
        // Rows are independent: a long prefill splits them between the threads.
        let threads = rows >= 64 ? pool.threads : 1
        x.withUnsafeMutableBufferPointer { x in
            let base = UnsafeSendable(x.baseAddress!)
            weight.withUnsafeBufferPointer { w in
                let weight = UnsafeSendable(w.baseAddress!)
                pool.run(threads) { t in
                    for r in (rows * t / threads)..<(rows * (t + 1) / threads) {
                        let row = base.value + r * width
                        var sum: Float = 0
                        for i in 0..<width { sum += row[i] * row[i] }
                        let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
                        for i in 0..<width { row[i] = weight.value[i] * (row[i] * scale) }
                    }
                }
            }
        }
    }
}

/// SwiGLU: down(silu(gate(x)) * up(x)).
struct FeedForward: Sendable {
    let gate: Linear, up: Linear, down: Linear

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        let g = gate(x, rows: rows), u = up(x, rows: rows)
        let count = g.count
        var a = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        // Element-wise, so splitting it between threads changes nothing but the time. The parts
        // start at multiples of 16 elements, so each element goes through the same code
        // (the 16-lane loop or the scalar tail at the very end) for any number of threads,
        // whether or not the two give the same bits.
        let pool = gate.pool
        let threads = count >= 16_384 ? pool.threads : 1
        g.withUnsafeBufferPointer { g in
            u.withUnsafeBufferPointer { u in
                a.withUnsafeMutableBufferPointer { a in
                    let gp = UnsafeSendable(g.baseAddress!), up = UnsafeSendable(u.baseAddress!), ap = UnsafeSendable(a.baseAddress!)
                    pool.run(threads) { t in
                        let part = Self.part(t, of: count, threads: threads)
                        glossa_swiglu(gp.value + part.lowerBound, up.value + part.lowerBound, ap.value + part.lowerBound, Int64(part.count))
                    }
                }
            }
        }
        return down(a, rows: rows)
    }

    /// Part `t` of `threads` of `count` elements: contiguous, in order, each starting on a
    /// multiple of 16 (the last one ends at `count`).
    static func part(_ t: Int, of count: Int, threads: Int) -> Range<Int> {
        let begin = t == 0 ? 0 : count * t / threads / 16 * 16
        let end = t == threads - 1 ? count : count * (t + 1) / threads / 16 * 16
        return begin..<end
    }
}

/// Qwen3-MoE: a softmax router picks the top-k experts per token; their SwiGLU outputs are
/// summed with the (optionally renormalized) router probabilities.
struct MixtureOfExperts: Sendable {
    let router: Linear
    let experts: [FeedForward]
    let topK: Int
    let normalize: Bool

    func callAsFunction(_ x: [Float], rows: Int, width: Int) -> [Float] {
        let logits = router(x, rows: rows)
        let count = experts.count
        var out = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
            var p = Array(logits[(r * count)..<((r + 1) * count)])
            let m = p.max()!
            var z: Float = 0
            for e in 0..<count { p[e] = exp(p[e] - m); z += p[e] }
            for e in 0..<count { p[e] /= z }
            let chosen = (0..<count).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(topK)
            let total = chosen.reduce(Float(0)) { $0 + p[$1] }
            let row = Array(x[(r * width)..<((r + 1) * width)])
            for e in chosen {
                let w = normalize ? p[e] / total : p[e]
                let y = experts[e](row, rows: 1)
                for i in 0..<width { out[r * width + i] += w * y[i] }
            }
        }
        return out
    }
}
