import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter kto`: Kahneman–Tversky Optimization on examples labelled desirable or undesirable (or on preference
/// pairs, unpaired as TRL does), or `--eval-only` to print TRL's eval metrics for a model, a reference and a dataset.
struct KTOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kto",
        abstract: "Train a policy with KTO on prompt/completion/label data (TRL's KTOTrainer keys and metrics).",
        discussion: """
            Preference pairs (prompt/chosen/rejected) are unpaired into a desirable and an undesirable row. The reference \
            is --ref-model when given, else the base model when training new LoRA adapters, else a frozen copy of the \
            initial policy (with --adapter: of the initial adapter; with --precompute-ref-log-probs: the initial policy read \
            once), as TRL chooses it. --precompute-ref-log-probs reads the reference once before training (completions and \
            the KL term's mismatched completions, fixed as TRL fixes them), so it does not run at every step; with \
            loss_type kto it needs train_sampling_strategy sequential. \
            Example: charter kto --model sft/ --dataset labelled.jsonl --beta 0.1 --desirable-weight 1.0 --undesirable-weight 1.0 --output-dir runs/kto
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "Reference model folder (ref_model).") var refModel: String?
    @Option(help: "A PEFT adapter folder to put on --model and keep training; the reference is then a frozen copy of this adapter (give --ref-model BASE to compare with the base model instead).") var adapter: String?
    @Option(help: "loss_type: kto or apo_zero_unpaired.") var lossType: String?
    @Option(help: "beta") var beta: Float?
    @Option(help: "desirable_weight") var desirableWeight: Float?
    @Option(help: "undesirable_weight") var undesirableWeight: Float?
    @Flag(help: "precompute_ref_log_probs: read the reference once before training, not at every step.") var precomputeRefLogProbs = false
    @Option(help: "precompute_ref_batch_size (default: the train / eval batch size).") var precomputeRefBatchSize: Int?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false

    func run() throws {
        let extra: [String: Any?] = [
            "ref_model": refModel, "loss_type": lossType, "beta": beta.map { Double($0) },
            "desirable_weight": desirableWeight.map { Double($0) }, "undesirable_weight": undesirableWeight.map { Double($0) },
            "precompute_ref_log_probs": precomputeRefLogProbs ? true : nil, "precompute_ref_batch_size": precomputeRefBatchSize,
        ]
        let recipe = try options.recipe(keys: KTOConfiguration.keys, extra: extra)
        let configuration = try recipe.decode(KTOConfiguration.self)
        try configuration.validate()
        if !evalOnly { options.noteDefaultOutput(recipe, configuration.training) }
        let directory = try options.modelDirectory(recipe)
        let (train, evaluation) = try options.datasets(recipe, evalOnly: evalOnly)

        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: configuration.training.seed, adapter: adapter)
        let reference = try ReferencePolicy.kto(configuration: configuration, policy: policy, policyFolder: directory,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) },
                                                adapter: adapter.map { URL(fileURLWithPath: $0) })
        let trainer = try KTOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder,
                                     train: train?.examples ?? [], evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("KTO: \(limit)") }
        note("KTO: \(trainer.exampleCount) training examples, \(trainer.evaluationExampleCount) evaluation examples; "
             + "\(trainer.dropped) dropped (prompt fills max_length)")

        if evalOnly { return try printEvaluation(trainer) }
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try options.effective(recipe, configuration, lora: policy.adapterConfiguration),
                          memory: (policy.model, configuration.training.batchSize, trainer.longestTrainingSequence))
    }
}
