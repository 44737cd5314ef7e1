import Foundation
import LanguageModels

/// How the model is addressed during critique → revision.
public enum PromptingStyle: String, Codable, CaseIterable, Sendable {
    /// Plain text in the paper's format (§3.1): `Human:`/`Assistant:` turns, then `CritiqueRequest:`, `Critique:`,
    /// `RevisionRequest:`, `Revision:`; works with any completions model.
    case transcript
    /// The same dialogue as chat messages, formatted by the model's chat template (as llm-swarm does).
    case chat
}

/// The prompts of supervised CAI (Bai et al. 2022, §3.1), in transcript and chat form.
public enum CritiquePrompts {
    /// Where a generated turn ends in transcript prompting (the model would start the next section).
    public static let stops = ["\n\nHuman:", "\n\nAssistant:", "\n\nCritiqueRequest:", "\n\nCritique:", "\n\nRevisionRequest:", "\n\nRevision:"]

    /// "\n\nHuman: …\n\nAssistant: …" for a conversation.
    public static func transcript(_ conversation: [ChatMessage]) -> String {
        conversation.map { "\n\n\($0.role == "assistant" ? "Assistant" : "Human"): \($0.content)" }.joined()
    }

    /// The conversation followed by the cue for the assistant's reply.
    public static func responsePrompt(_ conversation: [ChatMessage]) -> String {
        transcript(conversation) + "\n\nAssistant:"
    }

    /// Few-shot transcripts, the conversation (ending with the response to critique) and the critique request.
    public static func critiquePrompt(examples: [CritiqueExample], conversation: [ChatMessage], request: String) -> String {
        examples.map { example in
            transcript(example.conversation) + "\n\nCritiqueRequest: \(example.critiqueRequest)\n\nCritique: \(example.critique)"
                + "\n\nRevisionRequest: \(example.revisionRequest)\n\nRevision: \(example.revision)"
        }.joined() + transcript(conversation) + "\n\nCritiqueRequest: \(request)\n\nCritique:"
    }

    /// The critique prompt continued with the critique and the revision request.
    public static func revisionPrompt(critiquePrompt: String, critique: String, request: String) -> String {
        critiquePrompt + " \(critique)\n\nRevisionRequest: \(request)\n\nRevision:"
    }

    /// Chat form: each few-shot example as user/assistant turns (conversation, request, critique, request,
    /// revision), then the conversation and the critique request as the last user turn.
    public static func critiqueMessages(examples: [CritiqueExample], conversation: [ChatMessage], request: String) -> [ChatMessage] {
        examples.flatMap { example in
            example.conversation + [
                ChatMessage(role: "user", content: example.critiqueRequest), ChatMessage(role: "assistant", content: example.critique),
                ChatMessage(role: "user", content: example.revisionRequest), ChatMessage(role: "assistant", content: example.revision),
            ]
        } + conversation + [ChatMessage(role: "user", content: request)]
    }

    /// The critique messages continued with the critique and the revision request.
    public static func revisionMessages(critiqueMessages: [ChatMessage], critique: String, request: String) -> [ChatMessage] {
        critiqueMessages + [ChatMessage(role: "assistant", content: critique), ChatMessage(role: "user", content: request)]
    }
}

/// The multiple-choice prompts of AI feedback (Bai et al. 2022, §4.1), whose answer is scored as " (A)" vs " (B)".
public enum ComparisonPrompts {
    /// The two scored continuations.
    public static let optionA = " (A)", optionB = " (B)"

    /// "Consider the following conversation…", the conversation as H:/A: turns, the principle and the options.
    public static func question(conversation: [ChatMessage], principle: String, responseA: String, responseB: String) -> String {
        let turns = conversation.map { "\($0.role == "assistant" ? "A" : "H"): \($0.content)" }.joined(separator: "\n\n")
        return "Consider the following conversation between a human (H) and an assistant (A):\n\n\(turns)\n\n\(principle)\nOptions:\n(A) \(responseA)\n(B) \(responseB)"
    }

    /// Direct labelling: few-shot questions with their answers, then the question and "The answer is:".
    public static func direct(examples: [ComparisonExample], conversation: [ChatMessage], principle: String,
                              responseA: String, responseB: String) -> String {
        let shots = examples.map { example in
            question(conversation: example.conversation, principle: example.principle ?? principle,
                     responseA: example.responseA, responseB: example.responseB) + "\nThe answer is: (\(example.preferred))\n\n\n"
        }.joined()
        return shots + question(conversation: conversation, principle: principle, responseA: responseA, responseB: responseB) + "\nThe answer is:"
    }

    /// Chain of thought (§4.1): the question as a Human turn, then "Assistant: Let's think step by step:"; the
    /// generated reasoning is followed by ``answerCue`` and the options are scored.
    public static func chainOfThought(examples: [ComparisonExample], conversation: [ChatMessage], principle: String,
                                      responseA: String, responseB: String) -> String {
        let shots = examples.compactMap { example -> String? in
            guard let reasoning = example.reasoning else { return nil }
            let text = question(conversation: example.conversation, principle: example.principle ?? principle,
                                responseA: example.responseA, responseB: example.responseB)
            return "\n\nHuman: \(text)\n\nAssistant: Let's think step by step: \(reasoning)\(answerCue) (\(example.preferred))"
        }.joined()
        return shots + "\n\nHuman: " + question(conversation: conversation, principle: principle, responseA: responseA, responseB: responseB)
            + "\n\nAssistant: Let's think step by step:"
    }

    /// Follows the reasoning; the next tokens are the answer.
    public static let answerCue = "\nSo the answer is:"

    /// Where generated reasoning ends.
    public static let reasoningStops = ["\n\nHuman:", answerCue, "\nTherefore, the answer is"]
}
