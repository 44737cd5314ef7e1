import Foundation

/// One statement of a conversation (a Polis "comment"): the text participants vote on.
public struct Statement: Codable, Equatable, Sendable {
    /// The statement's id as its source gives it (the store's row id, Polis's `comment-id`).
    public var id: String
    /// The participant who wrote it, when known.
    public var authorID: String?
    public var text: String

    public init(id: String, authorID: String? = nil, text: String) {
        self.id = id
        self.authorID = authorID
        self.text = text
    }
}

/// A vote on a statement. Raw values are Polis's export convention: agree 1, disagree −1, pass 0.
public enum Vote: Int, Codable, Sendable, CaseIterable {
    case agree = 1
    case disagree = -1
    case pass = 0

    /// The word a form posts and the store shows.
    public var name: String {
        switch self {
        case .agree: "agree"
        case .disagree: "disagree"
        case .pass: "pass"
        }
    }

    public init?(name: String) {
        guard let vote = Vote.allCases.first(where: { $0.name == name }) else { return nil }
        self = vote
    }
}

/// Participants × statements: each cell a vote or nil (the participant never saw or never voted on it).
public struct VoteMatrix: Sendable {
    public var participants: [String]
    public var statements: [Statement]
    /// votes[participant][statement]
    public var votes: [[Vote?]]

    /// - Precondition: `votes` has one row per participant and one column per statement.
    public init(participants: [String], statements: [Statement], votes: [[Vote?]]) {
        precondition(votes.count == participants.count && votes.allSatisfy { $0.count == statements.count },
                     "vote matrix is \(votes.count)×\(votes.first?.count ?? 0), expected \(participants.count)×\(statements.count)")
        self.participants = participants
        self.statements = statements
        self.votes = votes
    }

    /// Votes cast (agree, disagree or pass) by each participant.
    public var votesPerParticipant: [Int] { votes.map { $0.reduce(0) { $0 + ($1 == nil ? 0 : 1) } } }

    /// Total votes cast.
    public var voteCount: Int { votesPerParticipant.reduce(0, +) }
}
