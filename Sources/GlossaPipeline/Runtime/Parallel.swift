import Dispatch
import Foundation

/// Work on `count` items split into contiguous chunks, one per thread (at most `threads`, and
/// no chunk smaller than `minimumChunk` items). Each item is processed exactly as it would be
/// alone, so results do not depend on the number of threads; chunk `c` covers
/// `count * c / chunks ..< count * (c + 1) / chunks`, in order.
enum Parallel {
    private static func chunks(count: Int, threads: Int, minimumChunk: Int = 8, _ body: @Sendable (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let n = max(1, min(threads, count / max(1, minimumChunk)))
        if n == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: n) { c in body(c, (count * c / n)..<(count * (c + 1) / n)) }
    }

    /// Changes every element of `items` in place, in contiguous chunks on up to `threads`
    /// threads. `body` gets the element, its index and a per-chunk accumulator; the chunks'
    /// accumulators come back in order (for statistics merged as if one thread had done all).
    static func update<Item, Accumulator>(_ items: inout [Item], threads: Int, initial: Accumulator,
                                          _ body: @Sendable (inout Item, Int, inout Accumulator) -> Void) -> [Accumulator] {
        var accumulators = [Accumulator](repeating: initial, count: chunkCount(count: items.count, threads: threads))
        items.withUnsafeMutableBufferPointer { items in
            accumulators.withUnsafeMutableBufferPointer { accumulators in
                guard let i = items.baseAddress, let a = accumulators.baseAddress else { return }
                let itemsBase = SharedBuffer(base: i), accumulatorsBase = SharedBuffer(base: a)
                chunks(count: items.count, threads: threads) { chunk, range in
                    for k in range { body(&itemsBase.base[k], k, &accumulatorsBase.base[chunk]) }
                }
            }
        }
        return accumulators
    }

    static func update<Item>(_ items: inout [Item], threads: Int, _ body: @Sendable (inout Item, Int) -> Void) {
        _ = update(&items, threads: threads, initial: ()) { item, k, _ in body(&item, k) }
    }

    /// How many chunks `chunks(count:threads:minimumChunk:_:)` will use.
    private static func chunkCount(count: Int, threads: Int, minimumChunk: Int = 8) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }
}

/// A pointer that may cross into the worker closures: each worker touches only its own chunk.
private struct SharedBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

/// A value handed to another thread that the sender does not touch until the receiver is done
/// with it (the runner's writers while a batch is written in the background).
struct Handed<Value>: @unchecked Sendable {
    let value: Value
}

/// Work done in order on a thread of its own, one step behind the caller: the runner compresses
/// and writes batch N while it parses and processes batch N + 1. The first error stops later
/// work and is thrown to the caller at its next `check()` or at `finish()`.
final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "glossa.writer")
    private let lock = NSLock()
    private var failure: Error?

    func submit(_ work: @escaping @Sendable () throws -> Void) {
        queue.async { [self] in
            guard lock.withLock({ failure == nil }) else { return }
            do { try work() } catch { lock.withLock { if failure == nil { failure = error } } }
        }
    }

    /// Throws the first error of the work done so far.
    func check() throws {
        if let error = lock.withLock({ failure }) { throw error }
    }

    /// Waits for everything submitted, then throws its first error if any.
    func finish() throws {
        queue.sync {}
        try check()
    }
}
