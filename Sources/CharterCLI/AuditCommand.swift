import ArgumentParser
import Audit
import Foundation

/// `charter audit`: model-free findings about a preference dataset.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit preference data: duplicates, contradictions, cycles, length and position bias, annotator agreement, personal data.",
        discussion: """
        Reads any preference file Charter reads (TRL JSONL/JSONL.gz, standard or conversational, implicit-prompt, HH \
        transcripts, Charter label records with judgements, multi-annotator files with an "annotator" per line) and \
        writes DIR/audit.json (counts, statistics, every flagged pair with its evidence and stable pair id), \
        DIR/findings.jsonl (one flagged pair a line) and DIR/report.html. Unreadable lines are listed with file:line \
        and the field, never dropped silently. `charter clean` applies a policy to the findings.
        """)

    @Argument(help: "The preference data (.jsonl or .jsonl.gz).") var data: String
    @Option(help: "The folder for audit.json, findings.jsonl and report.html.") var output: String
    @Option(help: "MinHash Jaccard similarity of prompt and responses at which a pair is a near duplicate.") var nearDuplicateThreshold = 0.8
    @Option(help: "Words per shingle for MinHash.") var shingleSize = 3
    @Option(help: "Soft labels within this distance of 0.5 are low-confidence.") var lowConfidenceMargin = 0.1
    @Option(help: "Flagged pairs shown side by side in report.html.") var top = 20

    func run() throws {
        var settings = AuditConfiguration()
        settings.nearDuplicateThreshold = nearDuplicateThreshold
        settings.shingleSize = shingleSize
        settings.lowConfidenceMargin = lowConfidenceMargin
        settings.topSuspects = top
        let start = Date()
        let result = try DataAudit(configuration: settings).run(URL(fileURLWithPath: data))
        let directory = URL(fileURLWithPath: output)
        try result.write(to: directory)
        print("audit: \(result.pairs.count) pairs, \(result.unreadable.count) unreadable lines, \(result.evidence.count) pairs flagged "
              + String(format: "(%.1f s)", Date().timeIntervalSince(start)))
        for (kind, pairs) in result.counts where pairs > 0 { print("  \(kind.rawValue): \(pairs)") }
        if let share = result.lengthBias.chosenLongerShare {
            print(String(format: "  chosen longer in %.1f%% of %d pairs with different lengths", 100 * share, result.lengthBias.comparablePairs))
        }
        for error in result.unreadable.prefix(5) { FileHandle.standardError.write(Data("unreadable: \(error)\n".utf8)) }
        if result.unreadable.count > 5 {
            FileHandle.standardError.write(Data("… \(result.unreadable.count - 5) more unreadable lines in audit.json\n".utf8))
        }
        print("wrote \(directory.path)/audit.json, findings.jsonl, report.html")
    }
}
