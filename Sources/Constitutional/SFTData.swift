import Datasets
import Foundation
import JSON
import LanguageModels
import Runtime

/// Supervised CAI's training data: each red-team prompt with its final revision (TRL prompt–completion), optionally
/// mixed with helpful examples, as the paper mixes revisions with helpfulness samples to keep the model helpful (§3.1).
public enum SFTData {
    /// Prompt → final revision. Transcript prompting gives standard text (`"\n\nHuman: …\n\nAssistant:"` → `" revision"`);
    /// chat prompting gives conversations (messages → one assistant message). Each example keeps its item `id`.
    public static func examples(from records: [RevisionRecord]) throws -> [Example] {
        try records.map { record in
            let conversation = try record.prompt.conversation()
            let body: Example.Body
            switch record.prompting {
            case .transcript:
                let prompt = CritiquePrompts.responsePrompt(conversation)
                body = .promptCompletion(prompt: .standard(prompt), completion: .standard(PromptValue.completion(record.finalRevision, after: prompt)))
            case .chat:
                body = .promptCompletion(prompt: .conversational(conversation.map(message)),
                                         completion: .conversational([Message(role: .assistant, content: record.finalRevision)]))
            }
            return Example(body, extras: [JSONValue.Member("id", .string(record.id))])
        }
    }

    static func message(_ message: ChatMessage) -> Message {
        Message(role: Role(rawValue: message.role) ?? .user, content: message.content)
    }

    /// Mixes `revisions` with helpful examples so that helpful ones make up `ratio` of the result:
    /// h = round(n · ratio / (1 − ratio)) drawn without replacement (all of them when fewer exist), then the whole
    /// set shuffled; both draws seeded.
    /// - Returns: the mixed examples and how many helpful ones were used.
    /// - Throws: when the ratio is outside [0, 1) or the formats differ (TRL needs one format per file).
    public static func mix(_ revisions: [Example], helpful: [Example], ratio: Double, seed: UInt64) throws -> (examples: [Example], helpfulCount: Int) {
        guard (0..<1).contains(ratio) else { throw ConstitutionalError("the helpful ratio must be in [0, 1), got \(ratio)") }
        try checkSameFormat(revisions, helpful)
        let wanted = min(helpful.count, Int((Double(revisions.count) * ratio / (1 - ratio)).rounded()))
        var random = ItemRandom(seed: seed, id: "helpful-mix", purpose: "draw")
        var order = Array(helpful.indices)
        order.seededShuffle(using: &random)
        var mixed = revisions
        for index in order.prefix(wanted) { mixed.append(helpful[index]) }
        var shuffle = ItemRandom(seed: seed, id: "helpful-mix", purpose: "shuffle")
        var positions = Array(mixed.indices)
        positions.seededShuffle(using: &shuffle)
        return (positions.map { mixed[$0] }, wanted)
    }

    private static func checkSameFormat(_ revisions: [Example], _ helpful: [Example]) throws {
        guard let a = revisions.first, let b = helpful.first else { return }
        let (revisionFormat, helpfulFormat) = (format(a), format(b))
        if revisionFormat != helpfulFormat {
            throw ConstitutionalError("the helpful data is \(helpfulFormat.rawValue) but the revisions are \(revisionFormat.rawValue); use the same prompting style (--prompting chat for conversational data)")
        }
    }

    static func format(_ example: Example) -> DatasetFormat {
        if case let .promptCompletion(prompt, _) = example.body { return prompt.format }
        if case let .languageModeling(text) = example.body { return text.format }
        return .standard
    }

    /// Reads helpful prompt–completion (or text/messages) data.
    public static func helpfulExamples(_ url: URL) throws -> [Example] {
        let dataset = try Dataset.load(url)
        guard dataset.type == .promptCompletion || dataset.type == .languageModeling else {
            throw ConstitutionalError("\(url.path): helpful data must be prompt-completion or language-modeling (TRL), found \(dataset.type.rawValue)")
        }
        return dataset.examples
    }

    /// Writes examples as TRL JSONL (atomically).
    public static func write(_ examples: [Example], to url: URL) throws {
        let writer = try JSONLWriter(url: url)
        for example in examples { try writer.write(example) }
        try writer.finish()
    }
}
