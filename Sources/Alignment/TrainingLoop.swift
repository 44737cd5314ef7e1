import Foundation
import NeuralNetworks
import Runtime
import SafeTensors
import Tensors

/// What a trainer optimises: the loss of a micro-batch of examples, plus how to save and evaluate the model.
public protocol TrainingObjective: AnyObject {
    /// Number of training examples; the loop decides their order.
    var exampleCount: Int { get }
    /// Parameters the optimizer updates.
    var trainableParameters: [Tensor] { get }
    /// Parameters that get no weight decay (biases, norms).
    var parametersWithoutDecay: [Tensor] { get }
    /// Loss (a scalar tensor on the tape) of the examples at `indices`, and metrics (TRL names) to average.
    func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double])
    /// Metrics on held-out data (without the `eval_` prefix), or nil when there is none.
    func evaluate() throws -> [String: Double]?
    /// Writes the trainable model (a transformers or PEFT folder) into `directory`.
    func saveModel(to directory: URL) throws
    /// Restores the trainable weights written by `saveModel`.
    func loadModel(from directory: URL) throws
    /// Counters the objective keeps across steps (e.g. tokens seen), saved in checkpoints for an exact resume.
    var counters: [String: Double] { get set }
    /// Generations to show at evaluation time (written to samples.jsonl), or none.
    func sampleGenerations() -> [[String: Any]]
}

extension TrainingObjective {
    public func evaluate() throws -> [String: Double]? { nil }
    public func sampleGenerations() -> [[String: Any]] { [] }
}

/// The loop shared by the supervised trainers (SFT, reward model, DPO): shuffled micro-batches, gradient
/// accumulation, clipping, AdamW with a schedule, metrics, evaluation, atomic checkpoints and exact resume.
public struct TrainingLoop {
    public let arguments: TrainingArguments

    public init(arguments: TrainingArguments) { self.arguments = arguments }

    /// The result of a run.
    public struct Summary: Sendable {
        public var steps: Int
        public var lastMetrics: [String: Double]
        public var history: [[String: Double]]
    }

