import Foundation
import GlossaEngine
import GlossaText

/// `translate`: the text fields in another language, with the engine.
public struct TranslateOptions: StageOptions {
    public static let name = "translate"
    public static let keys: Set<String> = ["target", "source", "fields", "max_tokens", "chunk_chars", "max_chars", "glossary",
                                           "glossary_file", "protect", "enforce", "qa"]

    /// What a failed quality check does to the record.
    public enum QAMode: String, Sendable { case flag, reject }

    public var target: String
    public var source: String?
    public var fields: [String]?
    public var maxTokens = 512
    public var chunkCharacters = 700
    /// Longer fields are rejected (`too_long`) instead of being sent as thousands of chunks.
    public var maxCharacters = 20_000
    /// Source term → target term; the target term is required in the translation of any chunk
    /// whose source has the source term.
    public var glossary: [(String, String)] = []
    /// Extra protected spans: ICU regular expressions.
    public var protect: [String] = []
    /// Spans and glossary terms enforced while decoding (false: asked for in the prompt and
    /// checked afterwards only, the measurement baseline).
    public var enforce = true
    public var qa = QAMode.flag

    public init(target: String) {
        self.target = target
    }

    public init(yaml: StageYAML) throws {
        target = try yaml.requiredString("target", in: Self.name)
        guard LanguageRegistry.language(bcp47: target) != nil else {
            throw yaml.error("target", "translate.target: unknown language code '\(target)' (one of the BCP-47 tags of `glossa languages`)")
        }
        if let source = try yaml.string("source", in: Self.name) {
            guard source == "auto" || LanguageCodes.isKnownLanguage(source) else {
                throw yaml.error("source", "translate.source: unknown language code '\(source)' (`auto` or the BCP-47 tags of `glossa languages`)")
            }
            self.source = source == "auto" ? nil : source
        }
        fields = try yaml.fields(in: Self.name)
        maxTokens = try yaml.int("max_tokens", in: Self.name, min: 1) ?? maxTokens
        chunkCharacters = try yaml.int("chunk_chars", in: Self.name, min: 50) ?? chunkCharacters
        maxCharacters = try yaml.int("max_chars", in: Self.name, min: 1) ?? maxCharacters
        var terms: [(String, String)] = []
        if let file = try yaml.string("glossary_file", in: Self.name) {
            let path = file.hasPrefix("/") ? file : URL(fileURLWithPath: yaml.file).deletingLastPathComponent().appendingPathComponent(file).path
            do { terms = try Glossary.read(path: path, target: target) } catch {
                throw yaml.error("glossary_file", "translate.glossary_file: \(error)")
            }
        }
        // Inline terms win over the file's.
        let inline = try yaml.stringMap("glossary", in: Self.name) ?? []
        terms.removeAll { term in inline.contains { $0.0.lowercased() == term.0.lowercased() } }
        glossary = (terms + inline).filter { !$0.0.isEmpty && !$0.1.isEmpty }
        protect = try yaml.strings("protect", in: Self.name) ?? []
        for pattern in protect {
            do { _ = try NSRegularExpression(pattern: pattern) } catch {
                throw yaml.error("protect", "translate.protect: '\(pattern)' is not a valid regular expression")
            }
        }
        enforce = try yaml.bool("enforce", in: Self.name) ?? enforce
        if let mode = try yaml.string("qa", in: Self.name) {
            guard let m = QAMode(rawValue: mode) else { throw yaml.error("qa", "translate.qa: '\(mode)' is not one of flag, reject") }
            qa = m
        }
    }

    public func makeStage(_ context: StageContext) throws -> any PipelineStage {
        try TranslateStage(options: self, context: context)
    }
}

