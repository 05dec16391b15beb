import Foundation
import Testing
@testable import GlossaEngine

@Suite struct ChatTemplateTests {
    struct Rendered: Decodable {
        struct Message: Decodable { var role: String; var content: String }
        var messages: [Message]
        var add_generation_prompt: Bool
        var prompt: String
    }

    /// Qwen2.5: against transformers' rendering of the Jinja template in the default model's GGUF.
    @Test func qwen25MatchesTheGGUFTemplate() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chat/qwen25-template.json")
        let cases = try JSONDecoder().decode([Rendered].self, from: Data(contentsOf: url))
        #expect(cases.count == 10)
        for c in cases {
            let messages = c.messages.map { ChatMessage(ChatMessage.Role(rawValue: $0.role)!, $0.content) }
            #expect(ChatTemplate.qwen25.render(messages, addGenerationPrompt: c.add_generation_prompt) == c.prompt)
        }
        #expect(ChatTemplate.detect(jinja: DefaultModel.gguf.metadata["tokenizer.chat_template"]?.string) == .qwen25)
    }

    /// Qwen3: the documented behaviour (shared/notes/qwen.md), as data.
    @Test func qwen3ThinkingModes() {
        let user = [ChatMessage(.user, "Hi")]
        #expect(ChatTemplate.qwen3.render(user) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(ChatTemplate.qwen3.render(user, enableThinking: false)
                == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
        let system = [ChatMessage(.system, "Be brief."), ChatMessage(.user, "Hi")]
        #expect(ChatTemplate.qwen3.render(system, addGenerationPrompt: false)
                == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    @Test func qwen3StripsReasoningFromEarlierTurns() {
        let history = [
            ChatMessage(.user, "2+2?"),
            ChatMessage(.assistant, "<think>\nadd them\n</think>\n\n4"),
            ChatMessage(.user, "and 3+3?"),
            ChatMessage(.assistant, "<think>\nagain\n</think>\n\n6"),
        ]
        #expect(ChatTemplate.qwen3.render(history, addGenerationPrompt: false) == """
            <|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n\
            <|im_start|>user\nand 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\nagain\n</think>\n\n6<|im_end|>\n
            """)
        let kept = [ChatMessage(.user, "q"), ChatMessage(.assistant, "a", reasoning: "r")]
        #expect(ChatTemplate.qwen3.render(kept, addGenerationPrompt: false)
                == "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\na<|im_end|>\n")
    }

    @Test func softSwitchesLatestWins() {
        #expect(ChatTemplate.thinkingEnabled([ChatMessage(.user, "solve this /no_think")], enableThinking: true) == false)
        #expect(ChatTemplate.thinkingEnabled([ChatMessage(.user, "/no_think"), ChatMessage(.assistant, "ok"),
                                              ChatMessage(.user, "now think /think")], enableThinking: true))
        #expect(ChatTemplate.thinkingEnabled([ChatMessage(.system, "/no_think"), ChatMessage(.user, "x")], enableThinking: true) == false)
        #expect(ChatTemplate.thinkingEnabled([ChatMessage(.user, "/think")], enableThinking: false) == false)
        #expect(ChatTemplate.thinkingEnabled([ChatMessage(.user, "a /think b /no_think")], enableThinking: true) == false)
    }

    @Test func parsesReasoningAndContent() {
        #expect(ThinkingParser.split("<think>\nplan\n</think>\n\nanswer") == .init(reasoning: "plan", content: "answer", closed: true))
        #expect(ThinkingParser.split("plan\n</think>\n\nanswer") == .init(reasoning: "plan", content: "answer", closed: true))
        #expect(ThinkingParser.split("<think>\nstill going") == .init(reasoning: "still going", content: "", closed: false))
        #expect(ThinkingParser.split("just an answer") == nil)
    }
}

/// Generation on a tiny random Qwen3 with a byte-level tokenizer written for the test: the
/// plumbing (template, stop tokens, thinking budget), not the words.
@Suite struct GeneratorTests {
    static func makeModel() throws -> LanguageModel {
        let transformer = try Transformer(directory: Fixtures.tiny.appendingPathComponent("qwen3").path)
        var tokens = (0..<256).map { String(Character(Unicode.Scalar(ByteLevel.byteToUnicode[$0])!)) }
        let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
        let added = specials.enumerated().map { Tokenizer.AddedToken(id: 256 + $0.offset, content: $0.element, special: $0.offset < 3) }
        tokens += specials
        tokens += (tokens.count..<512).map { "[PAD\($0)]" }
        let tokenizer = try Tokenizer(tokens: tokens, merges: [], added: added, normalization: .nfc)
        return LanguageModel(transformer: transformer, tokenizer: tokenizer, template: .qwen3, stopTokens: [256, 258])
    }

    @Test func thinkingBudgetForcesTheStopPhrase() throws {
        let model = try Self.makeModel()
        let generator = Generator(model)
        var options = Generator.Options()
        options.maxTokens = 5
        options.thinkingBudget = 6
        // Thinking opened by the prompt, as Qwen3-Thinking-2507's template does.
        let prompt = model.tokenizer.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n")
        var streamed = ""
        let result = generator.generate(prompt: prompt, options: options) { streamed += $0 }
        #expect(result.budgetForced)
        #expect(result.thinkingTokens >= 6 && result.thinkingTokens <= 10)
        #expect(result.text.contains(Generator.budgetStopPhrase))
        #expect(streamed == result.text)
        let forcedAt = result.tokens.firstIndex(of: 260)!  // </think>
        #expect(forcedAt >= 6)
        #expect(result.reasoning != nil)
        // The answer gets its own budget after the forced phrase.
        #expect(result.tokens.count - forcedAt - 1 - 2 <= 5)
    }

    @Test func budgetZeroIsTheNonThinkingPrefill() throws {
        let model = try Self.makeModel()
        var options = Generator.Options()
        options.maxTokens = 4
        options.thinkingBudget = 0
        let result = Generator(model).chat([ChatMessage(.user, "hi")], enableThinking: true, options: options)
        #expect(result.promptTokens == model.tokenizer.encode(ChatTemplate.qwen3.render([ChatMessage(.user, "hi")], enableThinking: false)).count)
        #expect(!result.budgetForced)
    }

    @Test func greedyMatchesTheForwardPass() throws {
        let model = try Self.makeModel()
        let prompt = [3, 511, 7, 7, 7, 100, 250, 9, 64, 128, 256, 33, 12, 480, 6, 91, 2, 77, 150, 401, 8, 19, 23, 5]
        var options = Generator.Options()
        options.maxTokens = 16
        let reference = try SafetensorsFile(path: Fixtures.tiny.appendingPathComponent("qwen3/reference.safetensors").path)
        let expected = try reference.integers("prompt1.greedy")
        let stopAt = expected.firstIndex { [256, 258].contains($0) } ?? expected.count
        let result = Generator(model).generate(prompt: prompt, options: options)
        #expect(Array(result.tokens.prefix(stopAt)) == Array(expected.prefix(stopAt)))
    }
}
