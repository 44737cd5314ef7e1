import Alignment
import Checksums
import Foundation
import LanguageModels
import Settings

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
            // A conversation is judged as its messages (as `charter label` sees a conversational prompt), not as the
            // policy's rendered chat text.
            let prompt = pair.first.promptMessages.map { messages in
                PromptValue.messages(messages.map { ChatMessage(role: $0.role.rawValue, content: $0.content) })
            } ?? PromptValue.text(pair.first.prompt)
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

extension ConstitutionJudge {
    /// The recipe keys of online DPO's judge (beside `OnlineDPOConfiguration.keys`): `judge: constitution`, the
    /// `constitution` (a YAML file or `default`), the `feedback_model` (a model folder, or an endpoints file), and
    /// `principles_per_pair`, `both_orders` and `few_shot` as `charter label` reads them.
    public static let recipeKeys = ["judge", "constitution", "feedback_model", "principles_per_pair", "both_orders", "few_shot"]

    /// The judge a recipe asks for, or nil when it names none.
    /// - Parameters:
    ///   - constitution: the constitution when the recipe names none (a pipeline's own); nil: Charter's default.
    ///   - makeModels: opens the feedback model (local folders and endpoints files).
    /// - Throws: `SettingsError` naming the key for an unknown judge, a judge without `feedback_model` or judge keys
    ///   without `judge`, and what loading the constitution or the model throws.
    public static func fromRecipe(_ recipe: TrainingRecipe, constitution fallback: Constitution? = nil, seed: UInt64,
                                  makeModels: (ModelSource) throws -> [any LanguageModel]) throws -> ConstitutionJudge? {
        guard let name = recipe["judge"] as? String else {
            if let stray = recipeKeys.dropFirst().first(where: { recipe[$0] != nil }) {
                throw SettingsError(key: stray, message: "configures a judge, but the recipe names none; add judge: constitution")
            }
            return nil
        }
        guard name == "constitution" else {
            throw SettingsError(key: "judge", message: "\"\(name)\" is not a judge Charter has; use judge: constitution, or rank by scores with reward_model_path or reward_funcs")
        }
        guard let feedbackModel = recipe["feedback_model"] as? String else {
            throw SettingsError(key: "feedback_model", message: "judge: constitution needs the feedback model that answers its questions: a model folder or an endpoints file")
        }
        let constitution: Constitution
        switch recipe["constitution"] as? String {
        case "default"?: constitution = try Constitution.charterDefault
        case let path?: constitution = try Constitution.load(from: URL(fileURLWithPath: path))
        case nil: constitution = try fallback ?? Constitution.charterDefault
        }
        var configuration = FeedbackConfiguration()
        configuration.seed = seed
        if let count = recipe["principles_per_pair"] as? Int { configuration.principlesPerPair = count }
        if let both = recipe["both_orders"] as? Bool { configuration.bothOrders = both }
        if let shots = recipe["few_shot"] as? Int { configuration.fewShot = shots }
        var isFolder: ObjCBool = false
        let source: ModelSource = FileManager.default.fileExists(atPath: feedbackModel, isDirectory: &isFolder) && isFolder.boolValue
            ? .local(path: feedbackModel, chatTemplate: nil, lora: nil) : .endpoints(configuration: feedbackModel)
        guard let model = try makeModels(source).first else {
            throw SettingsError(key: "feedback_model", message: "\(feedbackModel) opened no model")
        }
        return ConstitutionJudge(feedback: try AIFeedback(constitution: constitution, configuration: configuration), model: model)
    }
}