/// Translation with the engine (non-thinking mode, greedy). Protected spans (URLs, e-mail
/// addresses, @mentions, ticket ids, code, `protect` patterns) are found first and stand as
/// markers while the text is cut at ICU sentence boundaries into chunks, so no chunk cuts a
/// span. Each chunk is sent with its spans verbatim and decoded under a `requiredText`
/// constraint: every span exactly as often as in the chunk, spelt exactly, the model choosing
/// where; every glossary term whose source term the chunk has, at least once. A chunk that
/// loops is stopped by the engine's repetition guard and sent again once with a repetition
/// penalty. Every translated field is then checked (`TranslationQA`).
final class TranslateStage: PipelineStage {
    let name = TranslateOptions.name
    let options: TranslateOptions
    let backend: InferenceBackend
    let fields: TextFields
    let metadataField: String
    let targetName: String
    let patterns: [NSRegularExpression]
    let qa: TranslationQA

    init(options: TranslateOptions, context: StageContext) throws {
        backend = try context.backend()
        self.options = options
        fields = context.textFields(options.fields)
        metadataField = context.metadataField
        targetName = LanguageRegistry.language(bcp47: options.target)?.name ?? options.target
        patterns = options.protect.compactMap { try? NSRegularExpression(pattern: $0) }
        let path = LanguageIdentifier.defaultModelPath(environment: context.environment)
        do { qa = TranslationQA(target: options.target, identifier: try LanguageIdentifier(modelPath: path)) } catch {
            throw GlossaError.invalidArgument("translate checks the language of its output with \(path): \(error)")
        }
    }

    /// One chunk of a field: its source with spans verbatim, what the answer must hold, and
    /// the answer.
    private struct Chunk {
        var text: String
        var separator: String
        var required: [RequiredText]
        var terms: [Int]                 // glossary entries that apply
        var output: String?
        var repeated = false
        var retried = false
    }

    /// One piece of text to translate: where it came from and its chunks.
    private struct Job {
        var record: Int
        var field: String
        var item: Int?           // index in an array field
        var source: String
        var protected: ProtectedText
        var chunks: [Chunk]
        /// Why the backend refused a chunk (e.g. longer than the context): no retry can help.
        var failure: Completion?
        var key: String { item.map { "\(field)[\($0)]" } ?? field }
    }

    var emptyStats: StageStats {
        StageStats(counts: ["chunks", "constrained_chunks", "retried_repetition", "same_language", "prompt_tokens", "generated_tokens"],
                   tallies: ["qa_flags", "glossary"])
    }

