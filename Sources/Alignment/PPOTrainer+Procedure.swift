import Foundation
import LanguageModels
import NeuralNetworks
import SafeTensors
import Tensors

/// PPO in the shared run skeleton: a `TrainingLoop` step is one iteration (rollouts, scoring, advantages, the
/// minibatch updates); sample generations go to completions.jsonl; a checkpoint holds every trainable tensor by name
/// (trainable.safetensors) and ppo_state.json.
extension PPOTrainer: TrainingProcedure {
    /// Everything besides tensors that an exact resume needs.
    struct State: Codable, TrainingLoopState {
        var iteration: Int
        var episode: Int
        var generator: SeededGenerator
        var klController: PPOKLController
        /// The reward-hacking alarm's state when a monitor is set (absent in checkpoints of runs without one).
        var alarm: RewardHackingAlarm?

        var step: Int {
            get { iteration }
            set { iteration = newValue }
        }
    }

    /// ppo_state.json: the loop state and the optimizer's scalars.
    struct StateFile: CheckpointStateFile {
        static let fileName = "ppo_state.json"
        var state: State
        var optimizerKind: String
        var optimizerStepCount: Int
        var learningRate: Float
    }

    static let stepName = "iteration"
    var methodName: String { "PPO" }
    static let tensorsFile = "trainable.safetensors"

    var exampleCount: Int { prompts.count }
    var examplesPerStep: Int { configuration.batchSize }
    var totalSteps: Int { configuration.iterations(promptCount: prompts.count) }
    var parametersWithoutDecay: [Tensor] { trainableParameters.filter { $0.rank < 2 } }

    func initialState() -> State {
        State(iteration: 0, episode: 0, generator: SeededGenerator(seed: configuration.training.seed &+ 0x990),
              klController: PPOKLController(coefficient: configuration.klCoefficient, target: configuration.klTarget,
                                            horizon: configuration.klHorizon),
              alarm: monitor == nil ? nil : RewardHackingAlarm(tolerance: configuration.monitorTolerance, smoothing: configuration.monitorSmoothing))
    }

    var stopRequested: String? { stopReason }

    func step(_ indices: [Int], state: inout State, optimizer: AdamW, context: StepContext) throws -> [String: Double] {
        var metrics = try iterate(prompts: indices.map { prompts[$0] }, state: &state, optimizer: optimizer,
                                  lastCheckpoint: context.lastCheckpoint)
        state.episode += configuration.batchSize
        let done = state.iteration + 1
        metrics["lr"] = Double(optimizer.learningRate)
        metrics["episode"] = Double(state.episode)
        metrics["epoch"] = Double(state.episode) / Double(prompts.count)
        metrics["eps"] = Double((done - context.startStep) * configuration.batchSize) / max(Date().timeIntervalSince(context.started), 1e-9)
        metrics["step"] = Double(done)
        return metrics
    }

    /// Every iteration's record as it is (the summary's history has them all; metrics.jsonl every `logging_steps`-th).
    func record(of pending: [[String: Double]], epoch: Double) -> [String: Double] { pending.last ?? [:] }

    func progressMetrics(current: [String: Double], lastRecord: [String: Double]) -> [String: Double] { current }

    /// Sample generations at the first iteration and then every iterations / `num_sample_generations`.
    func afterStep(_ step: Int, epoch: Double, log: MetricsLog) throws {
        if let warning = pendingWarning {
            log.note("warning: " + warning)
            pendingWarning = nil
        }
        let frequency = configuration.sampleGenerationCount > 0 ? max(1, totalSteps / configuration.sampleGenerationCount) : 0
        if frequency > 0 && (step - 1) % frequency == 0 {
            try writeSampleGenerations(to: URL(fileURLWithPath: configuration.training.outputDirectory), step: step, log: log)
        }
    }

    func finish(_ step: Int, epoch: Double, log: MetricsLog) throws {
        try saveModel(to: URL(fileURLWithPath: configuration.training.outputDirectory))
    }

    func stateFile(_ state: State, optimizer: OptimizerState) -> StateFile {
        StateFile(state: state, optimizerKind: optimizer.kind, optimizerStepCount: optimizer.stepCount, learningRate: optimizer.learningRate)
    }

    func restoreState(from file: StateFile) -> State { file.state }

    /// The trainable tensors by checkpoint name: "policy.…", "critic.…", "value_head.…".
    var namedTrainables: [(String, Tensor)] {
        var result = policy.model.namedParameters().filter { $0.tensor.requiresGrad }.map { ("policy." + $0.name, $0.tensor) }
        if let trunk = critic.trunk {
            result += trunk.model.namedParameters().filter { $0.tensor.requiresGrad }.map { ("critic." + $0.name, $0.tensor) }
        }
        result += critic.head.namedParameters().map { ("value_head." + $0.name, $0.tensor) }
        return result
    }

    func saveCheckpoint(to directory: URL) throws {
        var tensors = SafeTensorsWriter(metadata: ["format": "charter-ppo"])
        for (name, tensor) in namedTrainables { try tensors.add(name, shape: tensor.shape, values: tensor.scalars) }
        try tensors.write(to: directory.appendingPathComponent(Self.tensorsFile))
    }

    /// - Throws: `TrainingError.resume` naming the file and tensor that does not fit this run.
    func loadCheckpoint(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.tensorsFile)
        let tensors = try SafeTensorsFile(url: url)
        for (name, tensor) in namedTrainables {
            guard tensors.contains(name) else {
                throw TrainingError.resume("\(url.path): no tensor \(name); was the model, LoRA or critic configuration changed?")
            }
            let values = try tensors.floats(name)
            guard values.count == tensor.count else {
                throw TrainingError.resume("\(url.path): \(name) has \(values.count) values, the run's tensor \(tensor.shape)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
    }

    /// Greedy completions of the evaluation prompts with their scores, appended to completions.jsonl (TRL's
    /// "query", "model response", "score" table).
    func writeSampleGenerations(to output: URL, step: Int, log: MetricsLog) throws {
        guard !evaluationPrompts.isEmpty else { return }
        let rollouts = respond(to: evaluationPrompts, sampling: .greedy, batchSize: configuration.training.evaluationBatchSize) { _ in 0 }
        let scores = try score(scoredRollouts(rollouts))
        let records = (0..<rollouts.count).map { index -> [String: Any] in
            ["step": step, "query": decode(Array(rollouts.sequences[index].prefix(rollouts.promptLengths[index]))),
             "model response": decode(Array(rollouts.response(index))), "score": Double(scores[index])]
        }
        try JSONLines.append(records, to: output.appendingPathComponent("completions.jsonl"))
        let mean = scores.reduce(0) { $0 + Double($1) } / Double(scores.count)
        log.write(["step": step, "eval_objective/scores": mean])
    }

    /// Writes the policy (a transformers folder, or a PEFT adapter folder when `policy.adapterConfiguration` is set), the value head
    /// (value_head.safetensors) and a separate critic's trunk (value_model/).
    public func saveModel(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try policy.save(to: directory)
        try critic.head.save(to: directory)
        if let trunk = critic.trunk { try trunk.save(to: directory.appendingPathComponent("value_model")) }
    }
}
