import Foundation
import GRDB

/// One annotator's answer to one comparison, in the orientation of the stored task (first, second response),
/// whatever side the page showed each response on.
public struct Judgement: Sendable, Equatable {
    /// The kind of answer.
    public enum Verdict: String, Sendable, CaseIterable {
        /// One response is better (``Judgement/strength`` says which and by how much).
        case prefer
        case tie
        /// Neither response is acceptable (``Judgement/reasons`` says why).
        case bothBad = "both_bad"
        /// The annotator passed; not a label.
        case skip
    }

    /// Why both responses are bad (the tags of the page's "both bad" choice).
    public enum Reason: String, Sendable, CaseIterable {
        case harmful, unhelpful, dishonest
        case offTopic = "off-topic"
    }

    /// Optional 1–5 ratings of one response.
    public struct Ratings: Sendable, Equatable {
        public var helpful: Int?
        public var harmless: Int?
        public var honest: Int?
        public init(helpful: Int? = nil, harmless: Int? = nil, honest: Int? = nil) {
            precondition([helpful, harmless, honest].allSatisfy { $0.map { (1...5).contains($0) } ?? true }, "ratings run from 1 to 5")
            (self.helpful, self.harmless, self.honest) = (helpful, harmless, honest)
        }
    }

    public var taskID: String
    public var verdict: Verdict
    /// The 5-point choice, first-oriented: +2 first much better, +1 first better, 0 tie, −1 second better, −2 second
    /// much better; nil for both bad and skip.
    public var strength: Int?
    public var reasons: [Reason]
    public var ratings: (first: Ratings, second: Ratings)
    public var rationale: String

    public init(taskID: String, verdict: Verdict, strength: Int? = nil, reasons: [Reason] = [],
                ratings: (first: Ratings, second: Ratings) = (Ratings(), Ratings()), rationale: String = "") {
        switch verdict {
        case .prefer: precondition(strength.map { [-2, -1, 1, 2].contains($0) } ?? false, "a preference has strength ±1 or ±2")
        case .tie: precondition(strength == 0, "a tie has strength 0")
        case .bothBad, .skip: precondition(strength == nil, "both bad and skip carry no strength")
        }
        self.taskID = taskID
        self.verdict = verdict
        self.strength = strength
        self.reasons = reasons
        self.ratings = ratings
        self.rationale = rationale
    }

    public static func == (lhs: Judgement, rhs: Judgement) -> Bool {
        lhs.taskID == rhs.taskID && lhs.verdict == rhs.verdict && lhs.strength == rhs.strength && lhs.reasons == rhs.reasons
            && lhs.ratings.first == rhs.ratings.first && lhs.ratings.second == rhs.ratings.second && lhs.rationale == rhs.rationale
    }

    /// The probability that the first response is preferred, as the export maps the first-oriented 5-point strength:
    /// +2 (much better) 1, +1 0.75, tie 0.5, −1 0.25, −2 0. Both bad and skip have no strength and no probability.
    public static func firstProbability(strength: Int) -> Double { 0.5 + 0.25 * Double(strength) }
}

/// A judgement as stored, with who made it and when.
public struct StoredJudgement: Sendable, Equatable {
    public var id: Int64
    public var annotator: String
    public var judgement: Judgement
    /// Whether the first response was shown on the right.
    public var swapped: Bool
    /// Whether AI critiques were shown beside the responses.
    public var assisted: Bool
    public var isGoldTask: Bool
    /// Seconds from the task being shown to the judgement being recorded.
    public var seconds: Double
    /// Unix time of recording.
    public var createdAt: Double

    init(row: Row) {
        func ratings(_ suffix: String) -> Judgement.Ratings {
            Judgement.Ratings(helpful: row["helpful_\(suffix)"], harmless: row["harmless_\(suffix)"], honest: row["honest_\(suffix)"])
        }
        id = row["id"]
        annotator = row["name"]
        let reasons = (row["reasons"] as String).split(separator: ",").compactMap { Judgement.Reason(rawValue: String($0)) }
        judgement = Judgement(taskID: row["task_id"], verdict: Judgement.Verdict(rawValue: row["verdict"]) ?? .skip,
                              strength: row["strength"], reasons: reasons, ratings: (ratings("first"), ratings("second")),
                              rationale: row["rationale"])
        swapped = (row["swapped"] as Int) == 1
        assisted = (row["assisted"] as Int) == 1
        isGoldTask = (row["gold"] as Int) == 1
        seconds = row["seconds"]
        createdAt = row["created_at"]
    }

    /// The nominal label the agreement statistics compare: which response won, tie, or both bad (nil for skips).
    public var label: Label? {
        switch judgement.verdict {
        case .prefer: return (judgement.strength ?? 0) > 0 ? .first : .second
        case .tie: return .tie
        case .bothBad: return .bothBad
        case .skip: return nil
        }
    }

    public enum Label: String, Sendable, CaseIterable { case first, second, tie, bothBad = "both_bad" }
}
