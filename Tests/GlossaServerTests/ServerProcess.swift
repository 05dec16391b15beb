import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The repository root and the CLI that `make test` builds before the tests.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let glossaBinary = root.appendingPathComponent(".build/debug/glossa").path
/// `GLOSSA_MODELS` moves the models folder, for the tests as for every command.
let modelsDirectory = ProcessInfo.processInfo.environment["GLOSSA_MODELS"] ?? root.appendingPathComponent("models").path

/// A real `glossa serve` child process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(arguments: [String] = [], apiKey: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: glossaBinary)
        process.arguments = ["serve", "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["GLOSSA_MODELS"] = modelsDirectory
        env["GLOSSA_API_KEY"] = apiKey
        process.environment = env
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The listening line carries the port the kernel picked.
        var seen = Data()
        let deadline = Date().addingTimeInterval(120)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
            let text = String(decoding: seen, as: UTF8.self)
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                found = Int(text[range].split(separator: ":").last!)
            }
        }
        guard let found else {
            process.terminate()
            throw ServerError.didNotStart(String(decoding: seen, as: UTF8.self))
        }
        port = found
        // Keep draining stderr so the server never blocks on a full pipe.
        errors.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
    }

    enum ServerError: Error { case didNotStart(String) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// One HTTP exchange with the test server.
struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: String
}

let http = HTTPClient(eventLoopGroupProvider: .singleton)

/// GET without a body, POST with one, unless `method` says otherwise.
func send(_ url: String, _ body: String? = nil, headers: [(String, String)] = [], method: HTTPMethod? = nil) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method ?? (body == nil ? .GET : .POST)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await http.execute(request, timeout: .seconds(600))
    let data = try await response.body.collect(upTo: 64 << 20)
    return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: data))
}

/// Runs blocking work (the pipeline runner) on its own thread, off the concurrency pool that the
/// remote backend's requests need.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
