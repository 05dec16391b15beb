import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How input lines are read: JSONL records, or one document per line of text (`auto`: text
/// for `.txt` and `.txt.zst`, JSONL otherwise).
public enum InputFormat: String, Sendable, CaseIterable {
    case auto, jsonl, text

    public func isText(path: String) -> Bool {
        self == .text || (self == .auto && (path.hasSuffix(".txt") || path.hasSuffix(".txt.zst")))
    }
}

/// A run's input units: files, or byte ranges of large plain files ("path#start-end").
public enum InputUnits {
    /// Input files: globs (`*`, `?` in the last component) and directories expanded to the
    /// regular files in them (hidden ones left out), sorted. A path that matches no file is an
    /// error naming the definition's file and line.
    public static func list(_ config: PipelineConfig) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        func isFile(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        for (k, pattern) in config.input.paths.enumerated() {
            let line = k < config.input.pathLines.count ? config.input.pathLines[k] : 1
            func fail(_ message: String) -> PipelineConfig.ConfigError {
                PipelineConfig.ConfigError(file: config.file, line: line, message: message)
            }
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: pattern, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let files = (try? fm.contentsOfDirectory(atPath: pattern))?.filter { !$0.hasPrefix(".") }.sorted()
                        .map { pattern + "/" + $0 }.filter(isFile) ?? []
                    if files.isEmpty { throw fail("input.paths: directory '\(pattern)' has no input files") }
                    out += files
                } else {
                    out.append(pattern)
                }
            } else if pattern.contains("*") || pattern.contains("?") {
                let directory = (pattern as NSString).deletingLastPathComponent
                let name = (pattern as NSString).lastPathComponent
                let matches = ((try? fm.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [])
                    .filter { !$0.hasPrefix(".") && fnmatch(name, $0, 0) == 0 }.sorted()
                    .map { directory.isEmpty ? $0 : directory + "/" + $0 }.filter(isFile)
                if matches.isEmpty { throw fail("input.paths: '\(pattern)' matches no file (relative paths are read from \(fm.currentDirectoryPath))") }
                out += matches
            } else {
                throw fail("input.paths: no such file or directory '\(pattern)' (relative paths are read from \(fm.currentDirectoryPath))")
            }
        }
        return out.flatMap { split($0, bytes: config.input.splitBytes) }
    }

    /// A plain file larger than `bytes` as byte ranges ("path#start-end"); each range's records
    /// are the lines that start inside it. Compressed files stay whole (no random access).
    static func split(_ path: String, bytes: Int) -> [String] {
        guard bytes > 0, path != "-", !isZstd(path: path),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > bytes
        else { return [path] }
        return stride(from: 0, to: size, by: bytes).map { "\(path)#\($0)-\(min(size, $0 + bytes))" }
    }
}
