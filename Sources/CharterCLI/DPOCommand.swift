import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter dpo`: Direct Preference Optimization (and IPO, hinge, robust, SimPO, RPO) on preference data, or
/// `--eval-only` to print TRL's eval metrics for a model, a reference and a dataset.
struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Train a policy with DPO on prompt/chosen/rejected data (TRL's DPOTrainer keys and metrics).",
        discussion: """
            The reference is --ref-model when given, else the base model when training new LoRA adapters, else a frozen \
            copy of the initial policy (with --adapter: of the initial adapter; with precompute_ref_log_probs: the initial \
            policy read once), as TRL chooses it. \
            Example: charter dpo --model sft/ --dataset pairs.jsonl.gz --beta 0.1 --lora-r 16 --output-dir runs/dpo
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "Reference model folder (ref_model).") var refModel: String?
    @Option(help: "A PEFT adapter folder to put on --model and keep training; as TRL, the reference is then a frozen copy of this adapter (give --ref-model BASE to compare with the base model instead).") var adapter: String?
    @Option(help: "loss_type: sigmoid, ipo, hinge, robust, simpo, sft; comma-separated to sum several.") var lossType: String?
    @Option(help: "beta") var beta: Float?
    @Option(help: "label_smoothing") var labelSmoothing: Float?
    @Option(help: "rpo_alpha: weight of the NLL term on chosen completions.") var rpoAlpha: Float?
    @Option(help: "simpo_gamma") var simpoGamma: Float?
    @Option(help: "max_prompt_length") var maxPromptLength: Int?
    @Flag(help: "precompute_ref_log_probs: read the reference once before training, not at every step.") var precomputeRefLogProbs = false
    @Option(help: "precompute_ref_batch_size (default: the train / eval batch size).") var precomputeRefBatchSize: Int?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false

    func run() throws {
        let extra: [String: Any?] = [
            "ref_model": refModel, "loss_type": lossType.map { $0.split(separator: ",").map(String.init) },
            "beta": beta.map { Double($0) }, "label_smoothing": labelSmoothing.map { Double($0) }, "rpo_alpha": rpoAlpha.map { Double($0) },
            "simpo_gamma": simpoGamma.map { Double($0) }, "max_prompt_length": maxPromptLength,
            "precompute_ref_log_probs": precomputeRefLogProbs ? true : nil, "precompute_ref_batch_size": precomputeRefBatchSize,
        ]
        let recipe = try options.recipe(keys: DPOConfiguration.keys, extra: extra)
        let configuration = try recipe.decode(DPOConfiguration.self)
        try configuration.validate()
        if !evalOnly { options.noteDefaultOutput(recipe, configuration.training) }
        let directory = try options.modelDirectory(recipe)
        let (train, evaluation) = try options.datasets(recipe, evalOnly: evalOnly)

        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: configuration.training.seed, adapter: adapter)
        let reference = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: directory,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) },
                                                adapter: adapter.map { URL(fileURLWithPath: $0) })
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder,
                                     train: train?.examples ?? [], evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("DPO: \(limit)") }
        note("DPO: \(trainer.exampleCount) training pairs, \(trainer.evaluationExampleCount) evaluation pairs; \(trainer.truncation.description)")

        if evalOnly { return try printEvaluation(trainer) }
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try options.effective(recipe, configuration, lora: policy.adapterConfiguration),
                          memory: (policy.model, 2 * configuration.training.batchSize, trainer.longestTrainingSequence))
    }
}
