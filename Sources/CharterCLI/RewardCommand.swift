import Alignment
import ArgumentParser
import Datasets
import Foundation
import LanguageModels
import Tensors

/// `charter reward`: train a reward model (a scalar head on a causal LM) on preference pairs, saved as a transformers
/// sequence-classification folder; or `--eval-only` to print TRL's eval metrics for a reward model and a dataset.
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Train a reward model on prompt/chosen/rejected data (TRL's RewardTrainer keys and metrics).",
        discussion: """
            --model may be a causal LM folder (a new score head is drawn from the seed) or a sequence-classification \
            folder. A "margin" field per line sets the required reward gap; "chosen_probability" gives a soft label. \
            Example: charter reward --model sft/ --dataset pairs.jsonl.gz --output-dir runs/rm
            --ensemble K trains K reward models (seeds seed … seed+K−1; --bootstrap resamples the pairs for each) into \
            OUTPUT/member-1 … member-K and writes OUTPUT/ensemble.json; ppo and the pipeline's ppo stage take that folder \
            as a reward model and combine the members with reward_aggregation: mean | min | uncertainty. \
            --shared-trunk trains the K members as K heads on one trunk instead: one folder OUTPUT/trunk with num_labels K \
            (transformers gives logits (batch, K)), the loss the sum of the heads' losses, each member one column, \
            scored with one forward pass.
            Pluralistic rewards: --heads-from-labels reads --dataset as charter label's records and trains one reward \
            model (head) per principle on that principle's own verdicts; --head NAME=FILE (repeatable) adds a head \
            trained on another preference file (e.g. helpful=human_helpfulness.jsonl). Heads go to OUTPUT/head-NAME \
            with OUTPUT/ensemble.json; ppo combines them with reward_aggregation: weighted and \
            principle_weights: harmless=0.7,helpful=0.3, or reward_aggregation: maxmin and principle_groups: \
            harmless,helpful (MaxMin-RLHF: the lowest group's mean).
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "center_rewards_coefficient") var centerRewardsCoefficient: Float?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false
    @Option(help: "Train an ensemble of this many reward models (Coste et al. 2024) into OUTPUT/member-N with OUTPUT/ensemble.json.")
    var ensemble: Int?
    @Flag(help: "With --ensemble: each member trains on a bootstrap resample of the pairs (default: all pairs, seeds differ).")
    var bootstrap = false
    @Option(name: .customLong("head"), help: "A named reward head trained on its own preference file: NAME=FILE (repeatable).")
    var heads: [String] = []
    @Flag(help: "Train one head per principle from --dataset's charter label records (each principle's own verdicts as soft labels).")
    var headsFromLabels = false
    @Flag(help: "With --ensemble or heads: K heads on one shared trunk (OUTPUT/trunk, num_labels K) instead of K separate models.")
    var sharedTrunk = false

    func run() throws {
        let recipe = try options.recipe(keys: RewardConfiguration.keys,
                                        extra: ["center_rewards_coefficient": centerRewardsCoefficient.map { Double($0) }])
        let configuration = try recipe.decode(RewardConfiguration.self)
        try configuration.validate()
        if !evalOnly { options.noteDefaultOutput(recipe, configuration.training) }
        if try options.loraConfiguration(recipe) != nil {
            throw ValidationError("LoRA reward models are not supported yet (the score head would need PEFT's modules_to_save); train the full model")
        }
        let directory = try options.modelDirectory(recipe)
        if headsFromLabels || !heads.isEmpty {
            guard ensemble == nil, !bootstrap, !evalOnly else { throw ValidationError("--head/--heads-from-labels train one reward model per head; drop --ensemble, --bootstrap and --eval-only") }
            return try trainHeads(recipe: recipe, configuration: configuration, base: directory)
        }
        let (train, evaluation) = try options.datasets(recipe, evalOnly: evalOnly)
        if evalOnly && RewardEnsembleManifest.isEnsemble(directory) {
            return try printEnsembleEvaluation(directory, examples: evaluation?.examples ?? [], chatTemplate: recipe["chat_template_name"] as? String,
                                               batchSize: configuration.training.evaluationBatchSize)
        }

        if bootstrap && ensemble == nil { throw ValidationError("--bootstrap resamples an ensemble's pairs; give --ensemble K too") }
        if sharedTrunk && ensemble == nil { throw ValidationError("--shared-trunk trains an ensemble's members as heads of one model; give --ensemble K (or --head/--heads-from-labels) too") }
        if let ensemble {
            guard ensemble >= 1 && ensemble <= 64 else { throw ValidationError("--ensemble: give 1…64 members (got \(ensemble))") }
            guard !evalOnly else { throw ValidationError("--eval-only evaluates one reward model; drop --ensemble") }
            let chatTemplate = recipe["chat_template_name"] as? String, examples = train?.examples ?? []
            let run: (RewardTrainer, TrainingArguments) throws -> Void = { trainer, arguments in
                try options.train(trainer, arguments: arguments, effectiveConfiguration: try recipe.effective(trainer.configuration))
            }
            let manifest = sharedTrunk
                ? try RewardEnsembleTraining.trainSharedTrunk(configuration: configuration, base: directory, chatTemplate: chatTemplate, examples: examples,
                                                              size: ensemble, bootstrap: bootstrap, log: { note("reward: \($0)") }, train: run)
                : try RewardEnsembleTraining.train(configuration: configuration, base: directory, chatTemplate: chatTemplate, examples: examples,
                                                   size: ensemble, bootstrap: bootstrap, log: { note("reward: \($0)") }, train: run)
            note("reward: ensemble of \(manifest.members.count) written to \(configuration.training.outputDirectory)/\(RewardEnsembleManifest.fileName)")
            return
        }
        let encoder = try ExampleEncoder.load(directory: directory, chatTemplate: recipe["chat_template_name"] as? String)
        let model = try SequenceClassifier.load(directory: directory, seed: configuration.training.seed)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: directory, encoder: encoder,
                                        train: train?.examples ?? [], evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("reward: \(limit)") }
        note("reward: \(trainer.exampleCount) training pairs, \(trainer.evaluationExampleCount) evaluation pairs; "
             + "\(trainer.droppedCount) pairs dropped (longer than max_length)")
        if evalOnly { return try printEvaluation(trainer) }
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try recipe.effective(configuration))
    }

    /// `--eval-only` with an ensemble folder as --model: each member's accuracy on the pairs (chosen scored above
    /// rejected; on gold-labelled pairs, its agreement with the ground truth), the members' mean's, the models loaded
    /// (one per folder: a shared trunk is one) and the seconds the scoring took, as JSON.
    func printEnsembleEvaluation(_ directory: URL, examples: [Example], chatTemplate: String?, batchSize: Int) throws {
        let manifest = try RewardEnsembleManifest.load(directory: directory)
        let encoder = try ExampleEncoder.load(directory: manifest.firstFolder(in: directory), chatTemplate: chatTemplate)
        let pairs = try examples.flatMap { try RewardPair.pairs(from: $0, encoder: encoder) }
        guard !pairs.isEmpty else { throw ValidationError("--eval-only needs preference pairs in --eval-dataset (or --dataset)") }
        let ensemble = try EnsembleReward.load(directory: directory, aggregation: .mean, sharesTokenizer: true, batchSize: batchSize)
        let sequences = pairs.map(\.chosenIds) + pairs.map(\.rejectedIds)
        let rollouts = sequences.map { ScoredRollout(promptIds: $0, responseIds: [], prompt: "", response: "", endsWithStopToken: false) }
        let start = Date()
        let scores = try ensemble.memberScores(rollouts)
        let seconds = Date().timeIntervalSince(start)
        func accuracy(_ values: [Double]) -> Double {
            Double(pairs.indices.filter { values[$0] > values[pairs.count + $0] }.count) / Double(pairs.count)
        }
        var metrics: [String: Any] = [
            "eval_accuracy": accuracy(EnsembleReward.aggregate(scores, .mean).values),
            "eval_pairs": pairs.count, "eval_sequences": sequences.count,
            "eval_scoring_seconds": seconds, "eval_models_loaded": ensemble.scorers.count,
        ]
        for (index, member) in scores.enumerated() { metrics["eval_accuracy/member-\(index + 1)"] = accuracy(member) }
        try printMetrics(metrics)
    }

    /// Trains one reward model per head (`--heads-from-labels`, `--head NAME=FILE`) and writes ensemble.json.
    func trainHeads(recipe: TrainingRecipe, configuration: RewardConfiguration, base: URL) throws {
        var named: [(name: String, examples: [Example])] = []
        if headsFromLabels {
            guard let labels = try options.datasets(recipe).train else {
                throw ValidationError("--heads-from-labels splits --dataset (charter label's records) by principle; give --dataset")
            }
            let source = recipe["dataset_name"] as? String ?? "--dataset"
            named = try PrincipleHeads.pairs(fromLabels: labels.examples, source: source)
            note("reward: \(named.count) principle heads from \(source): " + named.map { "\($0.name) (\($0.examples.count) pairs)" }.joined(separator: ", "))
        } else if recipe["dataset_name"] != nil {
            throw ValidationError("--dataset is only read with --heads-from-labels when training heads; give each head's file with --head NAME=FILE")
        }
        for entry in heads {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--head \(entry.debugDescription): write NAME=FILE") }
            try options.checkPath(parts[1], key: "--head \(parts[0])")
            let dataset = try DatasetSource.load(URL(fileURLWithPath: parts[1]), split: "train", options: DatasetOptions(skipInvalid: options.skipInvalid))
            note(dataset.summary)
            named.append((parts[0], dataset.examples))
        }
        let run: (RewardTrainer, TrainingArguments) throws -> Void = { trainer, arguments in
            try options.train(trainer, arguments: arguments, effectiveConfiguration: try recipe.effective(trainer.configuration))
        }
        let chatTemplate = recipe["chat_template_name"] as? String
        let manifest = sharedTrunk
            ? try RewardEnsembleTraining.trainSharedTrunk(configuration: configuration, base: base, chatTemplate: chatTemplate, heads: named,
                                                          log: { note("reward: \($0)") }, train: run)
            : try RewardEnsembleTraining.train(configuration: configuration, base: base, chatTemplate: chatTemplate, heads: named,
                                               log: { note("reward: \($0)") }, train: run)
        note("reward: \(manifest.members.count) heads (\(manifest.heads.compactMap { $0 }.joined(separator: ", "))) written to "
             + "\(configuration.training.outputDirectory)/\(RewardEnsembleManifest.fileName); combine them in ppo with reward_aggregation: weighted or maxmin")
    }
}
