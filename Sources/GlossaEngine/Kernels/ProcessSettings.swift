import CGlossaKernels

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
}
