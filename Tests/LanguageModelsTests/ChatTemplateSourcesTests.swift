import Foundation
import XCTest
@testable import LanguageModels

/// The Jinja sources `charter export trl` writes for the built-in formats (`ChatTemplate.jinjaSource`): Charter's own
/// Jinja interpreter running each source renders every conversation byte for byte as the native renderer does, so
/// TRL, given the file as `chat_template_path`, formats the data as Charter does.
final class ChatTemplateSourcesTests: XCTestCase {
    /// Conversations in every shape the formats treat differently, plus the fixture's (Fixtures/chat/expected.json).
    static var conversations: [(String, [ChatMessage])] {
        func m(_ role: String, _ content: String) -> ChatMessage { ChatMessage(role: role, content: content) }
        var all: [(String, [ChatMessage])] = [
            ("user only", [m("user", "What is the capital of France?")]),
            ("system and user", [m("system", "Answer in one word."), m("user", "Capital of Peru?")]),
            ("one exchange", [m("user", "2 + 2?"), m("assistant", "4")]),
            ("system, three exchanges", [m("system", "  Be brief.\n"), m("user", "Hi"), m("assistant", "Hello!"),
                                         m("user", "Joke?"), m("assistant", "No.\n\nSorry."), m("user", "Why not?"),
                                         m("assistant", " Because.")]),
            ("ends with user", [m("user", "a"), m("assistant", "b"), m("user", "c")]),
            ("thinking", [m("user", "6 x 7?"), m("assistant", "<think>\nsix sevens\n</think>\n\n42")]),
            ("unicode and markup", [m("user", "café 👍 </s> <|im_end|> [INST]"), m("assistant", "“ok” — {{ not jinja }}")]),
            ("assistant first", [m("assistant", "I start."), m("user", "Fine.")]),
            ("two users", [m("user", "One."), m("user", "Two.")]),
        ]
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chat/expected.json")
        if let data = try? Data(contentsOf: fixture),
           let expected = try? JSONDecoder().decode(ChatTemplateTests.Expected.self, from: data) {
            all += expected.conversations.sorted { $0.key < $1.key }.map { ("fixture \($0.key)", $0.value) }
        }
        return all
    }

    /// Renders every conversation, with and without a generation prompt, Qwen3's thinking on and off and Llama 3.2's
    /// date fixed, with both templates; they must render the same bytes or both refuse. Returns the rendered count.
    /// With `ranges`, the assistant ranges (the interpreted template's `{% generation %}` spans) must agree too.
    func assertSameRendering(_ native: ChatTemplate, _ interpreted: ChatTemplate, _ label: String, ranges: Bool = false) -> Int {
        var native = native, interpreted = interpreted, rendered = 0
        for (thinking, date) in [(true, "05 Dec 2026"), (false, "29 Feb 2028")] {
            native.enableThinking = thinking
            interpreted.enableThinking = thinking
            native.dateString = date
            interpreted.dateString = date
            for (name, messages) in Self.conversations {
                for addGenerationPrompt in [false, true] {
                    let context = "\(label), \(name), addGenerationPrompt \(addGenerationPrompt), thinking \(thinking)"
                    let fast = Result { try native.render(messages, addGenerationPrompt: addGenerationPrompt) }
                    let slow = Result { try interpreted.render(messages, addGenerationPrompt: addGenerationPrompt) }
                    switch (fast, slow) {
                    case let (.success(a), .success(b)):
                        XCTAssertEqual(Array(a.text.utf8), Array(b.text.utf8), "\(context): native \(a.text.debugDescription), Jinja \(b.text.debugDescription)")
                        if ranges {
                            XCTAssertEqual(a.assistantTexts, b.assistantTexts, "\(context): assistant ranges")
                        }
                        rendered += 1
                    case (.failure, .failure): break
                    case let (.success(a), .failure(error)): XCTFail("\(context): native rendered \(a.text.debugDescription), the source raised \(error)")
                    case let (.failure(error), .success(b)): XCTFail("\(context): native raised \(error), the source rendered \(b.text.debugDescription)")
                    }
                }
            }
        }
        return rendered
    }

    func testEveryBuiltInSourceRendersLikeTheNativeFormat() throws {
        XCTAssertGreaterThan(Self.conversations.count, 20, "Fixtures/chat/expected.json should add its conversations")
        var rendered = 0
        for name in ChatTemplate.builtInNames {
            let native = try ChatTemplate(named: name)
            let source = try XCTUnwrap(native.jinjaSource, "\(name) has no Jinja source")
            let interpreted = try ChatTemplate(jinja: source, specialTokens: ["bos_token": native.bosToken, "eos_token": native.eosToken])
            XCTAssertEqual(interpreted.name, "jinja")
            rendered += assertSameRendering(native, interpreted, name)
        }
        // Most pairs render (the strict formats refuse a few shapes, identically).
        XCTAssertGreaterThan(rendered, ChatTemplate.builtInNames.count * Self.conversations.count * 2)
    }

