import Foundation
import NeuralNetworks
import Tensors

/// One kind of training that `TrainingLoop` drives step by step: a supervised step over micro-batches (SFT, reward
/// model, DPO; `SupervisedProcedure`) or a PPO iteration (rollouts, then minibatch updates; `PPOTrainer`).
///
/// The loop owns what every run shares — the optimizer and its schedule, the order of the examples, metrics.jsonl
/// and progress, `save_steps` checkpoints, resume and the final save; a procedure says what one step does, what a
/// checkpoint holds besides the optimizer, and what happens between steps and at the end.
protocol TrainingProcedure: AnyObject {
    /// What a checkpoint restores besides tensors and optimizer (the step, random generators, controllers).
    associatedtype State: TrainingLoopState
    /// The checkpoint's state file: `State`, the optimizer's scalars and whatever else an exact resume needs.
    associatedtype StateFile: CheckpointStateFile

    /// What notes call one step ("step", "iteration").
    static var stepName: String { get }
    /// The method as TRL's model cards name it ("SFT", "DPO", "Reward", "PPO").
    var methodName: String { get }
    /// Number of examples (prompts) the loop orders, a fresh seeded permutation per epoch.
    var exampleCount: Int { get }
    /// Examples each step consumes.
    var examplesPerStep: Int { get }
    /// The micro-batch size when a step is `examplesPerStep / microBatchSize` micro-batches (nil when a step is one
    /// batch of prompts, as PPO's and GRPO's): with `train_sampling_strategy: sequential` the loop then lays each epoch
    /// out as transformers' dataloader does, its last micro-batch short and its last step taking what remains.
    var microBatchSize: Int? { get }
    /// Steps of the whole run (the learning-rate schedule spans them).
    var totalSteps: Int { get }
    /// Parameters the optimizer updates.
    var trainableParameters: [Tensor] { get }
    /// Parameters that get no weight decay (biases, norms).
    var parametersWithoutDecay: [Tensor] { get }
    /// The loss a collapsed model is pinned at (ln V for next-token cross-entropy), or nil; see `TrainingHealth`.
    var uniformLoss: Double? { get }
    /// Training tokens processed so far (TRL's `num_tokens`, resumed runs included), or nil when not counted.
    var tokensSeen: Double? { get }

    /// The state of a fresh run.
    func initialState() -> State
    /// Runs step `state.step + 1` on the examples at `indices` (the optimizer's learning rate is already scheduled)
    /// and returns its metrics; the loop then advances `state.step`.
    func step(_ indices: [Int], state: inout State, optimizer: AdamW, context: StepContext) throws -> [String: Double]
    /// The metrics.jsonl record (the loop adds `step`) from the metrics of the steps since the last record.
    func record(of pending: [[String: Double]], epoch: Double) -> [String: Double]
    /// The metrics the progress display shows after a step.
    func progressMetrics(current: [String: Double], lastRecord: [String: Double]) -> [String: Double]
    /// Evaluations and samples due after `step` (metrics.jsonl is written; the checkpoint comes next).
    func afterStep(_ step: Int, epoch: Double, log: MetricsLog) throws
    /// Why the run should end after the current step (an early-stopping rule fired), or nil to go on.
    var stopRequested: String? { get }
    /// The end of a complete run: final evaluation and the trained model in the output folder.
    func finish(_ step: Int, epoch: Double, log: MetricsLog) throws

    /// The state file of a checkpoint taken at `state`.
    func stateFile(_ state: State, optimizer: OptimizerState) -> StateFile
    /// The loop state a checkpoint's state file restores (restoring the procedure's own counters too).
    func restoreState(from file: StateFile) -> State
    /// Writes the trainable tensors into a checkpoint folder.
    func saveCheckpoint(to directory: URL) throws
    /// Restores the trainable tensors written by `saveCheckpoint(to:)`, in place.
    func loadCheckpoint(from directory: URL) throws
}

extension TrainingProcedure {
    var uniformLoss: Double? { nil }
    var tokensSeen: Double? { nil }
    var microBatchSize: Int? { nil }
    var stopRequested: String? { nil }
    func progressMetrics(current: [String: Double], lastRecord: [String: Double]) -> [String: Double] { lastRecord }
}

/// The part of a procedure's state the loop reads and advances.
protocol TrainingLoopState: Codable {
    /// Optimizer-level steps (supervised steps, PPO iterations) done.
    var step: Int { get set }
}

/// What a step may need to know about the run around it.
struct StepContext {
    /// The newest checkpoint, named in errors so a failed run can be resumed.
    var lastCheckpoint: String?
    /// The step this run (or resume) started at, and when.
    var startStep: Int
    var started: Date
}
