import CGlossaKernels
import Dispatch
import Foundation
import Synchronization

/// Runs the parts of one step's product on the calling thread and on resident workers that
/// spin for a short while between jobs before parking. A decoding step issues a few hundred
/// products of tens of microseconds each; waking a parked thread for every one of them (what
/// a dispatch queue does) costs a noticeable share of that. Part `t` of a job always runs on
/// thread `t`, so which thread computes what never varies.
///
/// Pools are made by `pool(threads:)`, one per thread count, and live as long as the process
/// (their workers park when idle): the process's pool (`Engine.pool`, sized by
/// `Engine.setThreads`) and those of models loaded with their own `EngineOptions.threads`.
final class WorkerPool: @unchecked Sendable {
    /// The pool of `threads` threads (the caller and threads - 1 workers), made on first use;
    /// the count is clamped to 1...`ThreadCount.most`.
    static func pool(threads: Int) -> WorkerPool {
        let threads = min(max(1, threads), ThreadCount.most)
        return pools.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = WorkerPool(workers: threads - 1)
            pools[threads] = pool
            return pool
        }
    }

    private static let pools = Mutex<[Int: WorkerPool]>([:])

    let workers: Int
    /// The threads a job's parts run on: the caller and the workers. Kernels split their work
    /// into this many parts, each computing whole rows, so that the split changes which thread
    /// computes a row, never how.
    var threads: Int { workers + 1 }
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    /// One per worker: whether it is parked (or about to be), and the semaphore that wakes it.
    /// A worker's own semaphore is signalled only by the caller that claimed its flag, so a
    /// wake-up can never go to the wrong worker or be left over for a later job.
    private final class Slot: Sendable {
        let parked = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }
    private let slots: [Slot]
    private let busy = NSLock()
    // Written by the caller before `generation` is bumped; read by workers after they see it.
    private var job: ((Int) -> Void)?
    private var parts = 0
    /// Spins (PAUSE each) before a worker parks: about 50 µs.
    private let spinLimit = 1_500

    private init(workers: Int) {
        self.workers = workers
        slots = (0..<workers).map { _ in Slot() }
        for w in 0..<workers {
            let thread = Thread { [unowned self] in self.serve(worker: w + 1) }
            thread.name = "glossa.worker.\(w + 1)"
            thread.start()
        }
    }

    /// Calls `body(t)` for t in 0..<parts, part t on thread t % (workers + 1); returns when all
    /// are done. A nested or concurrent call runs its parts on the calling thread.
    func run(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, workers > 0, busy.try() else {
            for t in 0..<parts { body(t) }
            return
        }
        defer { busy.unlock() }
        withoutActuallyEscaping(body) { body in
            job = body
            self.parts = parts
            remaining.store(workers, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            // Wake the parked workers: claiming a flag (true -> false) makes this caller the one
            // that signals that worker.
            for slot in slots where slot.parked.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.signal() }
            for t in stride(from: 0, to: parts, by: workers + 1) { body(t) }
            while remaining.load(ordering: .acquiring) > 0 { glossa_cpu_relax() }
            job = nil
        }
    }

    private func serve(worker: Int) {
        // Generation 0 is "no job yet": a worker that starts after the first job was posted
        // still sees it as new.
        var seen = 0
        let slot = slots[worker - 1]
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if spins < spinLimit {
                    spins += 1
                    glossa_cpu_relax()
                    continue
                }
                // Park: raise the flag, then look again. Either the caller bumps the generation
                // after this load and then finds the flag (and signals), or this load sees the
                // new job; then the flag is taken back, unless the caller claimed it already,
                // in which case its signal is on the way and must be consumed here.
                slot.parked.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen {
                    slot.wake.wait()
                } else if !slot.parked.exchange(false, ordering: .sequentiallyConsistent) {
                    slot.wake.wait()
                }
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            if let job {
                for t in stride(from: worker, to: parts, by: workers + 1) { job(t) }
            }
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
