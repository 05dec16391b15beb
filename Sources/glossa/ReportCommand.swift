import ArgumentParser
import Foundation
import GlossaPipeline

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild OUTPUT_DIR/report.html from the manifests of all ranks of a run.",
        discussion: """
            Every glossa run writes report.html when a rank finishes, from the manifests found at
            that moment; the rank that finishes last writes the complete one. This rebuilds it
            (e.g. after ranks finished at the same moment): records in, out and rejected by
            reason, languages, stages with counts and seconds, engine settings and tokens,
            throughput over time, QA flags, classify labels and the pipeline definition. One
            self-contained HTML file (no scripts, nothing fetched).
            """
    )

    @Argument(help: "The output directory of a run.")
    var directory: String

    func run() throws {
        do {
            // The run's scratch folder keeps the temporary file off the published names.
            let scratch = directory + "/.glossa/tmp"
            var isDirectory: ObjCBool = false
            let temporary = FileManager.default.fileExists(atPath: scratch, isDirectory: &isDirectory) && isDirectory.boolValue ? scratch : nil
            try RunReport.write(directory: directory, temporaryDirectory: temporary)
        } catch {
            printError("glossa report: \(describe(error))")
            throw ExitCode(2)
        }
        print(RunReport.path(directory))
    }
}
