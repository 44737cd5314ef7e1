import Foundation
import NeuralNetworks

/// Settings every trainer shares, named as in transformers' `TrainingArguments` (the keys of a recipe YAML).
public struct TrainingArguments: Codable, Equatable, Sendable {
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
    /// Write a resumable checkpoint every this many steps (0 = none).
    public var saveSteps = 0
    /// Keep at most this many checkpoints (0 = all).
    public var saveTotalLimit = 0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case outputDirectory = "output_dir", learningRate = "learning_rate", learningRateSchedule = "lr_scheduler_type"
        case warmupSteps = "warmup_steps", warmupRatio = "warmup_ratio", maximumSteps = "max_steps"
        case epochs = "num_train_epochs", batchSize = "per_device_train_batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps", maximumGradientNorm = "max_grad_norm"
        case weightDecay = "weight_decay", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", adamEpsilon = "adam_epsilon"
        case seed, loggingSteps = "logging_steps", evaluationSteps = "eval_steps", saveSteps = "save_steps"
        case saveTotalLimit = "save_total_limit"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingArguments()
        outputDirectory = try c.decodeIfPresent(String.self, forKey: .outputDirectory) ?? d.outputDirectory
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        learningRateSchedule = try c.decodeIfPresent(String.self, forKey: .learningRateSchedule) ?? d.learningRateSchedule
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
        warmupRatio = try c.decodeIfPresent(Float.self, forKey: .warmupRatio) ?? d.warmupRatio
        maximumSteps = try c.decodeIfPresent(Int.self, forKey: .maximumSteps) ?? d.maximumSteps
        epochs = try c.decodeIfPresent(Float.self, forKey: .epochs) ?? d.epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        gradientAccumulationSteps = try c.decodeIfPresent(Int.self, forKey: .gradientAccumulationSteps) ?? d.gradientAccumulationSteps
        maximumGradientNorm = try c.decodeIfPresent(Float.self, forKey: .maximumGradientNorm) ?? d.maximumGradientNorm
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        adamBeta1 = try c.decodeIfPresent(Float.self, forKey: .adamBeta1) ?? d.adamBeta1
        adamBeta2 = try c.decodeIfPresent(Float.self, forKey: .adamBeta2) ?? d.adamBeta2
        adamEpsilon = try c.decodeIfPresent(Float.self, forKey: .adamEpsilon) ?? d.adamEpsilon
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        loggingSteps = try c.decodeIfPresent(Int.self, forKey: .loggingSteps) ?? d.loggingSteps
        evaluationSteps = try c.decodeIfPresent(Int.self, forKey: .evaluationSteps) ?? d.evaluationSteps
        saveSteps = try c.decodeIfPresent(Int.self, forKey: .saveSteps) ?? d.saveSteps
        saveTotalLimit = try c.decodeIfPresent(Int.self, forKey: .saveTotalLimit) ?? d.saveTotalLimit
    }

    /// The recipe keys these arguments read.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Checks values a run cannot start with, naming the key.
    public func validate() throws {
        func require(_ condition: Bool, _ key: CodingKeys, _ message: String) throws {
            if !condition { throw ConfigurationError(key: key.rawValue, message: message) }
        }
        try require(learningRate > 0, .learningRate, "must be positive")
        try require(LearningRateSchedule.Decay(rawValue: learningRateSchedule) != nil, .learningRateSchedule,
                    "must be one of \(LearningRateSchedule.Decay.allCases.map(\.rawValue).joined(separator: ", "))")
        try require(batchSize >= 1, .batchSize, "must be at least 1")
        try require(gradientAccumulationSteps >= 1, .gradientAccumulationSteps, "must be at least 1")
        try require(maximumSteps > 0 || epochs > 0, .maximumSteps, "set max_steps or a positive num_train_epochs")
        try require(warmupRatio >= 0 && warmupRatio < 1, .warmupRatio, "must be in [0, 1)")
        try require(loggingSteps >= 1, .loggingSteps, "must be at least 1")
    }

    /// Optimizer steps for `exampleCount` examples.
    public func totalSteps(exampleCount: Int) -> Int {
        if maximumSteps > 0 { return maximumSteps }
        let perStep = batchSize * gradientAccumulationSteps
        let stepsPerEpoch = max(1, (exampleCount + perStep - 1) / perStep)
        return max(1, Int((Float(stepsPerEpoch) * epochs).rounded(.up)))
    }

    func schedule(totalSteps: Int) -> LearningRateSchedule {
        let warmup = warmupSteps > 0 ? warmupSteps : Int((warmupRatio * Float(totalSteps)).rounded(.up))
        return LearningRateSchedule(peak: learningRate, warmupSteps: warmup, totalSteps: totalSteps,
                                    decay: LearningRateSchedule.Decay(rawValue: learningRateSchedule) ?? .linear)
    }
}

/// A recipe or flag value that cannot be used, naming the key.
public struct ConfigurationError: Error, CustomStringConvertible, LocalizedError {
    public let key: String
    public let message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "\(key): \(message)" }
    public var errorDescription: String? { description }
}
