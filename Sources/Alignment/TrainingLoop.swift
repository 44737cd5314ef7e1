import Foundation
import JSON
import NeuralNetworks
import Runtime
import SafeTensors
import Tensors

/// The run skeleton every trainer shares (SFT, reward model and DPO through `run(_:)`, PPO through
/// `PPOTrainer.train`): ordered examples, scheduled AdamW steps, metrics.jsonl and progress, evaluation, atomic
/// `save_steps` checkpoints, exact resume and the final save. What a step does is the `TrainingProcedure`'s.
public struct TrainingLoop {
    public let arguments: TrainingArguments
    /// Makes the step progress line from (total steps, steps already done); tests draw into a buffer.
    var makeProgressLine: (_ totalSteps: Int, _ startStep: Int) -> ProgressLine = {
        ProgressLine(label: "step", total: $0, startingAt: $1, unit: "it")
    }

    public init(arguments: TrainingArguments) { self.arguments = arguments }

    /// The result of a run.
    public struct Summary: Sendable {
        public var steps: Int
        public var lastMetrics: [String: Double]
        /// The metrics.jsonl records of the run (each with its `step`).
        public var history: [[String: Double]]
        /// What TRL prints at the end of `train()` — train_runtime (s), train_samples_per_second,
        /// train_steps_per_second — plus train_tokens_per_second (when the objective counts num_tokens) and
        /// peak_rss_bytes, for the steps this run did.
        public var throughput: [String: Double] = [:]
    }

    /// Trains `objective` with gradient accumulation and clipping. With `resume`, continues from the newest complete
    /// checkpoint in the output folder, so that N steps equal k steps + resume + N − k steps, bit for bit.
    /// - Parameter stopAfter: end the run (without the final evaluation and save) once this many steps are done,
    ///   as an interrupted run would; the schedule still spans the full run.
    public func run(_ objective: TrainingObjective, resume: Bool = false, effectiveConfiguration: [String: Any] = [:],
                    stopAfter: Int? = nil) throws -> Summary {
        let configurationFile = effectiveConfiguration.isEmpty ? nil : try Self.configurationFile(effectiveConfiguration)
        return try drive(SupervisedProcedure(objective, arguments: arguments), resume: resume,
                         configurationFile: configurationFile, stopAfter: stopAfter).summary
    }

    /// training_config.json's contents for an effective configuration of recipe keys: pretty-printed, keys sorted.
    static func configurationFile(_ effectiveConfiguration: [String: Any]) throws -> Data {
        Data((try JSONValue(foundation: effectiveConfiguration).serialized(.indented) + "\n").utf8)
    }

    /// training_config.json's contents for a configuration's own keys, in the same form (slashes unescaped).
    static func configurationFile(_ configuration: some Encodable) throws -> Data {
        Data((try JSONParser.parse(JSONEncoder().encode(configuration)).sortingKeys.serialized(.indented) + "\n").utf8)
    }

