import Foundation
import JSON
import LanguageModels
import NeuralNetworks
import Runtime
import SafeTensors
import Tensors

/// GRPO, RLOO and online DPO in the shared run skeleton: a `TrainingLoop` step is one generation batch (sampling, scoring,
/// advantages, then `num_iterations` optimizer steps); a checkpoint holds the policy's trainable tensors
/// (trainable.safetensors) and group_rollout_state.json; held-out rewards of greedy completions are logged as
/// `eval_reward` and `eval_rewards/<name>/mean` every `eval_steps` and at the end, with the completions in
/// completions.jsonl.
extension GroupRolloutTrainer {
    /// The run of `GRPOTrainer`, `RLOOTrainer` and `OnlineDPOTrainer`: the shared skeleton (`TrainingLoop`) with
    /// metrics.jsonl, trainer_state.json, checkpoints every `save_steps`, exact resume and the final model in the
    /// output folder.
    /// - Parameters:
    ///   - configuration: the facade's configuration, written as training_config.json unless `effectiveConfiguration`
    ///     (the recipe's keys) is given.
    ///   - arguments: its `training` arguments.
    func train(configuration: some Encodable, arguments: TrainingArguments, resume: Bool, stopAfter: Int?,
               effectiveConfiguration: [String: Any]) throws -> GRPOTrainer.Summary {
        let file = effectiveConfiguration.isEmpty
            ? try TrainingLoop.configurationFile(configuration) : try TrainingLoop.configurationFile(effectiveConfiguration)
        let run = try TrainingLoop(arguments: arguments).drive(self, resume: resume, configurationFile: file, stopAfter: stopAfter)
        return GRPOTrainer.Summary(iterations: run.summary.steps, history: run.steps)
    }
}

extension GroupRolloutTrainer: TrainingProcedure {
    /// Everything besides tensors that an exact resume needs.
    struct State: Codable, TrainingLoopState {
        var iteration: Int
        var generator: SeededGenerator
        /// Prompt and completion tokens generated so far (TRL's `num_tokens`).
        var tokens: Int

        var step: Int {
            get { iteration }
            set { iteration = newValue }
        }
    }

    struct StateFile: CheckpointStateFile {
        static let fileName = "group_rollout_state.json"
        var state: State
        var optimizerKind: String
        var optimizerStepCount: Int
        var learningRate: Float
    }

    static let stepName = "iteration"
    var methodName: String { method.name }
    static let tensorsFile = "trainable.safetensors"

    var exampleCount: Int { prompts.count }
    var examplesPerStep: Int { settings.promptsPerStep }
    var totalSteps: Int { settings.iterations(promptCount: prompts.count) }
    var trainableParameters: [Tensor] { policy.trainableParameters }
    var parametersWithoutDecay: [Tensor] { policy.parametersWithoutDecay }

    func initialState() -> State {
        State(iteration: 0, generator: SeededGenerator(seed: settings.training.seed &+ 0x6270), tokens: 0)
    }

    /// One generation batch: completions, rewards, advantages, then `num_iterations` optimizer steps, each over the
    /// batch (shuffled once) in `gradient_accumulation_steps` micro-batches of `per_device_train_batch_size`.
    func step(_ indices: [Int], state: inout State, optimizer: AdamW, context: StepContext) throws -> [String: Double] {
        var clock = PhaseClock()
        let cpuStart = ProcessMemory.cpuSeconds
        epochInProgress = state.iteration * settings.promptsPerStep / prompts.count
        var rollouts = rollOut(indices, seed: state.generator.next())
        clock.lap("time/rollout")
        let contexts = indices.flatMap { [PromptContext](repeating: promptContexts[$0], count: settings.generationCount) }
        if let judge {
            rollouts.firstIsChosen = try self.judge(rollouts, with: judge, contexts: contexts)
        } else {
            rollouts.rewardsPerFunction = try score(rollouts, contexts: contexts)
            rollouts.rewardMetrics = rewardFunctionMetrics()
        }
        clock.lap("time/scoring")
        var metrics = try prepare(&rollouts)
        clock.lap("time/forward")
        metrics.merge(try update(rollouts, seed: state.generator.next(), optimizer: optimizer, step: state.iteration + 1,
                                 lastCheckpoint: context.lastCheckpoint)) { $1 }
        clock.lap("time/update")
        for (key, value) in clock.laps { metrics[key] = value }
        metrics["time/cpu"] = ProcessMemory.cpuSeconds - cpuStart  // CPU seconds of the step, every thread
        let done = state.iteration + 1
        metrics["lr"] = Double(optimizer.learningRate)
        metrics["epoch"] = Double(done * settings.promptsPerStep) / Double(prompts.count)
        state.tokens += rollouts.sequences.reduce(0) { $0 + $1.count }
        metrics["num_tokens"] = Double(state.tokens)
        metrics["step"] = Double(done)
        return metrics
    }

