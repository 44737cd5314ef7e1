import Datasets
import Foundation
import JSON
import LanguageModels

/// A text field that is either a plain string (TRL "standard") or a list of messages ("conversational");
/// written back in the form it was read.
public enum PromptValue: Codable, Equatable, Sendable {
    case text(String)
    case messages([ChatMessage])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .messages(try container.decode([ChatMessage].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .text(text): try container.encode(text)
        case let .messages(messages): try container.encode(messages)
        }
    }

    /// The conversation: messages as given; a string that is an HH transcript ("\n\nHuman: …\n\nAssistant:")
    /// parsed into turns; any other string as one user turn.
    public func conversation() throws -> [ChatMessage] {
        switch self {
        case let .messages(messages): return messages
        case let .text(text):
            guard HHTranscript.isTranscript(text) || text.hasPrefix(HHTranscript.humanMarker) else {
                return [ChatMessage(role: "user", content: text)]
            }
            return try HHTranscript.messages(from: text, dropTrailingEmptyAssistant: true).map { ChatMessage(role: $0.role.rawValue, content: $0.content) }
        }
    }

    /// A response in the same format as the prompt: one assistant message after messages; after text, the text that
    /// continues the prompt (see ``completion(_:after:)``), so that prompt + response — what reward and DPO training
    /// tokenise — is the text the model generated.
    func response(_ text: String) -> PromptValue {
        switch self {
        case let .text(prompt): return .text(Self.completion(text, after: prompt))
        case .messages: return .messages([ChatMessage(role: "assistant", content: text)])
        }
    }

    /// A response as the completion of the standard-text `prompt`. After an HH transcript's cue (a prompt ending in
    /// "\n\nAssistant:") a turn is written "Assistant: " + content: that is what transcript prompting shows the model
    /// (``CritiquePrompts/transcript(_:)``), how HH-RLHF stores its responses and where TRL's and Datasets' implicit-
    /// prompt split puts the boundary (``ImplicitPrompt``), so the completion is " " + response — the model's own
    /// text after the cue, whose first token is " I", not "I". Sampled responses are stored trimmed (they are also
    /// conversation turns), so this puts back the space the trimming removed; a response that already starts with
    /// white space (an HH file's " I can't") or is empty is kept as it is, as is any response after other text.
    static func completion(_ response: String, after prompt: String) -> String {
        guard prompt.hasSuffix(HHTranscript.assistantMarker), let first = response.unicodeScalars.first,
              !first.properties.isWhitespace else { return response }
        return " " + response
    }
}

/// A red-team (or any) prompt to answer: `{"id": …, "prompt": "…" | [messages]}`; without `id` the item is
/// named by its line (`line-12`). A `completion` (or the first of `responses`, as the `sample` stage writes) is an
/// initial response already sampled, which `critique` then revises instead of generating its own; it is kept as the
/// turn's content, trimmed of surrounding white space (a transcript completion's leading space is not content).
public struct PromptItem: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: PromptValue
    public var conversation: [ChatMessage]
    public var response: String?

    public init(id: String, prompt: PromptValue, conversation: [ChatMessage], response: String? = nil) {
        self.id = id
        self.prompt = prompt
        self.conversation = conversation
        self.response = response
    }
}

/// Two responses to one prompt, to be labelled.
public struct ResponsePair: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: PromptValue
    public var conversation: [ChatMessage]
    public var first: String
    public var second: String

    public init(id: String, prompt: PromptValue, conversation: [ChatMessage], first: String, second: String) {
        self.id = id
        self.prompt = prompt
        self.conversation = conversation
        self.first = first
        self.second = second
    }
}

