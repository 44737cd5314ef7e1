import Experiments
import Foundation
import JSON

/// `--set FIELD=VALUE` for an experiment's configuration (`charter quickstart`, `charter experiment audit`): fields
/// named as results.json lists them (camelCase, dotted for nested ones) or in snake_case as the trainers' keys.
/// Unknown fields and values of the wrong type are errors naming the field; nothing is set half-way.
public enum ConfigurationOverrides {
    /// `items` (`FIELD=VALUE` each) as field paths of `configuration`'s encoding and their values.
    /// - Throws: `ExperimentError` for an item without `=` or with an empty field.
    public static func pairs<C: Encodable>(_ items: [String], for configuration: C) throws -> [(key: String, value: String)] {
        let fields = try JSONParser.parse(JSONEncoder().encode(configuration))
        return try items.map { item in
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ExperimentError("--set \(item): expected FIELD=VALUE")
            }
            return (fieldName(String(item[..<equals]), in: fields), String(item[item.index(after: equals)...]))
        }
    }

    /// A `--set` key as the configuration spells it: each dotted part matched ignoring case and underscores, so
    /// `sl_cai_steps` and `slCAISteps` both name `slCAISteps`; a part that matches nothing is kept (and reported).
    static func fieldName(_ key: String, in fields: JSONValue) -> String {
        var node: JSONValue? = fields
        return key.split(separator: ".", omittingEmptySubsequences: false).map { part -> String in
            let wanted = part.lowercased().replacingOccurrences(of: "_", with: "")
            let match = node?.keys.first { $0.lowercased().replacingOccurrences(of: "_", with: "") == wanted }
            node = match.flatMap { node?[$0] }
            return match ?? String(part)
        }.joined(separator: ".")
    }

    /// `configuration` with the fields of `overrides` (field path → value) replaced. `command` names the command in
    /// errors; `textChoices` lists the values each text field takes (a text field not listed takes any text).
    /// - Throws: `ExperimentError` naming the field: no such field, a field with fields of its own, a value that is not
    ///   a number or true/false where one is expected, a text value not among its choices, or values the
    ///   configuration's decoder refuses.
    public static func apply<C: Codable>(_ overrides: [(key: String, value: String)], to configuration: C, command: String,
                                         textChoices: [String: [String]] = [:]) throws -> C {
        guard !overrides.isEmpty else { return configuration }
        var object = try JSONParser.parse(JSONEncoder().encode(configuration))
        for (key, value) in overrides {
            let path = key.split(separator: ".").map(String.init)
            object = try set(path, to: value, in: object, field: key, command: command, textChoices: textChoices)
        }
        do {
            return try JSONDecoder().decode(C.self, from: Data(object.serialized().utf8))
        } catch {
            throw ExperimentError("\(command) --set: the values do not fit the configuration (\(error))")
        }
    }

    private static func set(_ path: [String], to value: String, in object: JSONValue, field: String, command: String,
                            textChoices: [String: [String]]) throws -> JSONValue {
        guard case var .object(members) = object, let key = path.first, let index = members.firstIndex(where: { $0.key == key }) else {
            let known = object.keys.sorted().joined(separator: ", ")
            throw ExperimentError("\(command) --set \(field): no such field '\(path.first ?? "")' (known: \(known))")
        }
        let current = members[index].value
        if path.count > 1 {
            guard case .object = current else { throw ExperimentError("\(command) --set \(field): '\(key)' has no fields") }
            members[index].value = try set(Array(path.dropFirst()), to: value, in: current, field: field, command: command, textChoices: textChoices)
            return .object(members)
        }
        switch current {
        case .number, .bool: break
        case .string:
            if let choices = textChoices[key], !choices.contains(value) {
                throw ExperimentError("\(command) --set \(field)=\(value): expected one of \(choices.joined(separator: ", "))")
            }
            members[index].value = .string(value)
            return .object(members)
        default: throw ExperimentError("\(command) --set \(field): only numbers, booleans and text fields can be set")
        }
        guard let parsed = try? JSONParser.parse(value), parsed.boolValue != nil || parsed.doubleValue != nil else {
            throw ExperimentError("\(command) --set \(field)=\(value): expected a number or true/false")
        }
        members[index].value = parsed
        return .object(members)
    }
}
