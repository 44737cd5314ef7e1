import Foundation
import NeuralNetworks
import Settings

/// Settings every trainer shares, named as in transformers' `TrainingArguments` (the keys of a recipe YAML).
public struct TrainingArguments: KeyedSettings, Equatable, Sendable {
    /// Where checkpoints, metrics.jsonl, the effective config and the final model are written.
    public var outputDirectory = "runs/train"
    /// Peak learning rate (after warm-up).
    public var learningRate: Float = 5e-5
    /// "constant", "linear" or "cosine" (transformers' `lr_scheduler_type`).
    public var learningRateSchedule = "linear"
    /// Warm-up steps; when 0, `warmup_ratio` × total steps.
    public var warmupSteps = 0
    public var warmupRatio: Float = 0
    /// Optimizer steps to run; when ≤ 0, `num_train_epochs` passes over the data.
    public var maximumSteps = -1
    public var epochs: Float = 1
    /// Examples per micro-batch (`per_device_train_batch_size`).
    public var batchSize = 8
    /// Examples per evaluation batch (`per_device_eval_batch_size`).
    public var evaluationBatchSize = 8
    /// Micro-batches whose gradients are summed before each optimizer step.
    public var gradientAccumulationSteps = 1
    /// Global gradient-norm clipping (0 = off).
    public var maximumGradientNorm: Float = 1
    /// AdamW's decoupled weight decay (not applied to biases and norms).
    public var weightDecay: Float = 0
    public var adamBeta1: Float = 0.9
    public var adamBeta2: Float = 0.999
    public var adamEpsilon: Float = 1e-8
    /// Seed of data order, initialisation of new parameters, dropout and sampling.
    public var seed: UInt64 = 42
    /// Log metrics every this many steps.
    public var loggingSteps = 10
    /// Evaluate every this many steps (0 = only at the end, when there is evaluation data).
    public var evaluationSteps = 0
    /// Write a resumable checkpoint every this many steps (0 = none). TRL's default, so `--resume` has something to
    /// resume from in a run of any length.
    public var saveSteps = 500
    /// "steps" (checkpoints every `save_steps`, transformers' default) or "no" (none).
    public var saveStrategy = "steps"
    /// Keep at most this many checkpoints (0 = all).
    public var saveTotalLimit = 0
    /// transformers' `train_sampling_strategy`: "random" (a fresh seeded permutation each epoch) or "sequential" (the
    /// file's order every epoch, as `SequentialSampler`, so a run can be replayed exactly in TRL).
    public var trainSamplingStrategy = "random"
    /// Also log the metrics of step 1 (transformers' `logging_first_step`).
    public var loggingFirstStep = false
    /// transformers' `eval_strategy`: "steps" (every `eval_steps`, or `logging_steps` when that is 0), "epoch" (at
    /// each epoch's end) or "no". Unset, Charter evaluates every `eval_steps` (when > 0) and once at the end.
    public var evaluationStrategy: String?
    /// Where metrics go besides metrics.jsonl (transformers' `report_to`): "tensorboard" writes event files where
    /// transformers' callback does (`TENSORBOARD_LOGGING_DIR`, or `output_dir/runs/MonDD_HH-MM-SS_HOST`); "none"
    /// nothing more. Other integrations (wandb, trackio, …) are refused: they need a network.
    public var reportTo: [String] = ["none"]
    /// Recompute each decoder block in the backward pass instead of keeping its activations (Chen et al. 2016):
    /// activation memory falls from every block's to one block's plus each block's input, for one more forward pass.
    public var gradientCheckpointing = false

    public init() {}

    /// An experiment's short training stage, written into `output`: `steps` optimizer steps of `batchSize` at a constant
    /// `learningRate`, no checkpoints, a log line every `loggingSteps` steps.
    public static func constantRate(output: URL, steps: Int, batchSize: Int, learningRate: Float, seed: UInt64,
                                    loggingSteps: Int = 10) -> TrainingArguments {
        var arguments = TrainingArguments()
        arguments.outputDirectory = output.path
        arguments.maximumSteps = steps
        arguments.batchSize = batchSize
        arguments.learningRate = learningRate
        arguments.learningRateSchedule = "constant"
        arguments.saveSteps = 0
        arguments.loggingSteps = loggingSteps
        arguments.seed = seed
        return arguments
    }

    /// Upper bounds of the count-like keys: far above any real run, low enough that no value can overflow a step
    /// counter or make a micro-batch allocate without limit (`per_device_train_batch_size: 1e12` aborted the process).
    public enum Limits {
        /// Examples per micro-batch (`per_device_train_batch_size`, evaluation and rollout batch sizes).
        public static let batchSize = 1024
        /// Micro-batches per optimizer step.
        public static let accumulationSteps = 65_536
        /// Steps, step intervals and episode counts.
        public static let steps = 1_000_000_000
        /// Tokens in one sequence (`max_length`, `max_prompt_length`, `response_length`).
        public static let sequenceLength = 131_072
        /// Passes over the data.
        public static let epochs: Float = 100_000
        /// A learning rate above this destroys any model in one AdamW step (updates are about lr per weight).
        public static let learningRate: Float = 10
    }

