import Foundation

/// A conversation rendered to text, with the spans a model must learn to produce.
public struct RenderedChat: Equatable, Sendable {
    /// The formatted conversation, identical to transformers' `apply_chat_template(..., tokenize=False)`.
    public let text: String
    /// For each assistant message, in order, the UTF-8 byte range of `text` holding its content and the turn
    /// terminator (`<|im_end|>`, `<|eot_id|>`, `</s>`, `<end_of_turn>`). Where the family puts a space between the
    /// prompt and the content (`llama2`, `mistral`, `hh`), the range starts at that space, because tokenizers
    /// fold it into the content's first token; for `qwen3` it includes the `<think>` block the template writes.
    public let assistantRanges: [Range<Int>]
    /// The index in the input messages of the assistant message behind each of `assistantRanges`.
    public let assistantMessageIndices: [Int]

    /// The text of each of `assistantRanges`.
    public var assistantTexts: [String] {
        let bytes = Array(text.utf8)
        return assistantRanges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}

extension ChatTemplate {
    /// Formats a conversation as text.
    /// - Parameters:
    ///   - messages: the conversation; roles are `system`, `user`, `assistant` (ChatML and Llama 3 accept any role).
    ///   - addGenerationPrompt: end with the header that starts an assistant turn (`<|im_start|>assistant\n`), as
    ///     for generation. Llama 2 and Mistral have none (their prompt ends with `[/INST]`), like their templates.
    /// - Returns: the text and the byte ranges of the assistant messages.
    /// - Throws: `ChatTemplateError.invalidConversation` naming the first message the format cannot express,
    ///   wherever the family's own template raises (and where it would silently drop a message);
    ///   `ChatTemplateError.emptyConversation` for no messages.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> RenderedChat {
        guard !messages.isEmpty else { throw ChatTemplateError.emptyConversation }
        if case let .jinja(template) = format {
            return try renderInterpreted(template, messages, addGenerationPrompt: addGenerationPrompt)
        }
        var output = RenderBuffer()
        switch format {
        case let .chatML(style): try renderChatML(messages, style: style, into: &output)
        case .qwen3: try renderQwen3(messages, into: &output)
        case .llama3: renderLlama3(messages, into: &output)
        case let .llama31(fixedDate): renderLlama31(messages, date: dateString ?? fixedDate ?? today(), into: &output)
        case .llama2: try renderLlama2(messages, into: &output)
        case let .mistral(style): try renderMistral(messages, style: style, into: &output)
        case let .gemma(folds): try renderGemma(messages, foldsSystemMessage: folds, into: &output)
        case .humanAssistant: try renderHumanAssistant(messages, into: &output)
        case .jinja: break
        }
        if addGenerationPrompt {
            output.append(generationPrompt)
            if format == .qwen3 && !enableThinking { output.append("<think>\n\n</think>\n\n") }
        }
        return RenderedChat(text: output.text, assistantRanges: output.assistantRanges,
                            assistantMessageIndices: output.assistantMessageIndices)
    }

    /// The text `addGenerationPrompt` appends ("" for formats without one).
    var generationPrompt: String {
        switch format {
        case .chatML, .qwen3: return "<|im_start|>assistant\n"
        case .llama3, .llama31: return "<|start_header_id|>assistant<|end_header_id|>\n\n"
        case .llama2, .mistral: return ""
        case .gemma: return "<start_of_turn>model\n"
        case .humanAssistant: return "\n\nAssistant:"
        case .jinja: return ""
        }
    }

    // MARK: - Families

    private func renderChatML(_ messages: [ChatMessage], style: ChatMLStyle, into output: inout RenderBuffer) throws {
        if let system = style.defaultSystemPrompt, messages.first?.role != "system" {
            output.append("<|im_start|>system\n" + system + "<|im_end|>\n")
        }
        for (index, message) in messages.enumerated() {
            if style.rendersToolResponses && !["system", "user", "assistant"].contains(message.role) {
                try appendToolResponse(messages, index, into: &output)
                continue
            }
            output.append("<|im_start|>" + message.role + "\n")
            if message.role == "assistant" {
                output.appendAssistant(message.content + "<|im_end|>", messageIndex: index)
                output.append("\n")
            } else {
                output.append(message.content + "<|im_end|>\n")
            }
        }
    }

