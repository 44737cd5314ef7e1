import Foundation
import Runtime

/// Opinion groups and group-informed consensus, as Polis computes them (Small et al. 2021, "Polis: Scaling
/// Deliberation by Mapping High Dimensional Opinion Spaces") and as Anthropic and the Collective Intelligence
/// Project used them to turn 38,252 votes into a constitution (Collective Constitutional AI, 2023).
///
/// 1. The vote matrix (agree 1, disagree −1, pass 0) of the participants with at least `minimumVotes` votes; a blank
///    (unseen) cell is imputed with its statement's mean vote, as Polis does, so that it moves no one along an axis.
/// 2. PCA to two components (power iteration on the centred matrix); each participant's projection is scaled by
///    √(statements / statements they voted on), Polis's correction that keeps sparse voters from collapsing to the
///    centre.
/// 3. k-means on the projections (k-means++ seeding, `restarts` runs, seeded), k from 2 to 5 by the best mean
///    silhouette.
/// 4. Per statement and group, agreement (agrees + 1) / (votes + 2) (votes counts passes: a pass is a participant who
///    saw the statement and did not agree); consensus is the product over groups, divisiveness the range of the
///    groups' agreements.
public struct OpinionAnalysis: Sendable {
    public struct Options: Sendable {
        /// Participants with fewer votes are left out of PCA and grouping (Polis uses 7); capped at the statement count.
        public var minimumVotes = 7
        /// The range of k tried; the best mean silhouette wins.
        public var groupCounts = 2...5
        /// k-means runs per k (different seeds); the lowest within-group sum of squares wins.
        public var restarts = 10
        public var seed: UInt64 = 0
        public init() {}
    }

    /// One participant placed on the opinion map.
    public struct Placement: Codable, Equatable, Sendable {
        public var participant: String
        public var x: Double
        public var y: Double
        public var group: Int
        public var votes: Int
    }

    /// One statement's tallies, overall and per group.
    public struct StatementResult: Codable, Equatable, Sendable {
        public var statement: Statement
        public var agrees: Int
        public var disagrees: Int
        public var passes: Int
        public var votes: Int { agrees + disagrees + passes }
        /// (agrees + 1) / (votes + 2) within each group, in group order.
        public var groupAgreement: [Double]
        /// Votes cast within each group.
        public var groupVotes: [Int]
        /// The product of `groupAgreement`.
        public var consensus: Double
        /// max − min of `groupAgreement`: how far the groups are apart on it.
        public var divisiveness: Double

        enum CodingKeys: String, CodingKey {
            case statement, agrees, disagrees, passes, groupAgreement = "group_agreement", groupVotes = "group_votes"
            case consensus, divisiveness
        }
    }

    public var placements: [Placement]
    /// Participants left out (fewer than `minimumVotes` votes).
    public var excludedParticipants: Int
    public var groupCount: Int
    /// Mean silhouette of each k tried (k → value).
    public var silhouettes: [Int: Double]
    /// Share of the imputed matrix's variance along each component.
    public var explainedVariance: [Double]
    /// Statements by consensus, highest first.
    public var ranking: [StatementResult]

