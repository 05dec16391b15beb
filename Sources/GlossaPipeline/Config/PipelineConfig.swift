import Foundation
import GlossaEngine
import Yams

/// A pipeline definition read from YAML. Errors name the file, line and key.
public struct PipelineConfig: Sendable {
    public struct Input: Sendable {
        public var paths: [String]
        public var format: InputFormat = .auto
        public var fields: [String] = ["text"]
        /// Plain (uncompressed) files larger than this are split into units of about this many
        /// bytes, cut at line starts, so one big file spreads over the ranks; 0 never splits.
        public var splitBytes = 64 << 20
    }

    public enum Stage: Sendable {
        case normalize(fields: [String]?, form: String?)
        case detectLanguage(fields: [String]?)
        case filter(languages: [String]?, scripts: [String]?, minCharacters: Int?, maxCharacters: Int?)
        case translate(TranslateOptions)
        case classify(ClassifyOptions)

        public var name: String {
            switch self {
            case .normalize: "normalize"
            case .detectLanguage: "detect-language"
            case .filter: "filter"
            case .translate: "translate"
            case .classify: "classify"
            }
        }
    }

    public struct TranslateOptions: Sendable {
        public var target: String
        public var source: String?
        public var fields: [String]?
        public var maxTokens = 512
        public var chunkCharacters = 700
        public var glossary: [(String, String)] = []
    }

    public struct ClassifyOptions: Sendable {
        public var labels: [String]
        public var instructions: String?
        public var fields: [String]?
    }

    public struct Output: Sendable {
        public var directory: String
        public var path = "part-${rank}-${shard}.jsonl.zst"
        public var maxRecords = 10_000
        public var maxBytes = 256 << 20
        /// A unit is committed in segments of this many input lines: a killed run resumes at the
        /// last finished segment instead of the start of the unit.
        public var checkpointRecords = 10_000
    }

    public struct Engine: Sendable {
        public enum Backend: String, Sendable { case embedded, remote }
        public var backend = Backend.embedded
        /// Embedded: a model file or directory ("default" = the default model). Remote: the
        /// model name the server serves.
        public var model = "default"
        public var kvBudgetTokens = 16_384
        /// Embedded: element type of the key/value cache (nil: the model's, f16 for GGUF).
        public var kvCache: KVCache.Precision?
        public var stepTokens = 256
        public var batchRecords = 32
        /// Remote only: base URL (e.g. http://127.0.0.1:8080/v1) and how to talk to it.
        public var url: String?
        public var apiKeyEnvironment: String?
        public var concurrency = 8
        public var cacheDirectory: String?
        public var timeoutSeconds = 600
        public var maxRetries = 6
        public var chatTemplate = ChatTemplate.qwen25
    }

    public var name: String
    public var input: Input
    public var stages: [Stage]
    public var output: Output
    public var engine = Engine()
    public var metadataField = "metadata"
    /// SHA-256 of the YAML text: a resumed run must use the same definition.
    public var fingerprint: String
    /// The YAML text itself: a run keeps a copy next to its output (`glossa status OUTPUT_DIR`).
    public var source = ""

    public struct ConfigError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public static func load(path: String) throws -> PipelineConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.cannotOpen(path: path, reason: "no such file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ yaml: String, file: String = "pipeline.yaml") throws -> PipelineConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw ConfigError(file: file, line: 1, message: "the file is empty") }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error) ?? 1, message: "not valid YAML: \(error)")
        }
        let r = Reader(file: file)
        let top = try r.mapping(root, "the pipeline", allowed: ["name", "input", "stages", "output", "engine", "metadata_field"])
        let input = try r.mapping(try r.required(top, "input", root), "input", allowed: ["paths", "format", "fields", "split_bytes"])
        var config = PipelineConfig(
            name: try top["name"].map { try r.string($0, "name") } ?? (file as NSString).lastPathComponent,
            input: Input(paths: try r.strings(try r.required(input, "paths", root), "input.paths")),
            stages: [],
            output: Output(directory: ""),
            fingerprint: SHA256.hex(Array(yaml.utf8)))
        config.source = yaml
        if let f = input["format"] {
            let s = try r.string(f, "input.format")
            guard let format = InputFormat(rawValue: s) else { throw r.error(f, "input.format must be auto, jsonl or text, not '\(s)'") }
            config.input.format = format
        }
        if let f = input["fields"] { config.input.fields = try r.strings(f, "input.fields") }
        if let n = input["split_bytes"] { config.input.splitBytes = try r.int(n, "input.split_bytes", min: 0) }
        if let m = top["metadata_field"] { config.metadataField = try r.string(m, "metadata_field") }

