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
