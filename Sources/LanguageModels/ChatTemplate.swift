import Foundation
import Templates

/// A model family's chat format: turns a conversation into the exact text (and token ids) that
/// transformers' `tokenizer.apply_chat_template` produces, and marks which parts are assistant output.
///
/// Hugging Face models ship their format as a Jinja template in `tokenizer_config.json` or `chat_template.jinja`.
/// Charter recognises the templates of the built-in families below by fingerprint and renders them natively (the
/// tests check that this gives the same text as running the template); any other template is run by the
/// `Templates` module's Jinja interpreter, the way transformers runs it (format name `jinja`).
///
/// ```swift
/// let template = try ChatTemplate(directory: modelFolder)          // or ChatTemplate(named: "chatml")
/// let chat = try template.render(messages, addGenerationPrompt: true)
/// let (ids, assistantMask) = try template.encode(messages, tokenizer: tokenizer, addGenerationPrompt: false)
/// ```
///
/// Built-in formats (names accepted by `init(named:)` and the CLI's `--chat-template NAME`):
/// - `chatml`: `<|im_start|>role\n…<|im_end|>\n`, any role, system is a normal turn.
/// - `qwen2`: ChatML with Qwen2's default system prompt when the first message is not a system message.
/// - `qwen2.5`: ChatML with Qwen2.5's default system prompt; `tool` messages become `<tool_response>` blocks.
/// - `qwen3`: ChatML without a default system prompt; the last assistant turn after the last user message gets a
///   `<think>…</think>` block (empty unless its content has one), earlier turns lose theirs; `enableThinking` false
///   ends the generation prompt with an empty think block.
/// - `llama3`: `<|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`, content trimmed
///   (Llama 3.0).
/// - `llama3.1`: as `llama3`, after a system header that always appears: `Cutting Knowledge Date: December 2023`,
///   `Today Date: 26 Jul 2024`, then the (trimmed) system message; `tool` messages become JSON-quoted `ipython`
///   turns (Llama 3.1 and 3.3).
/// - `llama3.2`: as `llama3.1` with today's date, as transformers' `strftime_now` gives it (set `dateString` for
///   reproducible data).
/// - `llama2`: `<s>[INST] … [/INST] … </s>`, alternating user/assistant, system in a `<<SYS>>` block of the
///   first user turn.
/// - `mistral`: `<s>[INST] …[/INST] …</s>` (v0.3, Small), system text in the last user turn.
/// - `mistral-v1`: `<s> [INST] … [/INST] …</s>` (v0.1, v0.2), system text in the first user turn.
/// - `mistral-nemo`: `<s>[INST]…[/INST]…</s>` (Nemo), system text in the last user turn.
/// - `mistral-legacy`: `<s>[INST] … [/INST]…</s>` (the first v0.1 and Mixtral-8x7B template), no system message.
/// - `gemma`: `<bos><start_of_turn>user\n…<end_of_turn>\n`, `model` for the assistant, system text at the
///   start of the first user turn (Gemma 3).
/// - `gemma2`: as `gemma` but a system message is an error (Gemma 1 and 2).
/// - `hh`: `\n\nHuman: …\n\nAssistant: …`, the Anthropic HH-RLHF transcript style; plain text, no special tokens,
///   no system message. Its turns have no terminator, so an assistant range is just ` ` + content; append the
///   tokenizer's EOS when training if the model should learn to stop.
public struct ChatTemplate: Equatable, Sendable {
    /// The built-in format's name, as accepted by `init(named:)`. A recognised ChatML template with a default
    /// system prompt of its own (e.g. SmolLM's) is called `chatml` and keeps that prompt.
    public let name: String
    /// Text the format writes where the Jinja template writes `bos_token`.
    public let bosToken: String
    /// Text the format writes where the Jinja template writes `eos_token`.
    public let eosToken: String
    /// The tokenizer's named special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`, …), which
    /// transformers passes to a template as variables; used when the template is interpreted.
    public var specialTokens: [String: String] = [:]
    let format: Format
    /// The `Today Date` of the Llama 3.1+ system header; nil uses the template's own: a fixed date, or today's
    /// date (`dd MMM yyyy`, local time) for templates that call `strftime_now`, as transformers does. An
    /// interpreted template receives it as the `date_string` variable.
    public var dateString: String?
    /// Qwen3's `enable_thinking`: false ends the generation prompt with `<think>\n\n</think>\n\n`, as for
    /// non-thinking answers.
    public var enableThinking = true

