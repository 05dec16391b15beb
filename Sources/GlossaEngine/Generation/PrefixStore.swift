import Foundation

/// Key/value caches of prompt beginnings that several requests share (a system prompt, the
/// instructions of a pipeline stage), computed once and copied into each new sequence.
///
/// A position's keys and values depend only on the tokens up to it, and every row is computed
/// the same way whatever the batch, so a sequence that starts from a stored beginning gets
/// exactly the bits it would have computed itself. A beginning is stored when a prompt shares
/// at least `minimumTokens` with one of the recent prompts; the least recently used ones go
/// when the store would hold more than `maximumTokens`.
final class PrefixStore: @unchecked Sendable {
    struct Entry {
        let tokens: [Int]
        let cache: KVCache
        var lastUse: UInt64
    }

    let minimumTokens: Int
    let maximumTokens: Int
    private let recentCount = 16
    private var entries: [Entry] = []
    private var recent: [[Int]] = []
    private var clock: UInt64 = 0
    private let lock = NSLock()

    init(minimumTokens: Int = 32, maximumTokens: Int = 4096) {
        self.minimumTokens = minimumTokens
        self.maximumTokens = maximumTokens
    }

    /// Tokens held by the stored caches.
    var storedTokens: Int { lock.withLock { entries.reduce(0) { $0 + $1.tokens.count } } }

    /// Fills the first positions of `cache` (empty) from the longest stored beginning of
    /// `prompt`, computing and storing a new one first when `prompt` shares enough with a
    /// recent prompt; returns how many positions it filled (0 or at least `minimumTokens`).
    /// At least the prompt's last token is left for its own prefill, which gives its logits.
    func fill(_ cache: KVCache, prompt: [Int], model: Transformer, stepTokens: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        let usable = prompt.count - 1
        var best = -1, length = 0
        for (i, e) in entries.enumerated() {
            let n = min(Self.commonLength(e.tokens, prompt), usable)
            if n > length { best = i; length = n }
        }
        if length < minimumTokens {
            // A new shared beginning with a recent prompt?
            let shared = min(recent.map { Self.commonLength($0, prompt) }.max() ?? 0, usable)
            if shared >= minimumTokens && shared <= maximumTokens {
                let stored = KVCache(config: model.config, capacity: shared, precision: cache.precision)
                model.prefill(prompt[..<shared], into: stored, chunk: stepTokens)
                entries.append(Entry(tokens: Array(prompt[..<shared]), cache: stored, lastUse: clock))
                while entries.reduce(0, { $0 + $1.tokens.count }) > maximumTokens, entries.count > 1 {
                    entries.remove(at: entries.indices.min { entries[$0].lastUse < entries[$1].lastUse }!)
                }
                best = entries.count - 1
                length = shared
            }
        }
        recent.append(prompt)
        if recent.count > recentCount { recent.removeFirst() }
        guard length >= minimumTokens, best >= 0, cache.precision == entries[best].cache.precision else { return 0 }
        entries[best].lastUse = clock
        cache.fill(from: entries[best].cache, count: length)
        return length
    }

    static func commonLength(_ a: [Int], _ b: [Int]) -> Int {
        var n = 0
        let limit = min(a.count, b.count)
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }
}