    /// Trains `objective`. With `resume`, continues from the newest complete checkpoint in the output folder,
    /// so that N steps equal k steps + resume + N − k steps, bit for bit.
    /// - Parameter stopAfter: end the run (without the final evaluation and save) once this many steps are done,
    ///   as an interrupted run would; the schedule still spans the full run.
    public func run(_ objective: TrainingObjective, resume: Bool = false, effectiveConfiguration: [String: Any] = [:],
                    stopAfter: Int? = nil) throws -> Summary {
        try arguments.validate()
        let output = URL(fileURLWithPath: arguments.outputDirectory)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        if !effectiveConfiguration.isEmpty {
            let data = try JSONSerialization.data(withJSONObject: effectiveConfiguration, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: output.appendingPathComponent("training_config.json"), options: .atomic)
        }
        guard objective.exampleCount > 0 else { throw TrainingError.data("the training set is empty") }
        let totalSteps = arguments.totalSteps(exampleCount: objective.exampleCount)
        let schedule = arguments.schedule(totalSteps: totalSteps)
        let optimizer = AdamW(parameters: objective.trainableParameters, learningRate: arguments.learningRate,
                              beta1: arguments.adamBeta1, beta2: arguments.adamBeta2, epsilon: arguments.adamEpsilon,
                              weightDecay: arguments.weightDecay, noDecay: objective.parametersWithoutDecay)
        var state = TrainerState(step: 0, generator: SeededGenerator(seed: arguments.seed &+ 0x5EED))
        var lastCheckpoint: String?
        if resume, let checkpoint = try Checkpoints.latest(in: output) {
            state = try Checkpoints.restore(checkpoint, objective: objective, optimizer: optimizer)
            lastCheckpoint = checkpoint.path
        }
        let log = try MetricsLog(directory: output, totalSteps: totalSteps, startStep: state.step)
        if let lastCheckpoint { log.note("resuming from \(lastCheckpoint) at step \(state.step)") }
        let order = DataOrder(count: objective.exampleCount, seed: arguments.seed)
        let perStep = arguments.batchSize * arguments.gradientAccumulationSteps
        var pending: [[String: Double]] = []
        var history: [[String: Double]] = []
        var lastMetrics: [String: Double] = [:]
        while state.step < totalSteps {
            if let stopAfter, state.step >= stopAfter { return Summary(steps: state.step, lastMetrics: lastMetrics, history: history) }
            let step = state.step
            optimizer.zeroGradients()
            var stepMetrics: [String: Double] = [:]
            for micro in 0..<arguments.gradientAccumulationSteps {
                let start = step * perStep + micro * arguments.batchSize
                let indices = (start..<(start + arguments.batchSize)).map(order.index)
                let (loss, metrics) = try objective.loss(examples: indices, generator: &state.generator)
                let value = loss.item
                guard value.isFinite else { throw TrainingError.nonFinite(step: step + 1, quantity: "the loss (\(value))", lastCheckpoint: lastCheckpoint) }
                (loss * (1 / Float(arguments.gradientAccumulationSteps))).backward()
                for (key, metric) in metrics.merging(["loss": Double(value)], uniquingKeysWith: { $1 }) {
                    stepMetrics[key, default: 0] += metric / Double(arguments.gradientAccumulationSteps)
                }
            }
            let gradientNorm = arguments.maximumGradientNorm > 0
                ? clipGradientNorm(optimizer.parameters, maxNorm: arguments.maximumGradientNorm)
                : clipGradientNorm(optimizer.parameters, maxNorm: .infinity)
            guard gradientNorm.isFinite else {
                throw TrainingError.nonFinite(step: step + 1, quantity: "the gradient norm (\(gradientNorm))", lastCheckpoint: lastCheckpoint)
            }
            optimizer.learningRate = schedule.learningRate(at: step)
            optimizer.step()
            optimizer.zeroGradients()
            state.step += 1
            stepMetrics["grad_norm"] = Double(gradientNorm)
            stepMetrics["learning_rate"] = Double(optimizer.learningRate)
            pending.append(stepMetrics)
            let epoch = Double(state.step * perStep) / Double(objective.exampleCount)
            if state.step % arguments.loggingSteps == 0 || state.step == totalSteps {
                var averaged: [String: Double] = [:]
                for record in pending { for (key, value) in record { averaged[key, default: 0] += value / Double(pending.count) } }
                pending.removeAll()
                // Running totals (num_tokens) are reported as they stand, not averaged over the window (as TRL).
                for (key, value) in objective.counters where averaged[key] != nil { averaged[key] = value }
                averaged["epoch"] = epoch
                lastMetrics = averaged
                history.append(averaged.merging(["step": Double(state.step)]) { $1 })
                log.write(averaged.merging(["step": Double(state.step)]) { $1 })
            }
            log.progress(step: state.step, metrics: lastMetrics)
            if arguments.evaluationSteps > 0 && state.step % arguments.evaluationSteps == 0 && state.step < totalSteps {
                try evaluate(objective, log: log, step: state.step, epoch: epoch)
            }
            if arguments.saveSteps > 0 && state.step % arguments.saveSteps == 0 {
                lastCheckpoint = try Checkpoints.save(step: state.step, state: state, objective: objective, optimizer: optimizer,
                                                      in: output, keep: arguments.saveTotalLimit).path
            }
        }
        try evaluate(objective, log: log, step: state.step, epoch: Double(state.step * perStep) / Double(objective.exampleCount))
        try objective.saveModel(to: output)
        return Summary(steps: state.step, lastMetrics: lastMetrics, history: history)
    }

    private func evaluate(_ objective: TrainingObjective, log: MetricsLog, step: Int, epoch: Double) throws {
        let samples = withoutGradients { objective.sampleGenerations() }
        if !samples.isEmpty {
            let url = URL(fileURLWithPath: arguments.outputDirectory).appendingPathComponent("samples.jsonl")
            var lines = Data()
            for sample in samples {
                lines += try JSONSerialization.data(withJSONObject: sample.merging(["step": step]) { $1 }, options: [.sortedKeys]) + Data("\n".utf8)
            }
            if let handle = FileHandle(forWritingAtPath: url.path) {
                handle.seekToEndOfFile(); handle.write(lines); try? handle.close()
            } else {
                try lines.write(to: url)
            }
        }
        guard let metrics = try withoutGradients({ try objective.evaluate() }) else { return }
        var record: [String: Any] = ["step": step, "epoch": epoch]
        for (key, value) in metrics { record["eval_" + key] = value }
        log.write(record)
    }
}

/// What, besides model and optimizer, a checkpoint must hold for an exact resume.
struct TrainerState: Codable {
    var step: Int
    var generator: SeededGenerator
}

/// The order in which examples are visited: a fresh seeded permutation per epoch (Fisher–Yates with Charter's
/// generator, so the order is the same on every platform and after a resume).
final class DataOrder {
    let count: Int
    let seed: UInt64
    private var epoch = -1
    private var order: [Int] = []

    init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
    }

    /// The example visited at `position` of the endless sequence of epochs.
    func index(_ position: Int) -> Int {
        if position / count != epoch {
            epoch = position / count
            order = Self.permutation(count: count, seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        }
        return order[position % count]
    }

    static func permutation(count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        var order = Array(0..<count)
        order.seededShuffle(using: &generator)
        return order
    }
}