    /// - Throws: ``CollectiveError/tooFewParticipants`` when fewer than three participants have enough votes.
    public init(_ matrix: VoteMatrix, options: Options = Options()) throws {
        let statementCount = matrix.statements.count
        guard statementCount >= 2 else { throw CollectiveError.tooFewStatements(statementCount) }
        let threshold = min(options.minimumVotes, statementCount)
        let counts = matrix.votesPerParticipant
        let kept = matrix.participants.indices.filter { counts[$0] >= threshold }
        guard kept.count >= 3 else { throw CollectiveError.tooFewParticipants(kept.count, minimumVotes: threshold) }
        excludedParticipants = matrix.participants.count - kept.count

        // Imputed, centred matrix: the column mean of the voters, so a blank becomes 0 after centring.
        let rows = kept.map { matrix.votes[$0] }
        var means = [Double](repeating: 0, count: statementCount)
        for column in 0..<statementCount {
            let cast: [Vote] = rows.compactMap { $0[column] }
            let sum = cast.reduce(0) { (total: Int, vote: Vote) in total + vote.rawValue }
            means[column] = cast.isEmpty ? 0 : Double(sum) / Double(cast.count)
        }
        // Blanks are 0 once centred, so each row keeps only its cast votes.
        let centred: [PrincipalComponents.SparseRow] = rows.map { row in
            (0..<statementCount).compactMap { column in row[column].map { (column, Double($0.rawValue) - means[column]) } }
        }
        var random = SplitMix64(seed: options.seed)
        let components = PrincipalComponents(centred, columns: statementCount, count: 2, random: &random)
        explainedVariance = components.explainedVariance
        let points: [[Double]] = centred.indices.map { index in
            let voted = Double(max(1, counts[kept[index]]))
            let scale = (Double(statementCount) / voted).squareRoot()
            return components.project(centred[index]).map { $0 * scale }
        }

        var best: (k: Int, silhouette: Double, assignment: [Int])?
        var silhouettes: [Int: Double] = [:]
        for k in options.groupCounts where k < points.count {
            let clustering = KMeans(points, k: k, restarts: options.restarts, random: &random)
            let silhouette = KMeans.meanSilhouette(points, assignment: clustering.assignment, k: k)
            silhouettes[k] = silhouette
            // Ties keep the smaller k.
            if let current = best, silhouette <= current.silhouette + 1e-12 { continue }
            best = (k, silhouette, clustering.assignment)
        }
        guard let best else { throw CollectiveError.tooFewParticipants(kept.count, minimumVotes: threshold) }
        // Groups numbered by size, largest first, so labels do not depend on the seed's order.
        let sizes = (0..<best.k).map { group in best.assignment.filter { $0 == group }.count }
        let order = (0..<best.k).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var relabel = [Int](repeating: 0, count: best.k)
        for (label, group) in order.enumerated() { relabel[group] = label }
        let groups = best.assignment.map { relabel[$0] }
        self.silhouettes = silhouettes
        groupCount = best.k
        placements = kept.indices.map { index in
            Placement(participant: matrix.participants[kept[index]], x: points[index][0], y: points[index][1],
                      group: groups[index], votes: counts[kept[index]])
        }

        // Tallies: overall from every participant, per group from the grouped ones.
        var results: [StatementResult] = []
        for column in 0..<statementCount {
            var agrees = 0, disagrees = 0, passes = 0
            for row in matrix.votes {
                switch row[column] {
                case .agree?: agrees += 1
                case .disagree?: disagrees += 1
                case .pass?: passes += 1
                case nil: break
                }
            }
            var groupAgrees = [Int](repeating: 0, count: best.k)
            var groupVotes = [Int](repeating: 0, count: best.k)
            for (index, row) in rows.enumerated() {
                guard let vote = row[column] else { continue }
                groupVotes[groups[index]] += 1
                if vote == .agree { groupAgrees[groups[index]] += 1 }
            }
            let agreement = (0..<best.k).map { Double(groupAgrees[$0] + 1) / Double(groupVotes[$0] + 2) }
            results.append(StatementResult(
                statement: matrix.statements[column], agrees: agrees, disagrees: disagrees, passes: passes,
                groupAgreement: agreement, groupVotes: groupVotes, consensus: agreement.reduce(1, *),
                divisiveness: (agreement.max() ?? 0) - (agreement.min() ?? 0)))
        }
        ranking = results.enumerated().sorted {
            $0.element.consensus != $1.element.consensus ? $0.element.consensus > $1.element.consensus : $0.offset < $1.offset
        }.map(\.element)
    }

    /// The default consensus threshold: each group agreeing 60 % on average (0.6 to the power of the group count).
    public var defaultThreshold: Double { pow(0.6, Double(groupCount)) }
}
