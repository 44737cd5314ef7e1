import Datasets
import JSON

/// One annotator's judgement of a preference pair: what the annotator-agreement statistics count.
///
/// Three layouts carry judgements, and each becomes the same list of votes on its pair (README, "Multi-annotator
/// preference files"):
/// - **one line per judgement**: a TRL preference line with `annotator`; its chosen response is the annotator's
///   choice, or a tie when `label` is `"tie"` or `"both_bad"` (no preference between the two), as
///   `charter annotate export --per-annotator` writes; optional `strength`;
/// - **one line per pair** with `annotator_labels`: `[{"annotator", "choice": "chosen" | "rejected" | "tie",
///   "strength"}]`, choices relative to the line's own `chosen` and `rejected`;
/// - **HelpSteer2 and HelpSteer3 preference lines** (``HelpSteerPreference``): every entry of
///   `all_preferences_unprocessed` (HelpSteer2) or `individual_preference` (HelpSteer3), anonymous.
public struct AnnotatorVote: Sendable, Equatable {
    /// Which response the annotator preferred, relative to the line's chosen and rejected.
    public enum Choice: String, Sendable, CaseIterable {
        case chosen, rejected, tie
    }

    /// Who judged; nil when the file does not say (HelpSteer2 and HelpSteer3 publish no annotator ids).
    public let annotator: String?
    public let choice: Choice
    /// How much better the preferred response is: 1 slightly better, 2 better, 3 much better (HelpSteer's scale);
    /// 0 for a tie; nil when the file gives none.
    public let strength: Int?

    public init(annotator: String?, choice: Choice, strength: Int? = nil) {
        self.annotator = annotator
        self.choice = choice
        self.strength = strength
    }

    /// The list field of the one-line-per-pair layout.
    static let listField = "annotator_labels"

    /// The judgements a preference example carries (empty when it carries none).
    /// - Throws: ``DatasetError`` (kind `.invalidField`) naming the field — and for a list entry its index from 0,
    ///   e.g. `field "annotator_labels[2].choice"` — when a judgement is malformed.
    static func votes(of example: Example, file: String) throws -> [AnnotatorVote] {
        func fail(_ field: String, _ reason: String) -> DatasetError {
            DatasetError(file: file, line: example.line, kind: .invalidField, reason: "field \"\(field)\" \(reason)")
        }
        if let layout = HelpSteerPreference.layout(of: example) {
            return try layout.votes(of: example, fail: fail)
        }
        let annotator = try name(example[extra: "annotator"], field: "annotator", fail: fail)
        if let list = example[extra: listField] {
            guard annotator == nil else {
                throw fail("annotator", "and \"\(listField)\" are both given; a line holds one judgement (\"annotator\") or a list of them (\"\(listField)\")")
            }
            return try votes(list: list, fail: fail)
        }
        guard let annotator else { return [] }
        let choice: Choice
        switch example[extra: "label"] {
        case nil, .null?, .string("preference")?: choice = .chosen
        case .string("tie")?, .string("both_bad")?: choice = .tie
        case let value?:
            throw fail("label", "must be \"preference\", \"tie\" or \"both_bad\" on a line with \"annotator\", found \(describe(value))")
        }
        let strength = try self.strength(example[extra: "strength"], choice: choice, field: "strength", fail: fail)
        return [AnnotatorVote(annotator: annotator, choice: choice, strength: strength)]
    }

    /// The entries of an `annotator_labels` list.
    static func votes(list value: JSONValue, fail: (String, String) -> DatasetError) throws -> [AnnotatorVote] {
        guard case let .array(entries) = value else {
            throw fail(listField, "must be a list of {\"annotator\", \"choice\", \"strength\"} objects, found \(value.typeName)")
        }
        guard !entries.isEmpty else { throw fail(listField, "is empty; list at least one annotator's label") }
        var votes: [AnnotatorVote] = [], seen: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            let path = "\(listField)[\(index)]"
            guard case .object = entry else {
                throw fail(path, "must be an object with \"annotator\" and \"choice\", found \(entry.typeName)")
            }
            guard let name = try name(entry["annotator"], field: path + ".annotator", fail: fail) else {
                throw fail(path + ".annotator", "is missing; every label names its annotator (a string or a number)")
            }
            if let earlier = seen[name] {
                throw fail(path + ".annotator", "\"\(name)\" already labelled this pair at index \(earlier); one label per annotator and pair")
            }
            seen[name] = index
            let allowed = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            guard let choiceValue = entry["choice"], choiceValue != .null else {
                throw fail(path + ".choice", "is missing; it must be one of \(allowed)")
            }
            guard case let .string(text) = choiceValue, let choice = Choice(rawValue: text) else {
                throw fail(path + ".choice", "must be one of \(allowed), found \(describe(choiceValue))")
            }
            let strength = try self.strength(entry["strength"], choice: choice, field: path + ".strength", fail: fail)
            votes.append(AnnotatorVote(annotator: name, choice: choice, strength: strength))
        }
        return votes
    }

    /// An annotator id: a string or a number; nil when absent or null.
    static func name(_ value: JSONValue?, field: String, fail: (String, String) -> DatasetError) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case let .string(name)?:
            guard !name.isEmpty else { throw fail(field, "is empty; name the annotator") }
            return name
        case let .number(number)?: return number.text
        case let value?: throw fail(field, "must be a string or a number, found \(value.typeName)")
        }
    }

    /// A strength: absent or null, else an integer 1–3 for a preference and 0 for a tie.
    static func strength(_ value: JSONValue?, choice: Choice, field: String, fail: (String, String) -> DatasetError) throws -> Int? {
        guard let value, value != .null else { return nil }
        let range = choice == .tie ? 0...0 : 1...3
        guard let strength = value.integerValue, range.contains(strength) else {
            let expected = choice == .tie ? "0 for a tie" : "an integer from 1 (slightly better) to 3 (much better) for a preference (a tie is choice \"tie\")"
            throw fail(field, "must be \(expected), found \(describe(value))")
        }
        return strength
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case let .string(text): return "\"\(text.prefix(40))\""
        case let .number(number): return number.text
        default: return value.typeName
        }
    }

    /// `extras` with every `annotator_labels` choice swapped between chosen and rejected: the same judgements after the
    /// line's chosen and rejected were swapped.
    static func swappingChoices(_ extras: [JSONValue.Member]) -> [JSONValue.Member] {
        extras.map { member in
            guard member.key == listField, case let .array(entries) = member.value else { return member }
            return JSONValue.Member(member.key, .array(entries.map { entry in
                guard case let .object(fields) = entry else { return entry }
                return .object(fields.map { field in
                    switch (field.key, field.value) {
                    case ("choice", .string("chosen")): return JSONValue.Member("choice", .string("rejected"))
                    case ("choice", .string("rejected")): return JSONValue.Member("choice", .string("chosen"))
                    default: return field
                    }
                })
            }))
        }
    }
}
