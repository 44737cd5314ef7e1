import Constitutional
import Datasets
import Foundation
import JSON

/// One readable preference pair reduced to what the model-free analyses need: hashes, lengths, labels and the
/// per-principle position flips of AI judgements. The texts themselves (``PairTexts``) are not kept, so an audit's
/// memory grows by about a MinHash signature per pair, not by the data's size.
public struct AuditPair: Sendable {
    /// 1-based line in the file.
    public let line: Int
    /// Stable id (``PairID``).
    public let id: String
    /// The soft label, if the file has one (½ for a HelpSteer tie, overall preference 0).
    public let chosenProbability: Double?
    /// The label margin: `score_chosen − score_rejected` when the file has scores, else `chosen_probability − ½`, else
    /// HelpSteer's |overall preference| (`preference_strength`, `overall_preference`), else the judgements' mean
    /// strength toward chosen when all have one.
    public let margin: Double?
    /// Who labelled the pair, for one-judgement-per-line files (their `annotator` field).
    public let annotator: String?
    /// The annotators' judgements of the pair (``AnnotatorVote``): one on a one-judgement-per-line file's line, the
    /// list on an `annotator_labels` or HelpSteer line, none otherwise.
    public let votes: [AnnotatorVote]
    /// Per AI judgement (Charter label records' `judgements`): its principle and whether it flipped with the order.
    public let judgements: [(principle: String, flipped: Bool?)]

    let promptKey: UInt64, chosenKey: UInt64, rejectedKey: UInt64
    /// Unicode scalars in each response.
    let chosenLength: Int, rejectedLength: Int
    let chosenIsBlank: Bool, rejectedIsBlank: Bool

    /// Reduces a preference example; nil for other kinds of examples.
    /// - Throws: ``DatasetError`` (kind `.invalidField`) naming the field when `annotator`, `annotator_labels` (with
    ///   the entry's index), `label`, `strength`, `score_chosen`, `score_rejected` or `judgements` is malformed.
    init?(_ example: Example, file: String) throws {
        guard let texts = PairTexts(example) else { return nil }
        func fail(_ field: String, _ reason: String) -> DatasetError {
            DatasetError(file: file, line: example.line, kind: .invalidField, reason: "field \"\(field)\" \(reason)")
        }
        line = example.line
        let normalised = (NormalisedText(texts.prompt), NormalisedText(texts.chosen), NormalisedText(texts.rejected))
        id = PairID.of(prompt: normalised.0, chosen: normalised.1, rejected: normalised.2)
        (promptKey, chosenKey, rejectedKey) = (normalised.0.hash64, normalised.1.hash64, normalised.2.hash64)
        (chosenIsBlank, rejectedIsBlank) = (normalised.1.isEmpty, normalised.2.isEmpty)
        chosenLength = texts.chosen.unicodeScalars.count
        rejectedLength = texts.rejected.unicodeScalars.count
        votes = try AnnotatorVote.votes(of: example, file: file)
        annotator = example[extra: "annotator"] == nil ? nil : votes.first?.annotator
        let overall = HelpSteerPreference.overall(example)
        chosenProbability = example.chosenProbability ?? (overall == 0 ? 0.5 : nil)
        switch (example[extra: "score_chosen"], example[extra: "score_rejected"]) {
        case (nil, nil):
            if let probability = example.chosenProbability {
                margin = probability - 0.5
            } else if let overall {
                margin = Double(abs(overall))
            } else if !votes.isEmpty, votes.allSatisfy({ $0.strength != nil }) {
                // The judgements' mean strength toward chosen: +s for chosen, −s for rejected, 0 for a tie.
                let signed = votes.map { vote in Double(vote.strength ?? 0) * (vote.choice == .chosen ? 1 : vote.choice == .rejected ? -1 : 0) }
                margin = signed.reduce(0, +) / Double(signed.count)
            } else {
                margin = nil
            }
        case let (chosenScore?, rejectedScore?):
            guard let high = chosenScore.doubleValue else { throw fail("score_chosen", "must be a number, found \(chosenScore.typeName)") }
            guard let low = rejectedScore.doubleValue else { throw fail("score_rejected", "must be a number, found \(rejectedScore.typeName)") }
            margin = high - low
        case (nil, _?): throw fail("score_chosen", "is missing while \"score_rejected\" is given")
        case (_?, nil): throw fail("score_rejected", "is missing while \"score_chosen\" is given")
        }
        if let value = example[extra: "judgements"], value != .null {
            do {
                let decoded = try JSONDecoder().decode([PrincipleJudgement].self, from: Data(value.serialized().utf8))
                judgements = decoded.map { ($0.principleID, $0.flipped) }
            } catch let error as DecodingError {
                throw fail("judgements", "is not a list of Charter label judgements (principle_id, weight, orders, p_first, flipped): \(Self.describe(error))")
            }
        } else {
            judgements = []
        }
    }

    /// The coding path and reason of a decoding error, e.g. `item 2 "flipped": expected Bool`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "item \($0 + 1)" } ?? "\"\($0.stringValue)\"" }.joined(separator: " ")
        }
        switch error {
        case let .typeMismatch(type, context): return "\(path(context)): expected \(type)"
        case let .valueNotFound(type, context): return "\(path(context)): expected \(type), found null"
        case let .keyNotFound(key, context): return "\(path(context)) missing \"\(key.stringValue)\"".trimmingCharacters(in: .whitespaces)
        case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// The unordered pair of responses under one prompt: equal for a pair and its swap.
    var unorderedKey: PairKey {
        PairKey(prompt: promptKey, first: min(chosenKey, rejectedKey), second: max(chosenKey, rejectedKey))
    }

    /// Whether chosen is the pair key's `first` response (the direction of the preference).
    var prefersFirst: Bool { chosenKey <= rejectedKey }
}

/// A prompt and an unordered pair of responses, by their hashes.
struct PairKey: Hashable {
    let prompt: UInt64, first: UInt64, second: UInt64
}

/// A pair's prompt, chosen and rejected as text: strings as they are, messages as `role: content` blocks separated by
/// blank lines.
public struct PairTexts: Sendable, Equatable {
    public let prompt: String, chosen: String, rejected: String

    /// The texts of a preference example; nil for other examples.
    public init?(_ example: Example) {
        guard let (prompt, chosen, rejected) = example.preference else { return nil }
        (self.prompt, self.chosen, self.rejected) = (Self.flatten(prompt), Self.flatten(chosen), Self.flatten(rejected))
    }

    static func flatten(_ text: ExampleText) -> String {
        switch text {
        case let .standard(string): return string
        case let .conversational(messages): return messages.map { "\($0.role.rawValue): \($0.content)" }.joined(separator: "\n\n")
        }
    }
}
