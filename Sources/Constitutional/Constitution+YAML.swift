import Foundation
import LanguageModels
import Runtime
import Settings
import Yams

extension Constitution {
    /// Reads and validates a constitution YAML (or JSON, a subset of YAML) file.
    /// - Throws: ``ConstitutionError`` naming the file and every problem's field path.
    public static func load(from url: URL) throws -> Constitution {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConstitutionError(file: url.path, path: "", "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: url.path)
    }

    /// Parses and validates constitution YAML; `file` names the source in errors.
    public static func parse(yaml: String, file: String) throws -> Constitution {
        let node: Node?
        do {
            try YAMLPrecheck.check(yaml, file: file)
            node = try Yams.compose(yaml: yaml)
        } catch let error as YAMLLimitError {
            throw ConstitutionError(file: file, yaml: error)
        } catch {
            throw ConstitutionError(file: file, path: "", "not valid YAML: \(error)")
        }
        guard let node, node.mapping != nil else {
            throw ConstitutionError(file: file, path: "", "expected a mapping with name, version, description and principles")
        }
        var problems = schemaProblems(in: node)
        let constitution: Constitution
        do {
            constitution = try YAMLDecoder().decode(Constitution.self, from: yaml)
        } catch let error as DecodingError {
            throw ConstitutionError(file: file, problems: problems + [Self.problem(error)])
        }
        problems += constitution.validate()
        guard problems.isEmpty else { throw ConstitutionError(file: file, problems: problems) }
        return constitution
    }

    /// The constitution as YAML (keys in declaration order; empty optional fields left out).
    public func yaml() throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.allowUnicode = true
        encoder.options.width = -1
        return try encoder.encode(self)
    }

