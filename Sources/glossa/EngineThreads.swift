import ArgumentParser
import GlossaEngine

extension ThreadCount: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// `--threads` of every command that runs the engine.
struct EngineThreadsOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Engine threads: a number or auto (default: GLOSSA_THREADS, else auto = the CPUs this process may use: affinity mask and cgroup CPU quota). The output does not depend on it.",
        valueName: "n|auto"))
    var threads: ThreadCount?

    /// Sets the process's engine threads (before any model is loaded) and prints where the
    /// count comes from, one line on standard error. Returns the count.
    @discardableResult
    func configure(pipeline: ThreadCount? = nil, localRanks: Int = 1, what: String = "engine") throws -> Int {
        try configureEngineThreads(threads, pipeline: pipeline, localRanks: localRanks, what: what)
    }
}

/// Resolves the thread count (command line, then GLOSSA_THREADS, then the pipeline's
/// engine.threads, then auto), makes it the engine's and reports it on standard error.
@discardableResult
func configureEngineThreads(_ commandLine: ThreadCount?, pipeline: ThreadCount? = nil, localRanks: Int = 1,
                            what: String = "engine") throws -> Int {
    let choice = try chooseEngineThreads(commandLine, pipeline: pipeline, localRanks: localRanks)
    printError("\(what): \(choice.summary)")
    return choice.count
}

/// `configureEngineThreads` without the report, for a command that prints it later.
func chooseEngineThreads(_ commandLine: ThreadCount?, pipeline: ThreadCount? = nil, localRanks: Int = 1) throws -> ThreadChoice {
    do {
        let choice = try ThreadChoice.resolve(commandLine: commandLine, environment: environment, pipeline: pipeline,
                                              localRanks: localRanks, allowance: .current())
        try Engine.setThreads(choice.count)
        return choice
    } catch {
        printError("glossa: \(error)")
        throw ExitCode(2)
    }
}
