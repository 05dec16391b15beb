import ArgumentParser
import Foundation
import GlossaEngine
import GlossaPipeline

/// `glossa bench constrained`: what a JSON Schema on every request costs at B = 16 against the
/// same requests free, in the same run; the first-use cost of a schema; and, over many
/// generated requests of every constraint kind, how many outputs satisfy their constraint.
struct ConstrainedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constrained",
        abstract: "Constrained vs free generation at B = 16 (same run), schema first-use time, validity over many requests.")

    @Option(help: "Model file.")
    var model: String = LanguageModel.defaultModelPath(environment: ProcessInfo.processInfo.environment)

    @Option(help: "Rounds of (free, constrained); medians are reported.")
    var rounds = 3

    @Option(help: "Generated requests checked for validity (0 = skip).")
    var requests = 200

    static let triageSchema = """
        {"type": "object", "additionalProperties": false,
         "required": ["product", "component", "severity", "language", "summary_en", "mentions_customer_data"],
         "properties": {"product": {"type": "string", "maxLength": 60}, "component": {"type": "string", "maxLength": 60},
                        "severity": {"enum": ["low", "medium", "high", "critical"]}, "language": {"type": "string", "pattern": "[a-z]{2,3}"},
                        "summary_en": {"type": "string", "maxLength": 200}, "mentions_customer_data": {"type": "boolean"}}}
        """

    @OptionGroup var engineThreads: EngineThreadsOption

    func run() throws {
        try engineThreads.configure()
        let lm = try LanguageModel.load(model)
        let schema = try JSONParser.parse(Self.triageSchema).value
        var t = System.monotonicSeconds()
        let vocabulary = VocabularyTrie.of(lm.tokenizer)
        let trieSeconds = System.monotonicSeconds() - t
        t = System.monotonicSeconds()
        let constraint = try Constraint(.jsonSchema(schema))
        let compileSeconds = System.monotonicSeconds() - t
        t = System.monotonicSeconds()
        let first = constraint.allowedTokens(constraint.start, vocabulary: vocabulary)
        let maskSeconds = System.monotonicSeconds() - t
        print("constrained benchmark: \(model), B = 16, greedy, up to 96 tokens each, \(rounds) rounds")
        print("  vocabulary trie (once per tokenizer): \(format1(trieSeconds * 1000)) ms")
        print("  triage schema: compiled in \(format1(compileSeconds * 1000)) ms, first token mask (\(first.count) tokens allowed) in \(format1(maskSeconds * 1000)) ms")

        let tickets = try textFields(of: "corpora/sample-tickets.jsonl.zst", fields: ["title", "body"])
        guard !tickets.isEmpty else { throw ValidationError("corpora/sample-tickets.jsonl.zst has no tickets (run from the repository root)") }
        func batch(constrained: Bool, maxTokens: Int = 96) -> [GenerationRequest] {
            (0..<16).map { i in
                var r = GenerationRequest(.messages([
                    ChatMessage(.system, "You triage support tickets. Reply with a JSON object with product, component, severity, language, summary_en and mentions_customer_data."),
                    ChatMessage(.user, tickets[(i * 7) % tickets.count]),
                ]))
                r.maxTokens = maxTokens
                if constrained { r.constraint = constraint }
                return r
            }
        }
        // Constrained answers differ in length from free ones, so the prompts' prefill (the same
        // for both, measured alone with one token each) is taken out: the rates compare decoding.
        var free: [Double] = [], bound: [Double] = [], prefills: [Double] = []
        var invalid = 0
        // The free batch decodes exactly as many tokens per request as the constrained one did
        // (no stop tokens, max_tokens = its length), so both run the same batch sizes step by
        // step and the rates differ only by what the constraint costs.
        let unstopped = LanguageModel(transformer: lm.transformer, tokenizer: lm.tokenizer, template: lm.template, stopTokens: [])
        for _ in 0..<rounds {
            var lengths: [Int] = []
            for mode in ["prefill", "constrained", "free"] {
                let engine = BatchEngine(model: mode == "free" ? unstopped : lm, kvBudgetTokens: 16_384, stepTokens: 512, maxSequences: 16)
                var requests = batch(constrained: mode == "constrained", maxTokens: mode == "prefill" ? 1 : 96)
                if mode == "free" { for k in requests.indices { requests[k].maxTokens = max(1, lengths[k]) } }
                let t = System.monotonicSeconds()
                let outputs = engine.run(requests)
                let seconds = System.monotonicSeconds() - t
                if mode == "prefill" { prefills.append(seconds); continue }
                // Decoded tokens: appended completions were not computed by the model.
                let generated = outputs.reduce(0) { $0 + $1.tokens.count - $1.completionTokens } - outputs.count
                let rate = Double(generated) / max(seconds - (prefills.last ?? 0), 1e-9)
                if mode == "constrained" {
                    bound.append(rate)
                    invalid += outputs.filter { !constraint.matches($0.text) }.count
                    lengths = outputs.map { $0.tokens.count - $0.completionTokens }
                } else {
                    free.append(rate)
                }
            }
        }
        let walks = constraint.maskWalks
        let f = median(free), c = median(bound)
        print("  prefill of the 16 prompts: \(format2(median(prefills))) s (median), taken out of the rates below")
        print("  free:        \(format1(f)) decoded tok/s (median of \(rounds))")
        print("  constrained: \(format1(c)) decoded tok/s (median of \(rounds)), \(invalid) invalid outputs")
        print("  overhead: \(format1((1 - c / f) * 100))% (constrained / free = \(format2(c / f))x; target <= 5%)")
        print("  token masks computed (all rounds): \(walks.count), \(format2(walks.seconds)) s in all")

        guard requests > 0 else { return }
        // Validity: choices, regexes, grammars, schemas and any-JSON, mixed in one batch.
        let kinds: [(String, Constraint)] = [
            ("schema", constraint),
            ("regex", try Constraint(.regex(#"(low|medium|high|critical): [A-Za-z ,.]{5,80}"#))),
            ("choice", try Constraint(.choice(["bug", "question", "feature request", "incident"]))),
            ("ticket id", try Constraint(.regex(#"[A-Z]{2,5}-[0-9]{1,5}"#))),
            ("json", try Constraint(.json)),
            ("grammar", try Constraint(.grammar(#"root ::= "severity=" ("low" | "high") "; team=" [a-z]{2,12}"#))),
        ]
        let asks = ["Triage this ticket as JSON.", "Give the severity and a one-line reason.", "What kind of ticket is this?",
                    "Give a ticket id for it.", "Summarise it as a JSON value.", "Assign a severity and a team."]
        var all: [(GenerationRequest, Int)] = []
        for i in 0..<requests {
            let k = (i * 5 + i / 6) % kinds.count
            var r = GenerationRequest(.messages([ChatMessage(.user, "\(asks[k])\n\n\(tickets[(i * 11) % tickets.count])")]))
            r.maxTokens = 96
            r.constraint = kinds[k].1
            all.append((r, k))
        }
        t = System.monotonicSeconds()
        let outputs = BatchEngine(model: lm, kvBudgetTokens: 32_768, stepTokens: 512, maxSequences: 32).run(all.map(\.0))
        let seconds = System.monotonicSeconds() - t
        var valid = [Int](repeating: 0, count: kinds.count), total = valid, completed = 0
        for ((_, k), output) in zip(all, outputs) {
            total[k] += 1
            if kinds[k].1.matches(output.text) { valid[k] += 1 }
            if output.stopReason == .length { completed += 1 }
        }
        print("  validity over \(requests) requests (\(format1(seconds)) s): \(valid.reduce(0, +)) valid, \(completed) closed by the shortest completion at the token limit")
        for (k, kind) in kinds.enumerated() { print("    \(pad(kind.0, 10)) \(valid[k]) / \(total[k])") }
    }
}
