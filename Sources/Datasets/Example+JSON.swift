import JSON

extension Message {
    /// `{"role": …, "content": …}`.
    public var jsonValue: JSONValue {
        .object([JSONValue.Member("role", .string(role.rawValue)), JSONValue.Member("content", .string(content))])
    }
}

extension ExampleText {
    /// A string, or a list of message objects.
    public var jsonValue: JSONValue {
        switch self {
        case let .standard(text): return .string(text)
        case let .conversational(messages): return .array(messages.map(\.jsonValue))
        }
    }

    /// `self` followed by `other` (string concatenation, or message lists joined); nil when formats differ.
    func appending(_ other: ExampleText) -> ExampleText? {
        switch (self, other) {
        case let (.standard(first), .standard(second)): return .standard(first + second)
        case let (.conversational(first), .conversational(second)): return .conversational(first + second)
        default: return nil
        }
    }
}

extension Example {
    /// The example as a TRL-format JSON object: the type's fields in TRL's column order, then
    /// `chosen_probability` if set, then the extra fields in their original order.
    /// - Parameter keepImplicitPrompt: For pairs whose prompt was extracted, write `chosen`/`rejected` with the
    ///   prompt re-attached (the original implicit form) instead of an explicit `prompt` field.
    public func jsonValue(keepImplicitPrompt: Bool = false) -> JSONValue {
        var members: [JSONValue.Member] = []
        switch body {
        case let .languageModeling(text):
            members.append(JSONValue.Member(text.format == .standard ? "text" : "messages", text.jsonValue))
        case let .promptOnly(prompt):
            members.append(JSONValue.Member("prompt", prompt.jsonValue))
        case let .promptCompletion(prompt, completion):
            members += [JSONValue.Member("prompt", prompt.jsonValue), JSONValue.Member("completion", completion.jsonValue)]
        case let .preference(prompt, chosen, rejected):
            if keepImplicitPrompt && promptWasImplicit, let fullChosen = prompt.appending(chosen),
                let fullRejected = prompt.appending(rejected)
            {
                members += [JSONValue.Member("chosen", fullChosen.jsonValue), JSONValue.Member("rejected", fullRejected.jsonValue)]
            } else {
                members += [JSONValue.Member("prompt", prompt.jsonValue), JSONValue.Member("chosen", chosen.jsonValue),
                            JSONValue.Member("rejected", rejected.jsonValue)]
            }
        case let .unpairedPreference(prompt, completion, label):
            members += [JSONValue.Member("prompt", prompt.jsonValue), JSONValue.Member("completion", completion.jsonValue),
                        JSONValue.Member("label", .bool(label))]
        }
        if let chosenProbability { members.append(JSONValue.Member("chosen_probability", .numeric(chosenProbability))) }
        let written = Set(members.map(\.key))
        members += extras.filter { !written.contains($0.key) }
        return .object(members)
    }
}
