import Foundation
import Tokenizers

extension ChatTemplate {
    /// Formats and tokenizes a conversation, marking the tokens of assistant messages (for assistant-only loss).
    ///
    /// The ids equal transformers' `apply_chat_template(messages, tokenize=True)`, which tokenizes the rendered text
    /// with `add_special_tokens=False` (the template writes `<s>`/`<|begin_of_text|>` itself). The mask is true on
    /// the tokens of each assistant message's content and turn terminator, like `return_assistant_tokens_mask=True`
    /// with a template whose `{% generation %}` blocks cover those spans: a token overlapping a span is masked.
    /// - Parameters:
    ///   - messages: the conversation.
    ///   - tokenizer: the model's tokenizer.
    ///   - addGenerationPrompt: end with the assistant header, as for generation.
    /// - Returns: token ids and a mask of the same length.
    /// - Throws: `ChatTemplateError.invalidConversation` when the format cannot express the conversation.
    public func encode(_ messages: [ChatMessage], tokenizer: Tokenizer,
                       addGenerationPrompt: Bool) throws -> (ids: [Int32], assistantMask: [Bool]) {
        let tokenized = tokenize(try render(messages, addGenerationPrompt: addGenerationPrompt), tokenizer: tokenizer)
        return (tokenized.ids.map { Int32($0) }, tokenized.mask)
    }

    /// Formats and tokenizes a prompt-completion example the way TRL's `SFTTrainer` does for conversational data:
    /// the prompt is tokenized with the generation prompt, prompt + completion without, and the completion starts
    /// where the two id sequences first differ (TRL's `common_prefix_length`; normally right after the prompt).
    /// Everything after that is completion, including ChatML's newline after `<|im_end|>`.
    ///
    /// When the format renders the prompt differently once a completion follows (Mistral v0.3 moves the system
    /// text to the last user turn, so a completion ending in an assistant message drops it), the common prefix
    /// is short and the mask covers part of the prompt, exactly as in TRL, which warns about it.
    /// - Parameters:
    ///   - prompt: the messages before the completion (usually ending with a user message).
    ///   - completion: the messages to learn (usually one assistant message).
    ///   - tokenizer: the model's tokenizer.
    /// - Returns: the ids of prompt + completion and a mask that is true on the completion's tokens.
    /// - Throws: `ChatTemplateError.invalidConversation` for conversations the format cannot express.
    public func encodePromptCompletion(prompt: [ChatMessage], completion: [ChatMessage],
                                       tokenizer: Tokenizer) throws -> (ids: [Int32], completionMask: [Bool]) {
        let promptIds = tokenizer.encode(try render(prompt, addGenerationPrompt: true).text, addSpecialTokens: false)
        let ids = tokenizer.encode(try render(prompt + completion, addGenerationPrompt: false).text,
                                   addSpecialTokens: false)
        var promptLength = 0
        while promptLength < min(promptIds.count, ids.count), promptIds[promptLength] == ids[promptLength] {
            promptLength += 1
        }
        return (ids.map { Int32($0) }, (0..<ids.count).map { $0 >= promptLength })
    }

    /// Tokenizes a rendered conversation and marks its assistant tokens.
    ///
    /// Fast path: the text is cut at the assistant spans' boundaries and each piece tokenized on its own, which
    /// gives the mask directly. Tokenizing pieces can differ from tokenizing the whole text when a token would
    /// straddle a cut (e.g. `"\n\n"` across `assistant\n|\nHi`, or a SentencePiece `▁` prefix added at the start
    /// of a piece), so the pieces are checked against the whole text. When they differ, the whole text's ids are
    /// kept and each cut is located by tokenizing the text before it: the ids agree up to the cut, and a token
    /// straddling it is counted as assistant, which is transformers' overlap rule.
    func tokenize(_ chat: RenderedChat, tokenizer: Tokenizer) -> TokenizedChat {
        let bytes = Array(chat.text.utf8)
        let whole = tokenizer.encode(chat.text, addSpecialTokens: false)
        var cuts: [Int] = [0]
        for range in chat.assistantRanges { cuts += [range.lowerBound, range.upperBound] }
        cuts.append(bytes.count)

        var ids: [Int] = []
        var mask: [Bool] = []
        ids.reserveCapacity(whole.count)
        for piece in 0..<(cuts.count - 1) where cuts[piece] < cuts[piece + 1] {
            let text = String(decoding: bytes[cuts[piece]..<cuts[piece + 1]], as: UTF8.self)
            let pieceIds = tokenizer.encode(text, addSpecialTokens: false)
            ids += pieceIds
            mask += Array(repeating: piece % 2 == 1, count: pieceIds.count)
        }
        if ids == whole { return TokenizedChat(ids: ids, mask: mask, piecesMatchWholeText: true) }

        mask = Array(repeating: false, count: whole.count)
        for range in chat.assistantRanges where !range.isEmpty {
            let start = tokenIndex(ofCut: range.lowerBound, in: bytes, whole: whole, tokenizer: tokenizer, isEnd: false)
            let end = tokenIndex(ofCut: range.upperBound, in: bytes, whole: whole, tokenizer: tokenizer, isEnd: true)
            for index in start..<max(start, end) { mask[index] = true }
        }
        return TokenizedChat(ids: whole, mask: mask, piecesMatchWholeText: false)
    }

    /// The number of tokens of `whole` before byte `cut`; a token straddling the cut counts as after it for a
    /// span start and before it for a span end, so it is inside the span either way.
    private func tokenIndex(ofCut cut: Int, in bytes: [UInt8], whole: [Int], tokenizer: Tokenizer,
                            isEnd: Bool) -> Int {
        if cut == 0 { return 0 }
        if cut == bytes.count { return whole.count }
        let prefix = tokenizer.encode(String(decoding: bytes[..<cut], as: UTF8.self), addSpecialTokens: false)
        var common = 0
        while common < prefix.count, common < whole.count, prefix[common] == whole[common] { common += 1 }
        if common == prefix.count { return common }
        return isEnd ? min(common + 1, whole.count) : common
    }
}

/// Token ids of a rendered conversation with its assistant mask.
struct TokenizedChat: Equatable {
    var ids: [Int]
    var mask: [Bool]
    /// Whether tokenizing the pieces between span boundaries gave exactly the whole text's ids (the fast path).
    var piecesMatchWholeText: Bool
}
