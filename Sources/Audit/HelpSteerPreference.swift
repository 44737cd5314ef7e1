import Datasets
import JSON

/// NVIDIA's HelpSteer preference files — HelpSteer2's and HelpSteer3's — read as preference pairs with every
/// annotator's judgement. The two publish the same thing under different names: a prompt, two responses, an overall
/// preference on a −3 … 3 scale (−3 response 1 much better, −2 better, −1 slightly better, 0 about the same, 1 … 3
/// response 2 slightly better … much better) and a list of the annotators' own scores on that scale, without
/// annotator ids.
///
/// - **HelpSteer2** (``helpSteer2``): `preference/preference.jsonl.gz` in huggingface.co/datasets/nvidia/HelpSteer2
///   (HelpSteer2-Preference, Wang et al. 2024, arXiv:2410.01257; field names and scale from the dataset card,
///   "Preferences (NEW - 1 Oct 2024)"): `split`, `prompt` (a string; multi-turn prompts inline their turns),
///   `response_1`, `response_2`, `preference_strength` (NVIDIA's aggregate of the three most similar annotations),
///   `preference_statement`, `preference_elaboration`, `three_most_similar_preferences`, and
///   `all_preferences_unprocessed`: every annotator's `{"strength", "justification"}`.
/// - **HelpSteer3** (``helpSteer3``): the `preference` subset of huggingface.co/datasets/nvidia/HelpSteer3
///   (`preference/train.jsonl.gz`, `preference/validation.jsonl.gz`; HelpSteer3-Preference, Wang et al. 2025,
///   arXiv:2505.11475; field names and scale from the dataset card, "Preference"): `domain`, `language`, `context`
///   (the conversation before the responses, a list of `{"role", "content"}` in OpenAI's chat-message form),
///   `response1`, `response2`, `overall_preference`, and `individual_preference`: up to three annotators'
///   `{"score", "reasoning"}`.
///
/// Read as: chosen is the response the overall preference favours (response 1 at 0, a tie, whose soft label is ½);
/// every entry of the annotators' list is one anonymous judgement — for HelpSteer2 the raw list, not the three most
/// similar, which were picked for agreeing and would overstate agreement; the label margin is |overall|. A
/// HelpSteer3 prompt is conversational (its `context`, with each response as one assistant message). Written back as
/// read, with the overall preference negated by a flip (the annotators' scores untouched: they still prefer what
/// they preferred), 0 for a tie, and a soft label as `chosen_probability` (the probability that the response the
/// overall preference favours — response 1 at 0 — is the better one).
struct HelpSteerPreference: Sendable {
    /// The dataset's name, for messages.
    let dataset: String
    /// The field holding the prompt: a string, or with ``conversational`` a list of messages.
    let prompt: String
    let conversational: Bool
    let first: String, second: String
    /// The overall preference, −3 … 3.
    let overall: String
    /// The annotators' list, and its entries' score and text fields.
    let annotations: String, score: String, reasoning: String

    static let helpSteer2 = HelpSteerPreference(dataset: "HelpSteer2", prompt: "prompt", conversational: false, first: "response_1", second: "response_2",
                                                overall: "preference_strength", annotations: "all_preferences_unprocessed", score: "strength", reasoning: "justification")
    static let helpSteer3 = HelpSteerPreference(dataset: "HelpSteer3", prompt: "context", conversational: true, first: "response1", second: "response2",
                                                overall: "overall_preference", annotations: "individual_preference", score: "score", reasoning: "reasoning")
    static let layouts = [helpSteer2, helpSteer3]

