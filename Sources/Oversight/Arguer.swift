import Foundation
import LanguageModels
import Runtime

/// Whoever writes a debater's or consultant's arguments: a language model prompted with the passage
/// (``LanguageModelArguer``) or a fixed policy (``QuotingArguer``).
public protocol Arguer: Sendable {
    var name: String { get }
    /// The next argument for `option` of `task` after the turns `seen` (as written, quotes unmarked).
    /// - Parameter seed: a per-argument sampling seed.
    func argue(_ task: ReadingTask, option: Int, protocolName: OversightProtocol, seen: [Turn], sampling: SamplingOptions, seed: UInt64) async throws -> String
}

/// A language model as debater: it reads ``ProtocolPrompts/arguer(_:protocolName:option:transcript:)`` and its
/// completion up to a blank line is the argument.
public struct LanguageModelArguer: Arguer {
    public let model: any LanguageModel
    public var name: String { model.name }

    public init(_ model: any LanguageModel) { self.model = model }

    public func argue(_ task: ReadingTask, option: Int, protocolName: OversightProtocol, seen: [Turn], sampling: SamplingOptions, seed: UInt64) async throws -> String {
        let prompt = ProtocolPrompts.arguer(task, protocolName: protocolName, option: option, transcript: seen)
        let completion = try await model.complete(CompletionRequest(prompt: prompt, options: sampling.with(seed: seed, stop: ProtocolPrompts.argumentStops)))
        return completion.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A fixed debating policy for experiments: quote the passage sentence that contains the option and shares the most
/// words with the question. Arguing for the truth, that is the sentence that answers the question; arguing for
/// the distractor (which the passage states about someone else), it is a true sentence about the wrong person —
/// a quote that verifies but does not support the answer, the strongest move a liar has when quotes are checked.
///
/// With `fabricates`, the policy instead takes the sentence that best matches the question among those containing
/// either option and puts its own option in it: for the truth that is the answering sentence unchanged; for the
/// distractor a made-up quote about the right person, which fails verification.
public struct QuotingArguer: Arguer {
    public let name: String
    public let fabricates: Bool
    public init(fabricates: Bool = false) {
        self.fabricates = fabricates
        name = fabricates ? "fabricating-policy" : "quoting-policy"
    }

    public func argue(_ task: ReadingTask, option: Int, protocolName: OversightProtocol, seen: [Turn], sampling: SamplingOptions, seed: UInt64) async throws -> String {
        let side = task.options[option]
        if fabricates {
            let candidates = task.options.compactMap { value in Self.bestSentence(for: value, question: task.question, passage: task.passage).map { (value, $0) } }
            if let (value, sentence) = candidates.max(by: { Self.overlap($0.1, task.question) < Self.overlap($1.1, task.question) }) {
                return "The story says <quote>\(sentence.replacingOccurrences(of: value, with: side))</quote> so the answer is \"\(side)\"."
            }
        }
        guard let sentence = Self.bestSentence(for: side, question: task.question, passage: task.passage) else {
            return "The answer is \"\(side)\"."
        }
        return "The story says <quote>\(sentence)</quote> so the answer is \"\(side)\"."
    }

    /// The passage sentence containing `option` with the most words in common with `question` (the first on ties).
    static func bestSentence(for option: String, question: String, passage: String) -> String? {
        var best: (sentence: String, overlap: Int)?
        for piece in passage.components(separatedBy: ". ") {
            let sentence = piece.hasSuffix(".") ? piece : piece + "."
            guard sentence.lowercased().contains(option.lowercased()) else { continue }
            let overlap = overlap(sentence, question)
            if best == nil || overlap > best!.overlap { best = (sentence, overlap) }
        }
        return best?.sentence
    }

    /// Words (lower-cased, possessive cut) two texts share.
    static func overlap(_ first: String, _ second: String) -> Int {
        func words(_ text: String) -> Set<String> {
            Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { String($0.prefix { $0 != "'" }) })
        }
        return words(first).intersection(words(second)).count
    }
}
