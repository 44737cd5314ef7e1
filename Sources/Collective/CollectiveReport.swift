import Constitutional
import Foundation
import Reports

/// The files `charter constitution collect analyze` writes: `results.json` (every placement and statement result),
/// `report.html` (the opinion map and the consensus ranking) and `constitution.yaml` (the consensus statements).
public struct CollectiveReport: Encodable {
    public var conversation: String
    public var participants: Int
    public var excludedParticipants: Int
    public var statements: Int
    public var votes: Int
    public var groupCount: Int
    public var groupSizes: [Int]
    public var silhouettes: [String: Double]
    public var explainedVariance: [Double]
    public var threshold: Double
    public var constitutionStatements: [String]
    public var placements: [OpinionAnalysis.Placement]
    public var ranking: [OpinionAnalysis.StatementResult]
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case conversation, participants, excludedParticipants = "excluded_participants", statements, votes
        case groupCount = "group_count", groupSizes = "group_sizes", silhouettes
        case explainedVariance = "explained_variance", threshold
        case constitutionStatements = "constitution_statements", placements, ranking, seed
    }

    public init(analysis: OpinionAnalysis, matrix: VoteMatrix, conversation: String, threshold: Double, seed: UInt64) {
        self.conversation = conversation
        participants = matrix.participants.count
        excludedParticipants = analysis.excludedParticipants
        statements = matrix.statements.count
        votes = matrix.voteCount
        groupCount = analysis.groupCount
        groupSizes = (0..<analysis.groupCount).map { group in analysis.placements.filter { $0.group == group }.count }
        silhouettes = Dictionary(uniqueKeysWithValues: analysis.silhouettes.map { ("\($0.key)", $0.value) })
        explainedVariance = analysis.explainedVariance
        self.threshold = threshold
        constitutionStatements = analysis.consensusStatements(threshold: threshold).map(\.statement.id)
        placements = analysis.placements
        ranking = analysis.ranking
        self.seed = seed
    }

    /// Writes results.json, report.html and constitution.yaml into `directory`; returns their URLs.
    @discardableResult
    public func write(constitution: Constitution, to directory: URL) throws -> [URL] {
        let results = try ResultsFile.write(self, to: directory)
        let yaml = directory.appendingPathComponent("constitution.yaml")
        try constitution.write(to: yaml)
        let page = try html().write(to: directory)
        return [results, page, yaml]
    }

    /// The report page: a summary, the opinion map and the ranking, every statement escaped.
    public func html() -> HTMLPage {
        var page = HTMLPage(title: "Collective constitution: opinion groups and consensus")
        page.heading("Collective constitution")
        page.paragraph("\(conversation): \(participants) participants (\(excludedParticipants) with too few votes left out of the "
            + "map), \(statements) statements, \(votes) votes. \(groupCount) opinion groups (sizes "
            + groupSizes.map(String.init).joined(separator: ", ") + "), chosen by mean silhouette; "
            + "\(constitutionStatements.count) statements reach consensus \(String(format: "%.3f", threshold)) and form constitution.yaml.")
        page.definitions([
            ("Opinion map", "each participant's votes (agree 1, disagree −1, pass 0, unseen imputed with the statement's mean) "
                + "projected on the first two principal components, coloured by k-means group."),
            ("Group agreement", "(agrees + 1) / (votes + 2) among a group's members; votes include passes."),
            ("Consensus", "the product of the groups' agreements: high only when every group agrees (group-informed consensus, Polis)."),
            ("Divisiveness", "the highest group agreement minus the lowest."),
        ])
        page.heading("Opinion map", level: 2)
        let series = (0..<groupCount).map { group in
            SVGChart.Series("group \(group + 1) (\(groupSizes[group]))",
                            placements.filter { $0.group == group }.map { SVGChart.Point($0.x, $0.y) })
        }
        page.chart(SVGChart.lines(
            title: "Participants in opinion space", series: series,
            xLabel: "component 1 (\(String(format: "%.0f", 100 * (explainedVariance.first ?? 0)))% of variance)",
            yLabel: "component 2 (\(String(format: "%.0f", 100 * (explainedVariance.dropFirst().first ?? 0)))%)",
            style: .points, width: 520, height: 360))
        page.heading("Consensus ranking", level: 2)
        let chosen = Set(constitutionStatements)
        page.table(
            header: ["rank", "statement", "id", "agree", "disagree", "pass"] + (0..<groupCount).map { "group \($0 + 1)" }
                + ["consensus", "divisiveness", "in constitution"],
            rows: ranking.enumerated().map { index, result in
                ["\(index + 1)", result.statement.text, result.statement.id, "\(result.agrees)", "\(result.disagrees)", "\(result.passes)"]
                    + result.groupAgreement.map { String(format: "%.2f", $0) }
                    + [String(format: "%.3f", result.consensus), String(format: "%.2f", result.divisiveness),
                       chosen.contains(result.statement.id) ? "yes" : ""]
            },
            caption: "Statements by group-informed consensus, highest first.")
        return page
    }
}
