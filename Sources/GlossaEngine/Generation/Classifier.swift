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

        public var description: String {
            switch self {
            case .noLabels: return "classification needs at least one label"
            case let .duplicateLabel(l): return "label '\(l)' appears twice"
            case .emptyLabel: return "labels must not be empty strings"
            }
        }
    }

    public let model: LanguageModel
    public init(_ model: LanguageModel) { self.model = model }

    public func classify(_ messages: [ChatMessage], labels: [String]) throws(ClassifierError) -> Result {
        guard !labels.isEmpty else { throw .noLabels }
        if labels.contains("") { throw .emptyLabel }
        var seen = Set<String>()
        for l in labels where !seen.insert(l).inserted { throw .duplicateLabel(l) }

        let tokenizer = model.tokenizer, transformer = model.transformer
        let promptText = model.template.render(messages, enableThinking: false)
        let prompt = tokenizer.encode(promptText)
        // Labels tokenized in context: the prompt's tokens must stay a prefix.
        let labelTokens = labels.map { label -> [Int] in
            let joint = tokenizer.encode(promptText + label)
            return joint.starts(with: prompt) ? Array(joint.dropFirst(prompt.count)) : tokenizer.encode(label, parseSpecialTokens: false)
        }
        let longest = labelTokens.map(\.count).max()!
        let cache = KVCache(config: transformer.config, capacity: prompt.count + longest)
        let hidden = transformer.forward(batch: [.init(tokens: prompt, cache: cache, logits: .lastHidden)])[0]
        let firsts = Array(Set(labelTokens.map { $0[0] })).sorted()
        let firstLogits = transformer.logits(hidden: hidden, rows: firsts)
        var scores = labelTokens.map { Double(firstLogits[firsts.firstIndex(of: $0[0])!]) }

        // Continuations of multi-token labels, batched, each on its own copy of the prompt cache.
        let multi = labelTokens.indices.filter { labelTokens[$0].count > 1 }
        if !multi.isEmpty {
            let segments = multi.map { i in
                Transformer.Segment(tokens: Array(labelTokens[i].dropLast()), cache: cache.copy(capacity: prompt.count + longest), logits: .all)
            }
            let outputs = transformer.forward(batch: segments)
            let v = transformer.config.vocabularySize
            for (k, i) in multi.enumerated() {
                let tokens = labelTokens[i]
                for p in 1..<tokens.count {
                    let row = outputs[k][((p - 1) * v)..<(p * v)]
                    scores[i] += logSoftmax(row, at: tokens[p])
                }
            }
        }
        let top = scores.max()!
        let weights = scores.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        return Result(labels: labels, probabilities: weights.map { $0 / total })
    }

    private func logSoftmax(_ row: ArraySlice<Float>, at index: Int) -> Double {
        let m = Double(row.max()!)
        let z = row.reduce(0.0) { $0 + exp(Double($1) - m) }
        return Double(row[row.startIndex + index]) - m - log(z)
    }
}
