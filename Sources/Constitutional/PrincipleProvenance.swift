import Foundation

/// Where a principle written by a public came from: the statement it was voted on as, the votes, and how each
/// opinion group agreed (Collective Constitutional AI, Anthropic & CIP 2023). Stored under a principle's
/// `provenance` key; the loader checks its keys like any other.
public struct PrincipleProvenance: Codable, Equatable, Sendable {
    /// The statement's id in its conversation (a Polis comment-id or the collection database's id).
    public var statementID: String
    /// The statement as participants voted on it.
    public var statement: String
    /// The conversation: a database path or a Polis export folder.
    public var conversation: String?
    public var agrees: Int
    public var disagrees: Int
    public var passes: Int
    /// (agrees + 1) / (votes + 2) within each opinion group, in group order.
    public var groupAgreement: [Double]
    /// The product of `groupAgreement` (group-informed consensus).
    public var consensus: Double
    /// The range of `groupAgreement`.
    public var divisiveness: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case statementID = "statement_id", statement, conversation, agrees, disagrees, passes
        case groupAgreement = "group_agreement", consensus, divisiveness
    }

    public init(statementID: String, statement: String, conversation: String?, agrees: Int, disagrees: Int, passes: Int,
                groupAgreement: [Double], consensus: Double, divisiveness: Double) {
        self.statementID = statementID
        self.statement = statement
        self.conversation = conversation
        self.agrees = agrees
        self.disagrees = disagrees
        self.passes = passes
        self.groupAgreement = groupAgreement
        self.consensus = consensus
        self.divisiveness = divisiveness
    }
}
