import ArgumentParser
import Constitutional
import Foundation
import LanguageModels
import Pipelines
import Runtime

/// `charter label`: AI-feedback preference labels (RLAIF; Bai et al. 2022, §4).
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label response pairs with AI feedback by a constitution: soft preference labels for reward models and DPO.",
        discussion: """
        The feedback model (--model/--endpoints) sees each conversation, a comparison principle sampled from the \
        constitution and the two responses as options (A) and (B); the label is the normalised probability of " (A)" \
        versus " (B)" (both options scored by log-probability), asked in both orders and averaged, ensembled over \
        --principles principles. --chain-of-thought reasons first and clamps to [0.4, 0.6] as the paper does. \
        Pairs: {"prompt", "response_a", "response_b"} (or chosen/rejected, or a "responses" list) per line, or sample \
        them with --prompts FILE --sample-from MODEL -k 2. Output: TRL preference JSONL (prompt, chosen, rejected) \
        with chosen_probability and the audit trail; re-running resumes. Exits with status 3 when any item failed \
        (listed in <output>.failures.jsonl).
        """)

    @OptionGroup var model: ModelSourceOptions
    @Option(help: "Pairs to label (.jsonl).") var pairs: String?
    @Option(help: "Prompts to sample pairs for (with --sample-from).") var prompts: String?
    @Option(help: "A policy model folder (or endpoints file) to sample k responses per prompt from.") var sampleFrom: String?
    @Option(name: .customShort("k"), help: "Responses sampled per prompt (every two form a pair).") var k = 2
    @Option(help: "Most new tokens per sampled response.") var sampleMaxTokens = 256
    @Option(help: "Temperature of the sampled responses.") var sampleTemperature: Float = 1
    @Option(help: "Draw a sampled response again, with a fresh seed, up to this many times while it repeats an earlier response to the same prompt (0: keep repeats, which no judge can decide).") var redrawIdentical = 0
    @Option(help: "How the policy is prompted: transcript, chat (its chat template), or auto: chat when it has a chat template, else transcript.") var samplePrompting = "auto"
    @Option(help: "A constitution YAML, or 'default'.") var constitution = "default"
    @Option(help: "Principles asked per pair and ensembled.") var principles = 4
    @Flag(help: "Reason step by step before answering; labels clamped to [0.4, 0.6].") var chainOfThought = false
    @Flag(help: "Ask each question in one order only (no position-bias cancelling).") var singleOrder = false
    @Option(help: "Few-shot comparisons shown (default: all).") var fewShot: Int?
    @Option(help: "Seed for principle choice and sampling.") var seed: UInt64 = 0
    @Option(help: "The labelled pairs (.jsonl).") var output: String
    @OptionGroup var runFlags: RunFlags

    func run() throws {
        var configuration = FeedbackConfiguration()
        configuration.principlesPerPair = principles
        configuration.chainOfThought = chainOfThought
        configuration.bothOrders = !singleOrder
        configuration.fewShot = fewShot
        configuration.seed = seed
        let constitution = try loadConstitution(self.constitution)
        let output = URL(fileURLWithPath: self.output)
        let options = runFlags.options
        let pairsURL: URL
        var sampleReport: RunReport?
        switch (pairs, prompts, sampleFrom) {
        case let (pairs?, nil, nil):
            pairsURL = URL(fileURLWithPath: pairs)
        case let (nil, prompts?, policy?):
            pairsURL = URL(fileURLWithPath: output.deletingPathExtension().path + ".pairs.jsonl")
            try runFlags.prepare(pairsURL)
            var isDirectory: ObjCBool = false
            let isFolder = FileManager.default.fileExists(atPath: policy, isDirectory: &isDirectory) && isDirectory.boolValue
            let policyModels = try makeLanguageModels(isFolder ? .local(path: policy, chatTemplate: model.chatTemplate, lora: nil) : .endpoints(configuration: policy))
            var sample = SampleConfiguration(k: k)
            sample.seed = seed
            sample.prompting = try promptingStyle(samplePrompting, flag: "--sample-prompting", command: "sample", models: policyModels)
            sample.sampling = SamplingOptions(maximumTokens: sampleMaxTokens, temperature: sampleTemperature)
            sample.redrawIdentical = redrawIdentical
            let promptsURL = URL(fileURLWithPath: prompts)
            let sampleConfiguration = sample
            let sampled = try waitFor {
                try await Stages.sample(prompts: promptsURL, output: pairsURL, configuration: sampleConfiguration, models: policyModels, run: options)
            }
            print("sample: \(sampled.report.summary); pairs in \(pairsURL.path)")
            sampleReport = sampled.report
        default:
            throw CommandError("give --pairs FILE, or --prompts FILE with --sample-from MODEL")
        }
        let models = try model.makeModels()
        try runFlags.prepare(output)
        let feedbackConfiguration = configuration
        let outcome = try waitFor {
            try await Stages.label(pairs: pairsURL, output: output, constitution: constitution, configuration: feedbackConfiguration, models: models, run: options)
        }
        notePrefixCaches(models, command: "label")
        let rate = outcome.counts["position_bias_rate"] ?? 0
        print("label: \(outcome.report.summary); \(output.path)")
        if configuration.bothOrders {
            print(String(format: "position bias: the preferred response flipped with the order in %.1f%% of %d judgements (averaging both orders cancels it)",
                         100 * rate, Int(outcome.counts["judgements_both_orders"] ?? 0)))
        }
        try exitIfItemsFailed((sampleReport.map { [($0, pairsURL, "prompts")] } ?? []) + [(outcome.report, output, "pairs")])
    }
}
