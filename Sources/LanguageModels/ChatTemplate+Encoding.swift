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
    /// straddle a cut (e.g. `"\n\n"` across `assistant\n|\nHi`) or a piece is treated as the start of the input
    /// (SentencePiece's `▁` prefix), so the pieces are checked against the whole text. When they differ, the whole
    /// text's ids are kept and each cut is located by tokenizing the text from the nearest special token before
    /// it (tokenization restarts at every added token, so those ids agree with the whole text's up to the cut).
    /// A token straddling a cut counts as assistant, which is transformers' overlap rule.
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

        let spans = chat.assistantRanges.filter { !$0.isEmpty }
        let boundaries = spans.flatMap { [Boundary(byte: $0.lowerBound, isEnd: false),
                                          Boundary(byte: $0.upperBound, isEnd: true)] }
        let indices = locate(boundaries, in: bytes, whole: whole, tokenizer: tokenizer)
        mask = Array(repeating: false, count: whole.count)
        for span in 0..<spans.count {
            let (start, end) = (indices[2 * span], indices[2 * span + 1])
            for index in start..<max(start, end) { mask[index] = true }
        }
        return TokenizedChat(ids: whole, mask: mask, piecesMatchWholeText: false)
    }

    /// A span boundary to locate among the whole text's tokens.
    private struct Boundary {
        var byte: Int
        /// A token straddling an end boundary is inside the span, so it counts as before the boundary.
        var isEnd: Bool
    }

    /// The number of tokens of `whole` before each boundary (sorted by byte).
    ///
    /// Walks the text once, keeping an anchor: a special token of the format whose token index is verified. Each
    /// boundary is located by tokenizing from the anchor to it; the ids agree with `whole` up to the boundary,
    /// or up to a token straddling it. A later special token becomes the anchor when the ids up to it agree and
    /// it is the next id, so every stretch of text is tokenized about twice in all.
    private func locate(_ boundaries: [Boundary], in bytes: [UInt8], whole: [Int], tokenizer: Tokenizer) -> [Int] {
        enum Event { case boundary(Int), anchor(id: Int) }
        var events: [(byte: Int, order: Int, event: Event)] = boundaries.enumerated().map {
            ($0.element.byte, 0, .boundary($0.offset))
        }
        for (byte, id) in specialTokenOccurrences(in: bytes, tokenizer: tokenizer) {
            events.append((byte, 1, .anchor(id: id)))
        }
        events.sort { ($0.byte, $0.order) < ($1.byte, $1.order) }

        var anchorByte = 0, anchorToken = 0
        var indices = Array(repeating: 0, count: boundaries.count)
        for (byte, _, event) in events {
            let window = byte > anchorByte
                ? tokenizer.encode(String(decoding: bytes[anchorByte..<byte], as: UTF8.self), addSpecialTokens: false)
                : []
            var common = 0
            while common < window.count, anchorToken + common < whole.count,
                  window[common] == whole[anchorToken + common] { common += 1 }
            let clean = common == window.count
            switch event {
            case let .boundary(position) where !clean:
                // The text before the cut tokenizes differently alone (`"\n\n"` as one token at its end, two before
                // `"blue"`). If the text after it tokenizes as the whole text's last tokens, no token straddles the
                // cut and it falls right before them; otherwise a token straddles it and counts as assistant.
                let rest = tokenizer.encode(String(decoding: bytes[byte...], as: UTF8.self), addSpecialTokens: false)
                if byte > anchorByte, rest.count <= whole.count - anchorToken, whole.suffix(rest.count).elementsEqual(rest) {
                    indices[position] = whole.count - rest.count
                } else {
                    let straddling = boundaries[position].isEnd && anchorToken + common < whole.count
                    indices[position] = anchorToken + common + (straddling ? 1 : 0)
                }
            case let .boundary(position):
                indices[position] = anchorToken + common
            case let .anchor(id):
                if clean, anchorToken + common < whole.count, whole[anchorToken + common] == id {
                    anchorByte = byte
                    anchorToken += common
                }
            }
        }
        return indices
    }

    /// Byte offsets and ids of the format's own special tokens (`<|im_start|>`, `</s>`, …) in the text, where the
    /// tokenizer has them as plain added tokens (no stripping or word rules that would move their boundaries).
    private func specialTokenOccurrences(in bytes: [UInt8], tokenizer: Tokenizer) -> [(Int, Int)] {
        let structural: Set<String>
        switch format {
        case .chatML, .qwen3: structural = ["<|im_start|>", "<|im_end|>"]
        case .llama3, .llama31: structural = [bosToken, "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        case .llama2, .mistral: structural = [bosToken, eosToken]
        case .gemma: structural = [bosToken, "<start_of_turn>", "<end_of_turn>"]
        case .humanAssistant: structural = []
        // Any template: every special added token (`<|im_start|>`, `<|user|>`, …) can anchor.
        case .jinja: structural = Set(tokenizer.addedTokens.filter { $0.isSpecial && !$0.content.isEmpty }.map(\.content))
        }
        var found: [(Int, Int)] = []
        for token in tokenizer.addedTokens where structural.contains(token.content)
            && !token.leftStrip && !token.rightStrip && !token.singleWord {
            let pattern = Array(token.content.utf8)
            var start = 0
            while start + pattern.count <= bytes.count {
                if bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
                    found.append((start, token.id))
                    start += pattern.count
                } else {
                    start += 1
                }
            }
        }
        return found
    }

    /// Token ids of a rendered conversation with its assistant mask.
    struct TokenizedChat: Equatable {
        var ids: [Int]
        var mask: [Bool]
        /// Whether tokenizing the pieces between span boundaries gave exactly the whole text's ids (the fast path).
        var piecesMatchWholeText: Bool
    }
}
