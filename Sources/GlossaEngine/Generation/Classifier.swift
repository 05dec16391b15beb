#if canImport(Glibc)
import Glibc
#endif

/// Classification by label scoring: one prefill of the prompt (non-thinking), then each label's
/// whole continuation is scored; probabilities are normalised over the label set.
///
/// The first label token is read from the shared prompt position, where only the output rows of
/// the labels' first tokens are computed (the vocabulary-wide normaliser is the same for every
/// label and cancels). Later tokens of multi-token labels need their full distribution; those
/// continuations run as one batch, each on a copy of the prompt's KV cache.
public struct Classifier: Sendable {
    public struct Result: Sendable, Equatable {
        public var labels: [String]
        public var probabilities: [Double]
        public var best: String { labels[probabilities.indices.max { probabilities[$0] < probabilities[$1] }!] }

        public init(labels: [String], probabilities: [Double]) {
            self.labels = labels
            self.probabilities = probabilities
        }
    }

    public enum ClassifierError: Error, Equatable, CustomStringConvertible {
        case noLabels
        case duplicateLabel(String)
        case emptyLabel
        /// The prompt and its longest label do not fit the model's context.
        case contextLengthExceeded(promptTokens: Int, limit: Int)

        public var description: String {
            switch self {
            case let .contextLengthExceeded(n, limit):
                return "this model's maximum context length is \(limit) tokens, but the prompt and its longest label have \(n) tokens"
            case .noLabels: return "classification needs at least one label"
            case let .duplicateLabel(l): return "label '\(l)' appears twice"
            case .emptyLabel: return "labels must not be empty strings"
            }
        }
    }

    public let model: LanguageModel
    public init(_ model: LanguageModel) { self.model = model }

    public func classify(_ messages: [ChatMessage], labels: [String]) throws(ClassifierError) -> Result {
        try classify([messages], labels: labels)[0]
    }

    /// Several prompts against one label set. Their common beginning is computed once, their
    /// prefills share batched steps of about `stepTokens` (long prompts in chunks), and their
    /// multi-token continuations run together; every row is computed as it would be alone, so
    /// each result equals `classify(_:labels:)` on its own prompt, bit for bit.
    public func classify(_ prompts: [[ChatMessage]], labels: [String], stepTokens: Int = 512) throws(ClassifierError) -> [Result] {
        var results: [Result] = []
        for outcome in try classifyEach(prompts, labels: labels, stepTokens: stepTokens) { results.append(try outcome.get()) }
        return results
    }

    /// As `classify(_:labels:stepTokens:)`, but a prompt that cannot be scored (longer than the
    /// context) fails alone; an invalid label set still fails the whole call.
    public func classifyEach(_ prompts: [[ChatMessage]], labels: [String],
                             stepTokens: Int = 512) throws(ClassifierError) -> [Swift.Result<Result, ClassifierError>] {
        guard !labels.isEmpty else { throw .noLabels }
        if labels.contains("") { throw .emptyLabel }
        var seen = Set<String>()
        for l in labels where !seen.insert(l).inserted { throw .duplicateLabel(l) }
        let limit = model.transformer.config.maxPositions
        var results = [Swift.Result<Result, ClassifierError>?](repeating: nil, count: prompts.count)
        // Prompts in groups, so that the caches held at once stay bounded.
        var group: [Job] = [], owners: [Int] = []
        var groupTokens = 0
        func flush() {
            for (i, result) in zip(owners, score(group, labels: labels, stepTokens: stepTokens)) { results[i] = .success(result) }
            group = []
            owners = []
            groupTokens = 0
        }
        for (i, messages) in prompts.enumerated() {
            let job = prepare(messages, labels: labels)
            guard job.positions <= limit else {
                results[i] = .failure(.contextLengthExceeded(promptTokens: job.positions, limit: limit))
                continue
            }
            if !group.isEmpty && groupTokens + job.prompt.count > 8 * stepTokens { flush() }
            group.append(job)
            owners.append(i)
            groupTokens += job.prompt.count
        }
        if !group.isEmpty { flush() }
        return results.map { $0 ?? .failure(.noLabels) }
    }

    /// One prompt's tokens, its labels tokenized in context, and its cache.
    private struct Job {
        var prompt: [Int]
        var labelTokens: [[Int]]
        var cache: KVCache
        var fed = 0
        var hidden: [Float] = []
        /// Positions the prompt and its longest label take.
        var positions: Int { prompt.count + (labelTokens.map(\.count).max() ?? 0) }
    }

