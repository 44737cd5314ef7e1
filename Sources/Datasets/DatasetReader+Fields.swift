import JSON

extension DatasetReader {
    /// Validates the fields of `type` and builds the example.
    /// - Returns: The example and the format of its raw fields.
    func build(_ members: [JSONValue.Member], type: DatasetType, number: Int) throws -> (Example, DatasetFormat) {
        var consumed: Set<String> = []
        var formats: [(field: String, format: DatasetFormat)] = []

        func field(_ name: String) throws -> JSONValue {
            guard let value = members.first(where: { $0.key == name })?.value else {
                let needed = type.requiredFields.map { "\"\($0)\"" }.joined(separator: ", ")
                throw fail(number, .missingField, "missing field \"\(name)\" (\(type.rawValue) examples need \(needed))")
            }
            consumed.insert(name)
            return value
        }
        func text(_ name: String) throws -> ExampleText {
            let parsed = try exampleText(field(name), field: name, number: number)
            if let first = formats.first, first.format != parsed.format {
                throw fail(number, .invalidField,
                           "field \"\(name)\" is \(Self.describe(parsed.format)) but \"\(first.field)\" is \(Self.describe(first.format)); "
                           + "an example's fields must be all strings or all message lists")
            }
            formats.append((name, parsed.format))
            return parsed
        }

        let body: Example.Body
        var implicit = false
        switch type {
        case .languageModeling:
            let hasText = members.contains { $0.key == "text" }
            let hasMessages = members.contains { $0.key == "messages" }
            if hasText && hasMessages {
                throw fail(number, .invalidField, "has both \"text\" and \"messages\"; a language-modeling example needs exactly one")
            }
            if hasMessages {
                let value = try field("messages")
                guard case .array = value else {
                    throw fail(number, .invalidField, "field \"messages\" must be a list of messages, found \(value.typeName)")
                }
                body = .languageModeling(text: try text("messages"))
            } else {
                let value = try field("text")
                guard case .string = value else {
                    throw fail(number, .invalidField, "field \"text\" must be a string, found \(value.typeName)")
                }
                body = .languageModeling(text: try text("text"))
            }
        case .promptOnly:
            body = .promptOnly(prompt: try text("prompt"))
        case .promptCompletion:
            body = .promptCompletion(prompt: try text("prompt"), completion: try text("completion"))
        case .preference:
            body = .preference(prompt: try text("prompt"), chosen: try text("chosen"), rejected: try text("rejected"))
        case .implicitPromptPreference:
            implicit = true
            let chosen = try text("chosen"), rejected = try text("rejected")
            switch (chosen, rejected) {
            case let (.standard(chosen), .standard(rejected)):
                let split = ImplicitPrompt.split(chosen: chosen, rejected: rejected)
                body = .preference(prompt: .standard(split.prompt), chosen: .standard(split.chosen), rejected: .standard(split.rejected))
            case let (.conversational(chosen), .conversational(rejected)):
                let split = ImplicitPrompt.split(chosen: chosen, rejected: rejected)
                body = .preference(prompt: .conversational(split.prompt), chosen: .conversational(split.chosen),
                                   rejected: .conversational(split.rejected))
            default:
                preconditionFailure("text(_:) guarantees matching formats")
            }
        case .unpairedPreference:
            let prompt = try text("prompt"), completion = try text("completion")
            let label = try field("label")
            guard case let .bool(flag) = label else {
                throw fail(number, .invalidField, "field \"label\" must be true or false, found \(label.typeName)")
            }
            body = .unpairedPreference(prompt: prompt, completion: completion, label: flag)
        }

        var probability: Double?
        if type == .preference || type == .implicitPromptPreference, let name = options.softLabelField,
            let value = members.first(where: { $0.key == name })?.value, value != .null
        {
            guard let given = value.doubleValue, (0...1).contains(given) else {
                let shown: String
                if case let .number(literal) = value { shown = literal.text } else { shown = value.typeName }
                throw fail(number, .invalidField, "field \"\(name)\" must be a number in [0, 1], found \(shown)")
            }
            probability = given
            consumed.insert(name)
        }
        let extras = members.filter { !consumed.contains($0.key) }
        let example = Example(body, line: number, promptWasImplicit: implicit, chosenProbability: probability, extras: extras)
        return (example, formats.first?.format ?? .standard)
    }

    /// Interprets a field as a string or a list of messages.
    private func exampleText(_ value: JSONValue, field name: String, number: Int) throws -> ExampleText {
        switch value {
        case let .string(text):
            return .standard(text)
        case let .array(items):
            var messages: [Message] = []
            messages.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let position = "field \"\(name)\" item \(index + 1)"
                guard case .object = item else {
                    throw fail(number, .invalidField, "\(position): expected an object with \"role\" and \"content\", found \(item.typeName)")
                }
                guard let roleValue = item["role"] else { throw fail(number, .missingField, "\(position): missing \"role\"") }
                let allowed = Role.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                guard case let .string(roleName) = roleValue else {
                    throw fail(number, .invalidField, "\(position): \"role\" must be one of \(allowed), found \(roleValue.typeName)")
                }
                guard let role = Role(rawValue: roleName) else {
                    throw fail(number, .invalidField, "\(position): \"role\" must be one of \(allowed), found \"\(roleName)\"")
                }
                guard let contentValue = item["content"] else { throw fail(number, .missingField, "\(position): missing \"content\"") }
                guard case let .string(content) = contentValue else {
                    throw fail(number, .invalidField, "\(position): \"content\" must be a string, found \(contentValue.typeName)")
                }
                messages.append(Message(role: role, content: content))
            }
            return .conversational(messages)
        default:
            throw fail(number, .invalidField, "field \"\(name)\" must be a string or a list of messages, found \(value.typeName)")
        }
    }

    static func describe(_ format: DatasetFormat) -> String {
        format == .standard ? "a string" : "a list of messages"
    }
}
