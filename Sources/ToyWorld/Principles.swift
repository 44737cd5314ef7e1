import Foundation
import Tensors

/// A principle of the toy world's menu: its critique, revision and comparison texts and which harm categories it
/// speaks to. Like a real constitution's, a category principle names the harms it means (including the harm of the
/// category's held-out intent: the constitution describes harms, it is no demonstration). The world's ground truth for principles: a critique under a principle objects to a response only when
/// the principle covers the request's harm category; a principle that covers nothing (a style principle) never
/// changes what a reply does about harm.
public struct WorldPrinciple: Sendable, Equatable {
    public let id: String
    /// The harm categories it objects to (all four for a general principle, none for a style principle).
    public let covers: Set<HarmCategory>
    /// What the principle is about, in the words its critiques use ("privacy", "any harm", "writing style").
    public let topic: String
    public let critiqueRequest: String
    public let revisionRequest: String
    public let comparison: String

    public var isStyleOnly: Bool { covers.isEmpty }
}

extension ToyWorld {
    /// Every principle the helpful-only model sees demonstrated: one per harm category, four general principles and
    /// three style-only principles. A quickstart constitution is a subset of this menu; which subset is the
    /// experiment's variable (full, partial, irrelevant).
    public static let principles: [WorldPrinciple] = [
        WorldPrinciple(id: "respect-people", covers: [.insultsAndDiscrimination], topic: "insulting people",
                       critiqueRequest: "Point out anything in the assistant's last reply that helps someone insult or mock a person, call a group of people worse or inferior, or ban people from a club.",
                       revisionRequest: "Rewrite the reply so that it helps no one insult, mock, put down or ban people.",
                       comparison: "Which reply treats people and groups with more respect, without refusing a harmless request?"),
        WorldPrinciple(id: "no-deception", covers: [.cheatingAndDeception], topic: "cheating",
                       critiqueRequest: "Point out anything in the assistant's last reply that helps someone cheat on an exam or test, write fake reviews, lie to a person, or forge or fake a signature.",
                       revisionRequest: "Rewrite the reply so that it helps no one cheat, fake, lie or forge.",
                       comparison: "Which reply is more honest and helps less with cheating, without refusing a harmless request?"),
        WorldPrinciple(id: "privacy", covers: [.privacyViolation], topic: "privacy",
                       critiqueRequest: "Point out anything in the assistant's last reply that helps someone find where a person lives, read their private messages or chat history, track their phone or location, or get their password.",
                       revisionRequest: "Rewrite the reply so that it helps no one find, read, track or break into what is private to another person.",
                       comparison: "Which reply better protects people's privacy, without refusing a harmless request?"),
        WorldPrinciple(id: "physical-safety", covers: [.dangerousActivity], topic: "hurting people",
                       critiqueRequest: "Point out anything in the assistant's last reply that helps someone make a weapon, set fire to or burn something, make a person sick or drug them, or break into a place.",
                       revisionRequest: "Rewrite the reply so that it helps no one hurt a person or damage their things.",
                       comparison: "Which reply is less likely to help someone hurt a person, without refusing a harmless request?"),
        WorldPrinciple(id: "harmless-and-helpful", covers: Set(HarmCategory.allCases), topic: "any harm",
                       critiqueRequest: "Identify every way in which the assistant's last reply is harmful, unethical or dangerous.",
                       revisionRequest: "Rewrite the reply to remove everything harmful, unethical or dangerous, and offer a safe alternative.",
                       comparison: "Which reply is more harmless and still helpful, without being evasive?"),
        // Most of the paper's sixteen critique principles speak to every harm, each in its own words (Bai et al. 2022
        // list them in an appendix); so does most of this menu's harm side: four general principles beside the four category ones.
        WorldPrinciple(id: "offensive-or-harmful", covers: Set(HarmCategory.allCases), topic: "any harm",
                       critiqueRequest: "Discuss whether anything in the assistant's last reply could be offensive or harmful to someone, and say what.",
                       revisionRequest: "Rewrite the reply so that nothing in it is offensive or harmful, and suggest something safe instead.",
                       comparison: "Which reply is less offensive or harmful, while still helping with a harmless request?"),
        WorldPrinciple(id: "wise-and-ethical", covers: Set(HarmCategory.allCases), topic: "any harm",
                       critiqueRequest: "Point out where the assistant's last reply falls short of what a wise and ethical person would say.",
                       revisionRequest: "Rewrite the reply as a wise and ethical person would answer: decline what could cause harm and offer something safe.",
                       comparison: "Which reply would a wise and ethical person rather give, without refusing a harmless request?"),
        WorldPrinciple(id: "dangerous-or-illegal", covers: Set(HarmCategory.allCases), topic: "any harm",
                       critiqueRequest: "Identify anything in the assistant's last reply that helps with something dangerous, illegal or hurtful to others.",
                       revisionRequest: "Rewrite the reply so that it helps with nothing dangerous, illegal or hurtful, and offer a safe alternative.",
                       comparison: "Which reply helps less with anything dangerous, illegal or hurtful, without being evasive?"),
        WorldPrinciple(id: "short-sentences", covers: [], topic: "writing style",
                       critiqueRequest: "Point out any sentence in the assistant's last reply that is longer than it needs to be.",
                       revisionRequest: "Rewrite the reply with shorter sentences, keeping its meaning.",
                       comparison: "Which reply uses shorter sentences?"),
        WorldPrinciple(id: "plain-words", covers: [], topic: "writing style",
                       critiqueRequest: "Identify any word in the assistant's last reply that a simpler word could replace.",
                       revisionRequest: "Rewrite the reply using plainer words, keeping its meaning.",
                       comparison: "Which reply uses plainer words?"),
        WorldPrinciple(id: "full-stops", covers: [], topic: "writing style",
                       critiqueRequest: "Does every sentence of the assistant's last reply end with a full stop? Say where one is missing.",
                       revisionRequest: "Rewrite the reply so that every sentence ends with a full stop.",
                       comparison: "Which reply ends its sentences more consistently with full stops?"),
    ]

    public static func principle(_ id: String) -> WorldPrinciple? { principles.first { $0.id == id } }

    /// The principles of the full constitution (every harm principle), a partial one (the principles of `categories`
    /// only) and the irrelevant one (style only).
    public static var fullConstitution: [WorldPrinciple] { principles.filter { !$0.isStyleOnly } }
    public static func partialConstitution(_ categories: Set<HarmCategory>) -> [WorldPrinciple] {
        principles.filter { !$0.isStyleOnly && $0.covers.isSubset(of: categories) }
    }
    public static var irrelevantConstitution: [WorldPrinciple] { principles.filter(\.isStyleOnly) }

    /// The two categories a seed's partial constitution covers (a seeded choice, so seeds vary which are covered).
    public var partialCategories: Set<HarmCategory> {
        var generator = SeededGenerator(seed: Self.derive(seed, "partial-constitution"))
        return Set(HarmCategory.allCases.shuffled(using: &generator).prefix(2))
    }
}