    private func prepare(_ messages: [ChatMessage], labels: [String]) -> Job {
        let tokenizer = model.tokenizer
        let promptText = model.template.render(messages, enableThinking: false)
        let prompt = tokenizer.encode(promptText)
        // Labels tokenized in context: the prompt's tokens must stay a prefix.
        let labelTokens = labels.map { label -> [Int] in
            let joint = tokenizer.encode(promptText + label)
            return joint.starts(with: prompt) ? Array(joint.dropFirst(prompt.count)) : tokenizer.encode(label, parseSpecialTokens: false)
        }
        let positions = prompt.count + (labelTokens.map(\.count).max() ?? 0)
        // A prompt beyond the context gets an empty cache: it is refused before any is allocated.
        return Job(prompt: prompt, labelTokens: labelTokens,
                   cache: model.transformer.makeCache(capacity: positions <= model.transformer.config.maxPositions ? positions : 0))
    }

    private func score(_ group: [Job], labels: [String], stepTokens: Int) -> [Result] {
        let transformer = model.transformer
        var jobs = group
        // The prompts' common beginning (system prompt, instructions) is computed once and its
        // cache copied to each: a position's keys and values depend only on the tokens up to
        // it, so this changes no bit. Each prompt keeps at least its last token to compute.
        let shortest = jobs.map(\.prompt.count).min()!
        var common = 0
        while common < shortest - 1 && jobs.allSatisfy({ $0.prompt[common] == jobs[0].prompt[common] }) { common += 1 }
        if jobs.count > 1 && common >= 16 {
            let prefix = transformer.makeCache(capacity: common)
            transformer.prefill(jobs[0].prompt[..<common], into: prefix, chunk: stepTokens)
            for j in jobs.indices {
                jobs[j].cache = prefix.copy(capacity: jobs[j].cache.capacity)
                jobs[j].fed = common
            }
        }
        // Prefills: chunks of the pending prompts, up to stepTokens a step; a prompt's last
        // chunk returns its final hidden state.
        while let first = jobs.firstIndex(where: { $0.fed < $0.prompt.count }) {
            var segments: [Transformer.Segment] = [], owners: [Int] = []
            var budget = stepTokens
            for j in first..<jobs.count where jobs[j].fed < jobs[j].prompt.count && (budget > 0 || segments.isEmpty) {
                let chunk = min(jobs[j].prompt.count - jobs[j].fed, max(budget, 16))
                let done = jobs[j].fed + chunk == jobs[j].prompt.count
                segments.append(.init(tokens: Array(jobs[j].prompt[jobs[j].fed..<(jobs[j].fed + chunk)]), cache: jobs[j].cache,
                                      logits: done ? .lastHidden : .none))
                owners.append(j)
                budget -= chunk
            }
            for (k, out) in transformer.forward(batch: segments).enumerated() {
                let j = owners[k]
                jobs[j].fed += segments[k].tokens.count
                if jobs[j].fed == jobs[j].prompt.count { jobs[j].hidden = out }
            }
        }
        // First label tokens: only their output rows, at the prompt's last position.
        var scores = jobs.map { job -> [Double] in
            let firsts = Array(Set(job.labelTokens.map { $0[0] })).sorted()
            let logits = transformer.logits(hidden: job.hidden, rows: firsts)
            return job.labelTokens.map { Double(logits[firsts.firstIndex(of: $0[0])!]) }
        }
        // Continuations of multi-token labels, each on its own copy of its prompt's cache. Every
        // row returns the whole vocabulary's logits (0.6 MB on Qwen's 151,936): steps of at most
        // stepTokens / 8 rows (64 by default) bound that memory.
        var pending: [(job: Int, label: Int)] = []
        for (j, job) in jobs.enumerated() {
            for i in job.labelTokens.indices where job.labelTokens[i].count > 1 { pending.append((j, i)) }
        }
        let v = transformer.config.vocabularySize
        var next = 0
        while next < pending.count {
            var segments: [Transformer.Segment] = [], owners: [(job: Int, label: Int)] = []
            var tokens = 0
            while next < pending.count && (segments.isEmpty || tokens + jobs[pending[next].job].labelTokens[pending[next].label].count - 1 <= max(1, stepTokens / 8)) {
                let (j, i) = pending[next]
                let job = jobs[j]
                segments.append(.init(tokens: Array(job.labelTokens[i].dropLast()), cache: job.cache.copy(capacity: job.cache.capacity), logits: .all))
                owners.append((j, i))
                tokens += job.labelTokens[i].count - 1
                next += 1
            }
            for ((j, i), rows) in zip(owners, transformer.forward(batch: segments)) {
                let label = jobs[j].labelTokens[i]
                for p in 1..<label.count { scores[j][i] += logSoftmax(rows[((p - 1) * v)..<(p * v)], at: label[p]) }
            }
        }
        return scores.map { s in
            let top = s.max()!
            let weights = s.map { exp($0 - top) }
            let total = weights.reduce(0, +)
            return Result(labels: labels, probabilities: weights.map { $0 / total })
        }
    }

    private func logSoftmax(_ row: ArraySlice<Float>, at index: Int) -> Double {
        let m = Double(row.max()!)
        let z = row.reduce(0.0) { $0 + exp(Double($1) - m) }
        return Double(row[row.startIndex + index]) - m - log(z)
    }
}