    /// `num_iterations` optimizer steps over `rollouts`; returns the loss statistics averaged over micro-batches.
    func update(_ rollouts: GroupRollouts, seed: UInt64, optimizer: AdamW, step: Int, lastCheckpoint: String?) throws -> [String: Double] {
        // Online DPO keeps each prompt's two completions together (its loss is per pair) and needs no shuffle: one pass.
        let order = method.isOnlineDPO ? Array(0..<rollouts.count) : DataOrder.permutation(count: rollouts.count, seed: seed)
        let micro = settings.training.batchSize
        let microCount = (rollouts.count + micro - 1) / micro
        let tokens = (0..<rollouts.count).reduce(0) { $0 + rollouts.lossTokens($1) }
        var statistics: [String: [Double]] = [:]
        var norms: [Double] = [], losses: [Double] = []
        for _ in 0..<settings.iterationCount {
            let (norm, microLosses) = try TrainingLoop.optimizerStep(
                optimizer, microBatches: microCount, maximumGradientNorm: settings.training.maximumGradientNorm, step: step,
                lossName: "the \(method.name) loss", lastCheckpoint: lastCheckpoint) { index in
                let indices = Array(order[(index * micro)..<min((index + 1) * micro, rollouts.count)])
                let (loss, microStatistics) = microBatchLoss(rollouts, indices: indices, generationBatchTokens: tokens)
                for (key, value) in microStatistics { statistics[key, default: []].append(value) }
                return loss
            }
            norms.append(Double(norm))
            losses.append(microLosses.reduce(0) { $0 + Double($1) } / Double(microCount))
        }
        var metrics: [String: Double] = [:]
        for (key, values) in statistics {
            switch key {
            case "clip_ratio/low_min": metrics[key] = values.min()
            case "clip_ratio/high_max": metrics[key] = values.max()
            default: metrics[key] = values.reduce(0, +) / Double(values.count)
            }
        }
        metrics["loss"] = losses.reduce(0, +) / Double(losses.count)
        metrics["grad_norm"] = norms.reduce(0, +) / Double(norms.count)
        return metrics
    }

    func record(of pending: [[String: Double]], epoch: Double) -> [String: Double] {
        // TRL averages each metric over the steps since the last log.
        var sums: [String: Double] = [:], counts: [String: Double] = [:]
        for metrics in pending {
            for (key, value) in metrics where key != "step" {
                sums[key, default: 0] += value
                counts[key, default: 0] += 1
            }
        }
        var record = sums.merging(counts) { $0 / $1 }
        if let last = pending.last {
            for key in ["lr", "epoch", "num_tokens"] { record[key] = last[key] }
        }
        return record
    }

    func progressMetrics(current: [String: Double], lastRecord: [String: Double]) -> [String: Double] {
        current.filter { ["reward", "loss", "kl", "completions/mean_length", "objective/kl", "objective/scores", "rewards/margins"].contains($0.key) }
    }

    func afterStep(_ step: Int, epoch: Double, log: MetricsLog) throws {
        let every = settings.training.evaluationSteps
        if every > 0 && step % every == 0 && step < totalSteps { try evaluate(step: step, log: log) }
    }

    func finish(_ step: Int, epoch: Double, log: MetricsLog) throws {
        try evaluate(step: step, log: log)
        try policy.save(to: URL(fileURLWithPath: settings.training.outputDirectory))
    }

    /// Greedy completions of the evaluation prompts, scored by every reward function: `eval_reward` (weighted) and
    /// `eval_rewards/<name>/mean` in metrics.jsonl, the completions in completions.jsonl. Nothing without prompts.
    @discardableResult
    func evaluate(step: Int, log: MetricsLog?) throws -> [String: Double] {
        guard !evaluationPrompts.isEmpty, !rewards.isEmpty else { return [:] }
        var rollouts = respond(to: evaluationPrompts, sampling: .greedy, groupSize: 1,
                               batchSize: settings.training.evaluationBatchSize) { _ in 0 }
        rollouts.rewardsPerFunction = try score(rollouts, contexts: evaluationContexts)
        var metrics: [String: Double] = [:]
        var total = [Double](repeating: 0, count: rollouts.count)
        for ((reward, values), weight) in zip(zip(rewards, rollouts.rewardsPerFunction), rewardWeights) {
            metrics["eval_rewards/\(reward.name)/mean"] = values.reduce(0) { $0 + Double($1) } / Double(values.count)
            for (index, value) in values.enumerated() { total[index] += Double(weight * value) }
        }
        metrics["eval_reward"] = total.reduce(0, +) / Double(total.count)
        guard let log else { return metrics }
        let records = (0..<rollouts.count).map { index -> [String: Any] in
            ["step": step, "prompt": decode(rollouts.sequences[index].prefix(rollouts.promptLengths[index])),
             "completion": decode(rollouts.completion(index)), "reward": total[index]]
        }
        try JSONLines.append(records, to: URL(fileURLWithPath: settings.training.outputDirectory).appendingPathComponent("completions.jsonl"))
        var record: [String: Any] = ["step": step]
        for (key, value) in metrics { record[key] = value }
        log.write(record)
        return metrics
    }

    func stateFile(_ state: State, optimizer: OptimizerState) -> StateFile {
        StateFile(state: state, optimizerKind: optimizer.kind, optimizerStepCount: optimizer.stepCount, learningRate: optimizer.learningRate)
    }

    func restoreState(from file: StateFile) -> State { file.state }

    var namedTrainables: [(String, Tensor)] {
        policy.model.namedParameters().filter { $0.tensor.requiresGrad }.map { ("policy." + $0.name, $0.tensor) }
    }

    func saveCheckpoint(to directory: URL) throws {
        var tensors = SafeTensorsWriter(metadata: ["format": "charter-\(method.name.lowercased().replacingOccurrences(of: " ", with: "-"))"])
        for (name, tensor) in namedTrainables { try tensors.add(name, shape: tensor.shape, values: tensor.scalars) }
        try tensors.write(to: directory.appendingPathComponent(Self.tensorsFile))
    }

    /// - Throws: `TrainingError.resume` naming the file and tensor that does not fit this run.
    func loadCheckpoint(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.tensorsFile)
        let tensors = try SafeTensorsFile(url: url)
        for (name, tensor) in namedTrainables {
            guard tensors.contains(name) else {
                throw TrainingError.resume("\(url.path): no tensor \(name); was the model or LoRA configuration changed?")
            }
            let values = try tensors.floats(name)
            guard values.count == tensor.count else {
                throw TrainingError.resume("\(url.path): \(name) has \(values.count) values, the run's tensor \(tensor.shape)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
    }
}
