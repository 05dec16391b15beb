/// How the engine runs a model, chosen when it is loaded — apart from the model's architecture
/// (`ModelConfig`), which the file decides.
public struct EngineOptions: Sendable, Equatable {
    /// Element type of the key/value caches made for the model; nil: the model's default
    /// (`KVCache.Precision.default(for:)`: f16 for GGUF, f32 for Hugging Face checkpoints).
    public var kvCache: KVCache.Precision?
    /// Threads the model's products, norms and attention are split between; nil: the process's
    /// (`Engine.threads`, which `glossa` sets from `--threads`). The output is bitwise the same
    /// for any count. A count of its own gives the model a worker pool of its own (tests
    /// compare counts in one process).
    public var threads: Int?

    public init(kvCache: KVCache.Precision? = nil, threads: Int? = nil) {
        self.kvCache = kvCache
        self.threads = threads
    }
}
