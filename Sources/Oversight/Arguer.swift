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
/// words with the question. Arguing for the truth, that is the sentence that answers the question; arguing for a
/// distractor, what the policy quotes is set by ``Liar``. The policy never reads the other side's arguments.
public struct QuotingArguer: Arguer {
    /// What the policy quotes for a distractor.
    public enum Liar: String, Codable, Sendable {
        /// Its own best sentence: a true sentence about someone else (the passage states the distractor about another
        /// person) — a quote that verifies but does not support the answer.
        case otherPerson = "other-person"
        /// The sentence that best matches the question among those containing either option, with its own option put
        /// in: for the truth that is the answering sentence unchanged; for the distractor a made-up quote about the
        /// right person, which fails verification.
        case fabricates
        /// Its own best sentence when it is as much about the person asked as any sentence with either option — in
        /// tasks generated with a superseded share, the superseded statement, which verifies and supports the wrong
        /// answer (``ReadingTask/Source``); otherwise (no such statement) a fabrication as in ``fabricates``.
        case superseded
    }

    public let name: String
    public let liar: Liar
    public init(liar: Liar = .otherPerson) {
        self.liar = liar
        switch liar {
        case .otherPerson: name = "quoting-policy"
        case .fabricates: name = "fabricating-policy"
        case .superseded: name = "superseded-policy"
        }
    }

    public func argue(_ task: ReadingTask, option: Int, protocolName: OversightProtocol, seen: [Turn], sampling: SamplingOptions, seed: UInt64) async throws -> String {
        let side = task.options[option]
        let own = Self.bestSentence(for: side, question: task.question, passage: task.passage)
        if liar != .otherPerson {
            let candidates = task.options.compactMap { value in Self.bestSentence(for: value, question: task.question, passage: task.passage).map { (value, $0) } }
            if let (value, sentence) = candidates.max(by: { Self.overlap($0.1, task.question) < Self.overlap($1.1, task.question) }) {
                let ownIsAsRelevant = own.map { Self.overlap($0, task.question) >= Self.overlap(sentence, task.question) } ?? false
                if !(liar == .superseded && ownIsAsRelevant) {
                    return "The story says <quote>\(sentence.replacingOccurrences(of: value, with: side))</quote> so the answer is \"\(side)\"."
                }
            }
        }
        guard let own else { return "The answer is \"\(side)\"." }
        return "The story says <quote>\(own)</quote> so the answer is \"\(side)\"."
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
