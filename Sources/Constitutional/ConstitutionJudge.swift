import Alignment
import Checksums
import Foundation
import LanguageModels

/// The constitution as online DPO's judge (RL-CAI done online): each pair of completions is labelled by `AIFeedback`
/// exactly as `charter label` labels a pair — comparison principles sampled per pair, each asked of the feedback model
/// in both orders (unless `both_orders` is off) and ensembled — and the first completion is chosen when the ensemble's
/// probability that it is better is at least ½.
///
/// A pair's principles are seeded by its content (prompt and both completions), so a resumed run asks what an
/// uninterrupted one would. The conversation the feedback model sees is the decoded prompt: an HH transcript is split
/// into turns, any other text is one user turn.
public final class ConstitutionJudge: PairwiseJudge {
    public let feedback: AIFeedback
    public let model: any LanguageModel
    public var name: String { "constitution \(feedback.constitution.label)" }
    /// Pairs labelled so far and how many of their principle judgements flipped with the order (position bias).
    public private(set) var pairsJudged = 0
    public private(set) var positionFlips = 0

    public init(feedback: AIFeedback, model: any LanguageModel) {
        self.feedback = feedback
        self.model = model
    }

    /// - Throws: what the feedback model throws, and ``ConstitutionalError`` for a prompt that is not a conversation.
    public func preferences(_ pairs: [JudgedPair]) throws -> [Double] {
        let questions = try pairs.map { pair -> ResponsePair in
            let prompt = PromptValue.text(pair.first.prompt)
            let id = SHA256.hex([pair.first.prompt, pair.first.response, pair.second.response].joined(separator: "\u{0}")).prefix(16)
            return ResponsePair(id: "online-" + id, prompt: prompt, conversation: try prompt.conversation(),
                                first: pair.first.response, second: pair.second.response)
        }
        let (feedback, model) = (self.feedback, self.model)
        let records = try Self.wait {
            // One pair at a time: a local feedback model is one actor, and endpoints balance their own concurrency.
            var records: [LabelRecord] = []
            for question in questions { records.append(try await feedback.label(question, model: model)) }
            return records
        }
        pairsJudged += records.count
        positionFlips += records.reduce(0) { $0 + $1.positionFlips }
        return records.map(\.firstProbability)
    }

    private final class Box<T>: @unchecked Sendable { var result: Result<T, Error>? }

    /// Runs async labelling from the trainer's synchronous step. The trainer must not run on Swift's cooperative
    /// pool (the pipeline runs it on its own thread), or this wait could starve the task it waits for.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Box<T>(), done = DispatchSemaphore(value: 0)
        Task.detached {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { preconditionFailure("the labelling task ended without a result") }
        return try result.get()
    }
}
