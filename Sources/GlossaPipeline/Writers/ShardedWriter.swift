import Foundation

/// A published shard: where, how many records, and its bytes' size and SHA-256.
public struct ShardInfo: Sendable, Equatable {
    public var path: String      // relative to the output directory
    public var records: Int
    public var bytes: Int
    public var sha256: String

    public var json: JSONValue {
        .object(JSONObject(["path": .string(path), "records": .number(String(records)),
                            "bytes": .number(String(bytes)), "sha256": .string(sha256)]))
    }

    init?(json: JSONValue) {
        guard let o = json.objectValue, let p = o["path"]?.stringValue, case let .number(r)? = o["records"],
              case let .number(b)? = o["bytes"], let h = o["sha256"]?.stringValue, let records = Int(r), let bytes = Int(b)
        else { return nil }
        self.init(path: p, records: records, bytes: bytes, sha256: h)
    }

    init(path: String, records: Int, bytes: Int, sha256: String) {
        self.path = path; self.records = records; self.bytes = bytes; self.sha256 = sha256
    }
}

/// Output path templates: `${rank}`, `${shard}`, `${language}`; always inside the output
/// directory.
public struct PathTemplate: Sendable, Equatable {
    public let template: String

    public init(_ template: String) throws {
        guard !template.isEmpty, !template.hasPrefix("/"), !template.split(separator: "/").contains("..") else {
            throw GlossaError.invalidArgument("output path template '\(template)' must be a relative path without '..'")
        }
        guard template.contains("${shard}") else {
            throw GlossaError.invalidArgument("output path template '\(template)' needs ${shard} so shards get distinct names")
        }
        let known = ["${rank}", "${shard}", "${language}"]
        var rest = template
        for k in known { rest = rest.replacingOccurrences(of: k, with: "") }
        guard !rest.contains("${") else { throw GlossaError.invalidArgument("output path template '\(template)' has an unknown variable") }
        self.template = template
    }

    /// Values are reduced to [A-Za-z0-9_-] so no value can add a path component.
    public func path(rank: Int, shard: String, language: String) -> String {
        func clean(_ s: String) -> String {
            let kept = String(s.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
            return kept.isEmpty ? "und" : kept
        }
        return template.replacingOccurrences(of: "${rank}", with: String(rank))
            .replacingOccurrences(of: "${shard}", with: clean(shard))
            .replacingOccurrences(of: "${language}", with: clean(language))
    }
}

/// Writes JSON lines into shards (zstd when the template ends in .zst), each published with
/// fsync + rename when full or at commit, so readers never see a partial shard.
public final class ShardedWriter {
    private final class HashingSink: ByteSink {
        let inner: ByteSink
        var hash = SHA256()
        var bytes = 0
        init(_ inner: ByteSink) { self.inner = inner }
        func write(_ b: UnsafeRawBufferPointer) throws { hash.update(b); bytes += b.count; try inner.write(b) }
        func commit() throws { try inner.commit() }
        func abandon() { inner.abandon() }
    }

    private struct Open {
        var path: String
        var sink: ByteSink
        var hashing: HashingSink
        var records = 0
        var uncompressed = 0
    }

    public let directory: String
    public let template: PathTemplate
    public let maxRecords: Int
    public let maxBytes: Int
    let rank: Int
    let unit: String
    let temporaryDirectory: String?
    /// Paths whose first component came out as one the runner owns (`rejects`, `.glossa`)
    /// get a leading "_" (outputs; the rejects writer itself writes under rejects/).
    let avoidingReservedNames: Bool
    private var open: [String: Open] = [:]       // by language
    private var counters: [String: Int] = [:]
    public private(set) var published: [ShardInfo] = []

    public init(directory: String, template: PathTemplate, maxRecords: Int, maxBytes: Int, rank: Int, unit: String,
                temporaryDirectory: String? = nil, avoidingReservedNames: Bool = false) {
        self.temporaryDirectory = temporaryDirectory
        self.avoidingReservedNames = avoidingReservedNames
        self.directory = directory
        self.template = template
        self.maxRecords = max(1, maxRecords)
        self.maxBytes = max(1, maxBytes)
        self.rank = rank
        self.unit = unit
    }

    public func write(_ line: [UInt8], language rawLanguage: String = "und") throws {
        // Shards are kept apart per language only when the template names the language;
        // otherwise every record goes to one stream of shards.
        let language = template.template.contains("${language}") ? rawLanguage : ""
        if open[language] == nil {
            let n = counters[language, default: 0]
            counters[language] = n + 1
            let resolved = template.path(rank: rank, shard: "\(unit)-\(String(n).leftPadded(to: 4))", language: language)
            let relative = avoidingReservedNames ? OutputPaths.avoidingReserved(resolved) : resolved
            let full = directory + "/" + relative
            try makeDirectories(for: full)
            let file = try AtomicFileSink(path: full, temporaryDirectory: temporaryDirectory)
            let hashing = HashingSink(file)
            let sink: ByteSink = full.hasSuffix(".zst") ? ZstdSink(hashing, level: 3) : hashing
            open[language] = Open(path: relative, sink: sink, hashing: hashing)
        }
        try open[language]!.sink.write(line)
        open[language]!.records += 1
        open[language]!.uncompressed += line.count
        if open[language]!.records >= maxRecords || open[language]!.uncompressed >= maxBytes { try close(language) }
    }

    private func close(_ language: String) throws {
        guard let o = open.removeValue(forKey: language) else { return }
        try o.sink.commit()
        published.append(ShardInfo(path: o.path, records: o.records, bytes: o.hashing.bytes,
                                   sha256: o.hashing.hash.finalizeHex()))
    }

    /// Publishes every open shard; returns all shards of this writer in order of creation.
    public func commit() throws -> [ShardInfo] {
        for language in open.keys.sorted() { try close(language) }
        return published
    }

    public func abandon() {
        for (_, o) in open { o.sink.abandon() }
        open.removeAll()
    }

    private func makeDirectories(for path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        try OutputPaths.makeDirectory(parent)
    }
}

extension String {
    /// Zero-padded on the left to `n` characters (shard and segment numbers sort as text).
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
