import Foundation
import JSON
import Templates

extension ChatTemplate {
    /// The chat format of a model folder: `chat_template.jinja` if present (transformers ≥ 4.50 saves it there),
    /// otherwise the `chat_template` of `tokenizer_config.json`; the special tokens come from the latter.
    /// - Throws: `ChatTemplateError` when neither file has a template, a file is unreadable, or the template is
    ///   not valid Jinja.
    /// A `.gguf` file's `tokenizer.chat_template` is read from its metadata.
    public init(directory: URL) throws {
        if GGUFCheckpoint.isGGUF(directory) {
            let checkpoint = try GGUFCheckpoint(url: directory)
            guard let template = try checkpoint.chatTemplate() else {
                throw ChatTemplateError.unreadableConfiguration(path: directory.path, reason: "the file has no tokenizer.chat_template")
            }
            self = template
            return
        }
        let configurationURL = directory.appendingPathComponent("tokenizer_config.json")
        let jinjaURL = directory.appendingPathComponent("chat_template.jinja")
        let manager = FileManager.default
        let configuration = manager.fileExists(atPath: configurationURL.path)
            ? try TokenizerConfiguration(data: try ChatTemplate.read(configurationURL), source: configurationURL.path)
            : nil
        if manager.fileExists(atPath: jinjaURL.path) {
            let template = String(decoding: try ChatTemplate.read(jinjaURL), as: UTF8.self)
            try self.init(recognizing: template, specialTokens: configuration?.specialTokens ?? [:],
                          source: jinjaURL.path)
        } else if let configuration = configuration {
            try self.init(configuration)
        } else {
            throw ChatTemplateError.unreadableConfiguration(
                path: directory.path, reason: "the folder has neither tokenizer_config.json nor chat_template.jinja")
        }
    }

    /// The chat format named by the `chat_template` of a `tokenizer_config.json`.
    ///
    /// Accepts both forms transformers writes: a template string, or a list of `{"name", "template"}` objects (the
    /// one named `default` is used). The named special tokens (strings or added-token objects) are kept.
    /// - Parameters:
    ///   - data: the file's contents.
    ///   - source: names the file in error messages.
    /// - Throws: `ChatTemplateError.missingTemplate`, `.invalidTemplate` or `.unreadableConfiguration`.
    public init(tokenizerConfiguration data: Data, source: String = "tokenizer_config.json") throws {
        try self.init(try TokenizerConfiguration(data: data, source: source))
    }

    /// A chat format from a Jinja chat template: a built-in format when the template is one of theirs, otherwise
    /// the template itself, run by the Jinja interpreter.
    ///
    /// Recognition compares fingerprints: the template with whitespace and `{%-`/`-%}` trim markers removed
    /// outside string literals (so re-indented copies still match), while the literals themselves, whose spaces
    /// are part of the format, are compared exactly.
    /// - Parameters:
    ///   - template: the Jinja source.
    ///   - bosToken: what the template's `bos_token` stands for (defaults to the family's usual token).
    ///   - eosToken: what the template's `eos_token` stands for.
    ///   - specialTokens: the tokenizer's named special tokens (`tokenizer_config.json`'s `bos_token`,
    ///     `eos_token`, `unk_token`, `pad_token`, …); `bosToken`/`eosToken` take precedence.
    ///   - source: names the template's origin in error messages.
    /// - Throws: `ChatTemplateError.invalidTemplate` with the line and column of a syntax error.
    public init(recognizing template: String, bosToken: String? = nil, eosToken: String? = nil,
                specialTokens: [String: String] = [:], source: String = "the given template") throws {
        var tokens = specialTokens
        if let bosToken { tokens["bos_token"] = bosToken }
        if let eosToken { tokens["eos_token"] = eosToken }
        if let format = ChatTemplate.recognize(template) {
            self.init(format: format, bosToken: tokens["bos_token"], eosToken: tokens["eos_token"])
            self.specialTokens = tokens
        } else {
            try self.init(jinja: template, specialTokens: tokens, source: source)
        }
    }