    /// Names accepted by `init(named:)`, in the order error messages list them.
    public static let builtInNames = Format.all.map(\.name)

    /// A built-in format, or the Jinja template in a `.jinja`/`.j2` file (TRL's `chat_template_path`).
    /// - Parameters:
    ///   - name: one of `builtInNames` (case-insensitive; `-` and `_` are interchangeable), a common spelling
    ///     such as `llama-3`, `gemma3`, `qwen2_5`, `mistral-v0.3`, or the path of a Jinja file (recognised as a
    ///     built-in format when it is one's template, otherwise interpreted, see ``init(recognizing:bosToken:eosToken:specialTokens:source:)``).
    ///   - bosToken: overrides the family's usual beginning-of-sequence text (e.g. from `tokenizer_config.json`);
    ///     a Jinja file's `bos_token`.
    ///   - eosToken: overrides the family's usual end-of-sequence text; a Jinja file's `eos_token`.
    /// - Throws: `ChatTemplateError.unknownName` listing the valid names; `.unreadableConfiguration` or
    ///   `.invalidTemplate` for a Jinja file that cannot be read or parsed.
    public init(named name: String, bosToken: String? = nil, eosToken: String? = nil) throws {
        if name.hasSuffix(".jinja") || name.hasSuffix(".j2") {
            let source = String(decoding: try ChatTemplate.read(URL(fileURLWithPath: name)), as: UTF8.self)
            try self.init(recognizing: source, bosToken: bosToken, eosToken: eosToken, source: name)
            return
        }
        var key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        key = ChatTemplate.aliases[key] ?? key
        guard let format = Format.all.first(where: { $0.name == key }) else {
            throw ChatTemplateError.unknownName(name, known: ChatTemplate.builtInNames)
        }
        self.init(format: format, bosToken: bosToken, eosToken: eosToken)
    }

    /// Other spellings of the built-in names.
    static let aliases = [
        "llama-3": "llama3", "llama-3.1": "llama3.1", "llama3.3": "llama3.1", "llama-3.3": "llama3.1",
        "llama-3.2": "llama3.2", "qwen-3": "qwen3", "llama-2": "llama2", "qwen2-5": "qwen2.5", "qwen-2.5": "qwen2.5",
        "gemma3": "gemma",
        "gemma-3": "gemma", "gemma-2": "gemma2", "gemma1": "gemma2", "mistral-v0.3": "mistral", "mistral-v3": "mistral",
        "mistral-v0.1": "mistral-v1", "mistral-v0.2": "mistral-v1", "mixtral": "mistral-legacy", "anthropic-hh": "hh",
    ]

    init(format: Format, bosToken: String? = nil, eosToken: String? = nil) {
        self.format = format
        self.name = format.name
        self.bosToken = bosToken ?? format.defaultBosToken
        self.eosToken = eosToken ?? format.defaultEosToken
    }
}

extension ChatTemplate {
    /// How a family lays out a conversation; the parameters are the only differences between its variants.
    enum Format: Equatable, Sendable {
        /// `<|im_start|>role\ncontent<|im_end|>\n`; any role.
        case chatML(ChatMLStyle)
        /// Qwen3: ChatML with thinking blocks on the final assistant turns.
        case qwen3
        /// Llama 3.0: headers, trimmed content, `<|eot_id|>`; `bos_token` before the first message.
        case llama3
        /// Llama 3.1+: a system header with knowledge cutoff and date first; `fixedDate` nil means today's date.
        case llama31(fixedDate: String?)
        /// Llama 2 chat: `[INST]` pairs with a `<<SYS>>` block in the first user turn.
        case llama2
        /// Mistral instruct: `[INST]` pairs; the variants differ in spaces and where the system text goes.
        case mistral(MistralStyle)
        /// Gemma: `<start_of_turn>`/`<end_of_turn>`, `model` for the assistant.
        case gemma(foldsSystemMessage: Bool)
        /// Anthropic HH-RLHF transcripts: plain text, no special tokens.
        case humanAssistant
        /// Any other template, run by the Jinja interpreter.
        case jinja(Template)