    private func renderQwen3(_ messages: [ChatMessage], into output: inout RenderBuffer) throws {
        if messages[0].role == "system" { output.append("<|im_start|>system\n" + messages[0].content + "<|im_end|>\n") }
        // The last real user query (not a wrapped tool response); turns after it keep their reasoning.
        let lastQuery = messages.lastIndex {
            $0.role == "user" && !(Self.utf8($0.content, startsWith: "<tool_response>")
                && Self.utf8($0.content, endsWith: "</tool_response>"))
        } ?? messages.count - 1
        for (index, message) in messages.enumerated() {
            switch message.role {
            case "user", "system":
                if index > 0 || message.role == "user" {
                    output.append("<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n")
                }
            case "assistant":
                var content = message.content
                var reasoning = ""
                let parts = Self.pythonSplit(content, "</think>")
                if parts.count > 1 {
                    reasoning = Self.strip(parts[0], "\n", leading: false)
                    reasoning = Self.strip(Self.pythonSplit(reasoning, "<think>").last ?? "", "\n", trailing: false)
                    content = Self.strip(parts[parts.count - 1], "\n", trailing: false)
                }
                var body = content
                if index > lastQuery && (index == messages.count - 1 || !reasoning.isEmpty) {
                    body = "<think>\n" + Self.strip(reasoning, "\n") + "\n</think>\n\n"
                        + Self.strip(content, "\n", trailing: false)
                }
                output.append("<|im_start|>assistant\n")
                output.appendAssistant(body + "<|im_end|>", messageIndex: index)
                output.append("\n")
            case "tool":
                try appendToolResponse(messages, index, into: &output)
            default:
                throw invalid(index, message, "Qwen's template renders only system, user, assistant and tool messages "
                              + "and would drop this one")
            }
        }
    }

    /// Qwen2.5/Qwen3 tool results: consecutive `tool` messages share one user turn of `<tool_response>` blocks.
    private func appendToolResponse(_ messages: [ChatMessage], _ index: Int, into output: inout RenderBuffer) throws {
        let message = messages[index]
        guard message.role == "tool" else {
            throw invalid(index, message, "Qwen's template renders only system, user, assistant and tool messages "
                          + "and would drop this one")
        }
        if index == 0 || messages[index - 1].role != "tool" { output.append("<|im_start|>user") }
        output.append("\n<tool_response>\n" + message.content + "\n</tool_response>")
        if index == messages.count - 1 || messages[index + 1].role != "tool" { output.append("<|im_end|>\n") }
    }

    private func renderLlama3(_ messages: [ChatMessage], into output: inout RenderBuffer) {
        for (index, message) in messages.enumerated() {
            if index == 0 { output.append(bosToken) }
            output.append("<|start_header_id|>" + message.role + "<|end_header_id|>\n\n")
            let turn = ChatTemplate.jinjaTrim(message.content) + "<|eot_id|>"
            if message.role == "assistant" {
                output.appendAssistant(turn, messageIndex: index)
            } else {
                output.append(turn)
            }
        }
    }

    private func renderLlama31(_ messages: [ChatMessage], date: String, into output: inout RenderBuffer) {
        let hasSystem = messages.first?.role == "system"
        output.append(bosToken + "<|start_header_id|>system<|end_header_id|>\n\n")
        output.append("Cutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n")
        output.append((hasSystem ? ChatTemplate.jinjaTrim(messages[0].content) : "") + "<|eot_id|>")
        for (index, message) in messages.enumerated().dropFirst(hasSystem ? 1 : 0) {
            if message.role == "tool" || message.role == "ipython" {
                // The template writes `content | tojson` (a string is iterable in Jinja), so results are quoted.
                output.append("<|start_header_id|>ipython<|end_header_id|>\n\n"
                              + ChatTemplate.pythonJSONString(message.content) + "<|eot_id|>")
                continue
            }
            output.append("<|start_header_id|>" + message.role + "<|end_header_id|>\n\n")
            let turn = ChatTemplate.jinjaTrim(message.content) + "<|eot_id|>"
            if message.role == "assistant" {
                output.appendAssistant(turn, messageIndex: index)
            } else {
                output.append(turn)
            }
        }
    }

