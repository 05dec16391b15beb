import Foundation
import GlossaEngine

/// `extract`: a JSON value per record that follows a JSON Schema, written into its metadata (or
/// at the top level).
public struct ExtractOptions: StageOptions {
    public static let name = "extract"
    public static let keys: Set<String> = ["schema", "schema_file", "instructions", "system", "field", "top_level", "fields", "max_tokens"]

    /// The JSON Schema every answer follows (compiled when the definition is read, so a bad one
    /// is an error with its line).
    public var schema: JSONValue
    public var constraint: Constraint
    public var instructions: String?
    public var system: String?
    /// Where the object goes: `metadata.<field>`, or a top-level key with `top_level`.
    public var field = "extracted"
    public var topLevel = false
    public var fields: [String]?
    public var maxTokens = 512

    public init(schema: JSONValue) throws {
        self.schema = schema
        constraint = try Constraint(.jsonSchema(schema))
    }

    /// The schema inline (YAML, keys in their order) or from a JSON file next to the pipeline.
    public init(yaml: StageYAML) throws {
        let schema: JSONValue, at: String
        switch (yaml.has("schema"), yaml.has("schema_file")) {
        case (true, false):
            schema = try yaml.json("schema", in: Self.name) ?? .null
            at = "schema"
        case (false, true):
            let name = try yaml.requiredString("schema_file", in: Self.name)
            let path = name.hasPrefix("/") ? name : URL(fileURLWithPath: yaml.file).deletingLastPathComponent().appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else { throw yaml.error("schema_file", "extract.schema_file: cannot read \(path)") }
            do { schema = try JSONParser.parse(String(decoding: data, as: UTF8.self)).value } catch {
                throw yaml.error("schema_file", "extract.schema_file \(path) is not valid JSON: \(error)")
            }
            at = "schema_file"
        case (false, false): throw yaml.error(nil, "extract needs 'schema' (inline) or 'schema_file'")
        case (true, true): throw yaml.error(nil, "extract takes 'schema' or 'schema_file', not both")
        }
        do { try self.init(schema: schema) } catch let error as ConstraintError { throw yaml.error(at, "extract.schema: \(error.message)") }
        instructions = try yaml.string("instructions", in: Self.name)
        system = try yaml.string("system", in: Self.name)
        if let f = try yaml.string("field", in: Self.name) {
            guard !f.isEmpty else { throw yaml.error("field", "extract.field is empty; name the key the object goes to") }
            field = f
        }
        topLevel = try yaml.bool("top_level", in: Self.name) ?? false
        fields = try yaml.fields(in: Self.name)
        maxTokens = try yaml.int("max_tokens", in: Self.name, min: 1) ?? maxTokens
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        try ExtractStage(options: self, context: context)
    }
}

/// Structured extraction: for each record the engine writes a JSON value that follows the
/// stage's schema — guaranteed by the constraint during decoding, then checked again by an
/// independent validator. A value that fails that check is an engine bug: the record is
/// rejected (`internal_error`, nothing lost) and `schema_mismatches` counts it, which the tests
/// hold at zero.
final class ExtractStage: PipelineStage {
    let name = ExtractOptions.name
    let backend: InferenceBackend
    let options: ExtractOptions
    let fields: TextFields
    let metadataField: String
    let validator: JSONSchemaValidator
    let system: String
    let instructions: String

    static let defaultSystem = "You extract structured data from text. Reply with one JSON value that follows the schema, and nothing else."
    static let defaultInstructions = "Extract the information described by this JSON Schema from the text.\n\nSchema:\n{schema}\n\nText:\n{text}"

    init(options: ExtractOptions, context: StageContext) throws {
        backend = try context.backend()
        self.options = options
        fields = context.textFields(options.fields)
        metadataField = context.metadataField
        validator = JSONSchemaValidator(root: options.schema)
        system = options.system ?? Self.defaultSystem
        var schemaText: [UInt8] = []
        JSONWriter.write(options.schema, into: &schemaText)
        instructions = (options.instructions ?? Self.defaultInstructions)
            .replacingOccurrences(of: "{schema}", with: String(decoding: schemaText, as: UTF8.self))
    }

    var emptyStats: StageStats {
        StageStats(counts: ["extracted", "schema_mismatches", "failures", "generated_tokens", "prompt_tokens"])
    }

    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        var requests: [GenerationRequest] = [], owners: [Int] = []
        for i in batch.indices where batch[i].rejection == nil {
            var parts: [String] = []
            if let rejection = fields.forEachText(in: &batch[i].object, { parts.append($0) }) { batch[i].rejection = rejection; continue }
            let text = parts.joined(separator: "\n\n")
            let user = instructions.contains("{text}") ? instructions.replacingOccurrences(of: "{text}", with: text) : instructions + "\n\n" + text
            var r = GenerationRequest(.messages([ChatMessage(.system, system), ChatMessage(.user, user)]))
            r.maxTokens = options.maxTokens
            r.constraint = options.constraint
            requests.append(r)
            owners.append(i)
        }
        // The whole batch at once: continuous batching embedded, requests in flight remote.
        for (i, answer) in zip(owners, try backend.complete(requests)) {
            stats.add("generated_tokens", answer.generatedTokens)
            stats.add("prompt_tokens", answer.promptTokens)
            if let failure = answer.failure {
                stats.add("failures")
                batch[i].rejection = Rejection(answer.failureCode ?? "engine_error", "extraction failed: \(failure)")
                continue
            }
            let value: JSONValue
            do { value = try JSONParser.parse(answer.content).value } catch {
                stats.add("schema_mismatches")
                batch[i].rejection = Rejection("internal_error", "the constrained answer is not JSON (\(error)): \(answer.content.prefix(200))")
                continue
            }
            let problems = validator.validate(value)
            guard problems.isEmpty else {
                stats.add("schema_mismatches")
                batch[i].rejection = Rejection("internal_error", "the constrained answer fails the schema: \(problems.prefix(3).joined(separator: "; "))")
                continue
            }
            if options.topLevel {
                batch[i].object[options.field] = value
            } else {
                var meta = batch[i].object[metadataField]?.objectValue ?? JSONObject()
                meta[options.field] = value
                batch[i].object[metadataField] = .object(meta)
            }
            stats.add("extracted")
        }
    }
}
