import Foundation
import Templates

extension ChatTemplate {
    /// Renders a conversation with the Jinja interpreter, passing what transformers' `apply_chat_template` passes:
    /// `messages` (`role`, `content`), `tools` and `documents` (none), `add_generation_prompt`, the tokenizer's
    /// named special tokens, `enable_thinking` when it is turned off and `date_string` when `dateString` is set
    /// (the keyword arguments transformers users pass for those).
    ///
    /// Assistant ranges come from the template's `{% generation %}` blocks when it has them (transformers'
    /// `return_assistant_tokens_mask`). Otherwise each assistant message's range is what rendering it adds after the
    /// conversation before it with the generation prompt (its content and turn terminator, like TRL's prompt and
    /// completion split), or, where the template renders earlier turns differently once more follow, the message's
    /// content where it appears in the text.
    func renderInterpreted(_ template: Template, _ messages: [ChatMessage],
                           addGenerationPrompt: Bool) throws -> RenderedChat {
        let (text, generationRanges) = try run(template, messages, addGenerationPrompt: addGenerationPrompt)
        let assistantIndices = messages.indices.filter { messages[$0].role == "assistant" }
        if !generationRanges.isEmpty {
            let count = min(generationRanges.count, assistantIndices.count)
            return RenderedChat(text: text, assistantRanges: Array(generationRanges.prefix(count)),
                                assistantMessageIndices: Array(assistantIndices.prefix(count)))
        }
        let bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        var indices: [Int] = []
        var searchFrom = 0
        for index in assistantIndices {
            var range: Range<Int>?
            if index > 0,
               let prompt = try? run(template, Array(messages[..<index]), addGenerationPrompt: true).text.utf8,
               let turn = try? run(template, Array(messages[...index]), addGenerationPrompt: false).text.utf8,
               prompt.count >= searchFrom, turn.count > prompt.count, turn.starts(with: prompt),
               bytes.starts(with: turn) {
                range = prompt.count..<turn.count
            } else if let start = ChatTemplate.find(Array(messages[index].content.utf8), in: bytes, from: searchFrom),
                      !messages[index].content.isEmpty {
                range = start..<(start + messages[index].content.utf8.count)
            }
            guard let range else { continue }
            ranges.append(range)
            indices.append(index)
            searchFrom = range.upperBound
        }
        return RenderedChat(text: text, assistantRanges: ranges, assistantMessageIndices: indices)
    }

    private func run(_ template: Template, _ messages: [ChatMessage],
                     addGenerationPrompt: Bool) throws -> (text: String, generationRanges: [Range<Int>]) {
        var variables: [String: TemplateValue] = [
            "messages": .list(messages.map { message in
                var entry = TemplateDictionary()
                entry["role"] = .string(message.role)
                entry["content"] = .string(message.content)
                return .dictionary(entry)
            }),
            "tools": .none,
            "documents": .none,
            "add_generation_prompt": .boolean(addGenerationPrompt),
        ]
        for (name, token) in specialTokens { variables[name] = .string(token) }
        // Tokens the tokenizer does not have stay undefined, as in transformers.
        if !bosToken.isEmpty { variables["bos_token"] = .string(bosToken) }
        if !eosToken.isEmpty { variables["eos_token"] = .string(eosToken) }
        if !enableThinking { variables["enable_thinking"] = .boolean(false) }
        if let dateString { variables["date_string"] = .string(dateString) }
        do {
            return try template.renderMarkingGenerations(variables)
        } catch let error as TemplateError {
            throw ChatTemplateError.templateFailed(reason: error.description)
        }
    }

    /// The first byte offset at or after `start` where `pattern` occurs in `bytes`.
    static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return nil }
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) { return index }
            index += 1
        }
        return nil
    }
}
