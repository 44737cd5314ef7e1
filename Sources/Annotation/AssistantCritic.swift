import Constitutional
import Foundation
import JSON
import LanguageModels
import Runtime

/// AI assistance for annotators (scalable oversight, Bowman et al. 2022; Saunders et al. 2022, "Self-critiquing
/// models"): a critic model writes a critique of each response of a task under one constitution principle, with
/// Constitutional AI's critique prompt (``CritiquePrompts``, the principle's `critique_request` and the constitution's
/// few-shot critique examples). The critiques are stored with the task; the server shows them beside the responses
/// to a random share of assignments and records per judgement whether it did, so the dashboard can compare agreement
/// and speed with and without them.
public struct AssistantCritic: Sendable {
    public let principle: Principle
    public let examples: [CritiqueExample]
    public let prompting: PromptingStyle
    public let sampling: SamplingOptions
    /// Seeds each critique's sampling with the task id and side.
    public let seed: UInt64

    /// - Throws: ``AnnotationError/unknownPrinciple(_:available:)`` when `principleID` names no critique principle.
    public init(constitution: Constitution, principleID: String, prompting: PromptingStyle, sampling: SamplingOptions,
                fewShot: Int? = nil, seed: UInt64 = 0) throws {
        guard let principle = constitution.critiquePrinciples.first(where: { $0.id == principleID }) else {
            throw AnnotationError.unknownPrinciple(principleID, available: constitution.critiquePrinciples.map(\.id))
        }
        self.principle = principle
        examples = Array(constitution.critiqueExamples.prefix(fewShot ?? .max))
        self.prompting = prompting
        self.sampling = sampling
        self.seed = seed
    }

    /// Critiques every regular task that has none yet (so an interrupted run resumes), both responses of a task
    /// stored in one transaction.
    /// - Parameter limit: at most this many tasks this run.
    /// - Returns: how many tasks were critiqued.
    public func run(_ store: AnnotationStore, model: any LanguageModel, limit: Int = .max,
                    progress: (Int, Int) -> Void = { _, _ in }) async throws -> Int {
        let tasks = try store.tasksWithoutCritiques(limit: limit)
        for (index, task) in tasks.enumerated() {
            let first = try await critique(task, response: task.first, side: "first", model: model)
            let second = try await critique(task, response: task.second, side: "second", model: model)
            try store.saveCritiques(taskID: task.id, principleID: principle.id, model: model.name, first: first, second: second)
            progress(index + 1, tasks.count)
        }
        return tasks.count
    }

    /// One response's critique: the conversation with the response as the assistant's turn, then the principle's
    /// critique request.
    func critique(_ task: AnnotationStore.StoredTask, response: JSONValue, side: String, model: any LanguageModel) async throws -> String {
        let conversation = Self.messages(task.prompt, role: "user") + Self.messages(response, role: "assistant")
        let request = principle.critiqueRequest ?? ""
        let seed = ItemRandom.seed(self.seed, task.id, "assist-\(side)")
        let completion: Completion
        switch prompting {
        case .transcript:
            let prompt = CritiquePrompts.critiquePrompt(examples: examples, conversation: conversation, request: request)
            completion = try await model.complete(CompletionRequest(prompt: prompt, options: sampling.with(seed: seed, stop: CritiquePrompts.stops)))
        case .chat:
            let messages = CritiquePrompts.critiqueMessages(examples: examples, conversation: conversation, request: request)
            completion = try await model.chat(ChatRequest(messages: messages, options: sampling.with(seed: seed, stop: [])))
        }
        return completion.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A stored text as chat messages: a string is one message of `role`; a message list keeps its roles.
    static func messages(_ value: JSONValue, role: String) -> [ChatMessage] {
        switch value {
        case let .string(text):
            return [ChatMessage(role: role, content: text)]
        case let .array(items):
            return items.compactMap { item in
                guard case let .object(members) = item, case let .string(content)? = members.first(where: { $0.key == "content" })?.value else { return nil }
                let given = members.first(where: { $0.key == "role" })?.value.stringValue
                return ChatMessage(role: given ?? role, content: content)
            }
        default:
            return [ChatMessage(role: role, content: value.serialized())]
        }
    }
}