    /// Writes the constitution as YAML.
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(yaml().utf8), to: url)
    }

    /// Every semantic problem (empty when valid): required text present, ids unique and well-formed,
    /// categories known, weights positive, request pairs complete, few-shot conversations well-formed.
    public func validate() -> [ConstitutionError.Problem] {
        var problems: [ConstitutionError.Problem] = []
        func require(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(.init(path, message)) }
        }
        func nonBlank(_ text: String?) -> Bool { text.map { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } ?? true }
        require(nonBlank(name) && !name.isEmpty, "name", "must not be empty")
        require(nonBlank(version) && !version.isEmpty, "version", "must not be empty")
        require(!principles.isEmpty, "principles", "must list at least one principle")
        var seen: [String: Int] = [:]
        let allowedID = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        for (index, principle) in principles.enumerated() {
            let path = "principles[\(index)]"
            require(!principle.id.isEmpty && principle.id.unicodeScalars.allSatisfy(allowedID.contains), "\(path).id",
                    "\"\(principle.id)\" must be non-empty and use only letters, digits, '.', '_' and '-'")
            if let first = seen[principle.id] {
                problems.append(.init("\(path).id", "\"\(principle.id)\" is also the id of principles[\(first)]; ids must be unique"))
            } else {
                seen[principle.id] = index
            }
            require(PrincipleCategory(rawValue: principle.category) != nil, "\(path).category",
                    "\"\(principle.category)\" is not a category; use one of \(PrincipleCategory.allCases.map(\.rawValue).joined(separator: ", "))")
            require(nonBlank(principle.critiqueRequest), "\(path).critique_request", "must not be blank")
            require(nonBlank(principle.revisionRequest), "\(path).revision_request", "must not be blank")
            require(nonBlank(principle.comparison), "\(path).comparison", "must not be blank")
            if (principle.critiqueRequest == nil) != (principle.revisionRequest == nil) {
                let missing = principle.critiqueRequest == nil ? "critique_request" : "revision_request"
                problems.append(.init("\(path).\(missing)", "missing: a principle that critiques must also say how to revise, and vice versa"))
            }
            require(principle.critiqueRequest != nil || principle.revisionRequest != nil || principle.comparison != nil, path,
                    "needs critique_request and revision_request, or comparison (or all three)")
            if let weight = principle.weight {
                require(weight.isFinite && weight > 0, "\(path).weight", "must be a positive number, got \(weight)")
            }
        }
        for (index, example) in critiqueExamples.enumerated() {
            let path = "critique_examples[\(index)]"
            problems += Self.conversationProblems(example.conversation, path: "\(path).conversation", endsWith: "assistant")
            for (field, text) in [("critique_request", example.critiqueRequest), ("critique", example.critique),
                                  ("revision_request", example.revisionRequest), ("revision", example.revision)] {
                require(nonBlank(text) && !text.isEmpty, "\(path).\(field)", "must not be blank")
            }
        }
        for (index, example) in comparisonExamples.enumerated() {
            let path = "comparison_examples[\(index)]"
            problems += Self.conversationProblems(example.conversation, path: "\(path).conversation", endsWith: "user")
            require(example.preferred == "A" || example.preferred == "B", "\(path).preferred", "must be \"A\" or \"B\", got \"\(example.preferred)\"")
            require(!example.responseA.isEmpty, "\(path).response_a", "must not be empty")
            require(!example.responseB.isEmpty, "\(path).response_b", "must not be empty")
            require(nonBlank(example.reasoning), "\(path).reasoning", "must not be blank (leave it out instead)")
        }
        return problems
    }

    /// Roles alternate user/assistant starting with the user and the last turn has role `endsWith`.
    static func conversationProblems(_ conversation: [ChatMessage], path: String, endsWith: String) -> [ConstitutionError.Problem] {
        guard !conversation.isEmpty else { return [.init(path, "must have at least one turn")] }
        var problems: [ConstitutionError.Problem] = []
        for (index, message) in conversation.enumerated() {
            let expected = index % 2 == 0 ? "user" : "assistant"
            if message.role != expected {
                problems.append(.init("\(path)[\(index)].role", "expected \"\(expected)\" (turns alternate user/assistant starting with user), got \"\(message.role)\""))
            }
        }
        if conversation.last?.role != endsWith {
            problems.append(.init(path, "must end with a \(endsWith) turn"))
        }
        return problems
    }

    /// Keys the schema does not know (usually typos, which Codable would silently ignore), and required text
    /// fields holding YAML's `null` (or `~`, or nothing), which Codable would read as the word "null".
    static func schemaProblems(in root: Node) -> [ConstitutionError.Problem] {
        var problems: [ConstitutionError.Problem] = []
        func check(_ node: Node, _ allowed: [String], _ path: String, requiredText: Set<String>) {
            guard let mapping = node.mapping else { return }
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                let line = key.mark.map { " (line \($0.line))" } ?? ""
                let field = path.isEmpty ? name : "\(path).\(name)"
                if !allowed.contains(name) {
                    problems.append(.init(field, "unknown key\(line); expected one of \(allowed.joined(separator: ", "))"))
                } else if requiredText.contains(name), let scalar = value.scalar, scalar.style == .plain || scalar.style == .any,
                          value.null != nil {
                    problems.append(.init(field, "is null\(line); give text (quoted, \"null\", if you mean the word)"))
                }
            }
        }
        func checkList(_ node: Node?, _ allowed: [String], _ path: String, requiredText: Set<String>,
                       nested: (Node, String) -> Void = { _, _ in }) {
            guard let sequence = node?.sequence else { return }
            for (index, element) in sequence.enumerated() {
                check(element, allowed, "\(path)[\(index)]", requiredText: requiredText)
                nested(element, "\(path)[\(index)]")
            }
        }
        check(root, Constitution.CodingKeys.allCases.map(\.rawValue), "", requiredText: ["name", "version"])
        let messageKeys = ["role", "content"]
        func checkConversation(_ node: Node, _ path: String) {
            checkList(node["conversation"], messageKeys, "\(path).conversation", requiredText: Set(messageKeys))
        }
        checkList(root["principles"], Principle.CodingKeys.allCases.map(\.rawValue), "principles", requiredText: ["id", "category"]) {
            if let provenance = $0["provenance"] {
                check(provenance, PrincipleProvenance.CodingKeys.allCases.map(\.rawValue), "\($1).provenance", requiredText: ["statement_id"])
            }
        }
        checkList(root["critique_examples"], CritiqueExample.CodingKeys.allCases.map(\.rawValue), "critique_examples",
                  requiredText: ["critique_request", "critique", "revision_request", "revision"], nested: checkConversation)
        checkList(root["comparison_examples"], ComparisonExample.CodingKeys.allCases.map(\.rawValue), "comparison_examples",
                  requiredText: ["response_a", "response_b", "preferred"], nested: checkConversation)
        return problems
    }

    /// A decoding error as a field path and message.
    public static func problem(_ error: DecodingError) -> ConstitutionError.Problem {
        switch error {
        case let .keyNotFound(key, context):
            return .init(fieldPath(context.codingPath + [key]), "missing (required)")
        case let .typeMismatch(type, context):
            return .init(fieldPath(context.codingPath), "expected \(typeName(type)) (\(context.debugDescription))")
        case let .valueNotFound(type, context):
            return .init(fieldPath(context.codingPath), "expected \(typeName(type)), found nothing")
        case let .dataCorrupted(context):
            return .init(fieldPath(context.codingPath), context.debugDescription)
        @unknown default:
            return .init("", "\(error)")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "text"
        case is Double.Type, is Float.Type, is Int.Type: return "a number"
        case is Array<Any>.Type: return "a list"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") ? "a list" : (name.hasPrefix("Dictionary") ? "a mapping" : name)
        }
    }

    /// `principles[3].critique_request` from a coding path.
    static func fieldPath(_ path: [CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}
