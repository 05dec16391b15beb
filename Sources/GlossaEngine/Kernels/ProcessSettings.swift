import CGlossaKernels
import Synchronization

/// Settings that belong to the whole process rather than to one model.
public enum Engine {
    /// Makes the process-wide settings the engine is tuned for. Call it once, at start, before
    /// the first model is loaded: `glossa` does (every command, `serve` included), and so do the
    /// tests' shared fixtures.
    public static func configureProcess() {
        // The products run on Glossa's own threads (WorkerPool). OpenBLAS, if called at all, is
        // called from those threads, where workers of its own would spin against ours for the
        // same cores.
        BLAS.threads = 1
        // A step's buffers (up to tens of MB in a long prefill) come and go every layer: kept in
        // the heap, they are reused instead of being mapped and zeroed afresh by the kernel each
        // time (glibc's mmap and trim thresholds).
        glossa_keep_buffers_in_heap()
    }

    /// The process's thread setting: nil until `setThreads` is called; `started` once the
    /// process's worker pool exists (its size can no longer change).
    private struct ThreadSetting {
        var requested: Int?
        var started = false
    }

    private static let threadSetting = Mutex(ThreadSetting())

    /// Sizes the process's worker pool: the threads every model loaded without its own
    /// `EngineOptions.threads` computes on. Call it once, at start, before the first model is
    /// loaded (`glossa` does, from `--threads`, `GLOSSA_THREADS` or `engine.threads`); the
    /// output is the same for any count, only the time changes. Throws when the count is
    /// outside 1...`ThreadCount.most` or when a model already runs on the pool (threads
    /// cannot be taken away from a running model).
    public static func setThreads(_ count: Int) throws(EngineError) {
        guard (1...ThreadCount.most).contains(count) else {
            throw .invalidSetting("threads is \(count); it must be between 1 and \(ThreadCount.most)")
        }
        let changed = threadSetting.withLock { setting -> Bool in
            if setting.started { return setting.requested == count }
            setting.requested = count
            return true
        }
        guard changed else {
            throw .invalidSetting("the engine's threads are already fixed at \(threads); set them before the first model is loaded")
        }
    }

    /// Threads of the process's worker pool: as set, else the CPUs this process may use
    /// (`CPUAllowance.current().count`).
    public static var threads: Int {
        threadSetting.withLock { $0.requested } ?? CPUAllowance.current().count
    }

    /// The process's pool, made on first use at `threads`; from then on `setThreads` can no
    /// longer change it.
    static var pool: WorkerPool {
        let count = threadSetting.withLock { setting -> Int in
            let count = setting.requested ?? CPUAllowance.current().count
            setting.requested = count
            setting.started = true
            return count
        }
        return WorkerPool.pool(threads: count)
    }
}
