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
        /// Lines longer than this are rejected (`line_too_long`) without being kept in memory.
        public var maxLineBytes = 64 << 20

        public init(paths: [String], format: InputFormat = .auto, fields: [String] = ["text"]) {
            self.paths = paths
            self.format = format
            self.fields = fields
        }
    }

    public struct Output: Sendable {
        /// The output directory: shards, rejects shards, checkpoints and manifests.
        public var directory: String
        /// Instead of a directory: everything in one file (and the rejects in another), written
        /// atomically at the end, without checkpoints: `glossa normalize` / `glossa detect`.
        public var file: FileOutput?
        public var path = "part-${rank}-${shard}.jsonl.zst"
        public var maxRecords = 10_000
        public var maxBytes = 256 << 20
        /// A unit is committed in segments of this many input lines: a killed run resumes at the
        /// last finished segment instead of the start of the unit.
        public var checkpointRecords = 10_000

        public init(directory: String, file: FileOutput? = nil) {
            self.directory = directory
            self.file = file
        }
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
    public var stages: [any StageOptions]
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
            throw GlossaError.cannotOpen(path: path, reason: "no such file")
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
        let r = ConfigReader(file: file)
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

        config.stages = try parseStages(try r.required(top, "stages", root), r)
        return config
    }

    /// `stages:` a list of one-key mappings, each read by the stage's own options type.
    private static func parseStages(_ node: Node, _ r: ConfigReader) throws -> [any StageOptions] {
        guard case let .sequence(sequence) = node else { throw r.error(node, "stages must be a list") }
        let names = StageRegistry.all.map(\.name)
        var stages: [any StageOptions] = [], earlier: [String] = []
        for item in sequence {
            let stage = try r.mapping(item, "a stage", allowed: Set(names))
            guard stage.count == 1, let (kind, body) = stage.first, let type = StageRegistry.kind(named: kind) else {
                throw r.error(item, "each stage is one key (\(names.sorted().joined(separator: ", ")))")
            }
            let options: [String: Node]
            if case .scalar = body {
                // `- normalize:` (nothing after the colon) takes the defaults; any other scalar
                // would silently be ignored, so it is an error.
                guard body.null != nil else {
                    throw r.error(body, "the options of stage '\(kind)' must be a mapping of keys (\(type.keys.sorted().joined(separator: ", "))), not the text '\(body.string ?? "")'")
                }
                options = [:]
            } else {
                options = try r.mapping(body, kind, allowed: type.keys)
            }
            stages.append(try type.read(StageYAML(reader: r, options: options, node: body, earlierStages: earlier)))
            earlier.append(kind)
        }
        return stages
    }

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
}

extension PipelineConfig {
    /// A pipeline built in code (the record commands, tests): no YAML behind it.
    public init(name: String, input: Input, stages: [any StageOptions], output: Output) {
        self.name = name
        self.input = input
        self.stages = stages
        self.output = output
        var text = "name: \(name)\nstages: \(stages.map(\.name))\ninputs: \(input.paths)\n"
        text += "fields: \(input.fields)\nformat: \(input.format.rawValue)\n"
        fingerprint = SHA256.hex(Array(text.utf8))
        source = text
        file = name
    }

    /// One stage over files into one output file, as `glossa normalize` and `glossa detect`
    /// run: not split into byte ranges (one process, records in input order), no checkpoints.
    public static func singleStage(_ stage: any StageOptions, inputs: [String], output: FileOutput, format: InputFormat = .auto,
                                   fields: [String] = ["text"], maxLineBytes: Int = 64 << 20,
                                   metadataField: String = "metadata") -> PipelineConfig {
        var input = Input(paths: inputs, format: format, fields: fields)
        input.maxLineBytes = maxLineBytes
        input.splitBytes = 0
        var config = PipelineConfig(name: "glossa \(stage.name)", input: input, stages: [stage], output: Output(directory: "", file: output))
        config.metadataField = metadataField
        return config
    }
}
