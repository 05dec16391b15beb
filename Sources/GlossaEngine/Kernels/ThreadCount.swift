import Foundation

/// A thread count as a user writes it (`--threads`, `GLOSSA_THREADS`, `engine.threads`):
/// `auto` or a number of threads.
public enum ThreadCount: Sendable, Equatable, CustomStringConvertible {
    /// The CPUs this process may use, shared between the ranks running on this node.
    case auto
    case exactly(Int)

    /// Most threads anyone may ask for: far beyond any machine's cores, and small enough that
    /// a typo cannot make the process start a million threads.
    public static let most = 1_024

    /// "auto" or an integer from 1 to `most`; nil for anything else.
    public init?(parsing text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "auto" {
            self = .auto
        } else if let n = Int(text), (1...Self.most).contains(n) {
            self = .exactly(n)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case let .exactly(n): String(n)
        }
    }

    /// The number of threads: an exact count as given; `auto` = the allowance's CPUs shared
    /// evenly between the `localRanks` processes of a run on this node, floor(cpus / ranks),
    /// at least 1 — so that N ranks on one node never run more threads than it has cores.
    public func resolved(allowance: CPUAllowance, localRanks: Int) -> Int {
        switch self {
        case let .exactly(n): return n
        case .auto: return max(1, allowance.count / max(1, localRanks))
        }
    }
}

/// The engine's thread count for one process and where it came from (the line `glossa`
/// prints at start).
public struct ThreadChoice: Sendable, Equatable {
    public var count: Int
    /// "--threads", "GLOSSA_THREADS", "engine.threads" or "auto".
    public var source: String
    public var allowance: CPUAllowance
    /// Ranks of the run sharing this node (auto divides the allowance between them).
    public var localRanks: Int

    /// "2 threads (auto; affinity 2, cgroup quota none)".
    public var summary: String {
        "\(count) thread\(count == 1 ? "" : "s") (\(source); \(allowance.summary)"
            + (localRanks > 1 ? ", shared by \(localRanks) ranks on this node" : "") + ")"
    }

    /// The first of: the command line's `--threads`, `GLOSSA_THREADS` in `environment`, the
    /// pipeline's `engine.threads`; `auto` when none is given. `auto` resolves against
    /// `allowance` and `localRanks` (`ThreadCount.resolved`). Throws for a `GLOSSA_THREADS`
    /// that is neither `auto` nor an integer from 1 to `ThreadCount.most`.
    public static func resolve(commandLine: ThreadCount?, environment: [String: String], pipeline: ThreadCount? = nil,
                               localRanks: Int = 1, allowance: CPUAllowance) throws(EngineError) -> ThreadChoice {
        var setting = (ThreadCount.auto, "auto")
        if let commandLine {
            setting = (commandLine, "--threads")
        } else if let text = environment["GLOSSA_THREADS"], !text.isEmpty {
            guard let parsed = ThreadCount(parsing: text) else {
                throw .invalidSetting("GLOSSA_THREADS is '\(text)'; it must be auto or an integer from 1 to \(ThreadCount.most)")
            }
            setting = (parsed, "GLOSSA_THREADS")
        } else if let pipeline {
            setting = (pipeline, "engine.threads")
        }
        let ranks = max(1, localRanks)
        let source = setting.0 == .auto && setting.1 != "auto" ? "\(setting.1) auto" : setting.1
        return ThreadChoice(count: setting.0.resolved(allowance: allowance, localRanks: ranks), source: source,
                            allowance: allowance, localRanks: ranks)
    }
}
