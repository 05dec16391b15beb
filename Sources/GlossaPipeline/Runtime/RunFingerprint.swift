import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an output directory was written from: the pipeline definition (SHA-256 of its YAML)
/// and the input set (every unit with its file's size). Kept in `.glossa/run.json`; a run whose
/// definition or inputs differ refuses the directory (its shards would mix with the earlier
/// run's), unless told to start afresh (`--force-restart`).
public struct RunFingerprint: Equatable, Sendable {
    public var definition: String
    public var inputs: String
    public var units: Int

    public init(config: PipelineConfig, units: [String]) {
        definition = config.fingerprint
        var hash = SHA256()
        for unit in units {
            let path = unit.lastIndex(of: "#").map { String(unit[..<$0]) } ?? unit
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? -1
            hash.update(Array("\(unit)\t\(size)\n".utf8))
        }
        inputs = hash.finalizeHex()
        self.units = units.count
    }

    init(definition: String, inputs: String, units: Int) {
        self.definition = definition; self.inputs = inputs; self.units = units
    }

    static func path(_ directory: String) -> String { "\(directory)/.glossa/run.json" }

    static func read(_ directory: String) -> RunFingerprint? {
        guard let data = FileManager.default.contents(atPath: path(directory)),
              let o = try? JSONParser.parse(String(decoding: data, as: UTF8.self)).value.objectValue,
              let d = o["definition"]?.stringValue, let i = o["inputs"]?.stringValue, case let .number(n)? = o["units"]
        else { return nil }
        return RunFingerprint(definition: d, inputs: i, units: Int(n) ?? 0)
    }

    func write(_ directory: String, temporaryDirectory: String) throws {
        let object = JSONObject(["definition": .string(definition), "inputs": .string(inputs), "units": .number(String(units))])
        var bytes: [UInt8] = []
        JSONWriter.write(.object(object), into: &bytes)
        bytes.append(0x0A)
        let sink = try AtomicFileSink(path: Self.path(directory), temporaryDirectory: temporaryDirectory)
        try sink.write(bytes)
        try sink.commit()
    }

    /// Checks `directory` against this run, under an exclusive lock so ranks starting together
    /// agree: records the fingerprint in a fresh directory; with `forceRestart`, clears the
    /// output of an earlier, different run first; otherwise refuses a different run's output.
    /// Directories without a fingerprint that hold run files count as a different run.
    func claim(_ directory: String, config: PipelineConfig, forceRestart: Bool, temporaryDirectory: String,
               log: (String) -> Void) throws {
        let lockPath = "\(directory)/.glossa/lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GlossaError.invalidArgument("cannot create \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }  // releases the lock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw GlossaError.invalidArgument("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        let recorded = Self.read(directory)
        if recorded == self { return }
        let hasRunFiles = recorded != nil || Self.hasRunFiles(directory)
        if hasRunFiles {
            let what: String
            if let recorded {
                var changes: [String] = []
                if recorded.definition != definition { changes.append("the pipeline definition changed") }
                if recorded.inputs != inputs {
                    changes.append("the input files changed (\(units) units now, \(recorded.units) before, or files of other sizes)")
                }
                what = changes.joined(separator: " and ")
            } else {
                what = "it was written without a record of its definition and inputs (an older glossa)"
            }
            guard forceRestart else {
                throw GlossaError.invalidArgument(
                    "output directory \(directory) holds an earlier run's output and \(what); mixing them would duplicate or mismatch records. "
                    + "Run again with --force-restart to delete that output and start afresh, or write elsewhere with --output DIR")
            }
            log("--force-restart: \(what); removing the earlier output in \(directory)")
            try Self.clear(directory, config: config)
        }
        try write(directory, temporaryDirectory: temporaryDirectory)
    }

    /// Markers, checkpoints or manifests of some run.
    static func hasRunFiles(_ directory: String) -> Bool {
        let fm = FileManager.default
        if let units = try? fm.contentsOfDirectory(atPath: "\(directory)/.glossa/units"), !units.isEmpty { return true }
        let top = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        return top.contains { $0.hasPrefix(OutputPaths.manifestPrefix) && $0.hasSuffix(".json") }
    }

    /// Removes an earlier run's files: shards matching the output template or the rejects
    /// template, manifests, the run report, and the runner's state (`.glossa/`, except the lock held now and
    /// this rank's fresh scratch folder). Other files in the directory are left alone.
    static func clear(_ directory: String, config: PipelineConfig) throws {
        let fm = FileManager.default
        let patterns = [config.output.path, "rejects/part-${rank}-${shard}.jsonl.zst", OutputPaths.manifestPrefix + "*.json", "report.html"].map { template in
            template.replacingOccurrences(of: "${rank}", with: "*").replacingOccurrences(of: "${shard}", with: "*")
                .replacingOccurrences(of: "${language}", with: "*")
        }
        var directories: [String] = []
        if let walker = fm.enumerator(atPath: directory) {
            while let relative = walker.nextObject() as? String {
                if relative == ".glossa" || relative.hasPrefix(".") { walker.skipDescendants(); continue }
                let full = directory + "/" + relative
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue { directories.append(full); continue }
                // A language value "rejects" is written under "_rejects/" (see OutputPaths).
                let candidates = [relative, relative.hasPrefix("_") ? String(relative.dropFirst()) : relative]
                if candidates.contains(where: { c in patterns.contains { fnmatch($0, c, FNM_PATHNAME) == 0 } }) {
                    guard unlink(full) == 0 else {
                        throw GlossaError.invalidArgument("--force-restart cannot remove \(full): \(String(cString: strerror(errno)))")
                    }
                }
            }
        }
        // Folders the shards were in, deepest first, when nothing else is in them.
        for folder in directories.sorted(by: { $0.count > $1.count }) { rmdir(folder) }
        for name in (try? fm.contentsOfDirectory(atPath: directory + "/.glossa")) ?? [] where name != "lock" && name != "tmp" {
            try? fm.removeItem(atPath: directory + "/.glossa/" + name)
        }
    }
}