    func process(_ batch: inout [PipelineRecord], stats: inout StageStats, threads: Int) throws {
        var jobs: [Job] = []
        var sources: [Int: (language: String?, how: String)] = [:]
        for i in batch.indices where batch[i].rejection == nil {
            let meta = batch[i].object[metadataField]?.objectValue
            let detected = meta?["language"]?.stringValue
            // `und` (detection below its min_score) is never taken for the target language.
            let source = options.source ?? (detected == "und" ? nil : detected)
            let sameLanguage = source.map { LanguageCodes.sameLanguage($0, options.target) } ?? false
            sources[i] = (source, options.source != nil ? "configured" : sameLanguage ? "same_language" : source == nil ? "unknown" : "metadata")
            var translation = JSONObject()
            for field in fields.names {
                guard let value = batch[i].object[field] else { continue }
                // The texts to translate, each with its index in an array field.
                var texts: [(item: Int?, text: String)] = []
                switch value {
                case let .string(text):
                    // Placeholder first, so the translation keeps the fields' order.
                    translation[field] = sameLanguage ? .string(text) : .null
                    if !sameLanguage { texts = [(nil, text)] }
                case let .array(items) where items.allSatisfy({ $0.stringValue != nil }):
                    if sameLanguage { translation[field] = value; continue }
                    texts = items.enumerated().map { ($0.offset, $0.element.stringValue ?? "") }
                    translation[field] = .array(items.map { _ in .null })
                case .null: continue
                default:
                    batch[i].rejection = Rejection(Rejection.fieldNotText, "field '\(field)' is \(value.kindName)")
                }
                // Checked before any span search or sentence split runs over a huge text.
                if let long = texts.first(where: { $0.text.count > options.maxCharacters }) {
                    let key = long.item.map { "\(field)[\($0)]" } ?? field
                    batch[i].rejection = Rejection("too_long", "field '\(key)' has \(long.text.count) characters, more than translate.max_chars (\(options.maxCharacters))")
                }
                guard batch[i].rejection == nil else { break }
                jobs += texts.map { makeJob(i, field, $0.item, $0.text, source) }
            }
            if sameLanguage { stats.add("same_language") }
            batch[i].object["translation"] = .object(translation)
        }
        jobs.removeAll { batch[$0.record].rejection != nil }
        try translate(&jobs, stats: &stats)

        var reports: [Int: (qa: JSONObject, flags: [String], glossary: [JSONValue])] = [:]
        for job in jobs {
            guard batch[job.record].rejection == nil else { continue }
            if let failed = job.failure {
                batch[job.record].rejection = Rejection(failed.failureCode ?? "engine_error",
                                                        "the translation of '\(job.key)' failed: \(failed.failure ?? "no answer")")
                continue
            }
            let text = job.chunks.map { ($0.output ?? "") + $0.separator }.joined()
            guard case var .object(translation)? = batch[job.record].object["translation"] else { continue }
            if let item = job.item, case var .array(items)? = translation[job.field] {
                items[item] = .string(text)
                translation[job.field] = .array(items)
            } else {
                translation[job.field] = .string(text)
            }
            batch[job.record].object["translation"] = .object(translation)

            // The checks, and which glossary terms were placed.
            var report = reports[job.record] ?? (JSONObject(), [], [])
            var terms: [(String, String, Bool)] = []
            for chunk in job.chunks {
                for t in chunk.terms {
                    let (s, target) = options.glossary[t]
                    let placed = chunk.output?.contains(target) ?? false
                    if !terms.contains(where: { $0.0 == s && $0.2 == placed }) { terms.append((s, target, placed)) }
                }
            }
            let check = qa.check(source: job.source, translation: text, sourceLanguage: sources[job.record]?.language,
                                 spans: job.protected.needles, terms: terms.map { ($0.1, $0.2) },
                                 repeated: job.chunks.contains { $0.repeated })
            report.qa[job.key] = check.json
            for flag in check.flags where !report.flags.contains(flag) { report.flags.append(flag) }
            for (s, target, placed) in terms {
                report.glossary.append(.object(JSONObject(["field": .string(job.key), "source": .string(s), "target": .string(target), "placed": .bool(placed)])))
                stats.add("glossary", key: placed ? "placed" : "missing")
            }
            reports[job.record] = report
        }
        for i in batch.indices where batch[i].rejection == nil {
            var meta = batch[i].object[metadataField]?.objectValue ?? JSONObject()
            meta["translated_to"] = .string(options.target)
            if let source = sources[i] {
                meta["translated_from"] = source.language.map(JSONValue.string) ?? .null
                meta["translation_source"] = .string(source.how)
            }
            let report = reports[i] ?? (JSONObject(), [], [])
            meta["qa"] = .object(JSONObject(["flags": .array(report.flags.map(JSONValue.string)), "fields": .object(report.qa)]))
            if !report.glossary.isEmpty { meta["glossary"] = .array(report.glossary) }
            batch[i].object[metadataField] = .object(meta)
            for flag in report.flags { stats.add("qa_flags", key: flag) }
            if options.qa == .reject, let first = report.flags.first {
                batch[i].rejection = Rejection("qa_" + first, "the translation failed the \(first) check"
                                               + (report.flags.count > 1 ? " (also: \(report.flags.dropFirst().joined(separator: ", ")))" : ""))
            }
        }
    }

    private func makeJob(_ record: Int, _ field: String, _ item: Int?, _ text: String, _ language: String?) -> Job {
        let protected = ProtectedText(protecting: text, patterns: patterns)
        var job = Job(record: record, field: field, item: item, source: text, protected: protected, chunks: [])
        for (piece, separator) in split(protected.text, locale: language ?? "en") {
            let (chunkText, used) = protected.restoring(piece)
            job.chunks.append(chunk(chunkText, separator: separator, markerText: piece, spans: used, of: protected))
        }
        return job
    }

