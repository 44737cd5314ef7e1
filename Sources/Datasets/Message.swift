/// A chat participant.
public enum Role: String, Sendable, Hashable, CaseIterable {
    /// Instructions framing the conversation.
    case system
    /// The human.
    case user
    /// The model.
    case assistant
    /// A tool's output.
    case tool
}

/// One chat message.
public struct Message: Sendable, Hashable {
    /// Who speaks.
    public var role: Role
    /// What is said.
    public var content: String

    /// Memberwise initialiser.
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// The value of a text field: a string (standard) or a list of messages (conversational).
public enum ExampleText: Sendable, Hashable {
    case standard(String)
    case conversational([Message])

    /// Which format this value has.
    public var format: DatasetFormat {
        switch self {
        case .standard: return .standard
        case .conversational: return .conversational
        }
    }

    /// The string of a standard value, or nil.
    public var text: String? {
        if case let .standard(text) = self { return text }
        return nil
    }

    /// The messages of a conversational value, or nil.
    public var messages: [Message]? {
        if case let .conversational(messages) = self { return messages }
        return nil
    }
}
