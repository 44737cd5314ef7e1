import JSON

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
