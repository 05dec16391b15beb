import Foundation
import GlossaIO
import GlossaTestSupport
import Testing
@testable import GlossaEngine

/// Constrained generation on the real default model: outputs always satisfy their constraint,
/// and a constrained request gives the same tokens alone and in a mixed batch.
@Suite(.serialized) struct ConstrainedGenerationTests {
    static let model = BatchEngineTests.model

    static let ticketSchema = """
        {"type": "object", "additionalProperties": false, "required": ["component", "severity", "summary"],
         "properties": {"component": {"enum": ["printer", "login", "billing", "network"]},
                        "severity": {"enum": ["low", "medium", "high"]},
                        "summary": {"type": "string", "maxLength": 60},
                        "customer_data": {"type": "boolean"}}}
        """

    static let tickets = ["Der Drucker im zweiten Stock druckt nur leere Seiten.", "I cannot log in since yesterday, the password reset mail never arrives.",
                          "La facture de mars est facturée deux fois.", "El wifi de la oficina se corta cada diez minutos.",
                          "ログイン画面でエラーが表示されます。", "The invoice PDF shows the wrong VAT number for our customer.",
                          "Network switch in room 4 blinks orange.", "Mi hanno addebitato due volte l'abbonamento."]

    /// A mix of constraint kinds generated from a seed: schemas, regexes and choices.
    static func constrainedRequests(_ count: Int, seed: UInt64, maxTokens: Int = 64) throws -> [(GenerationRequest, Constraint)] {
        var rng = SeededGenerator(seed: seed)
        let schema = try Constraint(.jsonSchema(JSONParser.parse(ticketSchema).value))
        let kinds: [Constraint] = [
            schema,
            try Constraint(.regex(#"(low|medium|high) priority: [A-Za-z ]{3,40}\."#)),
            try Constraint(.choice(["printer", "login", "billing", "network"])),
            try Constraint(.regex(#"[A-Z]{3,5}-[0-9]{1,5}"#)),
            try Constraint(.json),
            try Constraint(.grammar(#"root ::= "yes" | "no" | "unsure: " [a-z ]{1,20}"#)),
        ]
        let asks = ["Triage this ticket as JSON with component, severity and summary.", "Give the priority and a short reason.",
                    "Which component is this about?", "Invent a ticket id for it.", "Describe it as a JSON value.", "Is it urgent?"]
        return (0..<count).map { _ in
            let k = Int(rng.next() % UInt64(kinds.count))
            let ticket = tickets[Int(rng.next() % UInt64(tickets.count))]
            var r = GenerationRequest(.messages([ChatMessage(.system, "You are a support engineer."), ChatMessage(.user, "\(asks[k])\n\n\(ticket)")]))
            r.maxTokens = maxTokens
            r.constraint = kinds[k]
            return (r, kinds[k])
        }
    }

    @Test func everyConstrainedOutputIsValid() throws {
        let requests = try Self.constrainedRequests(48, seed: 7)
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 16_384, stepTokens: 256)
        let outputs = engine.run(requests.map(\.0))
        var ended = 0, completed = 0
        for ((_, constraint), output) in zip(requests, outputs) {
            #expect(output.stopReason != .error, "\(output.error ?? "")")
            #expect(constraint.matches(output.text), "\(constraint.kind): \(output.text.debugDescription)")
            if output.stopReason == .stop { ended += 1 } else { completed += 1 }
            if case .jsonSchema = constraint.kind {
                // An independent check: the text parses as JSON with the required fields.
                let object = try #require(try JSONParser.parse(output.text).value.objectValue, "\(output.text)")
                #expect(object["component"] != nil && object["severity"] != nil && object["summary"] != nil)
            }
        }
        // Both ways of ending happened: the model closing the constraint itself, and the
        // shortest completion when its tokens ran out.
        #expect(ended > 0)
        print("constrained: \(outputs.count) outputs, \(ended) ended by the model, \(completed) completed at the token limit")
    }

    @Test func tokensRunningOutStillGiveAValidAnswer() throws {
        var request = try Self.constrainedRequests(1, seed: 3)[0].0
        request.constraint = try Constraint(.jsonSchema(JSONParser.parse(Self.ticketSchema).value))
        request.maxTokens = 5
        let output = BatchEngine(model: Self.model).run([request])[0]
        #expect(output.stopReason == .length)
        #expect(output.tokens.count > 5, "the completion is appended after the 5 generated tokens")
        #expect(request.constraint?.matches(output.text) == true, "\(output.text)")
    }

    @Test func constrainedOutputIsTheSameAloneOrAmong31Others() throws {
        let constrained = try Self.constrainedRequests(16, seed: 11, maxTokens: 24).map(\.0)
        let free = BatchEngineTests.requests(16, maxTokens: 24)
        var mixed: [GenerationRequest] = []
        for i in 0..<16 { mixed += [constrained[i], free[i]] }
        let engine = BatchEngine(model: Self.model, kvBudgetTokens: 16_384, stepTokens: 128)
        let together = engine.run(mixed)
        #expect(together.count == 32)
        for i in [0, 1, 4, 9, 14, 22, 27, 30] {
            let alone = engine.run([mixed[i]])[0]
            #expect(alone.tokens == together[i].tokens, "request \(i)")
        }
        // Sampled constrained requests (full masks every step) are batch-invariant too.
        var sampled = constrained.prefix(4).map { r -> GenerationRequest in
            var r = r
            r.sampling = .qwen3NonThinking(seed: 99)
            return r
        }
        sampled += free.prefix(4)
        let batch = engine.run(sampled)
        for i in 0..<4 {
            #expect(engine.run([sampled[i]])[0].tokens == batch[i].tokens)
            #expect(sampled[i].constraint?.matches(batch[i].text) == true, "\(batch[i].text)")
        }
    }

    /// Thinking stays free; the answer after `</think>` follows the constraint. On the tiny
    /// random Qwen3 with a byte-level tokenizer that has Qwen3's chat tokens.
    @Test func theConstraintAppliesAfterThinking() throws {
        let transformer = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path)
        let tokenizer = try Self.byteTokenizer(size: transformer.config.vocabularySize)
        let model = LanguageModel(transformer: transformer, tokenizer: tokenizer, template: .qwen3,
                                  stopTokens: [try #require(tokenizer.id(of: "<|im_end|>"))])
        let constraint = try Constraint(.regex("(red|green|blue) [0-9]{2}"))
        var request = GenerationRequest(.messages([ChatMessage(.user, "Pick a colour and a number.")]))
        request.enableThinking = true
        request.thinkingBudget = 6
        request.maxTokens = 12
        request.constraint = constraint
        let output = BatchEngine(model: model, kvBudgetTokens: 256).run([request])[0]
        #expect(output.tokens.first == tokenizer.id(of: "<think>"))
        #expect(output.reasoning != nil, "\(output.text)")
        #expect(constraint.matches(output.content), "\(output.text.debugDescription) \(output.stopReason) \(output.error ?? "")")
        // Without thinking, the first token is already the constraint's.
        request.enableThinking = false
        request.thinkingBudget = nil
        let direct = BatchEngine(model: model, kvBudgetTokens: 256).run([request])[0]
        #expect(constraint.matches(direct.content), "\(direct.text.debugDescription)")
        #expect(direct.reasoning == nil || direct.reasoning == "")
    }

    /// Byte-level BPE without merges: 256 byte tokens (in GPT-2's printable mapping), then
    /// Qwen's chat and thinking tokens, then padding up to the model's vocabulary.
    static func byteTokenizer(size: Int) throws -> Tokenizer {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var mapping = [Int](repeating: 0, count: 256)
        for b in printable { mapping[b] = b }
        var extra = 0
        for b in 0..<256 where !printable.contains(b) { mapping[b] = 256 + extra; extra += 1 }
        printable.removeAll()
        var tokens = (0..<256).map { String(Character(Unicode.Scalar(UInt32(mapping[$0]))!)) }
        let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
        var added: [Tokenizer.AddedToken] = []
        for (k, s) in specials.enumerated() {
            added.append(Tokenizer.AddedToken(id: 256 + k, content: s, special: !s.contains("think")))
            tokens.append(s)
        }
        while tokens.count < size { tokens.append("<pad\(tokens.count)>"); added.append(Tokenizer.AddedToken(id: tokens.count - 1, content: tokens[tokens.count - 1], special: true)) }
        return try Tokenizer(tokens: tokens, merges: [], added: added, normalization: .none)
    }
}
