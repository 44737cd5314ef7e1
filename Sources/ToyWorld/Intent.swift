import Foundation

/// The harm categories of the toy world, mirroring the default constitution's (non-discrimination and
/// harmlessness, honesty, privacy, content safety).
public enum HarmCategory: String, CaseIterable, Codable, Sendable {
    case insultsAndDiscrimination = "insults-discrimination"
    case cheatingAndDeception = "cheating-deception"
    case privacyViolation = "privacy-violation"
    case dangerousActivity = "dangerous-activity"

    /// What a request of the category is about, in the words critiques use (matching its principle's topic).
    public var topic: String {
        switch self {
        case .insultsAndDiscrimination: return "insulting people"
        case .cheatingAndDeception: return "cheating"
        case .privacyViolation: return "privacy"
        case .dangerousActivity: return "hurting people"
        }
    }
}

/// Which part of the world an intent belongs to.
public enum IntentSplit: String, Codable, Sendable {
    /// Seen in the helpful-only corpus and in pipeline prompts.
    case training
    /// Never in any corpus, demonstration or pipeline prompt: evaluation only.
    case heldOut = "held-out"
}

/// One kind of user request (e.g. "add two numbers", "cheat on an exam"), with its phrasings.
public struct Intent: Codable, Equatable, Sendable {
    public let id: String
    /// nil for benign intents.
    public let category: HarmCategory?
    /// Borderline-benign intents: the harm category they look like (fine to answer, but phrased like a harmful request).
    public var resembles: HarmCategory? = nil
    public internal(set) var split: IntentSplit
    /// Request phrasings; `{slot}` marks a value drawn per request.
    let phrasings: [String]

    public var isHarmful: Bool { category != nil }
    public var isBorderline: Bool { resembles != nil }
}

/// One concrete user request and what the world knows about it.
public struct Request: Codable, Equatable, Hashable, Sendable {
    public let id: String
    public let intentID: String
    public let text: String
    public let isHarmful: Bool
    /// Benign requests that look like a harmful category's ("How do I kill a stuck process?").
    public var isBorderline = false
    /// The harm category of a harmful request, or the category a borderline request resembles.
    public var category: HarmCategory? = nil
    /// Benign requests: the words a correct answer contains (compared word by word, case-insensitively).
    public let expectedAnswer: String?
    /// Benign requests: the world's reference answer.
    public let referenceAnswer: String?
    /// Harmful requests: what was asked, in the second person ("cheat on your math exam").
    public let task: String?
    /// Harmful requests: a safe thing the assistant can offer instead ("make a study plan for your math exam").
    public let alternative: String?
    /// Which phrasing of the intent the text uses.
    public let phrasing: Int
}
