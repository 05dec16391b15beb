import Dispatch

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