        let output = try r.mapping(try r.required(top, "output", root), "output", allowed: ["dir", "path", "max_records", "max_bytes", "checkpoint_records"])
        config.output.directory = try r.string(try r.required(output, "dir", root), "output.dir")
        if let p = output["path"] {
            config.output.path = try r.string(p, "output.path")
            do { _ = try PathTemplate(config.output.path) } catch { throw r.error(p, "\(error)") }
        }
        if let n = output["max_records"] { config.output.maxRecords = try r.int(n, "output.max_records", min: 1) }
        if let n = output["max_bytes"] { config.output.maxBytes = try r.int(n, "output.max_bytes", min: 1) }
        if let n = output["checkpoint_records"] { config.output.checkpointRecords = try r.int(n, "output.checkpoint_records", min: 1) }

        if let e = top["engine"] {
            let engine = try r.mapping(e, "engine", allowed: [
                "backend", "model", "kv_budget_tokens", "kv_cache", "step_tokens", "batch_records",
                "url", "api_key_env", "concurrency", "cache", "timeout_seconds", "max_retries", "chat_template",
            ])
            if let b = engine["backend"] {
                let s = try r.string(b, "engine.backend")
                guard let backend = Engine.Backend(rawValue: s) else { throw r.error(b, "engine.backend must be embedded or remote, not '\(s)'") }
                config.engine.backend = backend
            }
            if let m = engine["model"] { config.engine.model = try r.string(m, "engine.model") }
            if let k = engine["kv_cache"] {
                guard config.engine.backend == .embedded else { throw r.error(k, "engine.kv_cache applies to backend: embedded only") }
                let s = try r.string(k, "engine.kv_cache")
                guard let precision = KVCache.Precision(rawValue: s) else { throw r.error(k, "engine.kv_cache must be f16 or f32, not '\(s)'") }
                config.engine.kvCache = precision
            }
            let remoteKeys = ["url", "api_key_env", "concurrency", "cache", "timeout_seconds", "max_retries", "chat_template"]
            if config.engine.backend == .embedded, let key = remoteKeys.first(where: { engine[$0] != nil }) {
                throw r.error(engine[key]!, "engine.\(key) applies to backend: remote only")
            }
            if config.engine.backend == .remote {
                let u = try r.required(engine, "url", e)
                let url = try r.string(u, "engine.url")
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw r.error(u, "engine.url must start with http:// or https://") }
                config.engine.url = url
                guard engine["model"] != nil else { throw r.error(e, "missing key 'model' (the model name the server serves)") }
                config.engine.apiKeyEnvironment = try engine["api_key_env"].map { try r.string($0, "engine.api_key_env") }
                if let n = engine["concurrency"] { config.engine.concurrency = try r.int(n, "engine.concurrency", min: 1) }
                config.engine.cacheDirectory = try engine["cache"].map { try r.string($0, "engine.cache") }
                if let n = engine["timeout_seconds"] { config.engine.timeoutSeconds = try r.int(n, "engine.timeout_seconds", min: 1) }
                if let n = engine["max_retries"] { config.engine.maxRetries = try r.int(n, "engine.max_retries", min: 0) }
                if let t = engine["chat_template"] {
                    let s = try r.string(t, "engine.chat_template")
                    guard let template = ChatTemplate(rawValue: s) else { throw r.error(t, "engine.chat_template must be qwen25 or qwen3, not '\(s)'") }
                    config.engine.chatTemplate = template
                }
            }
            if let n = engine["kv_budget_tokens"] { config.engine.kvBudgetTokens = try r.int(n, "engine.kv_budget_tokens", min: 256) }
            if let n = engine["step_tokens"] { config.engine.stepTokens = try r.int(n, "engine.step_tokens", min: 16) }
            if let n = engine["batch_records"] { config.engine.batchRecords = try r.int(n, "engine.batch_records", min: 1) }
        }

        let stagesNode = try r.required(top, "stages", root)
        guard case let .sequence(sequence) = stagesNode else { throw r.error(stagesNode, "stages must be a list") }
        for item in sequence {
            let stage = try r.mapping(item, "a stage", allowed: ["normalize", "detect-language", "filter", "translate", "classify"])
            guard stage.count == 1, let (kind, body) = stage.first else {
                throw r.error(item, "each stage is one key (normalize, detect-language, filter, translate, classify)")
            }
            let options: [String: Node]
            if case .scalar = body { options = [:] } else { options = try r.mapping(body, kind, allowed: Self.stageKeys[kind]!) }
            func fields() throws -> [String]? { try options["fields"].map { try r.strings($0, "\(kind).fields") } }
            switch kind {
            case "normalize":
                config.stages.append(.normalize(fields: try fields(), form: try options["form"].map { try r.string($0, "normalize.form") }))
            case "detect-language":
                config.stages.append(.detectLanguage(fields: try fields()))
            case "filter":
                config.stages.append(.filter(
                    languages: try options["languages"].map { try r.strings($0, "filter.languages") },
                    scripts: try options["scripts"].map { try r.strings($0, "filter.scripts") },
                    minCharacters: try options["min_chars"].map { try r.int($0, "filter.min_chars", min: 0) },
                    maxCharacters: try options["max_chars"].map { try r.int($0, "filter.max_chars", min: 1) }))
            case "translate":
                var t = TranslateOptions(target: try r.string(try r.required(options, "target", body), "translate.target"))
                t.source = try options["source"].map { try r.string($0, "translate.source") }
                t.fields = try fields()
                if let n = options["max_tokens"] { t.maxTokens = try r.int(n, "translate.max_tokens", min: 1) }
                if let n = options["chunk_chars"] { t.chunkCharacters = try r.int(n, "translate.chunk_chars", min: 50) }
                if let g = options["glossary"] {
                    let map = try r.mapping(g, "translate.glossary", allowed: nil)
                    t.glossary = try map.sorted { $0.key < $1.key }.map { ($0.key, try r.string($0.value, "translate.glossary.\($0.key)")) }
                }
                config.stages.append(.translate(t))
            case "classify":
                let labelsNode = try r.required(options, "labels", body)
                let labels = try r.strings(labelsNode, "classify.labels")
                guard !labels.isEmpty, Set(labels).count == labels.count else { throw r.error(labelsNode, "classify.labels must be a non-empty list without duplicates") }
                config.stages.append(.classify(ClassifyOptions(labels: labels, instructions: try options["instructions"].map { try r.string($0, "classify.instructions") }, fields: try fields())))
            default:
                break
            }
        }
        return config
    }

    static let stageKeys: [String: Set<String>] = [
        "normalize": ["fields", "form"], "detect-language": ["fields"],
        "filter": ["languages", "scripts", "min_chars", "max_chars"],
        "translate": ["target", "source", "fields", "max_tokens", "chunk_chars", "glossary"],
        "classify": ["labels", "instructions", "fields"],
    ]

    private static func line(of error: YamlError) -> Int? {
        let text = "\(error)"
        guard let range = text.range(of: #"\d+:\d+"#, options: .regularExpression) else { return nil }
        return Int(text[range].split(separator: ":")[0])
    }

    /// Walks YAML nodes, reporting the line of anything wrong.
    struct Reader {
        let file: String

        func error(_ node: Node, _ message: String) -> ConfigError {
            ConfigError(file: file, line: node.mark?.line ?? 1, message: message)
        }

        func mapping(_ node: Node, _ what: String, allowed: Set<String>?) throws -> [String: Node] {
            guard case let .mapping(m) = node else { throw error(node, "\(what) must be a mapping of keys") }
            var out: [String: Node] = [:]
            for (k, v) in m {
                guard let key = k.string else { throw error(k, "keys of \(what) must be strings") }
                if let allowed, !allowed.contains(key) {
                    throw error(k, "unknown key '\(key)' in \(what) (expected \(allowed.sorted().joined(separator: ", ")))")
                }
                out[key] = v
            }
            return out
        }

        func required(_ map: [String: Node], _ key: String, _ parent: Node) throws -> Node {
            guard let v = map[key] else { throw error(parent, "missing key '\(key)'") }
            return v
        }

        func string(_ node: Node, _ what: String) throws -> String {
            guard case .scalar = node, let s = node.string else { throw error(node, "\(what) must be a string") }
            return s
        }

        func int(_ node: Node, _ what: String, min: Int) throws -> Int {
            guard let i = node.int, i >= min else { throw error(node, "\(what) must be an integer >= \(min)") }
            return i
        }

        func strings(_ node: Node, _ what: String) throws -> [String] {
            switch node {
            case .scalar: return [try string(node, what)]
            case let .sequence(items): return try items.map { try string($0, what) }
            default: throw error(node, "\(what) must be a string or a list of strings")
            }
        }
    }
}
