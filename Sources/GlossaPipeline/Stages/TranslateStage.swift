import Foundation
import GlossaEngine
import GlossaText

/// `translate`: the text fields in another language, with the engine.
public struct TranslateOptions: StageOptions {
    public static let name = "translate"
    public static let keys: Set<String> = ["target", "source", "fields", "max_tokens", "chunk_chars", "glossary"]

    public var target: String
    public var source: String?
    public var fields: [String]?
    public var maxTokens = 512
    public var chunkCharacters = 700
    public var glossary: [(String, String)] = []

    public init(target: String) {
        self.target = target
    }

    public init(yaml: StageYAML) throws {
        target = try yaml.requiredString("target", in: Self.name)
        guard LanguageRegistry.language(bcp47: target) != nil else {
            throw yaml.error("target", "translate.target: unknown language code '\(target)' (one of the BCP-47 tags of `glossa languages`)")
        }
        if let source = try yaml.string("source", in: Self.name) {
            guard LanguageCodes.isKnownLanguage(source) else {
                throw yaml.error("source", "translate.source: unknown language code '\(source)' (the BCP-47 tags of `glossa languages`)")
            }
            self.source = source
        }
        fields = try yaml.fields(in: Self.name)
        maxTokens = try yaml.int("max_tokens", in: Self.name, min: 1) ?? maxTokens
        chunkCharacters = try yaml.int("chunk_chars", in: Self.name, min: 50) ?? chunkCharacters
        glossary = try yaml.stringMap("glossary", in: Self.name) ?? []
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        try TranslateStage(options: self, context: context)
    }
}

/// Translation with the engine (non-thinking mode, greedy). Long texts are cut at ICU sentence
/// boundaries into chunks and every chunk of the batch goes to the engine together. Protected
/// spans (URLs, e-mail addresses, @mentions, ticket ids, code) must come back verbatim: the
/// first attempt sends the text as it is (small models copy a URL more reliably than a marker);
/// a field whose spans did not survive is retried once with the spans swapped for numbered
/// markers and a reminder, then the record is rejected with the reason.
final class TranslateStage: PipelineStage {
    let name = TranslateOptions.name
    let options: TranslateOptions
    let backend: InferenceBackend
    let fields: TextFields
    let metadataField: String
    let targetName: String

    init(options: TranslateOptions, context: StageContext) throws {
        backend = try context.backend()
        self.options = options
        fields = context.textFields(options.fields)
        metadataField = context.metadataField
        targetName = LanguageRegistry.language(bcp47: options.target)?.name ?? options.target
    }

    /// One piece of text to translate: where it came from and what to send.
    private struct Job {
        var record: Int
        var field: String
        var item: Int?           // index in an array field
        var protected: ProtectedText
        var source: String
        var language: String
        var pieces: [(text: String, separator: String)]
        var translated: [String?] = []
        /// Why the backend refused a piece (e.g. longer than the context): no retry can help.
        var failure: Completion?
    }

