import Alignment
import ArgumentParser
import Audit
import Constitutional
import Foundation

/// `charter audit`: what is wrong with a preference dataset, model-free and with reward models.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit preference data: duplicates, contradictions, cycles, length and position bias, annotator agreement, personal data.",
        discussion: """
        Reads any preference file Charter reads (TRL JSONL/JSONL.gz, standard or conversational, implicit-prompt, HH \
        transcripts, Charter label records with judgements, multi-annotator files — an "annotator" per line, or all of a \
        pair's labels on one line as "annotator_labels" or as HelpSteer2's or HelpSteer3's preference files as \
        published) and \
        writes DIR/audit.json (counts, statistics, every flagged pair with its evidence and stable pair id), \
        DIR/findings.jsonl (one flagged pair a line) and DIR/report.html. Unreadable lines are listed with file:line \
        and the field, never dropped silently. `charter clean` applies a policy to the findings.

        Reward-model findings (suspected_mislabel, both_bad): --ensemble K --model BASE trains K reward models per repeat \
        (TRL RewardConfig keys from --ensemble-config) on K−1 folds each and scores every pair with the models that never \
        saw it; or --reward-model DIR (repeatable) scores every pair with given reward models. --reference-model SFT_DIR adds \
        a second opinion on each label: how much each response's log-likelihood depends on its own prompt (against other \
        pairs' prompts); a pair is then a suspected mislabel when the mean of the models' P(chosen ≻ rejected) and \
        σ(relevance gap / --relevance-scale) is at most 1 − --mislabel-confidence.
        AI judge (both_bad): --judge MODEL_DIR or --judge ENDPOINTS.yaml grades each response on its own (harmful, \
        unhelpful, off topic; (A)/(B) options scored by log-probabilities, both orders averaged) and flags pairs whose \
        two responses are both bad; --judge-limit N judges the first N pairs only.
        Example: charter audit pairs.jsonl --ensemble 4 --model sft/ --ensemble-config rm.yaml --output audit/
        """)

    @Argument(help: "The preference data (.jsonl or .jsonl.gz).") var data: String
    @Option(help: "The folder for audit.json, findings.jsonl and report.html.") var output: String
    @Option(help: "MinHash Jaccard similarity of prompt and responses at which a pair is a near duplicate.") var nearDuplicateThreshold = 0.8
    @Option(help: "Words per shingle for MinHash.") var shingleSize = 3
    @Option(help: "Soft labels within this distance of 0.5 are low-confidence.") var lowConfidenceMargin = 0.1
    @Option(help: "Flagged pairs shown side by side in report.html.") var top = 20
    @Option(help: "Cross-fitted reward-model ensemble: the number of folds K (needs --model).") var ensemble: Int?
    @Option(help: "The model the ensemble's reward models start from (a causal LM or sequence-classification folder).") var model: String?
    @Option(help: "Random fold splits; every pair is scored by this many models that never saw it.") var ensembleRepeats = 1
    @Option(help: "A YAML file of TRL RewardConfig keys for the ensemble's training (output_dir is set per model).") var ensembleConfig: String?
    @Option(help: "A reward-model folder scoring every pair (repeatable; instead of --ensemble).") var rewardModel: [String] = []
    @Option(help: "Flag a suspected mislabel when the models' mean P(chosen ≻ rejected) is at most 1 − this.") var mislabelConfidence = 0.8
    @Option(help: "A reference causal LM (e.g. the SFT model the responses came from) whose relevance vote joins the reward models' mean for suspected mislabels: each response's log-likelihood under its own prompt minus under other pairs' prompts.")
    var referenceModel: String?
    @Option(help: "Nats of relevance gap (chosen − rejected) per unit log-odds of the reference model's vote.") var relevanceScale = 12.0
    @Option(help: "Other pairs' prompts each response is scored under for its relevance.") var relevancePrompts = 3
    @Option(help: "An AI judge grading each response (a model folder, or an endpoints YAML/JSON file): pairs whose responses are both harmful, unhelpful or off topic are flagged both_bad.") var judge: String?
    @Option(help: "A response is bad when the judge's P(yes) to any question exceeds this.") var judgeThreshold = 0.7
    @Option(help: "Judge only the first N pairs (the judge asks 24 scoring calls per pair).") var judgeLimit: Int?
    @Option(help: "Chat template for a local judge model (chatml, llama3, …) instead of its own.") var judgeChatTemplate: String?

    func validate() throws {
        if ensemble != nil, !rewardModel.isEmpty { throw ValidationError("give --ensemble (with --model) or --reward-model, not both") }
        if ensemble != nil, model == nil { throw ValidationError("--ensemble needs --model, the folder the reward models start from") }
        if ensemble == nil, model != nil { throw ValidationError("--model is the ensemble's starting model; add --ensemble K") }
        if ensemble == nil, ensembleConfig != nil { throw ValidationError("--ensemble-config needs --ensemble K") }
        if referenceModel != nil, ensemble == nil, rewardModel.isEmpty {
            throw ValidationError("--reference-model votes beside reward models: add --ensemble K --model BASE or --reward-model DIR")
        }
        if referenceModel == nil, relevanceScale != 12 || relevancePrompts != 3 {
            throw ValidationError("--relevance-scale and --relevance-prompts need --reference-model DIR")
        }
        if !(relevanceScale > 0) { throw ValidationError("--relevance-scale must be positive, got \(relevanceScale)") }
        if !(1...16).contains(relevancePrompts) { throw ValidationError("--relevance-prompts must be from 1 to 16, got \(relevancePrompts)") }
        if judge == nil, judgeLimit != nil || judgeChatTemplate != nil { throw ValidationError("--judge-limit and --judge-chat-template need --judge MODEL") }
        if !(0..<1).contains(judgeThreshold) { throw ValidationError("--judge-threshold must be in [0, 1), got \(judgeThreshold)") }
        if let judgeLimit, judgeLimit < 1 { throw ValidationError("--judge-limit must be at least 1, got \(judgeLimit)") }
    }

    /// The reward models the options ask for, if any.
    func rewardModels(output: URL) throws -> RewardModels? {
        if !rewardModel.isEmpty { return .given(rewardModel.map { URL(fileURLWithPath: $0) }) }
        guard let ensemble, let model else { return nil }
        let recipe = try ensembleConfig.map { try TrainingRecipe(file: $0, allowedKeys: RewardConfiguration.keys) }
            ?? TrainingRecipe(allowedKeys: RewardConfiguration.keys)
        let configuration = try recipe.decode(RewardConfiguration.self)
        return .crossFitted(base: URL(fileURLWithPath: model), folds: ensemble, repeats: ensembleRepeats, configuration: configuration,
                            directory: output.appendingPathComponent("reward_models"))
    }

    func run() async throws {
        var settings = AuditConfiguration()
        settings.nearDuplicateThreshold = nearDuplicateThreshold
        settings.shingleSize = shingleSize
        settings.lowConfidenceMargin = lowConfidenceMargin
        settings.topSuspects = top
        settings.mislabelConfidence = mislabelConfidence
        let directory = URL(fileURLWithPath: output)
        settings.rewardModels = try rewardModels(output: directory)
        settings.reference = referenceModel.map { ReferenceRelevance(model: URL(fileURLWithPath: $0), scale: relevanceScale, otherPrompts: relevancePrompts) }
        let start = Date()
        var result = try DataAudit(configuration: settings).run(URL(fileURLWithPath: data)) { note("audit: \($0)") }
        if let judge {
            var isFolder: ObjCBool = false
            let local = FileManager.default.fileExists(atPath: judge, isDirectory: &isFolder) && isFolder.boolValue
            let models = try makeLanguageModels(local ? .local(path: judge, chatTemplate: judgeChatTemplate, lora: nil) : .endpoints(configuration: judge))
            let (findings, summary) = try await ResponseJudge(models: models, threshold: judgeThreshold, limit: judgeLimit)
                .run(URL(fileURLWithPath: data)) { note("judge: \($0)") }
            result.addJudgement(findings, summary: summary)
        }
        try result.write(to: directory)
        print("audit: \(result.pairs.count) pairs, \(result.unreadable.count) unreadable lines, \(result.evidence.count) pairs flagged "
              + String(format: "(%.1f s)", Date().timeIntervalSince(start)))
        for (kind, pairs) in result.counts where pairs > 0 { print("  \(kind.rawValue): \(pairs)") }
        if let share = result.lengthBias.chosenLongerShare {
            print(String(format: "  chosen longer in %.1f%% of %d pairs with different lengths", 100 * share, result.lengthBias.comparablePairs))
        }
        if let models = result.rewardModels {
            print(String(format: "  reward models: %d, %d pairs scored, %.0f s", models.models.count, models.scoredPairs, models.seconds))
        }
        if let judged = result.judge {
            print(String(format: "  judge: %d of %d pairs, bad chosen %d, bad rejected %d, both bad %d, %.0f s", judged.judgedPairs, judged.totalPairs,
                         judged.badChosen, judged.badRejected, judged.bothBad, judged.seconds)
                  + (judged.atChance ? " — at chance (\(judged.decidedResponses) of \(2 * judged.judgedPairs) responses decided): no findings" : ""))
        }
        for error in result.unreadable.prefix(5) { FileHandle.standardError.write(Data("unreadable: \(error)\n".utf8)) }
        if result.unreadable.count > 5 {
            FileHandle.standardError.write(Data("… \(result.unreadable.count - 5) more unreadable lines in audit.json\n".utf8))
        }
        print("wrote \(directory.path)/audit.json, findings.jsonl, report.html")
    }
}
