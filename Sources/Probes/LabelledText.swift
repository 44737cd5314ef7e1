import Datasets
import Foundation
import JSON

/// One labelled example: a text (or a prompt and a response, scored on the response's tokens) and a binary label.
public struct LabelledText: Equatable, Sendable {
    /// The text whose tokens are read up to the scored part (the prompt when there is a response).
    public var prompt: String
    /// The continuation whose tokens are scored (nil: the prompt's tokens are scored).
    public var response: String?
    /// true: the positive class (harmful, unsafe, the behaviour the probe detects).
    public var label: Bool
    /// Examples of one group (an intent, a source document) stay on one side of the train/held-out split.
    public var group: String?
    /// true: held out from training (the file's `split` is "held-out"); nil: the trainer splits by group.
    public var heldOut: Bool?
    /// 1-based line in the file it was read from.
    public var line: Int

    public init(prompt: String, response: String? = nil, label: Bool, group: String? = nil, heldOut: Bool? = nil, line: Int = 0) {
        (self.prompt, self.response, self.label, self.group, self.heldOut, self.line) = (prompt, response, label, group, heldOut, line)
    }

    /// Reads a JSONL(.gz) file whose lines have `text` or `prompt` (+ optional `response`), a `label` (true/false,
    /// 1/0), an optional `group` string and an optional `split` ("train" or "held-out").
    /// - Throws: ``ProbeError/badExample(file:line:field:reason:)`` naming the line and field; `DatasetError` for
    ///   unreadable or malformed lines.
    public static func read(_ url: URL) throws -> [LabelledText] {
        let reader = try JSONLReader(url: url)
        var examples: [LabelledText] = []
        while let (line, members) = try reader.next() {
            let object = JSONValue.object(members)
            func fail(_ field: String, _ reason: String) -> ProbeError {
                .badExample(file: url.lastPathComponent, line: line, field: field, reason: reason)
            }
            let prompt: String
            if let text = object["text"] {
                guard let value = text.stringValue else { throw fail("text", "must be a string, not \(text.typeName)") }
                prompt = value
            } else if let value = object["prompt"] {
                guard let string = value.stringValue else { throw fail("prompt", "must be a string, not \(value.typeName)") }
                prompt = string
            } else {
                throw fail("text", "is missing; give \"text\", or \"prompt\" with an optional \"response\"")
            }
            var response: String?
            if let value = object["response"], object["text"] == nil {
                guard let string = value.stringValue else { throw fail("response", "must be a string, not \(value.typeName)") }
                response = string
            }
            guard let labelValue = object["label"] else { throw fail("label", "is missing; add \"label\": true (positive) or false") }
            let label: Bool
            if let flag = labelValue.boolValue {
                label = flag
            } else if let number = labelValue.integerValue, number == 0 || number == 1 {
                label = number == 1
            } else {
                throw fail("label", "must be true/false or 1/0, not \(labelValue.serialized())")
            }
            var group: String?
            if let value = object["group"] {
                guard let string = value.stringValue else { throw fail("group", "must be a string, not \(value.typeName)") }
                group = string
            }
            var heldOut: Bool?
            if let value = object["split"] {
                guard let string = value.stringValue, ["train", "held-out"].contains(string) else {
                    throw fail("split", "must be \"train\" or \"held-out\", not \(value.serialized())")
                }
                heldOut = string == "held-out"
            }
            examples.append(LabelledText(prompt: prompt, response: response, label: label, group: group, heldOut: heldOut, line: line))
        }
        return examples
    }
}