    var emptyStats: StageStats {
        StageStats(counts: ["chunks", "retried", "placeholder_failures", "same_language", "prompt_tokens", "generated_tokens"])
    }

    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        var jobs: [Job] = []
        for i in batch.indices where batch[i].rejection == nil {
            let meta = batch[i].object[metadataField]?.objectValue
            let source = options.source ?? meta?["language"]?.stringValue
            let sameLanguage = source.map { $0 == options.target || $0.hasPrefix(options.target + "-") } ?? false
            var translation = JSONObject()
            for field in fields.names {
                guard let value = batch[i].object[field] else { continue }
                switch value {
                case let .string(text):
                    // Placeholder first, so the translation keeps the fields' order.
                    translation[field] = sameLanguage ? .string(text) : .null
                    if !sameLanguage { jobs.append(makeJob(i, field, nil, text, source)) }
                case let .array(items) where items.allSatisfy({ $0.stringValue != nil }):
                    if sameLanguage { translation[field] = value; continue }
                    for (k, item) in items.enumerated() { jobs.append(makeJob(i, field, k, item.stringValue!, source)) }
                    translation[field] = .array(items.map { _ in .null })
                case .null: continue
                default:
                    batch[i].rejection = Rejection(Rejection.fieldNotText, "field '\(field)' is \(value.kindName)")
                }
            }
            if sameLanguage { stats.add("same_language") }
            batch[i].object["translation"] = .object(translation)
        }
        try translate(&jobs, stats: &stats)
        for job in jobs {
            guard batch[job.record].rejection == nil else { continue }
            if let failed = job.failure {
                stats.add("placeholder_failures")
                batch[job.record].rejection = Rejection(failed.failureCode ?? "engine_error",
                                                        "the translation of '\(job.field)' failed: \(failed.failure ?? "no answer")")
                continue
            }
            if job.translated.contains(where: { $0 == nil }) {
                stats.add("placeholder_failures")
                batch[job.record].rejection = Rejection("placeholders_lost", "the translation of '\(job.field)' lost protected spans (URLs, code, mentions or ids) twice")
                continue
            }
            let text = zip(job.translated, job.pieces).map { $0.0! + $0.1.separator }.joined()
            guard case var .object(translation)? = batch[job.record].object["translation"] else { continue }
            if let item = job.item, case var .array(items)? = translation[job.field] {
                items[item] = .string(text)
                translation[job.field] = .array(items)
            } else {
                translation[job.field] = .string(text)
            }
            batch[job.record].object["translation"] = .object(translation)
        }
        for i in batch.indices where batch[i].rejection == nil {
            var meta = batch[i].object[metadataField]?.objectValue ?? JSONObject()
            meta["translated_to"] = .string(options.target)
            batch[i].object[metadataField] = .object(meta)
        }
    }

    private func makeJob(_ record: Int, _ field: String, _ item: Int?, _ text: String, _ language: String?) -> Job {
        let protected = ProtectedText(protecting: text)
        return Job(record: record, field: field, item: item, protected: protected, source: text,
                   language: language ?? "en", pieces: split(text, locale: language ?? "en"))
    }

    /// Sentence pieces packed into chunks of at most `chunkCharacters`, each with the whitespace
    /// that followed it in the source.
    private func split(_ text: String, locale: String) -> [(text: String, separator: String)] {
        guard text.count > options.chunkCharacters else {
            let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return [(body, String(text.reversed().prefix { $0.isWhitespace }.reversed()))]
        }
        let sentences = Segmenter(locale: locale).segments(in: text, by: .sentence).map(String.init)
        var chunks: [(String, String)] = []
        var current = ""
        for sentence in sentences {
            if !current.isEmpty && current.count + sentence.count > options.chunkCharacters {
                chunks.append(trimmed(current))
                current = ""
            }
            current += sentence
        }
        if !current.isEmpty { chunks.append(trimmed(current)) }
        return chunks
    }

    private func trimmed(_ s: String) -> (String, String) {
        let tail = String(s.reversed().prefix { $0.isWhitespace }.reversed())
        return (String(s.dropLast(tail.count)).trimmingCharacters(in: .whitespacesAndNewlines), tail)
    }

    /// Both passes in one backend run: a field whose spans did not survive is re-submitted (with
    /// markers and the reminder) as soon as its last piece is back, so the retries share the
    /// batch with the first pass instead of running after it.
    private func translate(_ original: inout [Job], stats: inout StageStats) throws {
        // Captured by the engine's follow-up closure.
        var jobs = original, counts = StageStats()
        let glossary = options.glossary.isEmpty ? "" :
            " Always translate these terms as given: " + options.glossary.map { "\($0.0) → \($0.1)" }.joined(separator: "; ") + "."
        func system(reminder: Bool) -> String {
            let keep = reminder
                ? " Keep every marker like ⟦0⟧ exactly as it is; every ⟦n⟧ marker of the text must appear in your reply, unchanged."
                : " Keep URLs, e-mail addresses, @mentions, ticket ids and code exactly as they are."
            return "You are a professional translator. Translate the user's text into \(targetName)." + keep + glossary + " Reply with the translation only."
        }
        let prompts = [system(reminder: false), system(reminder: true)]
        var owners: [(job: Int, piece: Int)] = []   // per engine request
        var waiting = [Int](repeating: 0, count: jobs.count)
        var retried = [Bool](repeating: false, count: jobs.count)
        // The requests of a job's current pass; pieces without text are done at once.
        func requests(for j: Int) -> [GenerationRequest] {
            jobs[j].translated = Array(repeating: nil, count: jobs[j].pieces.count)
            var out: [GenerationRequest] = []
            for (k, piece) in jobs[j].pieces.enumerated() {
                if piece.text.isEmpty { jobs[j].translated[k] = ""; continue }
                var r = GenerationRequest(.messages([ChatMessage(.system, prompts[retried[j] ? 1 : 0]), ChatMessage(.user, piece.text)]))
                r.maxTokens = options.maxTokens
                out.append(r)
                owners.append((j, k))
            }
            waiting[j] = out.count
            counts.add("chunks", out.count)
            return out
        }
        // A finished pass: keep the field if its spans survived, else retry once.
        func settle(_ j: Int) -> [GenerationRequest] {
            if jobs[j].failure != nil || check(&jobs[j], reminder: retried[j]) || retried[j] { return [] }
            retried[j] = true
            counts.add("retried")
            jobs[j].pieces = split(jobs[j].protected.text, locale: jobs[j].language)
            let more = requests(for: j)
            return more.isEmpty ? settle(j) : more
        }
        var initial: [GenerationRequest] = []
        for j in jobs.indices {
            let r = requests(for: j)
            initial += r.isEmpty ? settle(j) : r
        }
        _ = try backend.complete(initial, followUp: { i, out in
            let (j, k) = owners[i]
            counts.add("prompt_tokens", out.promptTokens)
            counts.add("generated_tokens", out.generatedTokens)
            if out.failure == nil { jobs[j].translated[k] = out.content.trimmingCharacters(in: .whitespacesAndNewlines) } else { jobs[j].failure = out }
            waiting[j] -= 1
            return waiting[j] == 0 ? settle(j) : []
        })
        original = jobs
        stats.merge(counts)
    }

    /// Whether a job's pieces kept all protected spans (verbatim, or as markers on the retry);
    /// then the field becomes one piece with the spans restored, else its pieces are cleared.
    private func check(_ job: inout Job, reminder: Bool) -> Bool {
        let joined = zip(job.translated, job.pieces).map { ($0.0 ?? "⟦missing⟧") + $0.1.separator }.joined()
        let survived: String?
        if reminder {
            survived = job.protected.restore(joined)
        } else {
            survived = joined.contains("⟦missing⟧") || !job.protected.spans.allSatisfy({ span in
                joined.components(separatedBy: span).count >= job.source.components(separatedBy: span).count
            }) ? nil : joined
        }
        guard let restored = survived else {
            job.translated = job.translated.map { _ in nil }
            return false
        }
        job.translated = [String(restored.dropLast(job.pieces.last?.separator.count ?? 0))]
        job.pieces = [(restored, job.pieces.last?.separator ?? "")]
        return true
    }
}
