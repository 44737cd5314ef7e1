import ArgumentParser
import Audit
import Foundation

/// `charter clean`: applies a policy to an audit's findings.
struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Apply a policy (drop, flip, soften, tie, keep per finding) to an audit's findings and write the cleaned data.",
        discussion: """
        The policy is YAML: `actions:` maps finding kinds (exact_duplicate, near_duplicate, identical_responses, \
        contradiction, preference_cycle, position_bias, low_confidence, annotator_disagreement, personal_data, \
        empty_response, truncated_response) to drop, flip, soften, tie or keep; `soften_to:` sets the soft label for \
        soften without a vote share. The output keeps the input's format (annotator_labels lists, HelpSteer2 and HelpSteer3 lines \
        stay in their layout: a flip swaps the line's label and keeps each annotator's judgement); FILE.changes.jsonl \
        names every changed or dropped pair and why, and rows in = rows out + rows dropped is checked.
        """)

    @Argument(help: "The preference data that was audited.") var data: String
    @Option(help: "The audit folder (from charter audit).") var audit: String
    @Option(help: "The cleaning policy (YAML).") var policy: String
    @Option(help: "The cleaned data (.jsonl, or .jsonl.gz to compress).") var output: String

    func run() throws {
        let policy = try CleaningPolicy.load(URL(fileURLWithPath: self.policy))
        let output = URL(fileURLWithPath: self.output)
        let summary = try DataCleaner(policy: policy).clean(URL(fileURLWithPath: data), audit: URL(fileURLWithPath: audit), output: output)
        print("clean: \(summary.description)")
        print("wrote \(output.path) and \(DataCleaner.changesURL(for: output).path)")
    }
}
