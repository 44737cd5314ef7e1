import Constitutional
import Foundation
import Runtime
import XCTest
@testable import Collective

final class OpinionAnalysisTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A planted conversation: `groupSize` participants per group, consensus statements 0..<3 that both groups
    /// agree with, 3..<6 only group A agrees with, 6..<9 only group B; votes flipped with probability `noise` and
    /// left blank with probability `blank`.
    static func planted(groupSize: Int = 30, noise: Double = 0.1, blank: Double = 0.2, seed: UInt64 = 1) -> (VoteMatrix, [Int]) {
        var random = SplitMix64(seed: seed)
        let truth: [(Vote, Vote)] = Array(repeating: (.agree, .agree), count: 3) + Array(repeating: (.agree, .disagree), count: 3)
            + Array(repeating: (.disagree, .agree), count: 3)
        let statements = truth.indices.map { Statement(id: "s\($0)", text: "statement \($0)") }
        var votes: [[Vote?]] = []
        var groups: [Int] = []
        for participant in 0..<(2 * groupSize) {
            let group = participant < groupSize ? 0 : 1
            groups.append(group)
            votes.append(truth.map { planted in
                if random.nextUnit() < blank { return nil }
                let vote = group == 0 ? planted.0 : planted.1
                if random.nextUnit() < noise { return vote == .agree ? .disagree : .agree }
                return vote
            })
        }
        return (VoteMatrix(participants: (0..<(2 * groupSize)).map { "p\($0)" }, statements: statements, votes: votes), groups)
    }

    /// Whether two labellings are the same partition (up to renaming groups).
    func samePartition(_ a: [Int], _ b: [Int]) -> Bool {
        var map: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            if let mapped = map[x], mapped != y { return false }
            map[x] = y
        }
        return Set(map.values).count == map.count
    }

    func testPlantedGroupsAreRecoveredAndTheConsensusStatementsAreThePlantedOnes() throws {
        let (matrix, groups) = Self.planted()
        var options = OpinionAnalysis.Options()
        options.minimumVotes = 5
        let analysis = try OpinionAnalysis(matrix, options: options)
        XCTAssertEqual(analysis.groupCount, 2, "silhouettes \(analysis.silhouettes)")
        let found = Dictionary(uniqueKeysWithValues: analysis.placements.map { ($0.participant, $0.group) })
        let kept = matrix.participants.indices.filter { found[matrix.participants[$0]] != nil }
        XCTAssertGreaterThan(kept.count, 50)
        // With 10 % of votes flipped a participant can sit nearer the other group; nearly all must be placed right.
        let planted = kept.map { groups[$0] }, recovered = kept.map { found[matrix.participants[$0]]! }
        let same = zip(planted, recovered).filter { $0 == $1 }.count
        XCTAssertGreaterThanOrEqual(Double(max(same, kept.count - same)) / Double(kept.count), 0.95)
        // Without flipped votes the partition is exact.
        let (clean, cleanGroups) = Self.planted(noise: 0, seed: 2)
        let cleanAnalysis = try OpinionAnalysis(clean, options: options)
        let cleanFound = Dictionary(uniqueKeysWithValues: cleanAnalysis.placements.map { ($0.participant, $0.group) })
        let cleanKept = clean.participants.indices.filter { cleanFound[clean.participants[$0]] != nil }
        XCTAssertTrue(samePartition(cleanKept.map { cleanGroups[$0] }, cleanKept.map { cleanFound[clean.participants[$0]]! }))
        let chosen = analysis.consensusStatements(threshold: analysis.defaultThreshold).map(\.statement.id)
        XCTAssertEqual(Set(chosen), ["s0", "s1", "s2"])
        // The divisive statements are the partisan ones, and far more divisive than the consensus ones.
        for result in analysis.ranking {
            let partisan = !["s0", "s1", "s2"].contains(result.statement.id)
            XCTAssertEqual(result.divisiveness > 0.4, partisan, "\(result.statement.id): \(result.divisiveness)")
        }
    }

    func testWithoutStructureNoStatementPassesAndSeedsAreDeterministic() throws {
        var random = SplitMix64(seed: 3)
        let votes: [[Vote?]] = (0..<40).map { _ in (0..<8).map { _ in [Vote.agree, .disagree, .pass][Int(random.next() % 3)] } }
        let matrix = VoteMatrix(participants: (0..<40).map { "p\($0)" }, statements: (0..<8).map { Statement(id: "\($0)", text: "\($0)") },
                                votes: votes)
        let first = try OpinionAnalysis(matrix), second = try OpinionAnalysis(matrix)
        XCTAssertEqual(first.placements, second.placements)
        XCTAssertEqual(first.ranking, second.ranking)
        XCTAssertTrue(first.consensusStatements(threshold: first.defaultThreshold).isEmpty,
                      "random votes (a third agree) should reach no consensus: \(first.ranking.map(\.consensus))")
    }

    func testSparseVotersAreLeftOutAndTooFewParticipantsThrow() throws {
        var (matrix, _) = Self.planted(groupSize: 5, blank: 0)
        matrix.votes[0] = [Vote?](repeating: nil, count: 9)
        matrix.votes[0][0] = .agree
        let analysis = try OpinionAnalysis(matrix)
        XCTAssertEqual(analysis.excludedParticipants, 1)
        XCTAssertFalse(analysis.placements.contains { $0.participant == "p0" })
        // Its vote still counts in the overall tally.
        XCTAssertEqual(analysis.ranking.first { $0.statement.id == "s0" }?.agrees,
                       matrix.votes.filter { $0[0] == .agree }.count)
        let tiny = VoteMatrix(participants: ["a", "b"], statements: matrix.statements, votes: Array(matrix.votes[1...2]))
        XCTAssertThrowsError(try OpinionAnalysis(tiny)) { error in
            XCTAssertEqual(error as? CollectiveError, .tooFewParticipants(2, minimumVotes: 7))
        }
    }

    /// The Polis-format fixture against numpy (make_polis_fixture.py): PCA projections, explained variance, and
    /// consensus with the planted groups (which the analysis must recover).
    func testPolisFixtureMatchesTheNumpyReference() throws {
        let folder = Self.fixtures.appendingPathComponent("polis-planted")
        let matrix = try PolisExport.read(from: folder)
        XCTAssertEqual(matrix.participants.count, 24)
        XCTAssertEqual(matrix.statements.count, 10, "the rejected statement 11 is left out")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("expected.json"))) as! [String: Any]
        var options = OpinionAnalysis.Options()
        options.minimumVotes = 1
        let analysis = try OpinionAnalysis(matrix, options: options)
        let projection = expected["projection"] as! [[Double]]
        for (index, placement) in analysis.placements.enumerated() {
            XCTAssertEqual(placement.x, projection[index][0], accuracy: 1e-6, "participant \(index) x")
            XCTAssertEqual(placement.y, projection[index][1], accuracy: 1e-6, "participant \(index) y")
        }
        let variance = expected["explained_variance"] as! [Double]
        XCTAssertEqual(analysis.explainedVariance[0], variance[0], accuracy: 1e-9)
        XCTAssertEqual(analysis.explainedVariance[1], variance[1], accuracy: 1e-9)
        XCTAssertEqual(analysis.groupCount, 2)
        XCTAssertTrue(samePartition(expected["planted_groups"] as! [Int], analysis.placements.map(\.group)))
        // Groups are numbered by size; with equal sizes the order may differ from the planted one, so compare sets.
        for reference in expected["statements"] as! [[String: Any]] {
            let result = try XCTUnwrap(analysis.ranking.first { $0.statement.id == reference["id"] as! String })
            XCTAssertEqual(result.consensus, reference["consensus"] as! Double, accuracy: 1e-12)
            XCTAssertEqual(Set(result.groupAgreement.map { ($0 * 1e9).rounded() }),
                           Set((reference["group_agreement"] as! [Double]).map { ($0 * 1e9).rounded() }))
        }
        let chosen = analysis.consensusStatements(threshold: analysis.defaultThreshold).map(\.statement.id)
        XCTAssertEqual(Set(chosen), Set(expected["consensus_statements"] as! [String]))
    }

    /// The constitution from an analysis loads with the project's loader and round-trips, provenance included.
    func testConstitutionCarriesProvenanceAndRoundTrips() throws {
        let (matrix, _) = Self.planted()
        let analysis = try OpinionAnalysis(matrix)
        let constitution = try analysis.constitution(name: "collective-test", threshold: analysis.defaultThreshold, conversation: "test.sqlite")
        XCTAssertEqual(constitution.principles.count, 3)
        let yaml = try constitution.yaml()
        XCTAssertTrue(yaml.contains("provenance:") && yaml.contains("group_agreement:") && yaml.contains("statement_id:"), yaml)
        let loaded = try Constitution.parse(yaml: yaml, file: "constitution.yaml")
        XCTAssertEqual(loaded, constitution)
        let provenance = try XCTUnwrap(loaded.principles.first?.provenance)
        let top = analysis.ranking[0]
        XCTAssertEqual(provenance.statementID, top.statement.id)
        XCTAssertEqual(provenance.agrees, top.agrees)
        XCTAssertEqual(provenance.consensus, top.consensus, accuracy: 1e-6)
        XCTAssertEqual(loaded.critiquePrinciples.count, 3)
        XCTAssertEqual(loaded.comparisonPrinciples.count, 3)
        // A typo inside provenance is named like any other unknown key.
        let typo = yaml.replacingOccurrences(of: "divisiveness:", with: "divisivness:")
        XCTAssertThrowsError(try Constitution.parse(yaml: typo, file: "c.yaml")) { error in
            XCTAssertTrue("\(error)".contains("principles[0].provenance.divisivness"), "\(error)")
        }
        // No statement above the threshold: an error that names the best consensus.
        XCTAssertThrowsError(try analysis.constitution(name: "x", threshold: 0.99, conversation: "test.sqlite")) { error in
            XCTAssertTrue("\(error)".contains("lower --threshold"), "\(error)")
        }
    }

    func testReportWritesResultsPageAndConstitution() throws {
        let (matrix, _) = Self.planted()
        var withScript = matrix
        withScript.statements[0].text = "<script>alert(1)</script> & more"
        let analysis = try OpinionAnalysis(withScript)
        let threshold = analysis.defaultThreshold
        let constitution = try analysis.constitution(name: "c", threshold: threshold, conversation: "db")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("collective-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = CollectiveReport(analysis: analysis, matrix: withScript, conversation: "db", threshold: threshold, seed: 0)
        try report.write(constitution: constitution, to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(html.contains("<script>alert(1)"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))
        XCTAssertEqual(html.components(separatedBy: "<circle").count - 1, analysis.placements.count)
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("results.json"))) as! [String: Any]
        XCTAssertEqual(results["group_count"] as? Int, 2)
        XCTAssertEqual(Set(results["constitution_statements"] as! [String]), ["s0", "s1", "s2"])
        XCTAssertNoThrow(try Constitution.load(from: folder.appendingPathComponent("constitution.yaml")))
    }
}
