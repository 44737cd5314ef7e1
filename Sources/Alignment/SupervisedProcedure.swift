import Foundation
import NeuralNetworks
import Tensors

/// What, besides model and optimizer, a supervised checkpoint must hold for an exact resume.
struct TrainerState: Codable, TrainingLoopState {
    var step: Int
    var generator: SeededGenerator
}

/// The supervised trainers' step (SFT, reward model, DPO): `gradient_accumulation_steps` micro-batches of
/// `per_device_train_batch_size` examples, then one clipped AdamW step. Metrics are averaged over each
/// `logging_steps` window; evaluation follows `eval_strategy` (unset: every `eval_steps` and at the end); checkpoints hold the objective's model
/// folder and trainer_state.json.
final class SupervisedProcedure: TrainingProcedure {
    /// trainer_state.json: step, random generator, optimizer scalars and the objective's counters.
    struct StateFile: CheckpointStateFile {
        static let fileName = "trainer_state.json"
        var step: Int
        var generator: SeededGenerator
        var optimizerKind: String
        var optimizerStepCount: Int
        var learningRate: Float
        var counters: [String: Double]
    }

    static let stepName = "step"
    let objective: TrainingObjective
    let arguments: TrainingArguments

    var methodName: String { objective.methodName }

    init(_ objective: TrainingObjective, arguments: TrainingArguments) {
        self.objective = objective
        self.arguments = arguments
    }

    var exampleCount: Int { objective.exampleCount }
    var examplesPerStep: Int { arguments.batchSize * arguments.gradientAccumulationSteps }
    var microBatchSize: Int? { arguments.batchSize }
    var totalSteps: Int { arguments.totalSteps(exampleCount: objective.exampleCount) }
    var stepsPerEpoch: Int { arguments.stepsPerEpoch(exampleCount: objective.exampleCount) }
    var trainableParameters: [Tensor] { objective.trainableParameters }
    var parametersWithoutDecay: [Tensor] { objective.parametersWithoutDecay }
    var uniformLoss: Double? { objective.uniformLoss }

    func initialState() -> TrainerState { TrainerState(step: 0, generator: SeededGenerator(seed: arguments.seed &+ 0x5EED)) }

    func step(_ indices: [Int], state: inout TrainerState, optimizer: AdamW, context: StepContext) throws -> [String: Double] {
        // The epoch's last step may hold fewer (and a shorter last) micro-batches (`train_sampling_strategy: sequential`).
        let size = arguments.batchSize, accumulation = (indices.count + size - 1) / size
        let microBatches = (0..<accumulation).map { Array(indices[$0 * size..<min(($0 + 1) * size, indices.count)]) }
        // Token-weighted accumulation (transformers' num_items_in_batch) when the objective counts its items; a window
        // with no items at all weighs its micro-batches equally (their losses are 0).
        var weights: [Double]?
        let counts = microBatches.compactMap { objective.lossItemCount(examples: $0) }
        if accumulation > 1, counts.count == accumulation, case let total = counts.reduce(0, +), total > 0 {
            weights = counts.map { Double($0) / Double(total) }
        }
        var metrics: [String: Double] = [:], reports: [String: Double] = [:]
        let (gradientNorm, losses) = try TrainingLoop.optimizerStep(
            optimizer, microBatches: accumulation, maximumGradientNorm: arguments.maximumGradientNorm, step: state.step + 1,
            lastCheckpoint: context.lastCheckpoint, weights: weights) { micro in
            let (loss, microMetrics) = try objective.loss(examples: microBatches[micro], generator: &state.generator)
            for (key, value) in microMetrics where key != "loss" {
                metrics[key, default: 0] += value
                reports[key, default: 0] += 1
            }
            return loss
        }
        // Each metric is averaged over the micro-batches that report it (KTO's rewards/chosen needs a desirable example).
        for (key, count) in reports { metrics[key] = metrics[key].map { $0 / count } }
        for (index, loss) in losses.enumerated() { metrics["loss", default: 0] += Double(loss) * (weights?[index] ?? 1 / Double(accumulation)) }
        metrics["grad_norm"] = Double(gradientNorm)
        metrics["learning_rate"] = Double(optimizer.learningRate)
        return metrics
    }

    var tokensSeen: Double? { objective.counters["num_tokens"] }

    func record(of pending: [[String: Double]], epoch: Double) -> [String: Double] {
        var averaged: [String: Double] = [:], reports: [String: Double] = [:]
        for record in pending {
            for (key, value) in record {
                averaged[key, default: 0] += value
                reports[key, default: 0] += 1
            }
        }
        for (key, count) in reports { averaged[key] = averaged[key].map { $0 / count } }
        // Running totals (num_tokens) are reported as they stand, not averaged over the window (as TRL).
        for (key, value) in objective.counters where averaged[key] != nil { averaged[key] = value }
        averaged["epoch"] = epoch
        return averaged
    }

    func afterStep(_ step: Int, epoch: Double, log: MetricsLog) throws {
        if step < totalSteps && arguments.evaluates(after: step, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch) {
            try evaluate(log: log, step: step, epoch: epoch)
        }
    }

    func finish(_ step: Int, epoch: Double, log: MetricsLog) throws {
        if arguments.evaluates(after: step, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch) {
            try evaluate(log: log, step: step, epoch: epoch)
        }
        try objective.saveModel(to: URL(fileURLWithPath: arguments.outputDirectory))
    }

    /// Appends the objective's sample generations to samples.jsonl and its held-out metrics (`eval_` names) to
    /// metrics.jsonl.
    func evaluate(log: MetricsLog, step: Int, epoch: Double) throws {
        let samples = withoutGradients { objective.sampleGenerations() }
        if !samples.isEmpty {
            try JSONLines.append(samples.map { $0.merging(["step": step]) { $1 } },
                                 to: URL(fileURLWithPath: arguments.outputDirectory).appendingPathComponent("samples.jsonl"))
        }
        guard let metrics = try withoutGradients({ try objective.evaluate() }) else { return }
        var record: [String: Any] = ["step": step, "epoch": epoch]
        for (key, value) in metrics { record["eval_" + key] = value }
        log.write(record)
    }

    func stateFile(_ state: TrainerState, optimizer: OptimizerState) -> StateFile {
        StateFile(step: state.step, generator: state.generator, optimizerKind: optimizer.kind, optimizerStepCount: optimizer.stepCount,
                  learningRate: optimizer.learningRate, counters: objective.counters)
    }

    func restoreState(from file: StateFile) -> TrainerState {
        objective.counters = file.counters
        return TrainerState(step: file.step, generator: file.generator)
    }

    func saveCheckpoint(to directory: URL) throws { try objective.saveModel(to: directory) }
    func loadCheckpoint(from directory: URL) throws { try objective.loadModel(from: directory) }
}