    /// A chat format that always runs `template` with the Jinja interpreter, even for a built-in family.
    /// - Throws: `ChatTemplateError.invalidTemplate` with the line and column of a syntax error.
    public init(jinja template: String, specialTokens: [String: String] = [:],
                source: String = "the given template") throws {
        do {
            self.init(format: .jinja(try Template(template)), bosToken: specialTokens["bos_token"] ?? "",
                      eosToken: specialTokens["eos_token"] ?? "")
        } catch let error as TemplateError {
            throw ChatTemplateError.invalidTemplate(source: source, reason: error.description)
        }
        self.specialTokens = specialTokens
    }

    private init(_ configuration: TokenizerConfiguration) throws {
        guard let template = configuration.chatTemplate else {
            throw ChatTemplateError.missingTemplate(source: configuration.source, known: ChatTemplate.builtInNames)
        }
        try self.init(recognizing: template, specialTokens: configuration.specialTokens, source: configuration.source)
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ChatTemplateError.unreadableConfiguration(path: url.path, reason: error.localizedDescription)
        }
    }

    // MARK: - Fingerprints

    /// The built-in format a template renders, or nil when it is none of them (or a variant Charter cannot
    /// reproduce, such as Llama 3.1's dated system header or Qwen3's thinking blocks).
    static func recognize(_ template: String) -> Format? {
        let print = fingerprint(template)
        func has(_ pieces: String...) -> Bool { pieces.allSatisfy { print.contains($0) } }
        func hasAny(_ pieces: String...) -> Bool { pieces.contains { print.contains($0) } }

        if has("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "Cutting Knowledge Date: December 2023") {
            // Llama 3.1+ text models; the vision models' template does not trim content and handles images.
            guard !hasAny("image", "eos_token"),
                  has("'Today Date: '+date_string+'\\n\\n'", "system_message=messages[0]['content']|trim",
                      "message['content']|trim+'<|eot_id|>'",
                      "'<|start_header_id|>assistant<|end_header_id|>\\n\\n'") else { return nil }
            if has("strftime_now") { return .llama31(fixedDate: nil) }
            guard let start = print.range(of: "{%setdate_string='"),
                  let end = print[start.upperBound...].firstIndex(of: "'") else { return nil }
            return .llama31(fixedDate: String(print[start.upperBound..<end]))
        }
        if has("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>") {
            guard !hasAny("Cutting Knowledge", "ipython", "tools", "eos_token"),
                  has("bos_token", "message['content']|trim+'<|eot_id|>'",
                      "'<|start_header_id|>assistant<|end_header_id|>\\n\\n'") else { return nil }
            return .llama3
        }
        if has("<|im_start|>", "<|im_end|>", "<think>", "ns.last_query_index") {
            // Qwen3 (hybrid thinking): recognised by its assistant rendering and its generation prompt.
            let assistant = "'\\n<think>\\n'+reasoning_content.strip('\\n')+'\\n</think>\\n\\n'+content.lstrip('\\n')"
            let split = "content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n')"
            let prompt = "{%ifadd_generation_prompt%}{{'<|im_start|>assistant\\n'}}{%ifenable_thinkingisdefinedand"
                + "enable_thinkingisfalse%}{{'<think>\\n\\n</think>\\n\\n'}}{%endif%}{%endif%}"
            let turns = "(message['role']=='user')or(message['role']=='system'andnotloop.first)"
            guard has(assistant, split, prompt, turns),
                  !hasAny("eos_token", "|trim") else { return nil }
            return .qwen3
        }
        if has("<|im_start|>", "<|im_end|>") {
            // Refuse what the format does not do: thinking blocks (Qwen3, QwQ), trimming, an eos after turns.
            guard !hasAny("<think>", "reasoning_content", "|trim", "eos_token"),
                  has("'<|im_start|>'+message['role']+'\\n'+message['content']+'<|im_end|>",
                      "'<|im_start|>assistant\\n'") else { return nil }
            // Qwen2 writes its default system prompt inside the message loop, Qwen2.5 before it; for a non-empty
            // conversation (the only kind transformers accepts) both render the same.
            guard let system = defaultChatMLSystemPrompt(in: print) else { return .chatML(.plain) }
            for known in [ChatMLStyle.qwen2, .qwen25] where known.defaultSystemPrompt == system {
                return .chatML(known)
            }
            return .chatML(ChatMLStyle(name: "chatml", defaultSystemPrompt: system,
                                       rendersToolResponses: has("<tool_response>")))
        }
        if has("<start_of_turn>", "<end_of_turn>") {
            guard has("'model'", "message['content']|trim", "'<start_of_turn>model\\n'") else { return nil }
            if has("System role not supported") { return .gemma(foldsSystemMessage: false) }
            if has("first_user_prefix") { return .gemma(foldsSystemMessage: true) }
            return nil
        }
        if has("[INST]") {
            if has("<<SYS>>") {
                return has("'[INST] '+content|trim+' [/INST]'", "' '+content|trim+' '+eos_token") ? .llama2 : nil
            }
            if has("'[INST] '+system_message", "loop.lastandsystem_messageisdefined") {
                var style = MistralStyle.v3
                style.trimsAssistant = has("message['content']|trim+eos_token")
                return has("' '+message['content']") ? .mistral(style) : nil
            }
            if has("' [INST] '+system_message", "loop.firstandsystem_messageisdefined", "' [/INST]'",
                   "' '+message['content']+eos_token") {
                return .mistral(.v1)
            }
            if has("'[INST]'+system_message", "loop.lastandsystem_messageisdefined", "message['content']+eos_token") {
                return .mistral(.nemo)
            }
            if !hasAny("system"), has("'[INST] '+message['content']+' [/INST]'", "{{message['content']+eos_token}}") {
                return .mistral(.legacy)
            }
            return nil
        }
        if has("Human: ", "Assistant:") { return .humanAssistant }
        return nil
    }

    /// The literal system prompt a ChatML template writes when the conversation has none, if any:
    /// `'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n'` as one string literal.
    private static func defaultChatMLSystemPrompt(in print: String) -> String? {
        let opening = "'<|im_start|>system\\n"
        var searchStart = print.startIndex
        while let open = print.range(of: opening, range: searchStart..<print.endIndex) {
            searchStart = open.upperBound
            guard let close = print.range(of: "<|im_end|>", range: open.upperBound..<print.endIndex) else { break }
            let text = print[open.upperBound..<close.lowerBound]
            if !text.isEmpty, !text.contains("'") {
                return text.replacingOccurrences(of: "\\n", with: "\n")
            }
        }
        return nil
    }

    /// The template without formatting: whitespace and trim markers (`{%-`, `-}}`) go, comments go, string
    /// literals are kept verbatim but always quoted with `'` (a newline or tab inside one written as `\n`, `\t`;
    /// concatenated literals merged),
    /// `message.role`/`message.content` are spelled `message['role']`/`message['content']`, and `.strip()`
    /// (Python's, the same function as Jinja's `trim`) is spelled `|trim`.
    /// Where the next literal starts when the literal that ended before `index` is followed by `+ '…'` (and that
    /// literal is not itself filtered, indexed or called, which would bind tighter than `+`).
    private static func concatenatedLiteral(after index: Int, in characters: [Character]) -> Int? {
        var position = index
        func skipWhitespace() { while position < characters.count, characters[position].isWhitespace { position += 1 } }
        skipWhitespace()
        guard position < characters.count, characters[position] == "+" else { return nil }
        position += 1
        skipWhitespace()
        guard position < characters.count, characters[position] == "'" || characters[position] == "\"" else {
            return nil
        }
        let start = position, quote = characters[position]
        position += 1
        while position < characters.count, characters[position] != quote {
            position += characters[position] == "\\" ? 2 : 1
        }
        position += 1
        skipWhitespace()
        if position < characters.count, "|.[".contains(characters[position]) { return nil }
        return start
    }

    static func fingerprint(_ template: String) -> String {
        let characters = Array(template)
        var output = ""
        var index = 0
        var insideTag = false
        func at(_ offset: Int) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        while index < characters.count {
            let character = characters[index]
            if !insideTag {
                if character == "{", let next = at(1), next == "{" || next == "%" || next == "#" {
                    if next == "#" {  // a comment: skip to its end
                        index += 2
                        while index < characters.count, !(characters[index] == "#" && at(1) == "}") { index += 1 }
                        index += 2
                        continue
                    }
                    output.append(character)
                    output.append(next)
                    index += 2
                    if let marker = at(0), marker == "-" || marker == "+" { index += 1 }
                    insideTag = true
                    continue
                }
                if !character.isWhitespace { output.append(character) }
                index += 1
                continue
            }
            if character.isWhitespace {
                index += 1
            } else if character == "'" || character == "\"" {
                // A string literal: copied verbatim, re-quoted with '; `'a' + 'b'` is written as `'ab'`.
                output.append("'")
                var quote = character
                index += 1
                while true {
                    while index < characters.count, characters[index] != quote {
                        if characters[index] == "\\", let escaped = at(1) {
                            output.append("\\")
                            output.append(escaped)
                            index += 2
                            continue
                        }
                        switch characters[index] {
                        case "'": output.append("\\'")
                        case "\n": output.append("\\n")
                        case "\t": output.append("\\t")
                        default: output.append(characters[index])
                        }
                        index += 1
                    }
                    index += 1
                    guard let next = ChatTemplate.concatenatedLiteral(after: index, in: characters) else { break }
                    quote = characters[next]
                    index = next + 1
                }
                output.append("'")
            } else if (character == "-" || character == "+"), let next = at(1), let after = at(2),
                      (next == "}" || next == "%") && after == "}" {
                index += 1
            } else if (character == "}" || character == "%"), at(1) == "}" {
                output.append(character)
                output.append("}")
                index += 2
                insideTag = false
            } else {
                output.append(character)
                index += 1
            }
        }
        return output
            .replacingOccurrences(of: "message.content", with: "message['content']")
            .replacingOccurrences(of: "message.role", with: "message['role']")
            .replacingOccurrences(of: ".strip()", with: "|trim")
    }

    /// The parts of a `tokenizer_config.json` a chat template needs.
    struct TokenizerConfiguration {
        var source: String
        var chatTemplate: String?
        var bosToken: String? { specialTokens["bos_token"] }
        var eosToken: String? { specialTokens["eos_token"] }
        /// transformers' `special_tokens_map`: the named special tokens a template sees as variables.
        var specialTokens: [String: String] = [:]

        init(data: Data, source: String) throws {
            self.source = source
            let object: JSONValue
            do {
                object = try JSONParser.parse(data)
            } catch {
                throw ChatTemplateError.unreadableConfiguration(path: source, reason: "invalid JSON (\(error))")
            }
            guard case .object = object else {
                throw ChatTemplateError.unreadableConfiguration(path: source, reason: "the JSON is not an object")
            }
            func tokenText(_ key: String) -> String? {
                object[key]?.stringValue ?? object[key]?["content"]?.stringValue
            }
            for name in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] {
                specialTokens[name] = tokenText(name)
            }
            switch object["chat_template"] {
            case .string(let template)?:
                chatTemplate = template
            case .array(let named)?:
                // transformers' list form: [{"name": "default", "template": "…"}, {"name": "tool_use", …}].
                let templates = named.compactMap { entry -> (String, String)? in
                    guard let name = entry["name"]?.stringValue, let template = entry["template"]?.stringValue else {
                        return nil
                    }
                    return (name, template)
                }
                chatTemplate = templates.first { $0.0 == "default" }?.1 ?? (templates.count == 1 ? templates[0].1 : nil)
            default:
                chatTemplate = nil
            }
        }
    }
}
