import Foundation

/// One argument in a consultancy or debate.
public struct Turn: Codable, Equatable, Sendable {
    /// 1-based round.
    public var round: Int
    /// The option (0 or 1) the speaker argues for.
    public var option: Int
    /// As the transcript names the speaker (`Debater for "Elmford"`).
    public var speaker: String
    /// The model that wrote the argument.
    public var model: String
    /// The argument as written.
    public var argument: String
    /// The argument as the judge reads it (quotes marked verified/unverified).
    public var marked: String
    public var quotes: [QuoteVerification.Quote]
}

/// The judge's answer asked in one option order.
public struct JudgeOrder: Codable, Equatable, Sendable {
    /// "first-as-A" (options in the task's order) or "first-as-B".
    public var order: String
    public var logProbabilityA: Double
    public var logProbabilityB: Double
    /// p(option 0) from this order: σ(ℓ_A − ℓ_B), or 1 − that when option 0 was shown as (B).
    public var probabilityFirst: Double

    enum CodingKeys: String, CodingKey {
        case order, logProbabilityA = "logprob_a", logProbabilityB = "logprob_b", probabilityFirst = "p_first"
    }
}

/// The judge's verdict after some rounds of arguments.
public struct JudgeVerdict: Codable, Equatable, Sendable {
    /// Rounds the judge had read (0 for blind).
    public var round: Int
    public var orders: [JudgeOrder]
    /// p(option 0), averaged over the orders asked.
    public var probabilityFirst: Double
    /// The probability the judge gives the correct option.
    public var probabilityCorrect: Double

    enum CodingKeys: String, CodingKey {
        case round, orders, probabilityFirst = "p_first", probabilityCorrect = "p_correct"
    }

    /// 1 when the judge favours the correct option, 0 when it favours the other, ½ for an exact tie.
    public var score: Double { probabilityCorrect > 0.5 ? 1 : probabilityCorrect < 0.5 ? 0 : 0.5 }
}

/// One task through one protocol: the full transcript and the judge's verdict after every round (one line of the
/// protocol's JSONL output).
public struct ProtocolTranscript: Codable, Equatable, Sendable {
    public var id: String
    public var protocolName: OversightProtocol
    public var question: String
    public var options: [String]
    public var correctOption: Int
    /// Consultancy: the option the consultant was assigned.
    public var assignedOption: Int?
    /// Debate: the option whose debater spoke first in each round.
    public var openingOption: Int?
    /// The model arguing for each option (debate: two entries; consultancy: one for the assigned option).
    public var debaters: [String]
    public var judge: String
    public var turns: [Turn]
    /// After each round (rounds 1…N), or one verdict at round 0 for blind.
    public var verdicts: [JudgeVerdict]

    enum CodingKeys: String, CodingKey {
        case id, protocolName = "protocol", question, options, correctOption = "correct_option", assignedOption = "assigned_option"
        case openingOption = "opening_option", debaters, judge, turns, verdicts
    }

    /// The verdict after the last round.
    public var final: JudgeVerdict { verdicts[verdicts.count - 1] }
    /// Consultancy: whether the consultant argued for the correct option.
    public var honestConsultant: Bool? { assignedOption.map { $0 == correctOption } }
}