    /// ``DatasetOptions/adaptLine`` for the audit: a HelpSteer line gains TRL's fields — `chosen` and `rejected`, and
    /// for HelpSteer3 `prompt` (its `context`) — before its own fields, which are kept in order; other lines pass
    /// unchanged.
    /// - Throws: ``DatasetError`` naming the line and field (and a list entry's index from 0) when a field is missing
    ///   or out of range, or the line mixes two layouts (HelpSteer2's and HelpSteer3's, or either and TRL's).
    @Sendable static func adapt(_ members: [JSONValue.Member], line: Int, file: String) throws -> [JSONValue.Member] {
        let keys = Set(members.map(\.key))
        let found = layouts.filter { keys.contains($0.first) || keys.contains($0.second) }
        guard let layout = found.first else { return members }
        func fail(_ kind: DatasetError.Kind, _ reason: String) -> DatasetError {
            DatasetError(file: file, line: line, kind: kind, reason: reason)
        }
        if found.count > 1 {
            throw fail(.invalidField, "has " + found.map { "\($0.dataset)'s \"\($0.first)\"/\"\($0.second)\"" }.joined(separator: " and ") + "; keep one layout")
        }
        return try layout.adapt(members, keys: keys, fail: fail)
    }

    /// The layout an example was read from, nil for other examples (``adapt(_:line:file:)`` refuses lines with two).
    static func layout(of example: Example) -> HelpSteerPreference? {
        layouts.first { example[extra: $0.first] != nil && example[extra: $0.overall] != nil }
    }

    /// The overall preference of an example read from a HelpSteer line, nil for other examples.
    static func overall(_ example: Example) -> Int? {
        layout(of: example).flatMap { example[extra: $0.overall]?.integerValue }
    }

    private func adapt(_ members: [JSONValue.Member], keys: Set<String>, fail: (DatasetError.Kind, String) -> DatasetError) throws -> [JSONValue.Member] {
        let trl = ["chosen", "rejected"] + (prompt == "prompt" ? [] : ["prompt"])
        if let other = trl.first(where: keys.contains) {
            throw fail(.invalidField, "has \(dataset)'s \"\(first)\"/\"\(second)\" and TRL's \"\(other)\"; keep one layout")
        }
        func value(_ name: String) throws -> JSONValue {
            guard let value = members.first(where: { $0.key == name })?.value else {
                throw fail(.missingField, "missing field \"\(name)\" (\(dataset) preference lines need \"\(prompt)\", \"\(first)\", \"\(second)\", \"\(overall)\" and \"\(annotations)\")")
            }
            return value
        }
        func text(_ name: String) throws -> String {
            let found = try value(name)
            guard case let .string(text) = found else { throw fail(.invalidField, "field \"\(name)\" must be a string, found \(found.typeName)") }
            return text
        }
        let field: (String, String) -> DatasetError = { fail(.invalidField, "field \"\($0)\" \($1)") }
        let context = try conversational ? messages(value(prompt), fail: field) : .string(text(prompt))
        let (one, two) = (try text(first), try text(second))
        let label = try self.label(members.first { $0.key == overall }?.value, fail: field)
        guard let list = members.first(where: { $0.key == annotations })?.value else {
            throw fail(.missingField, "missing field \"\(annotations)\" (each annotator's {\"\(score)\", \"\(reasoning)\"}); without it the line has no judgements to audit")
        }
        _ = try scores(list, fail: field)
        let (chosen, rejected) = label > 0 ? (two, one) : (one, two)
        guard conversational else {
            return [JSONValue.Member("chosen", .string(chosen)), JSONValue.Member("rejected", .string(rejected))] + members
        }
        func reply(_ text: String) -> JSONValue { .array([.object([JSONValue.Member("role", .string("assistant")), JSONValue.Member("content", .string(text))])]) }
        return [JSONValue.Member("prompt", context), JSONValue.Member("chosen", reply(chosen)), JSONValue.Member("rejected", reply(rejected))] + members
    }