    /// What the export writes renders as Charter does whatever special tokens the tokenizer defines: none (Charter
    /// then uses the family's), or its own (both use them).
    func testSelfContainedSourcesRenderLikeTheNativeFormatWithAnyTokenizer() throws {
        var rendered = 0
        for name in ChatTemplate.builtInNames {
            let exported = try XCTUnwrap(try ChatTemplate(named: name).selfContainedJinjaSource())
            rendered += assertSameRendering(try ChatTemplate(named: name), try ChatTemplate(jinja: exported, specialTokens: [:]), "\(name) without special tokens")
            rendered += assertSameRendering(try ChatTemplate(named: name, bosToken: "<B>", eosToken: "<E>"),
                                            try ChatTemplate(jinja: exported, specialTokens: ["bos_token": "<B>", "eos_token": "<E>"]),
                                            "\(name) with the tokenizer's own tokens")
        }
        XCTAssertGreaterThan(rendered, ChatTemplate.builtInNames.count * Self.conversations.count * 4)
        // Only the tokens a template uses are defined (Llama 3's template mentions no eos_token).
        let llama3 = try XCTUnwrap(try ChatTemplate(named: "llama3").selfContainedJinjaSource())
        XCTAssertTrue(llama3.hasPrefix(#"{%- if not bos_token is defined %}{%- set bos_token = "<|begin_of_text|>" %}{%- endif %}"#), llama3)
        XCTAssertFalse(llama3.contains("eos_token"))
        XCTAssertEqual(try ChatTemplate(named: "chatml").selfContainedJinjaSource(), try ChatTemplate(named: "chatml").jinjaSource)
    }

    /// The training copies render the same text, and their `{% generation %}` spans are Charter's assistant ranges
    /// (what TRL's `assistant_only_loss` trains on).
    func testTrainingSourcesMarkCharterAssistantRanges() throws {
        var rendered = 0, marked = 0
        for name in ChatTemplate.builtInNames {
            let native = try ChatTemplate(named: name)
            let training = try XCTUnwrap(native.selfContainedJinjaSource(generationMarks: true), name)
            XCTAssertTrue(training.contains("generation %}") && training.contains("endgeneration"), name)
            let interpreted = try ChatTemplate(jinja: training, specialTokens: [:])
            rendered += assertSameRendering(native, interpreted, "\(name) training copy", ranges: true)
            let chat = try interpreted.render([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello.")],
                                              addGenerationPrompt: false)
            XCTAssertEqual(chat.assistantRanges.count, 1, name)
            marked += chat.assistantRanges.count
        }
        XCTAssertGreaterThan(rendered, ChatTemplate.builtInNames.count * Self.conversations.count * 2)
        XCTAssertEqual(marked, ChatTemplate.builtInNames.count)
    }

    /// A source read back (a `chat_template_path` of an imported TRL recipe, or a model folder's template) is
    /// recognised as the format it came from, and a `.jinja` file works wherever a format name does.
    func testSourcesAreRecognisedAsTheirFormat() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-template-sources-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ChatTemplate.builtInNames {
            let source = try XCTUnwrap(try ChatTemplate(named: name).jinjaSource)
            XCTAssertEqual(try ChatTemplate(recognizing: source).name, name)
            let file = folder.appendingPathComponent("\(name).jinja")
            try Data(source.utf8).write(to: file)
            XCTAssertEqual(try ChatTemplate(named: file.path).name, name)
        }
        XCTAssertEqual(Set(ChatTemplate.builtInNames.compactMap { try? ChatTemplate(named: $0).jinjaSource }).count,
                       ChatTemplate.builtInNames.count, "two formats share a source")
        // A file that is no built-in's template is interpreted.
        let custom = folder.appendingPathComponent("custom.jinja")
        try Data("{% for message in messages %}<{{ message['role'] }}>{{ message['content'] }}{% endfor %}".utf8).write(to: custom)
        let template = try ChatTemplate(named: custom.path)
        XCTAssertEqual(template.name, "jinja")
        XCTAssertNil(template.jinjaSource)
        XCTAssertEqual(try template.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: false).text, "<user>hi")
        XCTAssertThrowsError(try ChatTemplate(named: folder.appendingPathComponent("missing.jinja").path)) { error in
            XCTAssertTrue("\(error)".contains("missing.jinja"), "\(error)")
        }
    }
}
