import Foundation

/// How many ranks of a run share this node, for `threads: auto` (which divides the node's
/// CPUs between them instead of giving each rank all of them).
public enum LocalRanks {
    /// - `GLOSSA_LOCAL_RANKS` when set to an integer >= 1 (any launcher can say it);
    /// - 1 under Slurm (`SLURM_JOB_ID`) and in a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`):
    ///   each task or pod gets its own CPUs (cpuset, cgroup quota), which the allowance
    ///   already reflects;
    /// - otherwise the world size: ranks started by hand or by `glossa bench ranks`
    ///   (`glossa run --rank r --world-size N`) run on this node together.
    /// Throws for a `GLOSSA_LOCAL_RANKS` that is not such an integer.
    public static func count(worldSize: Int, environment: [String: String]) throws -> Int {
        if let text = environment["GLOSSA_LOCAL_RANKS"], !text.isEmpty {
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw GlossaError.invalidArgument("GLOSSA_LOCAL_RANKS is '\(text)'; it must be an integer >= 1 (the ranks of this run on this node)")
            }
            return n
        }
        if environment["SLURM_JOB_ID"] != nil || environment["JOB_COMPLETION_INDEX"] != nil { return 1 }
        return max(1, worldSize)
    }
}
