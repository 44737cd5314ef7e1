import Foundation
import XCTest
@testable import LanguageModels
import Tokenizers

/// Chat formats against transformers' `apply_chat_template` (text, ids, `return_assistant_tokens_mask`) and TRL's
/// prompt-completion tokenization, on the families' own templates (Fixtures/chat/make_chat_fixtures.py).
final class ChatTemplateTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat")

    struct Case: Decodable {
        let error: String?
        let text: String?
        let ids: [Int]?
        let assistant_mask: String?
        let assistant_ranges: [[Int]]?
        let pieces_match: Bool?
    }
    struct PromptCompletionCase: Decodable { let error: String?; let ids: [Int]?; let completion_mask: String? }
    struct Family: Decodable {
        let family: String
        let tokenizer: String
        let date_string: String?
        let enable_thinking: Bool?
        let cases: [String: [Case]]
        let prompt_completion: [String: PromptCompletionCase]
    }
    struct PromptCompletion: Decodable { let prompt: [ChatMessage]; let completion: [ChatMessage] }
    struct Recognition: Decodable { let folder: String; let format: String?; let renderings: [String]? }
    struct Expected: Decodable {
        let conversations: [String: [ChatMessage]]
        let prompt_completions: [String: PromptCompletion]
        let families: [Family]
        let recognition: [Recognition]
    }

    static let expected: Expected? = try? JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))

    func loadExpected() throws -> Expected {
        try XCTUnwrap(Self.expected, "Fixtures/chat/expected.json is missing or unreadable; run make_chat_fixtures.py")
    }

    func template(_ family: String) throws -> ChatTemplate {
        try ChatTemplate(directory: Self.fixtures.appendingPathComponent("templates/\(family)"))
    }

    func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(url: Self.fixtures.appendingPathComponent("tokenizers/\(name)/tokenizer.json"))
    }

    func mask(_ bits: String) -> [Bool] { bits.map { $0 == "1" } }

    /// The fixture's cases for addGenerationPrompt false and true; one case stands for both.
    func withAndWithoutGenerationPrompt(_ cases: [Case]) -> [(Bool, Case)] {
        Array(zip([false, true], cases.count == 1 ? [cases[0], cases[0]] : cases))
    }

    // MARK: - Parity with transformers

    /// Every family recognised from its own template renders every conversation exactly like transformers, with the
    /// `{% generation %}` spans as assistant ranges, and throws where the template raises.
    func testRenderingMatchesTransformers() throws {
        let expected = try loadExpected()
        var rendered = 0, rejected = 0
        for family in expected.families {
            var chat = try template(family.family)
            chat.dateString = family.date_string
            chat.enableThinking = family.enable_thinking ?? true
            XCTAssertEqual(chat.name, family.family, "recognised format of templates/\(family.family)")
            for (name, cases) in family.cases.sorted(by: { $0.key < $1.key }) {
                let messages = try XCTUnwrap(expected.conversations[name])
                for (generationPrompt, reference) in withAndWithoutGenerationPrompt(cases) {
                    let label = "\(family.family) \(name) addGenerationPrompt=\(generationPrompt)"
                    if let error = reference.error {
                        XCTAssertThrowsError(try chat.render(messages, addGenerationPrompt: generationPrompt),
                                             "\(label): transformers raised \"\(error)\"") { thrown in
                            guard case ChatTemplateError.invalidConversation = thrown else {
                                return XCTFail("\(label): expected invalidConversation, got \(thrown)")
                            }
                        }
                        rejected += 1
                        continue
                    }
                    let result = try chat.render(messages, addGenerationPrompt: generationPrompt)
                    XCTAssertEqual(result.text, reference.text, label)
                    XCTAssertEqual(result.assistantRanges.map { [$0.lowerBound, $0.upperBound] },
                                   reference.assistant_ranges, "\(label): assistant ranges")
                    XCTAssertEqual(result.assistantMessageIndices,
                                   messages.indices.filter { messages[$0].role == "assistant" }, label)
                    rendered += 1
                }
            }
        }
        XCTAssertGreaterThan(rendered, 250)
        XCTAssertGreaterThan(rejected, 50)
    }

    /// Ids equal `apply_chat_template(tokenize=True)` and the mask equals `return_assistant_tokens_mask`, for every
    /// family on its tokenizer and on extra pairings (HH and ChatML on other byte-level vocabularies).
    func testIdsAndAssistantMasksMatchTransformers() throws {
        let expected = try loadExpected()
        var checked = 0
        for family in expected.families {
            var chat = try template(family.family)
            chat.dateString = family.date_string
            chat.enableThinking = family.enable_thinking ?? true
            let tokenizer = try tokenizer(family.tokenizer)
            for (name, cases) in family.cases.sorted(by: { $0.key < $1.key }) {
                let messages = try XCTUnwrap(expected.conversations[name])
                for (generationPrompt, reference) in withAndWithoutGenerationPrompt(cases)
                    where reference.error == nil {
                    let label = "\(family.family)/\(family.tokenizer) \(name) addGenerationPrompt=\(generationPrompt)"
                    let (ids, assistantMask) = try chat.encode(messages, tokenizer: tokenizer,
                                                               addGenerationPrompt: generationPrompt)
                    XCTAssertEqual(ids.map(Int.init), reference.ids, "\(label): ids")
                    XCTAssertEqual(assistantMask, mask(try XCTUnwrap(reference.assistant_mask)), "\(label): mask")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    /// Tokenizing the pieces between assistant boundaries gives the whole text's ids exactly when it does with HF
    /// `tokenizers` (the fast path), and on byte-level vocabularies that is every case but content starting with
    /// a newline right after `assistant\n` (where `\n\n` is one pre-token).
    func testPiecewiseTokenizationAgreesWithWholeText() throws {
        let expected = try loadExpected()
        var fast = 0, fallback = 0
        for family in expected.families {
            var chat = try template(family.family)
            chat.dateString = family.date_string
            chat.enableThinking = family.enable_thinking ?? true
            let tokenizer = try tokenizer(family.tokenizer)
            for (name, cases) in family.cases.sorted(by: { $0.key < $1.key }) {
                let messages = try XCTUnwrap(expected.conversations[name])
                for (generationPrompt, reference) in withAndWithoutGenerationPrompt(cases)
                    where reference.error == nil {
                    let label = "\(family.family)/\(family.tokenizer) \(name) addGenerationPrompt=\(generationPrompt)"
                    let rendered = try chat.render(messages, addGenerationPrompt: generationPrompt)
                    let tokenized = chat.tokenize(rendered, tokenizer: tokenizer)
                    XCTAssertEqual(tokenized.piecesMatchWholeText, reference.pieces_match, label)
                    XCTAssertEqual(tokenized.ids, tokenizer.encode(rendered.text, addSpecialTokens: false), label)
                    if tokenized.piecesMatchWholeText { fast += 1 } else { fallback += 1 }
                    let byteLevel = ["qwen2", "llama3", "gpt2"].contains(family.tokenizer)
                    if byteLevel && name != "whitespace" {
                        XCTAssertTrue(tokenized.piecesMatchWholeText, "\(label): byte-level boundaries must be clean")
                    }
                }
            }
        }
        XCTAssertGreaterThan(fast, 150)
        XCTAssertGreaterThan(fallback, 20, "the SentencePiece families exercise the fallback")
    }

    /// On byte-level vocabularies, the masked tokens decode to exactly the assistant ranges' text.
    func testMaskedTokensDecodeToAssistantText() throws {
        let expected = try loadExpected()
        for family in expected.families where ["qwen2", "llama3", "gpt2"].contains(family.tokenizer) {
            var chat = try template(family.family)
            chat.dateString = family.date_string
            chat.enableThinking = family.enable_thinking ?? true
            let tokenizer = try tokenizer(family.tokenizer)
            for (name, messages) in expected.conversations.sorted(by: { $0.key < $1.key }) where name != "whitespace" {
                guard let rendered = try? chat.render(messages, addGenerationPrompt: false) else { continue }
                let (ids, assistantMask) = try chat.encode(messages, tokenizer: tokenizer, addGenerationPrompt: false)
                let masked = zip(ids, assistantMask).filter { $0.1 }.map { Int($0.0) }
                XCTAssertEqual(tokenizer.decode(masked), rendered.assistantTexts.joined(),
                               "\(family.family)/\(family.tokenizer) \(name)")
                XCTAssertFalse(rendered.assistantTexts.isEmpty && name == "multi_turn")
            }
        }
    }

    /// `encodePromptCompletion` equals TRL SFTTrainer's conversational prompt-completion ids and completion mask.
    func testPromptCompletionMatchesTRL() throws {
        let expected = try loadExpected()
        var checked = 0
        for family in expected.families {
            var chat = try template(family.family)
            chat.dateString = family.date_string
            chat.enableThinking = family.enable_thinking ?? true
            let tokenizer = try tokenizer(family.tokenizer)
            for (name, reference) in family.prompt_completion.sorted(by: { $0.key < $1.key }) {
                let example = try XCTUnwrap(expected.prompt_completions[name])
                let label = "\(family.family)/\(family.tokenizer) \(name)"
                if reference.error != nil {
                    XCTAssertThrowsError(try chat.encodePromptCompletion(
                        prompt: example.prompt, completion: example.completion, tokenizer: tokenizer), label)
                    continue
                }
                let (ids, completionMask) = try chat.encodePromptCompletion(
                    prompt: example.prompt, completion: example.completion, tokenizer: tokenizer)
                XCTAssertEqual(ids.map(Int.init), reference.ids, "\(label): ids")
                XCTAssertEqual(completionMask, mask(try XCTUnwrap(reference.completion_mask)), "\(label): mask")
                XCTAssertTrue(completionMask.contains(true), label)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    // MARK: - Recognition

    /// Real-looking tokenizer configs: re-indented templates, the list-of-named-templates form, `chat_template.jinja`,
    /// templates that are no built-in format and run on the Jinja interpreter (Llama 3.2 Vision, Qwen3-style
    /// thinking, Zephyr), and a base model without a template.
    func testRecognitionFromTokenizerConfigurations() throws {
        let expected = try loadExpected()
        let sample = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                      ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye")]
        for case_ in expected.recognition {
            let folder = Self.fixtures.appendingPathComponent("templates/\(case_.folder)")
            switch case_.format {
            case nil:
                XCTFail("\(case_.folder): every recognition case names a format")
            case "missing":
                XCTAssertThrowsError(try ChatTemplate(directory: folder), case_.folder) { error in
                    guard case ChatTemplateError.missingTemplate = error else {
                        return XCTFail("\(case_.folder): expected missingTemplate, got \(error)")
                    }
                    XCTAssertTrue(String(describing: error).contains("--chat-template NAME"))
                }
            case let format?:
                let chat = try ChatTemplate(directory: folder)
                XCTAssertEqual(chat.name, format, case_.folder)
                if let renderings = case_.renderings {
                    XCTAssertEqual(try chat.render(sample, addGenerationPrompt: true).text, renderings[0], case_.folder)
                    XCTAssertEqual(try chat.render(Array(sample.dropFirst()), addGenerationPrompt: true).text,
                                   renderings[1], case_.folder)
                }
            }
        }
    }

    /// The fast path is kept only where it is the template: every family recognised from its own template renders
    /// every fixture conversation exactly as the interpreter running that template does (or both refuse it).
    func testBuiltInFormatsRenderExactlyLikeTheirTemplates() throws {
        let expected = try loadExpected()
        var compared = 0
        for family in expected.families {
            let folder = Self.fixtures.appendingPathComponent("templates/\(family.family)")
            let data = try Data(contentsOf: folder.appendingPathComponent("tokenizer_config.json"))
            let config = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let source = try XCTUnwrap(config?["chat_template"] as? String, family.family)
            var native = try ChatTemplate(tokenizerConfiguration: data)
            XCTAssertNotEqual(native.name, "jinja", family.family)
            var interpreted = try ChatTemplate(jinja: source, specialTokens: native.specialTokens)
            native.enableThinking = family.enable_thinking ?? true
            interpreted.enableThinking = native.enableThinking
            native.dateString = family.date_string
            interpreted.dateString = family.date_string
            for (name, messages) in expected.conversations.sorted(by: { $0.key < $1.key }) {
                for addGenerationPrompt in [false, true] {
                    let label = "\(family.family) \(name) addGenerationPrompt=\(addGenerationPrompt)"
                    let fast = Result { try native.render(messages, addGenerationPrompt: addGenerationPrompt).text }
                    let slow = Result { try interpreted.render(messages, addGenerationPrompt: addGenerationPrompt).text }
                    switch (fast, slow) {
                    case let (.success(a), .success(b)): XCTAssertEqual(a, b, label)
                    case (.failure, .failure): break
                    case let (.success(a), .failure(error)): XCTFail("\(label): native rendered \(a.debugDescription), template raised \(error)")
                    case let (.failure(error), .success(b)): XCTFail("\(label): native raised \(error), template rendered \(b.debugDescription)")
                    }
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 400)
    }

    /// A template that is not valid Jinja is refused with its line and column; a template's `raise_exception`
    /// reaches the caller with the template's message.
    func testInterpretedTemplateErrors() throws {
        XCTAssertThrowsError(try ChatTemplate(recognizing: "{% for m in messages %}\n{{ m.content }", source: "x.jinja")) {
            XCTAssertEqual(String(describing: $0), "The chat template in x.jinja cannot be used: Template syntax error: "
                           + "unexpected '}' (template line 2, column 14). Fix the template, or pick a built-in format "
                           + "with --chat-template NAME (in code: ChatTemplate(named:)).")
        }
        let strict = try ChatTemplate(recognizing: "{% if messages[0].role == 'system' %}"
                                      + "{{ raise_exception('System role not supported') }}{% endif %}ok")
        XCTAssertEqual(strict.name, "jinja")
        XCTAssertEqual(try strict.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false).text, "ok")
        XCTAssertThrowsError(try strict.render([ChatMessage(role: "system", content: "S")], addGenerationPrompt: false)) {
            guard case let ChatTemplateError.templateFailed(reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(reason, "The chat template raised: System role not supported (template line 1, column 38)")
        }
    }

    /// An interpreted template's assistant ranges: what each assistant turn adds after the generation prompt.
    func testInterpretedAssistantRanges() throws {
        let zephyr = try template("zephyr")
        XCTAssertEqual(zephyr.name, "jinja")
        let chat = try zephyr.render([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello."),
                                      ChatMessage(role: "user", content: "Bye"), ChatMessage(role: "assistant", content: "Ciao")],
                                     addGenerationPrompt: false)
        XCTAssertEqual(chat.text, "<|user|>\nHi</s>\n<|assistant|>\nHello.</s>\n<|user|>\nBye</s>\n<|assistant|>\nCiao</s>\n")
        XCTAssertEqual(chat.assistantTexts, ["Hello.</s>\n", "Ciao</s>\n"])
        XCTAssertEqual(chat.assistantMessageIndices, [1, 3])
    }

    /// A template with `{% generation %}` blocks gives its assistant ranges from them, as transformers'
    /// `return_assistant_tokens_mask` does, and the token mask covers exactly those tokens.
    func testGenerationBlocksGiveAssistantRanges() throws {
        let source = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
            + "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}"
            + "{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\\n' }}{% endfor %}"
        let chat = try ChatTemplate(jinja: source, specialTokens: ["eos_token": "<|im_end|>"])
        let messages = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello there."),
                        ChatMessage(role: "user", content: "Bye"), ChatMessage(role: "assistant", content: "Ciao")]
        let rendered = try chat.render(messages, addGenerationPrompt: false)
        XCTAssertEqual(rendered.assistantTexts, ["Hello there.<|im_end|>", "Ciao<|im_end|>"])
        XCTAssertEqual(rendered.assistantMessageIndices, [1, 3])
        let tokenizer = try tokenizer("qwen2")
        let (ids, mask) = try chat.encode(messages, tokenizer: tokenizer, addGenerationPrompt: false)
        let masked = zip(ids, mask).filter { $0.1 }.map { Int($0.0) }
        XCTAssertEqual(tokenizer.decode(masked), "Hello there.<|im_end|>Ciao<|im_end|>")
    }

    /// A template variant that differs only inside a string literal is a different format: Mistral's three
    /// variants differ by the spaces around `[INST]`, so fingerprints must keep literal whitespace.
    func testFingerprintKeepsLiteralWhitespaceAndIgnoresLayout() throws {
        XCTAssertEqual(ChatTemplate.fingerprint("{%- if x -%}\n  {{ 'a b' + \"c\" }}\n{% endif %}"),
                       "{%ifx%}{{'a bc'}}{%endif%}")
        XCTAssertEqual(ChatTemplate.fingerprint("{{ x + 'a' + 'b' | trim + \"c\" + y }}"), "{{x+'a'+'b'|trim+'c'+y}}")
        XCTAssertEqual(ChatTemplate.fingerprint("{# a comment #}{{ message.content | trim }}"),
                       "{{message['content']|trim}}")
        // A real newline inside a literal and the escape `\n` are the same text; `.strip()` is `trim`.
        XCTAssertEqual(ChatTemplate.fingerprint("{{ 'a\n' + x.strip() }}"),
                       ChatTemplate.fingerprint("{{'a\\n'+x|trim}}"))
        // CodeLlama's copy of the Llama 2 template spells strip() as `| trim`.
        let llama2Folder = Self.fixtures.appendingPathComponent("templates/llama2")
        let llama2 = try Data(contentsOf: llama2Folder.appendingPathComponent("tokenizer_config.json"))
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: llama2) as? [String: Any])
        let codeLlama = try XCTUnwrap(config["chat_template"] as? String)
            .replacingOccurrences(of: ".strip()", with: " | trim")
        XCTAssertEqual(try ChatTemplate(recognizing: codeLlama).name, "llama2")
        // Look-alikes that render differently are refused rather than guessed.
        let chatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
            + "'<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        XCTAssertEqual(try ChatTemplate(recognizing: chatML).name, "chatml")
        let joined = chatML.replacingOccurrences(of: "'<|im_end|>' + '\\n'", with: "'<|im_end|>\\n'")
        XCTAssertNotEqual(joined, chatML)
        XCTAssertEqual(try ChatTemplate(recognizing: joined).name, "chatml", "one literal or two is the same text")
        // A ChatML fine-tune with its own default system prompt (SmolLM2's layout) keeps that prompt.
        let defaultSystem = "{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are SmolLM.<|im_end|>\\n' }}{% endif %}"
        let smol = chatML.replacingOccurrences(of: "{% for message in messages %}",
                                               with: "{% for message in messages %}" + defaultSystem)
        let user = [ChatMessage(role: "user", content: "Hi")]
        XCTAssertEqual(try ChatTemplate(recognizing: smol).render(user, addGenerationPrompt: true).text,
                       "<|im_start|>system\nYou are SmolLM.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\n")
        let withEos = chatML.replacingOccurrences(of: "{% endif %}", with: "{% else %}{{ eos_token }}{% endif %}")
        // Variants the native format does not write are run as templates instead.
        XCTAssertEqual(try ChatTemplate(recognizing: withEos, eosToken: "<|im_end|>").render(
            user, addGenerationPrompt: false).text, "<|im_start|>user\nHi<|im_end|>\n<|im_end|>")
        let trimmed = chatML.replacingOccurrences(of: "message['content'] +", with: "message['content'] | trim +")
        let trimming = try ChatTemplate(recognizing: trimmed)
        XCTAssertEqual(trimming.name, "jinja")
        XCTAssertEqual(try trimming.render([ChatMessage(role: "user", content: " Hi\n")], addGenerationPrompt: true).text,
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try template("mistral").name, "mistral")
        XCTAssertEqual(try template("mistral-v1").name, "mistral-v1")
        XCTAssertEqual(try template("mistral-nemo").name, "mistral-nemo")
        XCTAssertEqual(try template("mistral-legacy").name, "mistral-legacy")
        // The untrimmed v0.3 copy is recognised as Mistral v0.3 but keeps assistant padding, like its template.
        let untrimmed = try template("mistral-untrimmed")
        let messages = [ChatMessage(role: "user", content: "U"), ChatMessage(role: "assistant", content: "  A  ")]
        XCTAssertEqual(try untrimmed.render(messages, addGenerationPrompt: false).text, "<s>[INST] U[/INST]   A  </s>")
        XCTAssertEqual(try template("mistral").render(messages, addGenerationPrompt: false).text,
                       "<s>[INST] U[/INST] A</s>")
    }

    /// Names give the same formats recognition finds; bos/eos come from the configuration.
    func testNamedFormatsEqualRecognisedOnes() throws {
        for name in ChatTemplate.builtInNames {
            let named = try ChatTemplate(named: name), recognised = try template(name)
            XCTAssertEqual(named.format, recognised.format, name)
            XCTAssertEqual(named.bosToken, recognised.bosToken, name)
        }
        XCTAssertEqual(try ChatTemplate(named: "Mistral_Nemo").name, "mistral-nemo")
        XCTAssertEqual(try ChatTemplate(named: "Llama-3").name, "llama3")
        XCTAssertEqual(try ChatTemplate(named: "qwen2_5").name, "qwen2.5")
        XCTAssertEqual(try ChatTemplate(named: "gemma3").name, "gemma")
        for (alias, name) in ChatTemplate.aliases { XCTAssertEqual(try ChatTemplate(named: alias).name, name, alias) }
        XCTAssertThrowsError(try ChatTemplate(named: "vicuna")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .unknownName("vicuna", known: ChatTemplate.builtInNames))
            XCTAssertTrue(String(describing: error).contains("llama3"))
        }
        let llama3 = "{{ bos_token }}{% for message in messages %}{% set content = '<|start_header_id|>' + "
            + "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{{ content }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
            + "{% endif %}"
        let data = try JSONSerialization.data(withJSONObject: ["bos_token": ["content": "<|x|>"],
                                                               "chat_template": llama3])
        let custom = try ChatTemplate(tokenizerConfiguration: data)
        XCTAssertEqual(custom.name, "llama3")
        XCTAssertEqual(custom.bosToken, "<|x|>")
        XCTAssertThrowsError(try ChatTemplate(tokenizerConfiguration: Data("[1]".utf8), source: "cfg.json")) { error in
            XCTAssertTrue(String(describing: error).contains("cfg.json"))
        }
        XCTAssertThrowsError(try ChatTemplate(tokenizerConfiguration: Data("{\"chat_template\": ".utf8))) { error in
            guard case ChatTemplateError.unreadableConfiguration(let path, _) = error else {
                return XCTFail("expected unreadableConfiguration, got \(error)")
            }
            XCTAssertEqual(path, "tokenizer_config.json")
        }
        let nowhere = Self.fixtures.appendingPathComponent("templates/does-not-exist")
        XCTAssertThrowsError(try ChatTemplate(directory: nowhere)) { error in
            XCTAssertTrue(String(describing: error).contains("neither tokenizer_config.json nor chat_template.jinja"),
                          "\(error)")
        }
    }

    // MARK: - Invalid conversations

    func testInvalidConversationsNameTheMessage() throws {
        let user = ChatMessage(role: "user", content: "u"), assistant = ChatMessage(role: "assistant", content: "a")
        let system = ChatMessage(role: "system", content: "s"), tool = ChatMessage(role: "tool", content: "t")
        func assertInvalid(_ format: String, _ messages: [ChatMessage], index: Int, role: String,
                           line: UInt = #line) throws {
            let chat = try ChatTemplate(named: format)
            XCTAssertThrowsError(try chat.render(messages, addGenerationPrompt: false), line: line) { error in
                guard case let ChatTemplateError.invalidConversation(name, messageIndex, messageRole, _) = error else {
                    return XCTFail("expected invalidConversation, got \(error)", line: line)
                }
                XCTAssertEqual([name, messageRole], [format, role], line: line)
                XCTAssertEqual(messageIndex, index, line: line)
                let description = String(describing: error)
                XCTAssertTrue(description.contains("Message \(index) (role '\(role)')"), description, line: line)
            }
        }
        try assertInvalid("llama2", [system, user, user], index: 2, role: "user")
        try assertInvalid("llama2", [assistant, user], index: 0, role: "assistant")
        try assertInvalid("llama2", [user, assistant, system], index: 2, role: "system")
        try assertInvalid("mistral", [user, assistant, assistant], index: 2, role: "assistant")
        try assertInvalid("mistral-v1", [user, tool], index: 1, role: "tool")
        try assertInvalid("mistral-legacy", [system, user], index: 0, role: "system")
        try assertInvalid("gemma", [system, assistant], index: 1, role: "assistant")
        try assertInvalid("gemma2", [system, user], index: 0, role: "system")
        try assertInvalid("hh", [system, user], index: 0, role: "system")
        try assertInvalid("qwen2.5", [user, ChatMessage(role: "function", content: "f")], index: 1, role: "function")
        XCTAssertThrowsError(try ChatTemplate(named: "chatml").render([], addGenerationPrompt: true)) { error in
            XCTAssertEqual(error as? ChatTemplateError, .emptyConversation)
        }
        // ChatML and Llama 3 accept any role, as their templates do.
        XCTAssertNoThrow(try ChatTemplate(named: "chatml").render([user, tool], addGenerationPrompt: false))
        XCTAssertNoThrow(try ChatTemplate(named: "llama3").render([assistant, assistant], addGenerationPrompt: false))
    }
}