    /// A conversational prompt: a non-empty list of `{"role", "content"}` with roles Charter knows.
    private func messages(_ value: JSONValue, fail: (String, String) -> DatasetError) throws -> JSONValue {
        guard case let .array(turns) = value else {
            throw fail(prompt, "must be a list of {\"role\", \"content\"} messages (the conversation before the responses), found \(value.typeName)")
        }
        guard !turns.isEmpty else { throw fail(prompt, "is empty; the line has no prompt") }
        let roles = Role.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        for (index, turn) in turns.enumerated() {
            let path = "\(prompt)[\(index)]"
            guard case .object = turn else { throw fail(path, "must be an object with \"role\" and \"content\", found \(turn.typeName)") }
            guard let role = turn["role"], role != .null else { throw fail(path + ".role", "is missing; it must be one of \(roles)") }
            guard case let .string(name) = role, Role(rawValue: name) != nil else {
                throw fail(path + ".role", "must be one of \(roles), found \(AnnotatorVote.describe(role))")
            }
            guard let content = turn["content"], content != .null else { throw fail(path + ".content", "is missing") }
            guard case .string = content else { throw fail(path + ".content", "must be a string, found \(content.typeName)") }
        }
        return value
    }

    /// The overall preference: an integer −3 … 3.
    func label(_ value: JSONValue?, fail: (String, String) -> DatasetError) throws -> Int {
        guard let value else { throw fail(overall, "is missing (an integer from −3, response 1 much better, to 3, response 2 much better)") }
        guard let number = value.integerValue, (-3...3).contains(number) else {
            throw fail(overall, "must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found \(AnnotatorVote.describe(value))")
        }
        return number
    }

    /// The signed score of every entry of the annotators' list.
    func scores(_ value: JSONValue, fail: (String, String) -> DatasetError) throws -> [Int] {
        guard case let .array(entries) = value else {
            throw fail(annotations, "must be a list of {\"\(score)\", \"\(reasoning)\"} objects, found \(value.typeName)")
        }
        guard !entries.isEmpty else { throw fail(annotations, "is empty; the line has no judgements to audit") }
        return try entries.enumerated().map { index, entry in
            let path = "\(annotations)[\(index)]"
            guard case .object = entry else { throw fail(path, "must be an object with \"\(score)\", found \(entry.typeName)") }
            guard let value = entry[score], value != .null else {
                throw fail(path + ".\(score)", "is missing (an integer from −3, response 1 much better, to 3, response 2 much better)")
            }
            guard let number = value.integerValue, (-3...3).contains(number) else {
                throw fail(path + ".\(score)", "must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found \(AnnotatorVote.describe(value))")
            }
            return number
        }
    }

    /// The anonymous judgements of an example read from this layout, relative to its chosen and rejected.
    func votes(of example: Example, fail: (String, String) -> DatasetError) throws -> [AnnotatorVote] {
        let secondIsChosen = try label(example[extra: overall], fail: fail) > 0
        guard let list = example[extra: annotations] else { throw fail(annotations, "is missing") }
        return try scores(list, fail: fail).map { signed in
            guard signed != 0 else { return AnnotatorVote(annotator: nil, choice: .tie, strength: 0) }
            return AnnotatorVote(annotator: nil, choice: (signed > 0) == secondIsChosen ? .chosen : .rejected, strength: abs(signed))
        }
    }

    /// The line to write for an example read from this layout after `action`: its own fields in order (HelpSteer2's
    /// `prompt` before `response_1`, where HelpSteer2 has it; HelpSteer3's `context` was never taken out), the overall
    /// preference negated by a flip and 0 for a tie, and the soft label, if any, as `chosen_probability`.
    func jsonValue(_ example: Example, action: CleaningPolicy.Action) -> JSONValue {
        var members: [JSONValue.Member] = []
        for member in example.extras {
            if !conversational, member.key == first { members.append(JSONValue.Member(prompt, example.preference.map { $0.prompt.jsonValue } ?? .null)) }
            switch (member.key, action) {
            case (overall, .flip): members.append(JSONValue.Member(overall, .integer(-(member.value.integerValue ?? 0))))
            case (overall, .tie): members.append(JSONValue.Member(overall, .integer(0)))
            default: members.append(member)
            }
        }
        if action != .tie, let probability = example.chosenProbability {
            members.append(JSONValue.Member("chosen_probability", .numeric(probability)))
        }
        return .object(members)
    }
}
