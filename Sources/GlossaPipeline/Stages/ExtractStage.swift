import Foundation
import GlossaEngine

/// Structured extraction: for each record the engine writes a JSON value that follows the
/// stage's schema — guaranteed by the constraint during decoding, then checked again by an
/// independent validator. A value that fails that check is an engine bug: the record is
/// rejected (`internal_error`, nothing lost) and `schema_mismatches` counts it, which the tests
/// hold at zero.
final class ExtractStage: PipelineStage {
    let name = "extract"
    let backend: InferenceBackend
    let options: PipelineConfig.ExtractOptions
    let fields: TextFields
    let metadataField: String
    let validator: JSONSchemaValidator
    let system: String
    let instructions: String
    var extracted = 0, mismatches = 0, failures = 0, generatedTokens = 0, promptTokens = 0

    static let defaultSystem = "You extract structured data from text. Reply with one JSON value that follows the schema, and nothing else."
    static let defaultInstructions = "Extract the information described by this JSON Schema from the text.\n\nSchema:\n{schema}\n\nText:\n{text}"

    init(backend: InferenceBackend, options: PipelineConfig.ExtractOptions, fields: [String], metadataField: String) {
        self.backend = backend
        self.options = options
        self.fields = TextFields(names: options.fields ?? fields)
        self.metadataField = metadataField
        validator = JSONSchemaValidator(root: options.schema)
        system = options.system ?? Self.defaultSystem
        var schemaText: [UInt8] = []
        JSONWriter.write(options.schema, into: &schemaText)
        instructions = (options.instructions ?? Self.defaultInstructions)
            .replacingOccurrences(of: "{schema}", with: String(decoding: schemaText, as: UTF8.self))
    }

    func process(_ batch: inout [PipelineRecord]) throws {
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
            generatedTokens += answer.generatedTokens
            promptTokens += answer.promptTokens
            if let failure = answer.failure {
                failures += 1
                batch[i].rejection = Rejection(answer.failureCode ?? "engine_error", "extraction failed: \(failure)")
                continue
            }
            let value: JSONValue
            do { value = try JSONParser.parse(answer.content).value } catch {
                mismatches += 1
                batch[i].rejection = Rejection("internal_error", "the constrained answer is not JSON (\(error)): \(answer.content.prefix(200))")
                continue
            }
            let problems = validator.validate(value)
            guard problems.isEmpty else {
                mismatches += 1
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
            extracted += 1
        }
    }

    var statsJSON: JSONValue {
        .object(JSONObject([
            "extracted": .number(String(extracted)), "schema_mismatches": .number(String(mismatches)),
            "failures": .number(String(failures)), "generated_tokens": .number(String(generatedTokens)),
            "prompt_tokens": .number(String(promptTokens)),
        ]))
    }

    func resetStats() { extracted = 0; mismatches = 0; failures = 0; generatedTokens = 0; promptTokens = 0 }
}
