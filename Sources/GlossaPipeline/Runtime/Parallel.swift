import Dispatch
import Foundation

/// Work on `count` items split into contiguous chunks, one per thread (at most `threads`, and
/// no chunk smaller than `minimumChunk` items). Each item is processed exactly as it would be
/// alone, so results do not depend on the number of threads; chunk `c` covers
/// `count * c / chunks ..< count * (c + 1) / chunks`, in order.
enum Parallel {
    static func chunks(count: Int, threads: Int, minimumChunk: Int = 8, _ body: @Sendable (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let n = max(1, min(threads, count / max(1, minimumChunk)))
        if n == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: n) { c in body(c, (count * c / n)..<(count * (c + 1) / n)) }
    }

    /// How many chunks `chunks(count:threads:minimumChunk:_:)` will use.
    static func chunkCount(count: Int, threads: Int, minimumChunk: Int = 8) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }
}

/// A pointer that may cross into the worker closures: each worker touches only its own chunk.
struct SharedBuffer<Element>: @unchecked Sendable {
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
