#if canImport(Glibc)
import Glibc
#endif

/// How a request picks its next token. Greedy unless a temperature is set.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0
    public var topK = 0              // 0 = off
    public var topP: Float = 1       // 1 = off
    public var minP: Float = 0       // 0 = off
    /// Subtracted once from the logit of every token already generated (OpenAI's presence).
    public var presencePenalty: Float = 0
    /// Subtracted once per earlier occurrence of the token (OpenAI's frequency).
    public var frequencyPenalty: Float = 0
    /// Divides positive and multiplies negative logits of generated tokens (CTRL's, as HF).
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0

    public init() {}

    public static let greedy = SamplingParameters()
    /// Qwen3's recommendation for non-thinking mode.
    public static func qwen3NonThinking(seed: UInt64) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0.7; p.topP = 0.8; p.topK = 20; p.seed = seed
        return p
    }
}

/// A per-request sampler with its own seeded generator, so a request's output never depends
/// on the other requests in the batch.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var state: UInt64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        state = parameters.seed &+ 0x9E37_79B9_7F4A_7C15
    }

    /// SplitMix64.
    private mutating func nextRandom() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    /// Picks a token from `logits`, given the tokens generated so far (for the penalties).
    public mutating func sample(_ logits: [Float], history: [Int]) -> Int {
        let p = parameters
        var logits = logits
        if p.repetitionPenalty != 1 || p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            var occurrences: [Int: Int] = [:]
            for id in history where id < logits.count { occurrences[id, default: 0] += 1 }
            for (id, count) in occurrences {
                if p.repetitionPenalty != 1 {
                    logits[id] = logits[id] > 0 ? logits[id] / p.repetitionPenalty : logits[id] * p.repetitionPenalty
                }
                logits[id] -= p.presencePenalty + Float(count) * p.frequencyPenalty
            }
        }
        guard p.temperature > 0 else { return argmax(logits) }
        // Candidates by decreasing logit (ties: lower id first), cut by top-k.
        var order: [Int]
        if p.topK > 0 && p.topK <= 64 && p.topK < logits.count {
            // One pass with a small sorted buffer instead of sorting the whole vocabulary (150k
            // tokens, milliseconds per token): the same k tokens in the same order, since a
            // later (higher) id with an equal logit goes after the ones already there.
            order = []
            order.reserveCapacity(p.topK + 1)
            for (i, x) in logits.enumerated() where order.count < p.topK || x > logits[order[order.count - 1]] {
                let at = order.firstIndex { x > logits[$0] } ?? order.count
                order.insert(i, at: at)
                if order.count > p.topK { order.removeLast() }
            }
        } else {
            order = Array(logits.indices)
            order.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            if p.topK > 0 && p.topK < order.count { order = Array(order.prefix(p.topK)) }
        }
        let maxLogit = logits[order[0]]
        var probs = order.map { Double(exp((logits[$0] - maxLogit) / p.temperature)) }
        var total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        var keep = probs.count
        if p.minP > 0 {
            let floor = Double(p.minP) * probs[0]
            keep = min(keep, max(1, probs.firstIndex { $0 < floor } ?? keep))
        }
        if p.topP < 1 {
            var cumulative = 0.0
            for i in 0..<keep {
                cumulative += probs[i]
                if cumulative >= Double(p.topP) { keep = i + 1; break }
            }
        }
        total = probs[0..<keep].reduce(0, +)
        var r = nextRandom() * total
        for i in 0..<keep {
            r -= probs[i]
            if r <= 0 { return order[i] }
        }
        return order[keep - 1]
    }
}
