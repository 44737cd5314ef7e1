import Constitutional
import Foundation

extension OpinionAnalysis {
    /// The statements whose consensus reaches `threshold`, in ranking order.
    public func consensusStatements(threshold: Double) -> [StatementResult] {
        ranking.filter { $0.consensus >= threshold }
    }

    /// A constitution whose principles are the consensus statements, each asked as a critique, a revision and a
    /// comparison, and carrying its provenance.
    /// - Parameters:
    ///   - conversation: the source named in each provenance (a database path or a Polis folder).
    /// - Throws: ``CollectiveError/tooFewStatements(_:)`` when no statement reaches the threshold.
    public func constitution(name: String, threshold: Double, conversation: String) throws -> Constitution {
        let chosen = consensusStatements(threshold: threshold)
        guard !chosen.isEmpty else {
            let best = ranking.first.map { String(format: "%.3f", $0.consensus) } ?? "none"
            throw CollectiveError.missing(file: conversation,
                                          "no statement reaches consensus \(String(format: "%.3f", threshold)) (the highest is \(best)); lower --threshold")
        }
        let principles = chosen.map { result in
            let text = result.statement.text.trimmingCharacters(in: .whitespacesAndNewlines)
            return Principle(
                id: "statement-" + Self.identifier(result.statement.id), category: .other,
                critiqueRequest: "Identify specific ways in which the assistant's last response goes against this principle, "
                    + "which a public agreed on: \"\(text)\"",
                revisionRequest: "Please rewrite the assistant's response so that it follows this principle: \"\(text)\"",
                comparison: "Which of these responses better follows this principle: \"\(text)\"?",
                source: "collective: statement \(result.statement.id) of \(conversation)",
                provenance: PrincipleProvenance(
                    statementID: result.statement.id, statement: result.statement.text, conversation: conversation,
                    agrees: result.agrees, disagrees: result.disagrees, passes: result.passes,
                    groupAgreement: result.groupAgreement.map(Self.rounded), consensus: Self.rounded(result.consensus),
                    divisiveness: Self.rounded(result.divisiveness)))
        }
        return Constitution(
            name: name, version: "1",
            description: "Statements \(placements.count) participants agreed on across \(groupCount) opinion groups "
                + "(group-informed consensus ≥ \(String(format: "%.3f", threshold))).",
            principles: principles)
    }

    /// A principle id from a statement id: the characters the loader allows, others as '-'.
    static func identifier(_ id: String) -> String {
        String(id.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "-" })
    }

    /// Six decimals: provenance is for reading, and round-trips through YAML unchanged.
    static func rounded(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
}