    /// Today's date as `strftime("%d %b %Y")` writes it in transformers (local time, English month).
    private func today() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "dd MMM yyyy"
        return formatter.string(from: Date())
    }

    private func renderLlama2(_ messages: [ChatMessage], into output: inout RenderBuffer) throws {
        let (system, turns) = splitSystemMessage(messages)
        try checkAlternation(turns)
        for (position, (index, message)) in turns.enumerated() {
            var content = message.content
            if position == 0, let system = system {
                content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content
            }
            if message.role == "user" {
                output.append(bosToken + "[INST] " + ChatTemplate.jinjaTrim(content) + " [/INST]")
            } else {
                output.appendAssistant(" " + ChatTemplate.jinjaTrim(content) + " " + eosToken, messageIndex: index)
            }
        }
    }

    private func renderMistral(_ messages: [ChatMessage], style: MistralStyle,
                               into output: inout RenderBuffer) throws {
        if !style.acceptsSystemMessage, let first = messages.first, first.role == "system" {
            throw invalid(0, first, "this Mistral template has no system role; merge the system text into the "
                          + "first user message, or use --chat-template mistral")
        }
        let (system, turns) = splitSystemMessage(messages)
        try checkAlternation(turns)
        output.append(bosToken)
        for (position, (index, message)) in turns.enumerated() {
            if message.role == "user" {
                // The templates test `loop.last` / `loop.first`: with `loop.last` a conversation that ends with an
                // assistant message loses its system text, exactly as in transformers.
                let carriesSystem = style.systemInLastUserTurn ? position == turns.count - 1 : position == 0
                let system = carriesSystem ? system.map { $0 + "\n\n" } ?? "" : ""
                output.append(style.open + system + message.content + style.close)
            } else {
                let content = style.trimsAssistant ? ChatTemplate.jinjaTrim(message.content) : message.content
                output.appendAssistant(style.assistantPrefix + content + eosToken, messageIndex: index)
            }
        }
    }

    private func renderGemma(_ messages: [ChatMessage], foldsSystemMessage: Bool,
                             into output: inout RenderBuffer) throws {
        if !foldsSystemMessage, let first = messages.first, first.role == "system" {
            throw invalid(0, first, "Gemma 1 and 2 templates reject system messages; use the 'gemma' format "
                          + "(Gemma 3), which puts the system text at the start of the first user turn")
        }
        let (system, turns) = splitSystemMessage(messages)
        try checkAlternation(turns)
        output.append(bosToken)
        for (position, (index, message)) in turns.enumerated() {
            let role = message.role == "assistant" ? "model" : message.role
            let prefix = position == 0 ? system.map { $0 + "\n\n" } ?? "" : ""
            output.append("<start_of_turn>" + role + "\n" + prefix)
            let turn = ChatTemplate.jinjaTrim(message.content) + "<end_of_turn>"
            if message.role == "assistant" {
                output.appendAssistant(turn, messageIndex: index)
            } else {
                output.append(turn)
            }
            output.append("\n")
        }
    }

    private func renderHumanAssistant(_ messages: [ChatMessage], into output: inout RenderBuffer) throws {
        for (index, message) in messages.enumerated() {
            switch message.role {
            case "user":
                output.append("\n\nHuman: " + message.content)
            case "assistant":
                // The span starts at the space after "Assistant:": byte-level BPE pre-tokenizes " word" as one piece.
                output.append("\n\nAssistant:")
                output.appendAssistant(" " + message.content, messageIndex: index)
            default:
                throw invalid(index, message, "HH transcripts have only user ('Human') and assistant turns; "
                              + "merge a system message into the first user message")
            }
        }
    }

    // MARK: - Shared rules

    /// Splits off a leading system message the way the `[INST]` and Gemma templates do (`messages[1:]`),
    /// keeping each remaining message's original index for error messages and masks.
    private func splitSystemMessage(_ messages: [ChatMessage]) -> (String?, [(Int, ChatMessage)]) {
        let indexed = Array(messages.enumerated()).map { ($0.offset, $0.element) }
        guard let first = messages.first, first.role == "system" else { return (nil, indexed) }
        return (first.content, Array(indexed.dropFirst()))
    }

    /// The `[INST]` and Gemma rule: after the optional system message, user and assistant strictly alternate,
    /// starting with user. Other roles are rejected (the templates raise or silently drop them).
    private func checkAlternation(_ turns: [(Int, ChatMessage)]) throws {
        for (position, (index, message)) in turns.enumerated() {
            let expected = position % 2 == 0 ? "user" : "assistant"
            guard message.role == expected else {
                let reason = message.role == "user" || message.role == "assistant"
                    ? "after the optional first system message, roles must alternate user/assistant/user/…, "
                        + "so this message should be '\(expected)'"
                    : "only user and assistant messages (and one system message first) are supported"
                throw invalid(index, message, reason)
            }
        }
    }

    private func invalid(_ index: Int, _ message: ChatMessage, _ reason: String) -> ChatTemplateError {
        .invalidConversation(format: name, messageIndex: index, role: message.role, reason: reason)
    }

    /// Text under construction plus the byte ranges of its assistant spans.
    struct RenderBuffer {
        private(set) var text = ""
        private(set) var byteCount = 0
        private(set) var assistantRanges: [Range<Int>] = []
        private(set) var assistantMessageIndices: [Int] = []

        mutating func append(_ piece: String) {
            text += piece
            byteCount += piece.utf8.count
        }

        mutating func appendAssistant(_ piece: String, messageIndex: Int) {
            let start = byteCount
            append(piece)
            assistantRanges.append(start..<byteCount)
            assistantMessageIndices.append(messageIndex)
        }
    }
}
