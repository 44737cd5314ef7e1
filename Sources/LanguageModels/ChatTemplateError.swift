/// An error raised while choosing a chat format or formatting a conversation with it.
///
/// Each description says what is wrong, where (file, message index) and what to do about it.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// `ChatTemplate(named:)` was given a name that is not a built-in format.
    case unknownName(String, known: [String])
    /// A chat template that is not valid Jinja (or uses a statement chat templates cannot use).
    case invalidTemplate(source: String, reason: String)
    /// An interpreted template failed while rendering: it called `raise_exception`, or read something missing.
    case templateFailed(reason: String)
    /// A tokenizer configuration without a `chat_template` (base models usually have none).
    case missingTemplate(source: String, known: [String])
    /// A file could not be read or is not the JSON it should be.
    case unreadableConfiguration(path: String, reason: String)
    /// The conversation breaks a rule of the format, e.g. Llama 2's strict user/assistant alternation.
    case invalidConversation(format: String, messageIndex: Int, role: String, reason: String)
    /// A conversation without messages (transformers rejects it too).
    case emptyConversation

    public var description: String {
        switch self {
        case let .unknownName(name, known):
            return "There is no built-in chat format named '\(name)'. Use one of: \(known.joined(separator: ", "))."
        case let .invalidTemplate(source, reason):
            return "The chat template in \(source) cannot be used: \(reason). Fix the template, or pick a built-in "
                + "format with --chat-template NAME (in code: ChatTemplate(named:))."
        case let .templateFailed(reason):
            return "The chat template cannot format this conversation: \(reason). Fix the conversation (or the "
                + "template), or pick a built-in format with --chat-template NAME."
        case let .missingTemplate(source, known):
            return "\(source) has no chat_template (a base model, a template kept elsewhere, or a list of named "
                + "templates without one named 'default'). Pick a format with "
                + "--chat-template NAME (in code: ChatTemplate(named:)), one of: \(known.joined(separator: ", "))."
        case let .unreadableConfiguration(path, reason):
            return "Cannot read the chat template from '\(path)': \(reason). Check the path, or pick a format with "
                + "--chat-template NAME."
        case let .invalidConversation(format, index, role, reason):
            return "Message \(index) (role '\(role)') cannot be formatted with the '\(format)' chat format: "
                + "\(reason). Fix the conversation or choose another format with --chat-template NAME."
        case .emptyConversation:
            return "The conversation has no messages; a chat format needs at least one."
        }
    }
}
