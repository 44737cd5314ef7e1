import Foundation
import XCTest
@testable import LanguageModels
import Tokenizers

/// Plain-text chat formats (HH transcripts): where assistant spans start and how straddling tokens are masked,
/// plus the Python-compatible helpers templates rely on.
extension ChatTemplateTests {
    // MARK: - Plain-text boundaries

    /// HH has no special tokens at its boundaries, so where the assistant span starts matters: before the space
    /// after "Assistant:" every byte-level pre-tokenizer splits (" Hello" is one pre-token), after it they do not.
    func testHumanAssistantSplitsBeforeTheLeadingSpace() throws {
        let chat = try ChatTemplate(named: "hh")
        let messages = [ChatMessage(role: "user", content: "Hi there"),
                        ChatMessage(role: "assistant", content: "Hello friend"),
                        ChatMessage(role: "user", content: "Bye")]
        let rendered = try chat.render(messages, addGenerationPrompt: true)
        XCTAssertEqual(rendered.text, "\n\nHuman: Hi there\n\nAssistant: Hello friend\n\nHuman: Bye\n\nAssistant:")
        XCTAssertEqual(rendered.assistantTexts, [" Hello friend"])
        for name in ["gpt2", "llama3", "qwen2"] {
            let tokenizer = try tokenizer(name)
            let tokenized = chat.tokenize(rendered, tokenizer: tokenizer)
            XCTAssertTrue(tokenized.piecesMatchWholeText, name)
            XCTAssertEqual(tokenizer.decode(zip(tokenized.ids, tokenized.mask).filter { $0.1 }.map { $0.0 }),
                           " Hello friend", name)
            // The other split point would change the ids: "Assistant: " | "Hello" tokenizes differently.
            let whole = tokenizer.encode(rendered.text, addSpecialTokens: false)
            let afterSpace = tokenizer.encode("\n\nHuman: Hi there\n\nAssistant: ", addSpecialTokens: false)
                + tokenizer.encode("Hello friend\n\nHuman: Bye\n\nAssistant:", addSpecialTokens: false)
            XCTAssertNotEqual(afterSpace, whole, "\(name): splitting after the space must be the wrong choice")
        }
    }