    /// Drives `procedure` to `procedure.totalSteps` (or `stopAfter`). Returns the summary and every step's metrics.
    /// - Parameter configurationFile: written as training_config.json when given.
    func drive<Procedure: TrainingProcedure>(_ procedure: Procedure, resume: Bool, configurationFile data: Data?,
                                             stopAfter: Int?) throws -> (summary: Summary, steps: [[String: Double]]) {
        try arguments.validate()
        let output = URL(fileURLWithPath: arguments.outputDirectory)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        if let data {
            try AtomicFile.write(data, to: output.appendingPathComponent("training_config.json"))
        }
        guard procedure.exampleCount > 0 else { throw TrainingError.data("the training set is empty") }
        let totalSteps = procedure.totalSteps
        let schedule = arguments.schedule(totalSteps: totalSteps)
        let optimizer = AdamW(parameters: procedure.trainableParameters, learningRate: arguments.learningRate,
                              beta1: arguments.adamBeta1, beta2: arguments.adamBeta2, epsilon: arguments.adamEpsilon,
                              weightDecay: arguments.weightDecay, noDecay: procedure.parametersWithoutDecay)
        var state = procedure.initialState()
        var lastCheckpoint: String?
        if resume, let checkpoint = Checkpoints.latest(in: output, for: Procedure.self) {
            state = try Checkpoints.restore(checkpoint, into: procedure, optimizer: optimizer)
            lastCheckpoint = checkpoint.path
        }
        var health = TrainingHealth(uniformLoss: procedure.uniformLoss, parameters: procedure.trainableParameters)
        if let lastCheckpoint { health.checkpointed(step: state.step, path: lastCheckpoint) }
        let log = try MetricsLog(directory: output, startStep: state.step, line: makeProgressLine(totalSteps, state.step),
                                 tensorBoard: try tensorBoardEvents(output: output))
        defer { log.finish() }
        if let lastCheckpoint { log.note("resuming from \(lastCheckpoint) at \(Procedure.stepName) \(state.step)") }
        if log.droppedRecords > 0 {
            log.note("metrics.jsonl: dropped \(log.droppedRecords) line(s) written after \(Procedure.stepName) \(state.step), which this run writes again")
        }
        let order = DataOrder(count: procedure.exampleCount, seed: arguments.seed, sequential: arguments.trainSamplingStrategy == "sequential")
        let perStep = procedure.examplesPerStep
        let stepsPerEpoch = max(1, (procedure.exampleCount + perStep - 1) / perStep)
        let startStep = state.step, started = Date()
        let startTokens = procedure.tokensSeen
        /// Training tokens per second over this run's steps (nil when the objective does not count tokens).
        func tokensPerSecond() -> Double? {
            guard let startTokens, let now = procedure.tokensSeen else { return nil }
            let elapsed = Date().timeIntervalSince(started)
            return elapsed > 0 ? (now - startTokens) / elapsed : nil
        }
        var pending: [[String: Double]] = []
        var history: [[String: Double]] = []
        var steps: [[String: Double]] = []
        var lastMetrics: [String: Double] = [:]
        func epoch(_ step: Int) -> Double { Double(step * perStep) / Double(procedure.exampleCount) }
        while state.step < totalSteps {
            if let stopAfter, state.step >= stopAfter { break }
            let indices = arguments.trainSamplingStrategy == "sequential" && procedure.microBatchSize != nil
                ? order.transformersWindow(step: state.step, microBatchSize: procedure.microBatchSize!, microBatchesPerStep: perStep / procedure.microBatchSize!)
                : (state.step * perStep..<(state.step + 1) * perStep).map(order.index)
            optimizer.learningRate = schedule.learningRate(at: state.step)
            let context = StepContext(lastCheckpoint: lastCheckpoint, startStep: startStep, started: started)
            TensorMemory.beginStep()
            let metrics = try log.generating("\(Procedure.stepName) \(state.step + 1)") {
                try procedure.step(indices, state: &state, optimizer: optimizer, context: context)
            }
            state.step += 1
            pending.append(metrics)
            steps.append(metrics)
            if arguments.logs(step: state.step, totalSteps: totalSteps) {
                lastMetrics = procedure.record(of: pending, epoch: epoch(state.step))
                pending.removeAll()
                let record = lastMetrics.merging(["step": Double(state.step)]) { $1 }
                history.append(record)
                log.write(record)
            }
            log.progress(step: state.step, metrics: procedure.progressMetrics(current: metrics, lastRecord: lastMetrics),
                         tokensPerSecond: tokensPerSecond())
            // A collapsed run stops here: no evaluation, checkpoint or final model of the destroyed weights.
            try health.check(step: state.step, metrics: metrics, parameters: procedure.trainableParameters)
            try log.generating("\(Procedure.stepName) \(state.step)") {
                try procedure.afterStep(state.step, epoch: epoch(state.step), log: log)
            }
            if arguments.savesCheckpoint(after: state.step, stepsPerEpoch: stepsPerEpoch) {
                let checkpoint = try Checkpoints.save(procedure, state: state, optimizer: optimizer, in: output,
                                                      keep: arguments.saveTotalLimit).path
                lastCheckpoint = checkpoint
                health.checkpointed(step: state.step, path: checkpoint)
            }
            if let reason = procedure.stopRequested {
                log.note("stopping after \(Procedure.stepName) \(state.step) of \(totalSteps): \(reason)")
                break
            }
        }
        var throughput: [String: Double] = [:]
        let runtime = Date().timeIntervalSince(started), done = state.step - startStep
        if done > 0, runtime > 0 {
            throughput = ["train_runtime": runtime, "train_steps_per_second": Double(done) / runtime,
                          "train_samples_per_second": Double(done * perStep) / runtime]
            throughput["train_tokens_per_second"] = tokensPerSecond()
            throughput["peak_rss_bytes"] = ProcessMemory.peakResidentBytes.map(Double.init)
            log.note(Self.describe(throughput))
        }
        // A run an early-stopping rule ended is complete: its model is saved as it stands.
        if state.step >= totalSteps || procedure.stopRequested != nil {
            try procedure.finish(state.step, epoch: epoch(state.step), log: log)
            try writeRunRecord(method: procedure.methodName, steps: state.step, epoch: epoch(state.step), totalSteps: totalSteps, configuration: data)
        }
        return (Summary(steps: state.step, lastMetrics: lastMetrics, history: history, throughput: throughput), steps)
    }
}

extension TrainingLoop {
    /// The TensorBoard event file of this run when `report_to` asks for one: in `TENSORBOARD_LOGGING_DIR` or
    /// `output_dir/runs/MonDD_HH-MM-SS_HOST`, as transformers' callback puts it (a resumed run starts a new one).
    func tensorBoardEvents(output: URL) throws -> TensorBoardEvents? {
        guard arguments.reportTo.contains("tensorboard") else { return nil }
        let directory = ProcessInfo.processInfo.environment["TENSORBOARD_LOGGING_DIR"].map { URL(fileURLWithPath: $0) }
            ?? output.appendingPathComponent(TensorBoardEvents.defaultDirectoryName())
        return try TensorBoardEvents(directory: directory)
    }

