/// How a dataset's text is structured (TRL's "format").
public enum DatasetFormat: String, Sendable, Hashable {
    /// Plain strings: `{"prompt": "The sky is", "completion": " blue."}`.
    case standard
    /// Lists of `{"role", "content"}` messages.
    case conversational
}

/// What a dataset is for (TRL's "type"), recognised from its fields.
public enum DatasetType: String, Sendable, Hashable, CaseIterable {
    /// `text` (standard) or `messages` (conversational).
    case languageModeling = "language modeling"
    /// `prompt` only (for online methods that generate their own completions).
    case promptOnly = "prompt-only"
    /// `prompt`, `completion`.
    case promptCompletion = "prompt-completion"
    /// `prompt`, `chosen`, `rejected`.
    case preference = "preference"
    /// `chosen`, `rejected`; the prompt is their common beginning (see ``ImplicitPrompt``).
    case implicitPromptPreference = "implicit-prompt preference"
    /// `prompt`, `completion`, `label` (true = desirable), as used by KTO.
    case unpairedPreference = "unpaired preference"

    /// The fields every example of this type must have, in TRL's column order.
    public var requiredFields: [String] {
        switch self {
        case .languageModeling: return ["text"]  // or "messages"; checked separately
        case .promptOnly: return ["prompt"]
        case .promptCompletion: return ["prompt", "completion"]
        case .preference: return ["prompt", "chosen", "rejected"]
        case .implicitPromptPreference: return ["chosen", "rejected"]
        case .unpairedPreference: return ["prompt", "completion", "label"]
        }
    }
}

/// A chat participant.
public enum Role: String, Sendable, Hashable, CaseIterable {
    case system, user, assistant, tool
}

/// One chat message.
public struct Message: Sendable, Hashable {
    public var role: Role
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

/// One typed dataset example: a line of a TRL-format JSONL file.
public struct Example: Sendable, Hashable {
    /// The example's fields, by dataset type.
    public enum Body: Sendable, Hashable {
        case languageModeling(text: ExampleText)
        case promptOnly(prompt: ExampleText)
        case promptCompletion(prompt: ExampleText, completion: ExampleText)
        /// Paired preference. For implicit-prompt files the prompt was extracted (``Example/promptWasImplicit``).
        case preference(prompt: ExampleText, chosen: ExampleText, rejected: ExampleText)
        case unpairedPreference(prompt: ExampleText, completion: ExampleText, label: Bool)
    }

    /// The typed fields.
    public var body: Body
    /// 1-based line in the source file (0 for examples built in code).
    public var line: Int
    /// Whether the prompt was extracted from `chosen`/`rejected` rather than given.
    public var promptWasImplicit: Bool
    /// Probability that `chosen` is preferred, in [0, 1] (a soft label from AI feedback), if the file has one.
    public var chosenProbability: Double?
    /// Fields not interpreted above, in file order (ids, sources, scores...), written back unchanged.
    public var extras: [JSONValue.Member]

    /// Creates an example.
    public init(_ body: Body, line: Int = 0, promptWasImplicit: Bool = false, chosenProbability: Double? = nil,
                extras: [JSONValue.Member] = []) {
        precondition(chosenProbability.map { (0...1).contains($0) } ?? true,
                     "chosenProbability must be in [0, 1], got \(chosenProbability ?? .nan)")
        self.body = body
        self.line = line
        self.promptWasImplicit = promptWasImplicit
        self.chosenProbability = chosenProbability
        self.extras = extras
    }

    /// The dataset type of the body (implicit-prompt pairs report `.preference` once their prompt is extracted).
    public var type: DatasetType {
        switch body {
        case .languageModeling: return .languageModeling
        case .promptOnly: return .promptOnly
        case .promptCompletion: return .promptCompletion
        case .preference: return promptWasImplicit ? .implicitPromptPreference : .preference
        case .unpairedPreference: return .unpairedPreference
        }
    }

    /// `(prompt, chosen, rejected)` for preference examples, else nil.
    public var preference: (prompt: ExampleText, chosen: ExampleText, rejected: ExampleText)? {
        if case let .preference(prompt, chosen, rejected) = body { return (prompt, chosen, rejected) }
        return nil
    }

    /// An extra field's value, if present.
    public subscript(extra key: String) -> JSONValue? {
        extras.first { $0.key == key }?.value
    }
}
