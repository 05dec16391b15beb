import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Rules for where a run may write: which output directories are acceptable, which names
/// inside them belong to the runner, and whether two output files are the same file.
public enum OutputPaths {
    /// Top-level names the runner owns inside an output directory: its state (`.glossa/`),
    /// the rejects shards (`rejects/`) and the run report (`report.html`). Outputs never land there.
    public static let reservedNames: Set<String> = [".glossa", "rejects", "report.html"]
    /// Manifests sit at the top level as `manifest-rank-R.json`.
    static let manifestPrefix = "manifest-rank-"

    /// Why `directory` cannot hold a run's output, or nil: empty, or the file system root (a
    /// run writes `.glossa/`, manifests and shards into it).
    public static func directoryProblem(_ directory: String) -> String? {
        if directory.trimmingCharacters(in: .whitespaces).isEmpty {
            return "output.dir is empty; name the directory the run writes to"
        }
        if URL(fileURLWithPath: directory).standardized.path == "/" {
            return "output.dir '\(directory)' is the file system root; name a directory of its own"
        }
        return nil
    }

    /// Why an output path template may not be used, or nil: its first component must not be
    /// one the runner owns (`.glossa/`, `rejects/`, `report.html`, `manifest-rank-*`).
    public static func templateProblem(_ template: String) -> String? {
        guard let first = template.split(separator: "/").first(where: { $0 != "." }).map(String.init) else { return nil }
        if reservedNames.contains(first) || first.hasPrefix(manifestPrefix) {
            return "output.path '\(template)' starts with '\(first)', which glossa keeps for its own files (.glossa/, rejects/, report.html, manifest-rank-*); choose another folder or name"
        }
        return nil
    }

    /// A resolved output path whose first component a template variable turned into a
    /// reserved name (a record's language "rejects") gets a leading "_", so outputs and
    /// rejects can never resolve to the same file.
    static func avoidingReserved(_ relative: String) -> String {
        let first = relative.split(separator: "/", maxSplits: 1).first.map(String.init) ?? relative
        if reservedNames.contains(first) || first.hasPrefix(manifestPrefix) { return "_" + relative }
        return relative
    }

    /// Whether two paths name the same file: the same absolute path after resolving `.`,
    /// `..` and symbolic links of the existing part, or the same inode when both exist.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        if a == "-" || b == "-" { return a == b }
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return resolved(a) == resolved(b)
    }

    private static func resolved(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardized
        let parent = url.deletingLastPathComponent().resolvingSymlinksInPath()
        return parent.appendingPathComponent(url.lastPathComponent).path
    }

    /// `mkdir -p` with an error a user can read (the path and the system's reason).
    public static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw GlossaError.invalidArgument("cannot create directory \(path): a file of that name exists")
        }
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                let at = URL(fileURLWithPath: built).standardized.path == URL(fileURLWithPath: path).standardized.path ? "" : " (at \(built))"
                throw GlossaError.invalidArgument("cannot create directory \(path): \(reason)\(at)")
            }
        }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GlossaError.invalidArgument("cannot create directory \(path): a component of it is not a directory")
        }
    }
}