    /// transformers' `TrainingArguments` keys (defaults are the property values above). Ranges: see `Limits`.
    public static var fields: [SettingsField<Self>] {
        [.init("output_dir", \.outputDirectory, where: .path),
         .init("learning_rate", \.learningRate, where: SettingsCheck.positive.and(.atMost(Limits.learningRate))),
         .init("lr_scheduler_type", \.learningRateSchedule, where: .oneOf(LearningRateSchedule.Decay.allCases.map(\.rawValue))),
         .init("warmup_steps", \.warmupSteps, where: .from(0, to: Limits.steps)),
         .init("warmup_ratio", \.warmupRatio, where: .within(0..<1)),
         .init("max_steps", \.maximumSteps, where: .from(-1, to: Limits.steps)),
         .init("num_train_epochs", \.epochs, where: .within(0...Limits.epochs)),
         .init("per_device_train_batch_size", \.batchSize, where: .from(1, to: Limits.batchSize)),
         .init("per_device_eval_batch_size", \.evaluationBatchSize, where: .from(1, to: Limits.batchSize)),
         .init("gradient_accumulation_steps", \.gradientAccumulationSteps, where: .from(1, to: Limits.accumulationSteps)),
         .init("max_grad_norm", \.maximumGradientNorm, where: SettingsCheck.finite.and(.atLeast(0))),
         .init("weight_decay", \.weightDecay, where: .within(0...1)),
         .init("adam_beta1", \.adamBeta1, where: .within(0..<1)),
         .init("adam_beta2", \.adamBeta2, where: .within(0..<1)),
         .init("adam_epsilon", \.adamEpsilon, where: SettingsCheck.positive.and(.atMost(1))),
         .init("seed", \.seed), .init("logging_steps", \.loggingSteps, where: .from(1, to: Limits.steps)),
         .init("eval_steps", \.evaluationSteps, where: .from(0, to: Limits.steps)),
         .init("save_steps", \.saveSteps, where: .from(0, to: Limits.steps)),
         .init("save_strategy", \.saveStrategy, where: .oneOf(["steps", "epoch", "no"])),
         .init("save_total_limit", \.saveTotalLimit, where: .from(0, to: Limits.steps)),
         .init("train_sampling_strategy", \.trainSamplingStrategy, where: .oneOf(["random", "sequential"])),
         .init("logging_first_step", \.loggingFirstStep),
         .init("eval_strategy", \.evaluationStrategy, where: .oneOf(["steps", "epoch", "no"]), omitsNil: true),
         .init("report_to", oneOrMany: \.reportTo, writesSingleAsScalar: true, where: SettingsCheck { names in
             names.first { !["none", "tensorboard"].contains($0) }.map { "\(SettingsError.quoted($0)) is not available: give tensorboard or none (wandb, trackio and other integrations need a network this tool does not use)" }
         }),
         .init("gradient_checkpointing", \.gradientCheckpointing)]
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try checkRanges()
        if maximumSteps <= 0 && epochs <= 0 {
            throw SettingsError(key: "max_steps", message: "set max_steps or a positive num_train_epochs (got max_steps \(maximumSteps), num_train_epochs \(epochs))")
        }
    }

    /// Whether a checkpoint is written after `step` (`stepsPerEpoch`: optimizer steps in one pass over the data).
    func savesCheckpoint(after step: Int, stepsPerEpoch: Int) -> Bool {
        switch saveStrategy {
        case "steps": return saveSteps > 0 && step % saveSteps == 0
        case "epoch": return step % max(1, stepsPerEpoch) == 0
        default: return false
        }
    }

    /// Whether the held-out set is evaluated after `step` of `totalSteps` (the final evaluation included).
    func evaluates(after step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Bool {
        switch evaluationStrategy {
        case nil: return step == totalSteps || (evaluationSteps > 0 && step % evaluationSteps == 0)
        case "steps"?:
            let interval = evaluationSteps > 0 ? evaluationSteps : loggingSteps
            return step % interval == 0
        case "epoch"?: return step % max(1, stepsPerEpoch) == 0
        default: return false
        }
    }

    /// Whether the metrics of `step` are logged.
    func logs(step: Int, totalSteps: Int) -> Bool {
        step % loggingSteps == 0 || step == totalSteps || (loggingFirstStep && step == 1)
    }

    /// Optimizer steps in one pass over `exampleCount` examples.
    func stepsPerEpoch(exampleCount: Int) -> Int {
        let perStep = batchSize * gradientAccumulationSteps
        return max(1, (exampleCount + perStep - 1) / perStep)
    }

    /// Optimizer steps for `exampleCount` examples.
    public func totalSteps(exampleCount: Int) -> Int {
        if maximumSteps > 0 { return maximumSteps }
        return max(1, Int((Float(stepsPerEpoch(exampleCount: exampleCount)) * epochs).rounded(.up)))
    }

    func schedule(totalSteps: Int) -> LearningRateSchedule {
        let warmup = warmupSteps > 0 ? warmupSteps : Int((warmupRatio * Float(totalSteps)).rounded(.up))
        return LearningRateSchedule(peak: learningRate, warmupSteps: warmup, totalSteps: totalSteps,
                                    decay: LearningRateSchedule.Decay(rawValue: learningRateSchedule) ?? .linear)
    }
}
