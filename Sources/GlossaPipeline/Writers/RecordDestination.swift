import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the runner puts what a batch produced, in input order: kept records (with their
/// language, which can name the shard) and reject records.
protocol RecordDestination: AnyObject {
    func write(_ line: [UInt8], language: String) throws
    func reject(_ line: [UInt8]) throws
}

/// A segment's shards in the output directory: records by the path template, rejects under
/// `rejects/`. Committed (renamed into place) with the segment's checkpoint.
final class ShardDestination: RecordDestination {
    let output: ShardedWriter
    let rejects: ShardedWriter

    init(config: PipelineConfig, rank: Int, name: String, temporaryDirectory: String) throws {
        let o = config.output
        output = ShardedWriter(directory: o.directory, template: try PathTemplate(o.path), maxRecords: o.maxRecords,
                               maxBytes: o.maxBytes, rank: rank, unit: name,
                               temporaryDirectory: temporaryDirectory, avoidingReservedNames: true)
        rejects = ShardedWriter(directory: o.directory, template: try PathTemplate("rejects/part-${rank}-${shard}.jsonl.zst"),
                                maxRecords: o.maxRecords, maxBytes: o.maxBytes, rank: rank, unit: name,
                                temporaryDirectory: temporaryDirectory)
    }

    func write(_ line: [UInt8], language: String) throws { try output.write(line, language: language) }
    func reject(_ line: [UInt8]) throws { try rejects.write(line) }

    func commit() throws -> [ShardInfo] { try output.commit() + rejects.commit() }

    func abandon() {
        output.abandon()
        rejects.abandon()
    }
}

/// One output file and one rejects file (or standard output), as `glossa normalize` and
/// `glossa detect` write: `.zst` compresses; published atomically when the run succeeds and
/// not at all when it fails.
public struct FileOutput: Sendable {
    public var path: String
    /// Defaults to `<output>.rejects.jsonl[.zst]`; required when the output is stdout.
    public var rejects: String?

    public init(path: String, rejects: String? = nil) {
        self.path = path
        self.rejects = rejects
    }

    /// Nil when the output is stdout and no rejects file was given.
    public var rejectsPath: String? {
        if let rejects { return rejects }
        if path == "-" { return nil }
        for suffix in [".jsonl.zst", ".jsonl", ".zst"] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count)) + ".rejects" + suffix
        }
        return path + ".rejects.jsonl"
    }

    /// Rejects are never written to a place nobody named, nor over the output.
    func checkedRejectsPath() throws -> String {
        guard let rejects = rejectsPath else {
            throw GlossaError.invalidArgument("the output is standard output, so rejected records need a file of their own: add --rejects FILE")
        }
        if OutputPaths.sameFile(rejects, path) {
            throw GlossaError.invalidArgument("--rejects \(rejects) is the output file too; records and rejects need different files")
        }
        return rejects
    }

    /// Files being written live in a hidden folder next to their output (`.glossa-tmp/`), never
    /// beside it where `OUTPUT*` globs would match them.
    static func temporaryFolder(for path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent) + "/.glossa-tmp"
    }
}

/// The destination of a `FileOutput`.
final class FileDestination: RecordDestination {
    private let output: ByteSink
    private let rejects: ByteSink
    private let folders: [String]

    init(_ file: FileOutput) throws {
        let rejectsPath = try file.checkedRejectsPath()
        folders = [file.path, rejectsPath].filter { $0 != "-" }.map(FileOutput.temporaryFolder(for:))
        output = try Self.openSink(file.path)
        do { rejects = try Self.openSink(rejectsPath) } catch {
            output.abandon()
            throw error
        }
    }

    func write(_ line: [UInt8], language: String) throws { try output.write(line) }
    func reject(_ line: [UInt8]) throws { try rejects.write(line) }

    func commit() throws {
        defer { removeFolders() }
        try output.commit()
        try rejects.commit()
    }

    func abandon() {
        output.abandon()
        rejects.abandon()
        removeFolders()
    }

    /// Only when empty: another run may be using the folder.
    private func removeFolders() { for folder in folders { rmdir(folder) } }

    /// An atomic sink whose temporary file is removed on SIGTERM/SIGINT; what a SIGKILLed run
    /// left (there, or as `OUTPUT.tmp-PID` beside the output) is removed first.
    static func openSink(_ path: String) throws -> ByteSink {
        if path == "-" { return try openByteSink(path: path) }
        let folder = FileOutput.temporaryFolder(for: path)
        TemporaryFiles.removeStale(in: folder)
        let parent = (path as NSString).deletingLastPathComponent
        TemporaryFiles.removeStale(in: parent.isEmpty ? "." : parent, prefix: ((path as NSString).lastPathComponent) + ".tmp-")
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw GlossaError.cannotOpen(path: path, reason: "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        return try openByteSink(path: path, temporaryDirectory: folder, removeOnSignal: true)
    }
}
