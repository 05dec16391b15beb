import Foundation
import Testing
@testable import GlossaPipeline

/// Where the tests find the repository, the models and the built CLI.
enum TestPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `$GLOSSA_MODELS` when set (it moves the models folder), else `models/` in the repository.
    static var models: String {
        ProcessInfo.processInfo.environment["GLOSSA_MODELS"] ?? root.appendingPathComponent("models").path
    }
    static var lidModel: String { models + "/lid.176.ftz" }
    /// The environment for runs that load models: the caller's, with GLOSSA_MODELS pointing at
    /// `models` (so tests started from another directory still find them).
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GLOSSA_MODELS"] = models
        return env
    }
    static let glossa = root.appendingPathComponent(".build/debug/glossa").path
}

/// The built `glossa` in a child process.
struct CLIResult {
    var status: Int32
    /// The process ended by a signal (`status` is then the signal's number).
    var signaled: Bool
    var stdout: String
    var stderr: String
}

@discardableResult
func runGlossa(_ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil, stdin: String? = nil) throws -> CLIResult {
    try #require(FileManager.default.isExecutableFile(atPath: TestPaths.glossa), "build the CLI first (swift build --product glossa)")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: TestPaths.glossa)
    p.arguments = arguments
    p.currentDirectoryURL = URL(fileURLWithPath: directory ?? TestPaths.root.path)
    p.environment = environment ?? TestPaths.environment
    // Output goes to files (read after the exit), so a full pipe can never block the child.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    if let stdin {
        let inURL = scratch.appendingPathComponent("stdin")
        try Data(stdin.utf8).write(to: inURL)
        p.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        p.standardInput = FileHandle.nullDevice
    }
    try p.run()
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                     stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                     stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// Every file under `directory` (relative paths), hidden ones included.
func allFiles(_ directory: String) -> [String] {
    var out: [String] = []
    guard let e = FileManager.default.enumerator(atPath: directory) else { return [] }
    while let f = e.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + f, isDirectory: &isDirectory), !isDirectory.boolValue { out.append(f) }
    }
    return out.sorted()
}

/// The decompressed lines of every output and reject shard of a run directory, by file.
func shardLines(_ directory: String) throws -> [String: [String]] {
    var out: [String: [String]] = [:]
    for f in allFiles(directory) where f.hasSuffix(".zst") && !f.hasPrefix(".glossa") {
        out[f] = String(decoding: try readAll(openByteSource(path: directory + "/" + f)), as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }
    return out
}
