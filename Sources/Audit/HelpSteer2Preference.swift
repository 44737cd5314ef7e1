import Datasets
import JSON

/// NVIDIA HelpSteer2's preference file read as preference pairs with every annotator's judgement.
///
/// The layout of `preference/preference.jsonl.gz` in huggingface.co/datasets/nvidia/HelpSteer2 (HelpSteer2-Preference,
/// Wang et al. 2024, arXiv:2410.01257; field names and scale from the dataset card): `split`, `prompt` (a string;
/// multi-turn prompts inline their turns), `response_1`, `response_2`, `preference_strength` (an integer −3 … 3: −3
/// response 1 is much better, −2 better, −1 slightly better, 0 about the same, 1 … 3 response 2 slightly better …
/// much better; NVIDIA's aggregate of the three most similar annotations), `preference_statement`,
/// `preference_elaboration`, `three_most_similar_preferences`, and `all_preferences_unprocessed`: every annotator's
/// `{"strength", "justification"}` on the same scale, without annotator ids.
///
/// Read as: chosen is the response `preference_strength` favours (response 1 at 0, a tie, whose soft label is ½);
/// every entry of `all_preferences_unprocessed` is one anonymous judgement — the raw list, not the three most similar,
/// which were picked for agreeing and would overstate agreement; the label margin is |`preference_strength`|. Written
/// back as read, with `preference_strength` negated by a flip, 0 for a tie, and a soft label as `chosen_probability`
/// (the probability that the response `preference_strength` favours — response 1 at 0 — is the better one).
enum HelpSteer2Preference {
    static let first = "response_1", second = "response_2", strength = "preference_strength", annotations = "all_preferences_unprocessed"

    /// ``DatasetOptions/adaptLine`` for the audit: a HelpSteer2 line gains `chosen` and `rejected` (its own fields
    /// kept, in order); other lines pass unchanged.
    /// - Throws: ``DatasetError`` naming the line and field (and a list entry's index from 0) when a field is missing
    ///   or out of range, or the line mixes HelpSteer2's fields with TRL's `chosen`/`rejected`.
    @Sendable static func adapt(_ members: [JSONValue.Member], line: Int, file: String) throws -> [JSONValue.Member] {
        let keys = Set(members.map(\.key))
        guard keys.contains(first) || keys.contains(second) else { return members }
        func fail(_ kind: DatasetError.Kind, _ reason: String) -> DatasetError {
            DatasetError(file: file, line: line, kind: kind, reason: reason)
        }
        if keys.contains("chosen") || keys.contains("rejected") {
            throw fail(.invalidField, "has HelpSteer2's \"\(first)\"/\"\(second)\" and TRL's \"chosen\"/\"rejected\"; keep one layout")
        }
        func text(_ name: String) throws -> String {
            guard let value = members.first(where: { $0.key == name })?.value else {
                throw fail(.missingField, "missing field \"\(name)\" (HelpSteer2 preference lines need \"prompt\", \"\(first)\", \"\(second)\", \"\(strength)\" and \"\(annotations)\")")
            }
            guard case let .string(text) = value else { throw fail(.invalidField, "field \"\(name)\" must be a string, found \(value.typeName)") }
            return text
        }
        _ = try text("prompt")
        let (one, two) = (try text(first), try text(second))
        let overall = try label(members.first { $0.key == strength }?.value) { fail(.invalidField, "field \"\($0)\" \($1)") }
        guard let list = members.first(where: { $0.key == annotations })?.value else {
            throw fail(.missingField, "missing field \"\(annotations)\" (each annotator's {\"strength\", \"justification\"}); without it the line has no judgements to audit")
        }
        _ = try strengths(list) { fail(.invalidField, "field \"\($0)\" \($1)") }
        let (chosen, rejected) = overall > 0 ? (two, one) : (one, two)
        return [JSONValue.Member("chosen", .string(chosen)), JSONValue.Member("rejected", .string(rejected))] + members
    }

    /// Whether an example was read from a HelpSteer2 line (``adapt(_:line:file:)`` refuses lines with both layouts).
    static func isAdapted(_ example: Example) -> Bool {
        example[extra: first] != nil && example[extra: strength] != nil
    }

    /// The line's `preference_strength`, nil for other examples.
    static func overall(_ example: Example) -> Int? {
        isAdapted(example) ? example[extra: strength]?.integerValue : nil
    }

    /// `preference_strength`: an integer −3 … 3.
    static func label(_ value: JSONValue?, fail: (String, String) -> DatasetError) throws -> Int {
        guard let value else { throw fail(strength, "is missing (an integer from −3, response 1 much better, to 3, response 2 much better)") }
        guard let number = value.integerValue, (-3...3).contains(number) else {
            throw fail(strength, "must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found \(AnnotatorVote.describe(value))")
        }
        return number
    }

    /// The signed strength of every entry of `all_preferences_unprocessed`.
    static func strengths(_ value: JSONValue, fail: (String, String) -> DatasetError) throws -> [Int] {
        guard case let .array(entries) = value else {
            throw fail(annotations, "must be a list of {\"strength\", \"justification\"} objects, found \(value.typeName)")
        }
        guard !entries.isEmpty else { throw fail(annotations, "is empty; the line has no judgements to audit") }
        return try entries.enumerated().map { index, entry in
            let path = "\(annotations)[\(index)]"
            guard case .object = entry else { throw fail(path, "must be an object with \"strength\", found \(entry.typeName)") }
            guard let value = entry["strength"], value != .null else {
                throw fail(path + ".strength", "is missing (an integer from −3, response 1 much better, to 3, response 2 much better)")
            }
            guard let number = value.integerValue, (-3...3).contains(number) else {
                throw fail(path + ".strength", "must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found \(AnnotatorVote.describe(value))")
            }
            return number
        }
    }

    /// The anonymous judgements of an adapted example, relative to its chosen and rejected.
    static func votes(of example: Example, fail: (String, String) -> DatasetError) throws -> [AnnotatorVote] {
        let overall = try label(example[extra: strength], fail: fail)
        guard let list = example[extra: annotations] else { throw fail(annotations, "is missing") }
        let secondIsChosen = overall > 0
        return try strengths(list, fail: fail).map { signed in
            guard signed != 0 else { return AnnotatorVote(annotator: nil, choice: .tie, strength: 0) }
            return AnnotatorVote(annotator: nil, choice: (signed > 0) == secondIsChosen ? .chosen : .rejected, strength: abs(signed))
        }
    }

    /// The line to write for an adapted example after `action`: its own fields in order (`prompt` before
    /// `response_1`, where HelpSteer2 has it), `preference_strength` negated by a flip and 0 for a tie, and the soft
    /// label, if any, as `chosen_probability`.
    static func jsonValue(_ example: Example, action: CleaningPolicy.Action) -> JSONValue {
        var members: [JSONValue.Member] = []
        let prompt = example.preference.map { $0.prompt.jsonValue } ?? .null
        for member in example.extras {
            if member.key == first { members.append(JSONValue.Member("prompt", prompt)) }
            switch (member.key, action) {
            case (strength, .flip): members.append(JSONValue.Member(strength, .integer(-(member.value.integerValue ?? 0))))
            case (strength, .tie): members.append(JSONValue.Member(strength, .integer(0)))
            default: members.append(member)
            }
        }
        if action != .tie, let probability = example.chosenProbability {
            members.append(JSONValue.Member("chosen_probability", .numeric(probability)))
        }
        return .object(members)
    }
}
