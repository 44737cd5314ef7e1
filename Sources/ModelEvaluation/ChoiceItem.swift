import Datasets
import Foundation
import JSON

/// One multiple-choice preference item: a context and candidate continuations, each with a score (the best ones
/// have the highest). Read from
/// - the Anthropic HHH / BIG-bench `hhh_alignment` format: `{"input", "targets": [{"text", "score"}]}`, also as
///   Hugging Face's `{"input", "targets": {"choices": [...], "labels": [...]}}` or BIG-bench's
///   `{"input", "target_scores": {text: score}}`; the continuation is scored after the input and one space
///   (lm-evaluation-harness's `target_delimiter`), unless the input ends or the target starts with white space;
/// - TRL preference pairs (standard text): `{"prompt", "chosen", "rejected"}`, or with an implicit prompt (HH-RLHF's
///   `{"chosen", "rejected"}` transcripts, split at their shared beginning as TRL does), chosen scored 1, rejected 0,
///   each continuation scored exactly as TRL tokenises it, prompt + completion with nothing between.
public struct ChoiceItem: Codable, Equatable, Sendable {
    public var id: String
    public var context: String
    public var targets: [String]
    public var scores: [Double]

    public init(id: String, context: String, targets: [String], scores: [Double]) {
        self.id = id
        self.context = context
        self.targets = targets
        self.scores = scores
    }

    /// The file's format, detected from its first item unless given.
    public enum Format: String, Codable, CaseIterable, Sendable {
        /// `{"input", "targets" | "target_scores"}`.
        case hhh
        /// `{"prompt", "chosen", "rejected"}`.
        case preference
    }

    /// Reads every item of a JSONL file (a `.json` file holding a list, or BIG-bench's `{"examples": [...]}`, is read too).
    /// - Throws: ``EvaluationError`` naming file:line and the field for a malformed item.
    /// - Returns: the format read (detected unless given) and the items.
    public static func read(_ url: URL, format: Format? = nil) throws -> (format: Format, items: [ChoiceItem]) {
        var objects: [(Int, JSONValue)] = []
        if url.pathExtension == "json" {
            let value: JSONValue
            do { value = try JSONParser.parse(try Data(contentsOf: url)) } catch {
                throw EvaluationError("\(url.path): not readable JSON (\(error))")
            }
            guard case let .array(list)? = value["examples"] ?? (value.arrayValue.map(JSONValue.array)) else {
                throw EvaluationError("\(url.path): expected a list of items or {\"examples\": [...]}")
            }
            objects = list.enumerated().map { ($0.offset + 1, $0.element) }
        } else {
            do {
                let reader = try JSONLReader(url: url)
                while let (line, members) = try reader.next() { objects.append((line, .object(members))) }
            } catch let error as DatasetError {
                throw EvaluationError(error.kind == .io ? "\(url.path): cannot read (\(error.reason))" : "\(url.path):\(error.line): \(error.reason)")
            }
        }
        guard let first = objects.first?.1 else { throw EvaluationError("\(url.path): no items (the file is empty)") }
        let format = format ?? (first["input"] != nil ? .hhh : .preference)
        var seen = Set<String>()
        return (format, try objects.map { line, object in
            var id = "line-\(line)"
            if case let .string(text)? = object["id"] { id = text } else if case let .number(number)? = object["id"] { id = number.text }
            guard seen.insert(id).inserted else { throw EvaluationError.line(url, line, "id \"\(id)\" appears twice; ids must be unique so runs can resume") }
            switch format {
            case .hhh: return try hhh(object, id: id, url: url, line: line)
            case .preference: return try preference(object, id: id, url: url, line: line)
            }
        })
    }

    static func hhh(_ object: JSONValue, id: String, url: URL, line: Int) throws -> ChoiceItem {
        guard let input = object["input"]?.stringValue else { throw EvaluationError.line(url, line, "missing \"input\" (a string)") }
        var targets: [String] = [], scores: [Double] = []
        switch (object["targets"], object["target_scores"]) {
        case let (.array(list)?, _):
            for (index, target) in list.enumerated() {
                guard let text = target["text"]?.stringValue, let score = target["score"]?.doubleValue else {
                    throw EvaluationError.line(url, line, "targets[\(index)] needs \"text\" (a string) and \"score\" (a number)")
                }
                targets.append(text); scores.append(score)
            }
        case (.object?, _):
            guard case let .array(choices)? = object["targets"]?["choices"], case let .array(labels)? = object["targets"]?["labels"],
                  choices.count == labels.count else {
                throw EvaluationError.line(url, line, "\"targets\" as an object needs equally long \"choices\" and \"labels\" lists")
            }
            for (choice, label) in zip(choices, labels) {
                guard let text = choice.stringValue, let score = label.doubleValue else {
                    throw EvaluationError.line(url, line, "\"targets\".choices must be strings and .labels numbers")
                }
                targets.append(text); scores.append(score)
            }
        case let (nil, .object(members)?):
            for member in members {
                guard let score = member.value.doubleValue else { throw EvaluationError.line(url, line, "target_scores[\"\(member.key)\"] must be a number") }
                targets.append(member.key); scores.append(score)
            }
        default:
            throw EvaluationError.line(url, line, "expected \"targets\": [{\"text\", \"score\"}] (or {\"choices\", \"labels\"}, or \"target_scores\")")
        }
        guard targets.count >= 2 else { throw EvaluationError.line(url, line, "needs at least two targets, got \(targets.count)") }
        guard Set(scores).count > 1 else { throw EvaluationError.line(url, line, "every target has the same score, so none is preferred") }
        let spaced = targets.map { target -> String in
            let separate = !(input.last?.isWhitespace ?? true) && !(target.first?.isWhitespace ?? true)
            return separate ? " " + target : target
        }
        return ChoiceItem(id: id, context: input, targets: spaced, scores: scores)
    }

    static func preference(_ object: JSONValue, id: String, url: URL, line: Int) throws -> ChoiceItem {
        // Implicit prompt (HH-RLHF): the shared beginning of chosen and rejected, split as TRL's maybe_extract_prompt does.
        if object["prompt"] == nil, let chosen = object["chosen"]?.stringValue, let rejected = object["rejected"]?.stringValue {
            let split = ImplicitPrompt.split(chosen: chosen, rejected: rejected)
            return ChoiceItem(id: id, context: split.prompt, targets: [split.chosen, split.rejected], scores: [1, 0])
        }
        for field in ["prompt", "chosen", "rejected"] {
            switch object[field] {
            case .string?: continue
            case .array?: throw EvaluationError.line(url, line, "\"\(field)\" is a conversation; choice evaluation scores standard (text) pairs — render conversational pairs with the model's chat template first")
            default: throw EvaluationError.line(url, line, "missing \"\(field)\" (a string)")
            }
        }
        return ChoiceItem(id: id, context: object["prompt"]?.stringValue ?? "",
                          targets: [object["chosen"]?.stringValue ?? "", object["rejected"]?.stringValue ?? ""], scores: [1, 0])
    }
}