    /// The end-of-run line: `train_runtime 812.4s · train_samples_per_second 0.394 · train_steps_per_second 0.049 ·
    /// train_tokens_per_second 402 · peak RSS 3.41 GB`.
    static func describe(_ throughput: [String: Double]) -> String {
        var fields: [String] = []
        if let runtime = throughput["train_runtime"] { fields.append(String(format: "train_runtime %.1fs", runtime)) }
        for key in ["train_samples_per_second", "train_steps_per_second"] {
            if let value = throughput[key] { fields.append(String(format: "\(key) %.3f", value)) }
        }
        if let tokens = throughput["train_tokens_per_second"] { fields.append(String(format: "train_tokens_per_second %.0f", tokens)) }
        if let peak = throughput["peak_rss_bytes"] { fields.append("peak RSS " + ProcessMemory.gigabytes(Int(peak))) }
        return fields.joined(separator: " · ")
    }

    /// One optimizer step over `count` micro-batches: each micro-batch's loss is back-propagated scaled by 1/count,
    /// the gradients are clipped to `max_grad_norm` (measured only when it is 0), and the optimizer steps.
    /// - Parameters:
    ///   - step: the step (or PPO iteration) named in errors, counting from 1.
    ///   - lossName: what errors call the loss ("the loss", "the PPO loss").
    ///   - weights: each micro-batch's weight in the step's loss (summing to 1); nil: 1 / count each.
    ///   - loss: the loss of micro-batch `index` on the tape.
    /// - Returns: the gradient norm before clipping and each micro-batch's loss.
    /// - Throws: `TrainingError.nonFinite` when a loss or the gradient norm is not finite.
    static func optimizerStep(_ optimizer: AdamW, microBatches count: Int, maximumGradientNorm: Float, step: Int,
                              lossName: String = "the loss", lastCheckpoint: String?, weights: [Double]? = nil,
                              loss: (_ index: Int) throws -> Tensor) throws -> (gradientNorm: Float, losses: [Float]) {
        precondition(weights.map { $0.count == count } ?? true, "one weight per micro-batch")
        optimizer.zeroGradients()
        var losses: [Float] = []
        for index in 0..<count {
            let tensor = try loss(index)
            let value = tensor.item
            guard value.isFinite else { throw TrainingError.nonFinite(step: step, quantity: "\(lossName) (\(value))", lastCheckpoint: lastCheckpoint) }
            (tensor * Float(weights?[index] ?? 1 / Double(count))).backward()
            losses.append(value)
        }
        let gradientNorm = clipGradientNorm(optimizer.parameters, maxNorm: maximumGradientNorm > 0 ? maximumGradientNorm : .infinity)
        guard gradientNorm.isFinite else {
            throw TrainingError.nonFinite(step: step, quantity: "the gradient norm (\(gradientNorm))", lastCheckpoint: lastCheckpoint)
        }
        optimizer.step()
        optimizer.zeroGradients()
        return (gradientNorm, losses)
    }
}

/// The order in which examples are visited: a fresh seeded permutation per epoch (Fisher–Yates with Charter's
/// generator, so the order is the same on every platform and after a resume), or with `sequential` the data's own
/// order every epoch (transformers' `SequentialSampler`).
final class DataOrder {
    let count: Int
    let seed: UInt64
    let sequential: Bool
    private var epoch = -1
    private var order: [Int] = []

    init(count: Int, seed: UInt64, sequential: Bool = false) {
        self.count = count
        self.seed = seed
        self.sequential = sequential
    }

    /// The example visited at `position` of the endless sequence of epochs.
    func index(_ position: Int) -> Int {
        if sequential { return position % count }
        if position / count != epoch {
            epoch = position / count
            order = Self.permutation(count: count, seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        }
        return order[position % count]
    }

    /// The examples of optimizer step `step` laid out as transformers' Trainer lays out an epoch: batches of
    /// `microBatchSize` in the epoch's order (the last one short), `microBatchesPerStep` of them per step (the epoch's
    /// last step takes what remains), then the next epoch.
    func transformersWindow(step: Int, microBatchSize size: Int, microBatchesPerStep perStep: Int) -> [Int] {
        let batches = (count + size - 1) / size
        let stepsPerEpoch = (batches + perStep - 1) / perStep
        let epoch = step / stepsPerEpoch, first = (step % stepsPerEpoch) * perStep
        let positions = first * size..<min(min(first + perStep, batches) * size, count)
        return positions.map { index(epoch * count + $0) }
    }

    static func permutation(count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        var order = Array(0..<count)
        order.seededShuffle(using: &generator)
        return order
    }
}