    /// What a chunk's answer must hold: each of its spans as often as the chunk has it, each
    /// applicable glossary term at least once. Glossary terms are looked for in the text
    /// between spans (a term inside a URL is not prose).
    private func chunk(_ text: String, separator: String, markerText: String, spans: [Int], of protected: ProtectedText) -> Chunk {
        var required: [RequiredText] = []
        for n in spans where !required.contains(where: { $0.text == protected.spans[n] }) {
            let span = protected.spans[n]
            var needle = RequiredText(span, minimum: 0, maximum: 0, commitAfter: ProtectedText.commitAfter(span, kind: protected.kinds[n]))
            let count = needle.occurrences(in: text)
            (needle.minimum, needle.maximum) = (count, count)
            required.append(needle)
        }
        var terms: [Int] = []
        for (t, (source, target)) in options.glossary.enumerated() where Glossary.occurs(source, in: markerText) {
            terms.append(t)
            if !required.contains(where: { $0.text == target }) {
                required.append(RequiredText(target, minimum: 1, maximum: nil))
            }
        }
        return Chunk(text: text, separator: separator, required: required, terms: terms)
    }

    /// Sentence pieces packed into chunks of at most `chunkCharacters`, each with the whitespace
    /// that followed it in the source.
    private func split(_ text: String, locale: String) -> [(text: String, separator: String)] {
        guard text.count > options.chunkCharacters else { return [trimmed(text)] }
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

    private func systemPrompt(_ terms: [Int]) -> String {
        let glossary = terms.isEmpty ? "" : " Always translate these terms as given: "
            + terms.map { "\(options.glossary[$0].0) → \(options.glossary[$0].1)" }.joined(separator: "; ") + "."
        return "You are a professional translator. Translate the user's text into \(targetName)."
            + " Keep URLs, e-mail addresses, @mentions, ticket ids and code exactly as they are."
            + glossary + " Reply with the translation only."
    }

    /// Every chunk in one backend run; a chunk that looped is re-submitted once, with a
    /// repetition penalty, as soon as its answer is back, so retries share the batch.
    private func translate(_ original: inout [Job], stats: inout StageStats) throws {
        var jobs = original, counts = StageStats()   // captured by the follow-up closure
        var owners: [(job: Int, chunk: Int)] = []
        func request(_ j: Int, _ k: Int) -> GenerationRequest {
            let chunk = jobs[j].chunks[k]
            var r = GenerationRequest(.messages([ChatMessage(.system, systemPrompt(chunk.terms)), ChatMessage(.user, chunk.text)]))
            r.maxTokens = options.maxTokens
            r.repetitionGuard = RepetitionGuard()
            if chunk.retried { r.sampling.repetitionPenalty = 1.3 }
            if options.enforce, !chunk.required.isEmpty, let constraint = try? Constraint(.requiredText(chunk.required)) {
                r.constraint = constraint
                counts.add("constrained_chunks")
            }
            owners.append((j, k))
            counts.add("chunks")
            return r
        }
        var initial: [GenerationRequest] = []
        for j in jobs.indices {
            for k in jobs[j].chunks.indices {
                if jobs[j].chunks[k].text.isEmpty { jobs[j].chunks[k].output = ""; continue }
                initial.append(request(j, k))
            }
        }
        _ = try backend.complete(initial, followUp: { i, out in
            let (j, k) = owners[i]
            counts.add("prompt_tokens", out.promptTokens)
            counts.add("generated_tokens", out.generatedTokens)
            if out.failure != nil { jobs[j].failure = out; return [] }
            jobs[j].chunks[k].output = out.content.trimmingCharacters(in: .whitespacesAndNewlines)
            jobs[j].chunks[k].repeated = out.repeated
            guard out.repeated, !jobs[j].chunks[k].retried else { return [] }
            jobs[j].chunks[k].retried = true
            counts.add("retried_repetition")
            return [request(j, k)]
        })
        original = jobs
        stats.merge(counts)
    }
}
