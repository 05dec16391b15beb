import Foundation
import GlossaEngine
import Yams

/// A stage as a pipeline definition names it: its key, the options it accepts, how it reads
/// them from YAML and how it is built for a run. A new stage is one file with a type conforming
/// to this, and one line in `StageRegistry.all`.
public protocol StageOptions: Sendable {
    /// The stage's key in `stages:` (and the name its counts are reported under).
    static var name: String { get }
    /// The option keys it accepts; any other key is an error naming its line.
    static var keys: Set<String> { get }
    /// Reads the options; errors name the file and line (`yaml.error`).
    init(yaml: StageYAML) throws
    /// The stage a run uses. Engine stages share the run's backend (`context.backend()`).
    func makeStage(_ context: StageContext) throws -> any PipelineStage
}

extension StageOptions {
    public var name: String { Self.name }
}

/// Every stage a pipeline definition can name, in the order `glossa` lists them.
public enum StageRegistry {
    public static let all: [StageKind] = [
        StageKind(NormalizeOptions.self),
        StageKind(DetectLanguageOptions.self),
        StageKind(FilterOptions.self),
        StageKind(TranslateOptions.self),
        StageKind(ClassifyOptions.self),
        StageKind(ExtractOptions.self),
        StageKind(GenerateOptions.self),
    ]

    static func kind(named name: String) -> StageKind? {
        all.first { $0.name == name }
    }
}

/// A registered stage: its name, its option keys and how to read it. (A struct rather than an
/// existential metatype: Swift 6.3's SIL generation crashes on `init` through `any P.Type`.)
public struct StageKind: Sendable {
    public let name: String
    public let keys: Set<String>
    let read: @Sendable (StageYAML) throws -> any StageOptions

    init<T: StageOptions>(_ type: T.Type) {
        name = T.name
        keys = T.keys
        read = { try T(yaml: $0) }
    }
}

/// What building a stage for a run needs: the pipeline's defaults and the shared backend.
public struct StageContext {
    /// `input.fields`: the text fields a stage reads unless its own `fields` says otherwise.
    public let fields: [String]
    public let metadataField: String
    public let environment: [String: String]
    /// The run's model (loaded once, on first use, and shared by every engine stage).
    public let backend: () throws -> InferenceBackend

    /// A stage's own `fields`, else `input.fields`.
    func textFields(_ own: [String]?) -> TextFields { TextFields(names: own ?? fields) }
}

/// One stage's entry in a pipeline definition, as its options type reads it: typed access to
/// its keys, and errors that name the file and line.
public struct StageYAML {
    let reader: ConfigReader
    let options: [String: Node]
    /// The stage's body, for errors about the stage as a whole.
    let node: Node
    /// Names of the stages before this one (a filter on languages needs detect-language first).
    public let earlierStages: [String]
    /// The pipeline definition's file (relative paths in options are read from its folder).
    public var file: String { reader.file }

    public func has(_ key: String) -> Bool { options[key] != nil }
    public var isEmpty: Bool { options.isEmpty }

    /// An error at `key`'s line (or the stage's, when the key is absent).
    public func error(_ key: String?, _ message: String) -> PipelineConfig.ConfigError {
        reader.error(key.flatMap { options[$0] } ?? node, message)
    }

    public func string(_ key: String, in stage: String) throws -> String? {
        try options[key].map { try reader.string($0, "\(stage).\(key)") }
    }

    public func requiredString(_ key: String, in stage: String) throws -> String {
        try reader.string(try reader.required(options, key, node), "\(stage).\(key)")
    }

    public func int(_ key: String, in stage: String, min: Int) throws -> Int? {
        try options[key].map { try reader.int($0, "\(stage).\(key)", min: min) }
    }

    public func bool(_ key: String, in stage: String) throws -> Bool? {
        guard let node = options[key] else { return nil }
        guard let b = node.bool else { throw reader.error(node, "\(stage).\(key) must be true or false") }
        return b
    }

    public func strings(_ key: String, in stage: String) throws -> [String]? {
        try options[key].map { try reader.strings($0, "\(stage).\(key)") }
    }

    /// `fields`: the record fields the stage reads instead of `input.fields`.
    public func fields(in stage: String) throws -> [String]? {
        try options["fields"].map { try reader.fieldNames($0, "\(stage).fields") }
    }

    /// A mapping's keys and string values, sorted by key (a glossary).
    public func stringMap(_ key: String, in stage: String) throws -> [(String, String)]? {
        guard let node = options[key] else { return nil }
        let map = try reader.mapping(node, "\(stage).\(key)", allowed: nil)
        return try map.sorted { $0.key < $1.key }.map { ($0.key, try reader.string($0.value, "\(stage).\(key).\($0.key)")) }
    }

    /// A value as JSON (YAML mappings keep their order).
    public func json(_ key: String, in stage: String) throws -> JSONValue? {
        try options[key].map { try reader.json($0, "\(stage).\(key)") }
    }
}