    /// When a boundary is not clean (content starting with a newline after `assistant\n`), the ids stay the whole
    /// text's and the straddling token counts as assistant, like transformers' overlap rule.
    func testStraddlingTokenIsMaskedLikeTransformers() throws {
        let chat = try ChatTemplate(named: "chatml")
        let tokenizer = try tokenizer("qwen2")
        let messages = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "\nYo")]
        let rendered = try chat.render(messages, addGenerationPrompt: false)
        let tokenized = chat.tokenize(rendered, tokenizer: tokenizer)
        XCTAssertFalse(tokenized.piecesMatchWholeText)
        XCTAssertEqual(tokenized.ids, tokenizer.encode(rendered.text, addSpecialTokens: false))
        let masked = tokenized.ids.indices.filter { tokenized.mask[$0] }
        XCTAssertEqual(tokenizer.decode(masked.map { tokenized.ids[$0] }), "\n\nYo<|im_end|>",
                       "the \\n\\n token straddles the boundary and is masked")
        XCTAssertEqual(masked, Array(masked.first!...masked.last!), "one contiguous span")
    }

    /// The fallback (used when pieces do not tokenize like the whole text, as on SentencePiece vocabularies) locates
    /// boundaries from the nearest special token; on long conversations it must agree with the slow definition:
    /// tokenize everything before a boundary and count the ids shared with the whole text.
    func testFallbackAgreesWithPrefixTokenizationOnLongConversations() throws {
        let words = ["alpha", "beta", "\ngamma", "delta  ", "épsilon", "日本", "👍", "zeta.", "  eta", "</s>"]
        var messages: [ChatMessage] = [ChatMessage(role: "system", content: "Stay on topic.")]
        for turn in 0..<30 {
            let user = (0..<(3 + turn % 5)).map { words[($0 * 7 + turn) % words.count] }.joined(separator: " ")
            let answer = (0..<(2 + turn % 7)).map { words[($0 * 3 + turn * 5) % words.count] }.joined(separator: " ")
            messages += [ChatMessage(role: "user", content: user), ChatMessage(role: "assistant", content: answer)]
        }
        let pairings = [("llama2", "sentencepiece"), ("mistral", "metaspace"), ("mistral-v1", "metaspace"),
                        ("mistral-nemo", "metaspace"), ("gemma", "gemma"), ("chatml", "qwen2")]
        for (format, tokenizerName) in pairings {
            let chat = try ChatTemplate(named: format)
            let tokenizer = try tokenizer(tokenizerName)
            let rendered = try chat.render(messages, addGenerationPrompt: false)
            let tokenized = chat.tokenize(rendered, tokenizer: tokenizer)
            let whole = tokenizer.encode(rendered.text, addSpecialTokens: false)
            XCTAssertEqual(tokenized.ids, whole, format)

            let bytes = Array(rendered.text.utf8)
            func tokensBefore(_ cut: Int, isEnd: Bool) -> Int {
                let prefix = tokenizer.encode(String(decoding: bytes[..<cut], as: UTF8.self), addSpecialTokens: false)
                var common = 0
                while common < prefix.count, common < whole.count, prefix[common] == whole[common] { common += 1 }
                return common == prefix.count || !isEnd ? common : common + 1
            }
            var reference = Array(repeating: false, count: whole.count)
            for range in rendered.assistantRanges {
                let start = tokensBefore(range.lowerBound, isEnd: false)
                for index in start..<tokensBefore(range.upperBound, isEnd: true) { reference[index] = true }
            }
            XCTAssertEqual(tokenized.mask, reference, "\(format)/\(tokenizerName)")
            XCTAssertEqual(rendered.assistantRanges.count, 30, format)
            if tokenizerName == "qwen2" {
                XCTAssertTrue(tokenized.piecesMatchWholeText, "byte-level ChatML takes the fast path")
            }
            if format == "llama2" || format == "mistral-nemo" {
                XCTAssertFalse(tokenized.piecesMatchWholeText, "\(format) exercises the fallback")
            }
        }
    }

    /// Llama 3.1 keeps its template's fixed date; Llama 3.2 writes today's, like transformers' `strftime_now`;
    /// `dateString` overrides both.
    func testLlamaSystemHeaderDate() throws {
        let messages = [ChatMessage(role: "user", content: "Hi")]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd MMM yyyy"
        let today = formatter.string(from: Date())
        XCTAssertTrue(try ChatTemplate(named: "llama3.1").render(messages, addGenerationPrompt: true).text
            .contains("Today Date: 26 Jul 2024\n\n<|eot_id|>"))
        XCTAssertTrue(try ChatTemplate(named: "llama3.2").render(messages, addGenerationPrompt: true).text
            .contains("Today Date: \(today)\n\n<|eot_id|>"), today)
        var dated = try ChatTemplate(named: "llama3.2")
        dated.dateString = "01 Jan 2030"
        XCTAssertTrue(try dated.render(messages, addGenerationPrompt: true).text.contains("Today Date: 01 Jan 2030\n"))
    }

    /// Llama 3.1 quotes tool results with `tojson`, i.e. Python's `json.dumps(ensure_ascii=False)`.
    func testToolResultsAreQuotedLikePythonJSON() {
        XCTAssertEqual(ChatTemplate.pythonJSONString("a\"b\\c\n\u{01}\u{1F}\u{7F}\té👍\u{2028}"),
                       "\"a\\\"b\\\\c\\n\\u0001\\u001f\u{7F}\\té👍\u{2028}\"")
    }

    /// Jinja's `trim` is Python's `str.strip()`: Unicode whitespace including U+001C…U+001F and U+3000, not U+200B.
    func testTrimMatchesPythonStrip() {
        let padded = " \t\n\u{0B}\u{0C}\r\u{1C}\u{85}\u{A0}\u{3000}x y\u{2028}\u{2009} "
        XCTAssertEqual(ChatTemplate.jinjaTrim(padded), "x y")
        XCTAssertEqual(ChatTemplate.jinjaTrim("\u{200B}x\u{200B}"), "\u{200B}x\u{200B}")
        XCTAssertEqual(ChatTemplate.jinjaTrim("   "), "")
        XCTAssertEqual(ChatTemplate.jinjaTrim("e\u{301} "), "e\u{301}")
    }
}
