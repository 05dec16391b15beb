import Foundation
import Testing
@testable import GlossaEngine

@Suite(.serialized) struct ClassifierTests {
    static let classifier = Classifier(BatchEngineTests.model)

    static let messages = [
        ChatMessage(.system, "You classify support tickets. Answer with the category only."),
        ChatMessage(.user, "Categories: billing, login problem, bug report, feature request.\nTicket: I was charged twice for my subscription this month, please refund one payment."),
    ]

    @Test func labelProbabilitiesAndArgmax() throws {
        let sentiment = [ChatMessage(.user, "Is the sentiment of this review positive or negative? Answer with one word.\nReview: Absolutely wonderful, I love it and would buy it again!")]
        let result = try Self.classifier.classify(sentiment, labels: ["positive", "negative"])
        #expect(abs(result.probabilities.reduce(0, +) - 1) < 1e-9)
        #expect(result.best == "positive", "\(result)")
        let flipped = try Self.classifier.classify([ChatMessage(.user, "Is the sentiment of this review positive or negative? Answer with one word.\nReview: Broke after one day, terrible, I want my money back.")],
                                                   labels: ["positive", "negative"])
        #expect(flipped.best == "negative", "\(flipped)")
    }

    /// The shortcut (label rows only at the shared position, batched continuations on copied
    /// caches) equals scoring every label by a full forward pass over prompt + label.
    @Test func matchesFullSequenceScoring() throws {
        let labels = ["billing", "login problem", "bug report", "feature request", "other"]
        let fast = try Self.classifier.classify(Self.messages, labels: labels)
        let model = BatchEngineTests.model
        let promptText = model.template.render(Self.messages, enableThinking: false)
        let prompt = model.tokenizer.encode(promptText)
        let v = model.transformer.config.vocabularySize
        var scores: [Double] = []
        for label in labels {
            let joint = model.tokenizer.encode(promptText + label)
            let cache = KVCache(config: model.transformer.config, capacity: joint.count)
            let logits = model.transformer.forward(Array(joint.dropLast()), cache: cache)
            var score = 0.0
            for p in prompt.count..<joint.count {
                let row = logits[((p - 1) * v)..<(p * v)]
                let m = Double(row.max()!)
                let z = row.reduce(0.0) { $0 + exp(Double($1) - m) }
                score += Double(row[row.startIndex + joint[p]]) - m - log(z)
            }
            scores.append(score)
        }
        let top = scores.max()!
        let total = scores.map { exp($0 - top) }.reduce(0, +)
        let slow = scores.map { exp($0 - top) / total }
        for (a, b) in zip(fast.probabilities, slow) { #expect(abs(a - b) < 1e-4, "\(fast.probabilities) vs \(slow)") }
    }

    /// Prompts classified together (prefills chunked and batched, continuations batched in
    /// steps of 8 rows here, so several) give exactly the results of classifying each alone.
    @Test func aBatchEqualsEachPromptAlone() throws {
        let labels = ["billing", "login problem", "bug report", "feature request", "other"]
        let tickets = [
            "I was charged twice for my subscription this month, please refund one payment.",
            "The app crashes when I open settings.",
            "Please add a dark mode. " + String(repeating: "It would really help at night when I work late. ", count: 12),
            "Cannot log in since yesterday, the password reset mail never arrives.",
        ]
        let prompts = tickets.map { [Self.messages[0], ChatMessage(.user, "Categories: billing, login problem, bug report, feature request.\nTicket: \($0)")] }
        let alone = try prompts.map { try Self.classifier.classify($0, labels: labels) }
        let together = try Self.classifier.classify(prompts, labels: labels, stepTokens: 64)
        #expect(together == alone)
        #expect(Set(alone.map(\.best)).count >= 2, "\(alone.map(\.best))")
        #expect(throws: Classifier.ClassifierError.duplicateLabel("a")) { try Self.classifier.classify(prompts, labels: ["a", "a"]) }
    }

    @Test func invalidLabelSets() {
        #expect(throws: Classifier.ClassifierError.noLabels) { try Self.classifier.classify(Self.messages, labels: []) }
        #expect(throws: Classifier.ClassifierError.duplicateLabel("a")) { try Self.classifier.classify(Self.messages, labels: ["a", "b", "a"]) }
        #expect(throws: Classifier.ClassifierError.emptyLabel) { try Self.classifier.classify(Self.messages, labels: ["a", ""]) }
    }
}
