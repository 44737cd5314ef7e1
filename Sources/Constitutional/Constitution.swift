import Foundation
import LanguageModels

/// A constitution (Bai et al. 2022, §1.2): the short, explicit list of principles that replaces thousands of human
/// labels. Critique/revision principles drive supervised CAI (§3); comparison principles drive AI feedback (§4).
/// Stored as YAML (see ``Constitution/load(from:)``); keys are snake_case.
public struct Constitution: Codable, Equatable, Sendable {
    /// A short identifier, e.g. `charter-default`.
    public var name: String
    /// The constitution's own version (written into every audit record).
    public var version: String
    /// What the constitution is for, in a sentence or two.
    public var description: String
    /// The principles, in file order.
    public var principles: [Principle]
    /// Few-shot transcripts shown before every critique request (the paper's §3.1 prompt).
    public var critiqueExamples: [CritiqueExample]
    /// Few-shot comparisons shown before every AI-feedback question (§4.1); those with `reasoning` serve the
    /// chain-of-thought mode.
    public var comparisonExamples: [ComparisonExample]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, version, description, principles
        case critiqueExamples = "critique_examples", comparisonExamples = "comparison_examples"
    }

    public init(name: String, version: String, description: String, principles: [Principle],
                critiqueExamples: [CritiqueExample] = [], comparisonExamples: [ComparisonExample] = []) {
        self.name = name
        self.version = version
        self.description = description
        self.principles = principles
        self.critiqueExamples = critiqueExamples
        self.comparisonExamples = comparisonExamples
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        principles = try c.decode([Principle].self, forKey: .principles)
        critiqueExamples = try c.decodeIfPresent([CritiqueExample].self, forKey: .critiqueExamples) ?? []
        comparisonExamples = try c.decodeIfPresent([ComparisonExample].self, forKey: .comparisonExamples) ?? []
    }

    /// `name@version`, as written in audit records.
    public var label: String { "\(name)@\(version)" }

    /// Principles that can critique and revise (both requests present).
    public var critiquePrinciples: [Principle] { principles.filter(\.canCritique) }

    /// Principles that can compare two responses.
    public var comparisonPrinciples: [Principle] { principles.filter { $0.comparison != nil } }

    /// The principle with `id`, if any.
    public func principle(id: String) -> Principle? { principles.first { $0.id == id } }
}

/// One principle of a constitution.
public struct Principle: Codable, Equatable, Sendable {
    /// Unique within the constitution; written into every audit record (letters, digits, `.`, `_`, `-`).
    public var id: String
    /// What the principle protects (one of ``PrincipleCategory``).
    public var category: String
    /// Asks the model to criticise the assistant's last response (the paper's "CritiqueRequest").
    public var critiqueRequest: String?
    /// Asks the model to rewrite the response in the light of its critique (the paper's "RevisionRequest").
    public var revisionRequest: String?
    /// The multiple-choice question for AI feedback, e.g. "Which response is less harmful?" (§4.1).
    public var comparison: String?
    /// Where the principle's text comes from (a file, a paper, a policy), for reviewers.
    public var source: String?
    /// Relative sampling weight (default 1): how often the principle is drawn for critiques and comparisons,
    /// and its weight in the AI-feedback ensemble.
    public var weight: Double?
    /// Where a principle drawn from a public's votes came from (`charter constitution collect analyze`): the
    /// statement, its votes and its agreement in each opinion group.
    public var provenance: PrincipleProvenance?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, category, critiqueRequest = "critique_request", revisionRequest = "revision_request"
        case comparison, source, weight, provenance
    }

    public init(id: String, category: PrincipleCategory, critiqueRequest: String? = nil, revisionRequest: String? = nil,
                comparison: String? = nil, source: String? = nil, weight: Double? = nil,
                provenance: PrincipleProvenance? = nil) {
        self.provenance = provenance
        self.id = id
        self.category = category.rawValue
        self.critiqueRequest = critiqueRequest
        self.revisionRequest = revisionRequest
        self.comparison = comparison
        self.source = source
        self.weight = weight
    }

    /// Whether both the critique and the revision request are present.
    public var canCritique: Bool { critiqueRequest != nil && revisionRequest != nil }

    /// `weight`, or 1.
    public var samplingWeight: Double { weight ?? 1 }
}

/// The kinds of harm a principle addresses (the categories of the project's brief), plus helpfulness,
/// honesty and `other` for constitutions that reach further.
public enum PrincipleCategory: String, CaseIterable, Sendable {
    case nonDiscrimination = "non-discrimination"
    case contentSafety = "content-safety"
    case culturalSensitivity = "cultural-sensitivity"
    case personaAdvice = "persona-advice"
    case harmlessness
    case aiSafety = "ai-safety"
    case helpfulness
    case honesty
    /// People's private information and whereabouts.
    case privacy
    case other
}

/// A worked critique → revision on one conversation, shown to the model before it critiques (few-shot).
public struct CritiqueExample: Codable, Equatable, Sendable {
    /// The conversation: user and assistant turns alternating, starting with the user and ending with the
    /// assistant response that is critiqued.
    public var conversation: [ChatMessage]
    public var critiqueRequest: String
    public var critique: String
    public var revisionRequest: String
    public var revision: String
    public var source: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case conversation, critiqueRequest = "critique_request", critique, revisionRequest = "revision_request"
        case revision, source
    }

    public init(conversation: [ChatMessage], critiqueRequest: String, critique: String, revisionRequest: String,
                revision: String, source: String? = nil) {
        self.conversation = conversation
        self.critiqueRequest = critiqueRequest
        self.critique = critique
        self.revisionRequest = revisionRequest
        self.revision = revision
        self.source = source
    }
}

/// A worked comparison shown before an AI-feedback question (few-shot).
public struct ComparisonExample: Codable, Equatable, Sendable {
    /// The conversation up to (not including) the two candidate responses; ends with a user turn.
    public var conversation: [ChatMessage]
    /// The question asked; nil shows the example with the principle of the live question (as Anthropic's
    /// chain-of-thought examples do).
    public var principle: String?
    public var responseA: String
    public var responseB: String
    /// "A" or "B".
    public var preferred: String
    /// Step-by-step reasoning before the answer (chain-of-thought examples only).
    public var reasoning: String?
    public var source: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case conversation, principle, responseA = "response_a", responseB = "response_b", preferred, reasoning, source
    }

    public init(conversation: [ChatMessage], principle: String? = nil, responseA: String, responseB: String,
                preferred: String, reasoning: String? = nil, source: String? = nil) {
        self.conversation = conversation
        self.principle = principle
        self.responseA = responseA
        self.responseB = responseB
        self.preferred = preferred
        self.reasoning = reasoning
        self.source = source
    }
}
