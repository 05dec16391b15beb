import Foundation

/// A chat message. `reasoning` is an assistant turn's thinking, when kept apart from content.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant, tool }
    public var role: Role
    public var content: String
    public var reasoning: String?

    public init(_ role: Role, _ content: String, reasoning: String? = nil) {
        self.role = role
        self.content = content
        self.reasoning = reasoning
    }
}

/// Qwen's chat templates as code: Qwen3 (thinking modes, reasoning stripped from history) and
/// Qwen2.5 (default system prompt, no think block). Tool calls are not rendered yet.
public enum ChatTemplate: String, Sendable {
    case qwen3, qwen25

    public static let qwen25DefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    public static let nonThinkingPrefill = "<think>\n\n</think>\n\n"

    /// Picks the template from a model's Jinja template text (GGUF `tokenizer.chat_template`
    /// or tokenizer_config.json): Qwen3's mentions reasoning_content / <think>.
    public static func detect(jinja: String?) -> ChatTemplate {
        guard let jinja else { return .qwen3 }
        return jinja.contains("reasoning_content") || jinja.contains("<think>") ? .qwen3 : .qwen25
    }

    /// The prompt text. `enableThinking` false appends Qwen3's empty think block.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, enableThinking: Bool = true) -> String {
        switch self {
        case .qwen25: return renderQwen25(messages, addGenerationPrompt: addGenerationPrompt)
        case .qwen3: return renderQwen3(messages, addGenerationPrompt: addGenerationPrompt, enableThinking: enableThinking)
        }
    }

    private func renderQwen25(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        if messages.first?.role != .system {
            out += "<|im_start|>system\n\(Self.qwen25DefaultSystem)<|im_end|>\n"
        }
        for m in messages {
            if m.role == .tool {
                out += "<|im_start|>user\n<tool_response>\n\(m.content)\n</tool_response><|im_end|>\n"
            } else {
                out += "<|im_start|>\(m.role.rawValue)\n\(m.content)<|im_end|>\n"
            }
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    private func renderQwen3(_ messages: [ChatMessage], addGenerationPrompt: Bool, enableThinking: Bool) -> String {
        var out = ""
        if let first = messages.first, first.role == .system {
            out += "<|im_start|>system\n\(first.content)<|im_end|>\n"
        }
        // The last real user query: assistant turns after it keep their reasoning.
        var lastQuery = messages.count - 1
        for (i, m) in messages.enumerated().reversed() where m.role == .user {
            if !(m.content.hasPrefix("<tool_response>") && m.content.hasSuffix("</tool_response>")) { lastQuery = i; break }
        }
        for (i, m) in messages.enumerated() {
            switch m.role {
            case .user:
                out += "<|im_start|>user\n\(m.content)<|im_end|>\n"
            case .system:
                if i > 0 { out += "<|im_start|>system\n\(m.content)<|im_end|>\n" }
            case .assistant:
                var content = m.content
                var reasoning = m.reasoning ?? ""
                if m.reasoning == nil, let close = content.range(of: "</think>") {
                    // As the template: reasoning before the first </think> (after its <think>),
                    // content after the last one.
                    var before = String(content[..<close.lowerBound])
                    while before.last == "\n" { before.removeLast() }
                    if let open = before.range(of: "<think>", options: .backwards) { before = String(before[open.upperBound...]) }
                    reasoning = before.droppingLeadingNewlines()
                    let last = content.range(of: "</think>", options: .backwards)!
                    content = String(content[last.upperBound...]).droppingLeadingNewlines()
                }
                if i > lastQuery && (i == messages.count - 1 || !reasoning.isEmpty) {
                    out += "<|im_start|>assistant\n<think>\n\(reasoning.trimmingNewlines())\n</think>\n\n\(content.droppingLeadingNewlines())"
                } else {
                    out += "<|im_start|>assistant\n\(content)"
                }
                out += "<|im_end|>\n"
            case .tool:
                let previousIsTool = i > 0 && messages[i - 1].role == .tool
                let nextIsTool = i + 1 < messages.count && messages[i + 1].role == .tool
                if !previousIsTool { out += "<|im_start|>user" }
                out += "\n<tool_response>\n\(m.content)\n</tool_response>"
                if !nextIsTool { out += "<|im_end|>\n" }
            }
        }
        if addGenerationPrompt {
            out += "<|im_start|>assistant\n"
            if !enableThinking { out += Self.nonThinkingPrefill }
        }
        return out
    }

    /// Whether thinking is on for the next reply: `enableThinking`, unless the latest `/think`
    /// or `/no_think` in a system or user message says otherwise (Qwen3's soft switches).
    public static func thinkingEnabled(_ messages: [ChatMessage], enableThinking: Bool) -> Bool {
        guard enableThinking else { return false }
        for m in messages.reversed() where m.role == .user || m.role == .system {
            let think = m.content.range(of: "/think", options: .backwards)
            let noThink = m.content.range(of: "/no_think", options: .backwards)
            switch (think, noThink) {
            case (nil, nil): continue
            case (_?, nil): return true
            case (nil, _?): return false
            case let (t?, n?): return t.lowerBound > n.lowerBound
            }
        }
        return true
    }
}

/// Splits model output into reasoning and answer.
public enum ThinkingParser {
    public struct Split: Sendable, Equatable {
        public var reasoning: String
        public var content: String
        /// False when the output ended inside the think block.
        public var closed: Bool
    }

    /// `<think>reasoning</think>content`, as Qwen3 writes it (the opening tag may be in the
    /// prompt, so only `</think>` is required unless `requireOpen`). Nil when there is none.
    public static func split(_ output: String, requireOpen: Bool = false) -> Split? {
        if let close = output.range(of: "</think>") {
            var reasoning = String(output[..<close.lowerBound])
            if let open = reasoning.range(of: "<think>", options: .backwards) { reasoning = String(reasoning[open.upperBound...]) }
            else if requireOpen { return nil }
            return Split(reasoning: reasoning.trimmingNewlines(), content: String(output[close.upperBound...]).droppingLeadingNewlines(), closed: true)
        }
        if let open = output.range(of: "<think>") {
            return Split(reasoning: String(output[open.upperBound...]).droppingLeadingNewlines(), content: "", closed: false)
        }
        return nil
    }
}

extension String {
    func droppingLeadingNewlines() -> String { String(drop { $0 == "\n" }) }
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while s.first == "\n" { s = s.dropFirst() }
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