        static let all: [Format] = [
            .chatML(.plain), .chatML(.qwen2), .chatML(.qwen25), .qwen3, .llama3, .llama31(fixedDate: "26 Jul 2024"),
            .llama31(fixedDate: nil), .llama2,
            .mistral(.v3), .mistral(.v1), .mistral(.nemo), .mistral(.legacy), .gemma(foldsSystemMessage: true),
            .gemma(foldsSystemMessage: false), .humanAssistant,
        ]

        var name: String {
            switch self {
            case let .chatML(style): return style.name
            case .qwen3: return "qwen3"
            case .llama3: return "llama3"
            case let .llama31(fixedDate): return fixedDate == nil ? "llama3.2" : "llama3.1"
            case .llama2: return "llama2"
            case let .mistral(style): return style.name
            case let .gemma(folds): return folds ? "gemma" : "gemma2"
            case .humanAssistant: return "hh"
            case .jinja: return "jinja"
            }
        }

        var defaultBosToken: String {
            switch self {
            case .chatML, .qwen3, .humanAssistant, .jinja: return ""
            case .llama3, .llama31: return "<|begin_of_text|>"
            case .llama2, .mistral: return "<s>"
            case .gemma: return "<bos>"
            }
        }

        var defaultEosToken: String {
            switch self {
            case .chatML, .qwen3: return "<|im_end|>"
            case .llama3, .llama31: return "<|eot_id|>"
            case .llama2, .mistral: return "</s>"
            case .gemma: return "<eos>"
            case .humanAssistant, .jinja: return ""
            }
        }
    }

    /// ChatML variants: they differ only in the system prompt used when the conversation has none.
    struct ChatMLStyle: Equatable, Sendable {
        var name: String
        /// Inserted as a first `system` turn when the first message is not a system message.
        var defaultSystemPrompt: String?
        /// Qwen2.5 wraps `tool` messages in `<tool_response>` inside a user turn and drops other unknown roles;
        /// plain ChatML writes any role as is.
        var rendersToolResponses = false

        static let plain = ChatMLStyle(name: "chatml", defaultSystemPrompt: nil)
        static let qwen2 = ChatMLStyle(name: "qwen2", defaultSystemPrompt: "You are a helpful assistant.")
        static let qwen25 = ChatMLStyle(
            name: "qwen2.5",
            defaultSystemPrompt: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
            rendersToolResponses: true)
    }

    /// Mistral variants, as their `tokenizer_config.json` templates write them.
    struct MistralStyle: Equatable, Sendable {
        var name: String
        /// Opens a user turn: `"[INST] "` (v0.3), `" [INST] "` (v0.1/v0.2), `"[INST]"` (Nemo).
        var open: String
        /// Closes a user turn: `"[/INST]"` or `" [/INST]"`.
        var close: String
        /// The system text goes into the last user turn (v0.3, Nemo) rather than the first (v0.1/v0.2).
        var systemInLastUserTurn: Bool
        /// Written between `[/INST]` and the assistant's content.
        var assistantPrefix: String
        /// The assistant's content is Jinja-`trim`med.
        var trimsAssistant: Bool
        /// The first v0.1 template has no system role: a system message breaks its alternation check.
        var acceptsSystemMessage = true

        static let v3 = MistralStyle(name: "mistral", open: "[INST] ", close: "[/INST]", systemInLastUserTurn: true,
                                     assistantPrefix: " ", trimsAssistant: true)
        static let v1 = MistralStyle(name: "mistral-v1", open: " [INST] ", close: " [/INST]",
                                     systemInLastUserTurn: false, assistantPrefix: " ", trimsAssistant: false)
        static let nemo = MistralStyle(name: "mistral-nemo", open: "[INST]", close: "[/INST]",
                                       systemInLastUserTurn: true, assistantPrefix: "", trimsAssistant: false)
        static let legacy = MistralStyle(name: "mistral-legacy", open: "[INST] ", close: " [/INST]",
                                         systemInLastUserTurn: false, assistantPrefix: "", trimsAssistant: false,
                                         acceptsSystemMessage: false)
    }
}
