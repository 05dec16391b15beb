import Foundation
import GlossaEngine
import GlossaText
import Yams

/// A pipeline definition read from YAML. Errors name the file, line and key.
public struct PipelineConfig: Sendable {
    public struct Input: Sendable {
        public var paths: [String]
        /// The YAML line of each path (errors about a path that matches nothing name it).
        public var pathLines: [Int] = []
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
        case extract(ExtractOptions)

        public var name: String {
            switch self {
            case .normalize: "normalize"
            case .detectLanguage: "detect-language"
            case .filter: "filter"
            case .translate: "translate"
            case .classify: "classify"
            case .extract: "extract"
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

    public struct ExtractOptions: Sendable {
        /// The JSON Schema every answer follows (compiled at load, so a bad one is an error
        /// with its line).
        public var schema: JSONValue
        public var constraint: Constraint
        public var instructions: String?
        public var system: String?
        /// Where the object goes: `metadata.<field>`, or a top-level key with `top_level`.
        public var field = "extracted"
        public var topLevel = false
        public var fields: [String]?
        public var maxTokens = 512
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
        /// Threads of the run (the embedded engine and the record stages): `auto` or a count;
        /// nil: not set here (`glossa run --threads` and `GLOSSA_THREADS` come first, then auto).
        public var threads: ThreadCount?
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
    /// The file the definition was read from (errors found while running name it).
    public var file = "pipeline.yaml"

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
            if case let .duplicatedKeysInMapping(duplicates, context) = error {
                throw Self.duplicateKeyError(duplicates, first: context.mark, yaml: yaml, file: file)
            }
            throw ConfigError(file: file, line: Self.line(of: error) ?? 1, message: "not valid YAML: \(error)")
        }
        let r = Reader(file: file)
        let top = try r.mapping(root, "the pipeline", allowed: ["name", "input", "stages", "output", "engine", "metadata_field"])
        let inputNode = try r.required(top, "input", root)
        let input = try r.mapping(inputNode, "input", allowed: ["paths", "format", "fields", "split_bytes"])
        let pathsNode = try r.required(input, "paths", inputNode)
        var config = PipelineConfig(
            name: try top["name"].map { try r.string($0, "name") } ?? (file as NSString).lastPathComponent,
            input: Input(paths: try r.strings(pathsNode, "input.paths")),
            stages: [],
            output: Output(directory: ""),
            fingerprint: SHA256.hex(Array(yaml.utf8)))
        config.source = yaml
        config.file = file
        guard !config.input.paths.isEmpty else { throw r.error(pathsNode, "input.paths is empty; list the files, globs or directories to read") }
        if case let .sequence(items) = pathsNode {
            config.input.pathLines = items.map { $0.mark?.line ?? pathsNode.mark?.line ?? 1 }
        } else {
            config.input.pathLines = [pathsNode.mark?.line ?? 1]
        }
        for (path, line) in zip(config.input.paths, config.input.pathLines) where path.isEmpty {
            throw ConfigError(file: file, line: line, message: "input.paths has an empty entry")
        }
        if let f = input["format"] {
            let s = try r.string(f, "input.format")
            guard let format = InputFormat(rawValue: s) else { throw r.error(f, "input.format must be auto, jsonl or text, not '\(s)'") }
            config.input.format = format
        }
        if let f = input["fields"] { config.input.fields = try r.fieldNames(f, "input.fields") }
        if let n = input["split_bytes"] { config.input.splitBytes = try r.int(n, "input.split_bytes", min: 0) }
        if let m = top["metadata_field"] {
            config.metadataField = try r.string(m, "metadata_field")
            guard !config.metadataField.isEmpty else { throw r.error(m, "metadata_field is empty; name the object that receives language, script and labels (default: metadata)") }
        }

        let output = try r.mapping(try r.required(top, "output", root), "output", allowed: ["dir", "path", "max_records", "max_bytes", "checkpoint_records"])
        let outputNode = try r.required(top, "output", root)
        let dirNode = try r.required(output, "dir", outputNode)
        config.output.directory = try r.string(dirNode, "output.dir")
        if let problem = OutputPaths.directoryProblem(config.output.directory) { throw r.error(dirNode, problem) }
        if let p = output["path"] {
            config.output.path = try r.string(p, "output.path")
            do { _ = try PathTemplate(config.output.path) } catch { throw r.error(p, "\(error)") }
            if let problem = OutputPaths.templateProblem(config.output.path) { throw r.error(p, problem) }
        }
        if let n = output["max_records"] { config.output.maxRecords = try r.int(n, "output.max_records", min: 1) }
        if let n = output["max_bytes"] { config.output.maxBytes = try r.int(n, "output.max_bytes", min: 1) }
        if let n = output["checkpoint_records"] { config.output.checkpointRecords = try r.int(n, "output.checkpoint_records", min: 1) }

        if let e = top["engine"] {
            let engine = try r.mapping(e, "engine", allowed: [
                "backend", "model", "kv_budget_tokens", "kv_cache", "threads", "step_tokens", "batch_records",
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
            if let t = engine["threads"] {
                let s = try r.string(t, "engine.threads")
                guard let threads = ThreadCount(parsing: s) else {
                    throw r.error(t, "engine.threads must be auto or an integer from 1 to \(ThreadCount.most), not '\(s)'")
                }
                config.engine.threads = threads
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
        var detectsLanguage = false
        for item in sequence {
            let stage = try r.mapping(item, "a stage", allowed: Set(Self.stageKeys.keys))
            guard stage.count == 1, let (kind, body) = stage.first else {
                throw r.error(item, "each stage is one key (\(Self.stageKeys.keys.sorted().joined(separator: ", ")))")
            }
            let options: [String: Node]
            if case .scalar = body {
                // `- normalize:` (nothing after the colon) takes the defaults; any other scalar
                // would silently be ignored, so it is an error.
                guard body.null != nil else {
                    throw r.error(body, "the options of stage '\(kind)' must be a mapping of keys (\(Self.stageKeys[kind, default: []].sorted().joined(separator: ", "))), not the text '\(body.string ?? "")'")
                }
                options = [:]
            } else {
                options = try r.mapping(body, kind, allowed: Self.stageKeys[kind, default: []])
            }
            func fields() throws -> [String]? { try options["fields"].map { try r.fieldNames($0, "\(kind).fields") } }
            switch kind {
            case "normalize":
                var form: String?
                if let f = options["form"] {
                    let s = try r.string(f, "normalize.form")
                    guard Normalizer.Form(rawValue: s) != nil else {
                        throw r.error(f, "normalize.form must be one of \(Normalizer.Form.allCases.map(\.rawValue).joined(separator: ", ")), not '\(s)'")
                    }
                    form = s
                }
                config.stages.append(.normalize(fields: try fields(), form: form))
            case "detect-language":
                config.stages.append(.detectLanguage(fields: try fields()))
                detectsLanguage = true
            case "filter":
                guard !options.isEmpty else {
                    throw r.error(item, "stage 'filter' has no criteria; give languages, scripts, min_chars or max_chars")
                }
                var languages: [String]?, scripts: [String]?
                for key in ["languages", "scripts"] {
                    guard let node = options[key] else { continue }
                    guard detectsLanguage else {
                        throw r.error(node, "filter.\(key) needs a detect-language stage before the filter (records have no \(key == "languages" ? "language" : "script") to filter on otherwise)")
                    }
                    let values = try r.strings(node, "filter.\(key)")
                    guard !values.isEmpty else { throw r.error(node, "filter.\(key) is empty (it would reject every record)") }
                    for value in values {
                        if key == "languages", !LanguageCodes.isKnownLanguage(value) {
                            throw r.error(node, "filter.languages: unknown language code '\(value)' (the BCP-47 tags of `glossa languages`, or und)")
                        }
                        if key == "scripts", !LanguageCodes.isKnownScript(value) {
                            throw r.error(node, "filter.scripts: unknown script code '\(value)' (ISO 15924, e.g. Latn, Cyrl, Hans, Jpan)")
                        }
                    }
                    if key == "languages" { languages = values } else { scripts = values }
                }
                let minC = try options["min_chars"].map { try r.int($0, "filter.min_chars", min: 0) }
                let maxC = try options["max_chars"].map { try r.int($0, "filter.max_chars", min: 1) }
                if let minC, let maxC, minC > maxC, let node = options["max_chars"] {
                    throw r.error(node, "filter.max_chars (\(maxC)) is smaller than filter.min_chars (\(minC)); every record would be rejected")
                }
                config.stages.append(.filter(languages: languages, scripts: scripts, minCharacters: minC, maxCharacters: maxC))
            case "translate":
                let targetNode = try r.required(options, "target", body)
                var t = TranslateOptions(target: try r.string(targetNode, "translate.target"))
                guard LanguageRegistry.language(bcp47: t.target) != nil else {
                    throw r.error(targetNode, "translate.target: unknown language code '\(t.target)' (one of the BCP-47 tags of `glossa languages`)")
                }
                if let s = options["source"] {
                    let source = try r.string(s, "translate.source")
                    guard LanguageCodes.isKnownLanguage(source) else {
                        throw r.error(s, "translate.source: unknown language code '\(source)' (the BCP-47 tags of `glossa languages`)")
                    }
                    t.source = source
                }
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
                guard !labels.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else { throw r.error(labelsNode, "classify.labels has an empty label") }
                guard !labels.isEmpty, Set(labels).count == labels.count else { throw r.error(labelsNode, "classify.labels must be a non-empty list without duplicates") }
                config.stages.append(.classify(ClassifyOptions(labels: labels, instructions: try options["instructions"].map { try r.string($0, "classify.instructions") }, fields: try fields())))
            case "extract":
                config.stages.append(.extract(try r.extractOptions(options, body, fields: try fields())))
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
        "extract": ["schema", "schema_file", "instructions", "system", "field", "top_level", "fields", "max_tokens"],
    ]

    /// Yams reports a duplicated key at its first occurrence with the whole document as
    /// context; the error names the key and the line where it is repeated.
    static func duplicateKeyError(_ keys: [String], first: Mark, yaml: String, file: String) -> ConfigError {
        let key = keys.first ?? "?"
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        // The repeat: the next line after the first one that starts, at the same column, with
        // the key and a colon.
        let indent = max(0, first.column - 1)
        var repeatLine = first.line
        if first.line >= 1 {
            for n in first.line..<lines.count {
                let text = lines[n]
                let rest = text.drop { $0 == "-" || $0 == " " }
                let column = text.count - rest.count
                if column == indent, rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                    repeatLine = n + 1
                    break
                }
            }
        }
        return ConfigError(file: file, line: repeatLine, message: "key '\(key)' appears twice in the same mapping (first at line \(first.line)); keep one")
    }

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

        /// Names of record fields: a non-empty list of non-empty names.
        func fieldNames(_ node: Node, _ what: String) throws -> [String] {
            let names = try strings(node, what)
            guard !names.isEmpty else { throw error(node, "\(what) is empty; name at least one field to read") }
            guard !names.contains("") else { throw error(node, "\(what) has an empty field name") }
            return names
        }

        /// `extract`: the schema inline (YAML, keys in their order) or from a JSON file next to
        /// the pipeline, compiled here so that an unsupported keyword is reported with its line.
        func extractOptions(_ options: [String: Node], _ body: Node, fields: [String]?) throws -> ExtractOptions {
            let schema: JSONValue, at: Node
            switch (options["schema"], options["schema_file"]) {
            case let (node?, nil):
                schema = try json(node, "extract.schema")
                at = node
            case let (nil, node?):
                let name = try string(node, "extract.schema_file")
                let path = name.hasPrefix("/") ? name : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(name).path
                guard let data = FileManager.default.contents(atPath: path) else { throw error(node, "extract.schema_file: cannot read \(path)") }
                do { schema = try JSONParser.parse(String(decoding: data, as: UTF8.self)).value } catch {
                    throw self.error(node, "extract.schema_file \(path) is not valid JSON: \(error)")
                }
                at = node
            case (nil, nil): throw error(body, "extract needs 'schema' (inline) or 'schema_file'")
            case (_?, _?): throw error(body, "extract takes 'schema' or 'schema_file', not both")
            }
            let constraint: Constraint
            do { constraint = try Constraint(.jsonSchema(schema)) } catch { throw self.error(at, "extract.schema: \(error.message)") }
            var o = ExtractOptions(schema: schema, constraint: constraint)
            o.instructions = try options["instructions"].map { try string($0, "extract.instructions") }
            o.system = try options["system"].map { try string($0, "extract.system") }
            if let f = options["field"] {
                o.field = try string(f, "extract.field")
                guard !o.field.isEmpty else { throw error(f, "extract.field is empty; name the key the object goes to") }
            }
            if let t = options["top_level"] {
                guard let b = t.bool else { throw error(t, "extract.top_level must be true or false") }
                o.topLevel = b
            }
            o.fields = fields
            if let n = options["max_tokens"] { o.maxTokens = try int(n, "extract.max_tokens", min: 1) }
            return o
        }

        /// A YAML value as JSON: mappings keep their order; plain scalars are null, booleans
        /// or numbers when YAML reads them so, quoted ones are strings.
        func json(_ node: Node, _ what: String) throws -> JSONValue {
            switch node {
            case let .scalar(scalar):
                guard scalar.style == .plain else { return .string(scalar.string) }
                if node.null != nil { return .null }
                if let b = node.bool { return .bool(b) }
                if node.int != nil || node.float != nil, let number = try? JSONParser.parse(scalar.string).value, case .number = number {
                    return number
                }
                if let i = node.int { return .number(String(i)) }
                return .string(scalar.string)
            case let .mapping(mapping):
                var object = JSONObject()
                for (k, v) in mapping {
                    guard let key = k.string else { throw error(k, "keys of \(what) must be strings") }
                    object[key] = try json(v, what + "." + key)
                }
                return .object(object)
            case let .sequence(items):
                return .array(try items.map { try json($0, what) })
            case .alias:
                throw error(node, "\(what): YAML aliases are not supported here")
            }
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