/// Readers for the JSONL inputs of `critique` and `label`, with errors naming file:line.
public enum InputFiles {
    /// Reads prompts: `prompt` (string, HH transcript, or messages) and an optional `id` (string or number).
    public static func prompts(_ url: URL) throws -> [PromptItem] {
        var seen = Set<String>()
        return try objects(url).map { line, object in
            guard let value = object["prompt"] else { throw failure(url, line, "missing \"prompt\" (a string or a list of {role, content} messages)") }
            let prompt = try promptValue(value, url, line)
            let id = try itemID(object, url, line, seen: &seen)
            var response: String?
            if let completion = object["completion"] {
                response = try responseText(completion, url, line, field: "completion")
            } else if case let .array(responses)? = object["responses"], let first = responses.first {
                response = try responseText(first, url, line, field: "responses")
            }
            return PromptItem(id: id, prompt: prompt, conversation: try conversation(prompt, url, line),
                              response: response?.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Reads pairs: `prompt` and two responses as `response_a`/`response_b`, `chosen`/`rejected` (order kept,
    /// label ignored) or `responses` (every pair i < j becomes an item `id/i-j`). Responses are kept exactly as given,
    /// since the label records write them back (``PromptValue/response(_:)``).
    public static func pairs(_ url: URL) throws -> [ResponsePair] {
        var seen = Set<String>()
        var pairs: [ResponsePair] = []
        for (line, object) in try objects(url) {
            guard let value = object["prompt"] else { throw failure(url, line, "missing \"prompt\"") }
            let prompt = try promptValue(value, url, line)
            let id = try itemID(object, url, line, seen: &seen)
            let conversation = try conversation(prompt, url, line)
            if case let .array(responses)? = object["responses"] {
                let texts = try responses.map { try responseText($0, url, line, field: "responses") }
                guard texts.count >= 2 else { throw failure(url, line, "\"responses\" needs at least two responses") }
                for i in 0..<texts.count {
                    for j in (i + 1)..<texts.count {
                        pairs.append(ResponsePair(id: "\(id)/\(i)-\(j)", prompt: prompt, conversation: conversation, first: texts[i], second: texts[j]))
                    }
                }
                continue
            }
            let names = [("response_a", "response_b"), ("chosen", "rejected")].first { object[$0.0] != nil && object[$0.1] != nil }
            guard let (a, b) = names else {
                throw failure(url, line, "expected two responses: \"response_a\"/\"response_b\", \"chosen\"/\"rejected\" or a \"responses\" list")
            }
            pairs.append(ResponsePair(id: id, prompt: prompt, conversation: conversation,
                                      first: try responseText(object[a] ?? .null, url, line, field: a),
                                      second: try responseText(object[b] ?? .null, url, line, field: b)))
        }
        return pairs
    }

    /// Non-blank lines of a JSONL file as objects, with 1-based line numbers, read by Datasets' ``JSONLReader``
    /// (so a syntax error names its line and column).
    static func objects(_ url: URL) throws -> [(Int, JSONValue)] {
        var result: [(Int, JSONValue)] = []
        do {
            let reader = try JSONLReader(url: url)
            while let (line, members) = try reader.next() { result.append((line, .object(members))) }
        } catch let error as DatasetError {
            if error.kind == .io { throw ConstitutionalError("\(url.path): cannot read (\(error.reason))") }
            throw failure(url, error.line, error.reason)
        }
        guard !result.isEmpty else { throw ConstitutionalError("\(url.path): no items (the file is empty)") }
        return result
    }

    static func failure(_ url: URL, _ line: Int, _ reason: String) -> ConstitutionalError {
        ConstitutionalError("\(url.path):\(line): \(reason)")
    }

    static func itemID(_ object: JSONValue, _ url: URL, _ line: Int, seen: inout Set<String>) throws -> String {
        var id = "line-\(line)"
        switch object["id"] {
        case let .string(text)?: id = text
        case let .number(number)?: id = number.text
        default: break
        }
        guard seen.insert(id).inserted else { throw failure(url, line, "id \"\(id)\" appears twice; ids must be unique so runs can resume") }
        return id
    }

    static func promptValue(_ value: JSONValue, _ url: URL, _ line: Int) throws -> PromptValue {
        if case let .string(text) = value { return .text(text) }
        if case let .array(list) = value, list.allSatisfy({ if case .object = $0 { true } else { false } }) {
            return .messages(try list.map { message in
                guard let role = message["role"]?.stringValue, let content = message["content"]?.stringValue else {
                    throw failure(url, line, "\"prompt\" messages need \"role\" and \"content\" strings")
                }
                return ChatMessage(role: role, content: content)
            })
        }
        throw failure(url, line, "\"prompt\" must be a string or a list of {role, content} messages")
    }

    static func conversation(_ prompt: PromptValue, _ url: URL, _ line: Int) throws -> [ChatMessage] {
        let conversation: [ChatMessage]
        do { conversation = try prompt.conversation() } catch { throw failure(url, line, "\(error)") }
        guard conversation.last?.role == "user" else { throw failure(url, line, "the prompt must end with a user turn") }
        return conversation
    }

    static func responseText(_ value: JSONValue, _ url: URL, _ line: Int, field: String) throws -> String {
        if case let .string(text) = value { return text }
        if case let .array(list) = value, list.allSatisfy({ if case .object = $0 { true } else { false } }),
           let content = list.last?["content"]?.stringValue { return content }
        throw failure(url, line, "\"\(field)\" must be a string or a list of messages ending with the response")
    }
}
