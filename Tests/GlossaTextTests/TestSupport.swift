import Foundation

/// Repository paths for tests (assets are installed by scripts/setup.sh).
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var assets: URL {
        if let env = ProcessInfo.processInfo.environment["GLOSSA_ASSETS"] { return URL(fileURLWithPath: env) }
        return root.appendingPathComponent("assets")
    }
}

extension String {
    /// Scalars, for comparisons that must not use Swift's canonical-equivalence `==`.
    var scalars: [UInt32] { unicodeScalars.map(\.value) }
}

extension Repo {
    static var models: URL {
        if let env = ProcessInfo.processInfo.environment["GLOSSA_MODELS"] { return URL(fileURLWithPath: env) }
        return root.appendingPathComponent("models")
    }

    /// Decompresses a zstd fixture with the zstd tool that setup installs.
    static func zstdDecompress(_ url: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
