import Alignment
import Datasets
import Foundation
import JSON
import LanguageModels
import NeuralNetworks
import Tensors

extension DPOBenchmark {
    /// The longest completion of the generating trainers, as in Benchmarks/trl/bench_trainers.py.
    static let completionLength = 32

    /// GRPO, RLOO and online DPO: whole training runs, as TRL's are timed. Each repeat trains a fresh trainer for
    /// `warmup + steps` steps; the measured steps' logged phase times (`time/rollout`, `…/scoring`, `…/forward`,
    /// `…/update`) sum to each step's wall time and `time/cpu` is its CPU time; the medians are reported.
    func runRollouts(modelFolder: URL, encoder: ExampleEncoder) throws {
        let prompts = try Dataset.load(URL(fileURLWithPath: workdir).appendingPathComponent("prompts.jsonl"))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("charter-bench-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var medians: [Double] = [], cpuMedians: [Double] = [], lengths: [Double] = []
        for repeatIndex in 0..<repeats {
            let output = scratch.appendingPathComponent("\(repeatIndex)").path
            let train = try rolloutRun(modelFolder: modelFolder, encoder: encoder, prompts: prompts.examples,
                                       stepCount: warmup + steps, output: output)
            let timed = try train().dropFirst(warmup)
            let stepSeconds = timed.map { record in record.filter { $0.key.hasPrefix("time/") && $0.key != "time/cpu" }.values.reduce(0, +) }
            medians.append(stepSeconds.sorted()[stepSeconds.count / 2])
            let cpu = timed.compactMap { $0["time/cpu"] }
            cpuMedians.append(cpu.sorted()[cpu.count / 2])
            lengths.append(timed.compactMap { $0["completions/mean_length"] }.reduce(0, +) / Double(max(timed.count, 1)))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let unit = trainer == .onlineDPO ? "prompts_per_step" : "completions_per_step"
        printJSONLine(JSONValue(sortingKeys: [
            "impl": "charter", "benchmark": .string(trainer == .onlineDPO ? "online_dpo" : trainer.rawValue),
            "step_ms_median": .numeric(median(medians) * 1000), "step_ms_per_repeat": .array(medians.map { .numeric($0 * 1000) }),
            "cpu_ms_per_step_median": .numeric(median(cpuMedians) * 1000), "cpu_ms_per_repeat": .array(cpuMedians.map { .numeric($0 * 1000) }),
            "steps_per_s": .numeric(1 / median(medians)), .init(unit): .integer(batchSize ?? (trainer == .onlineDPO ? 4 : 8)),
            "completion_mean_length": .numeric(lengths.reduce(0, +) / Double(lengths.count)),
            "threads": .integer(ComputeThreads.count),
        ]))
    }

    /// A fresh policy and trainer with bench_trainers.py's settings, ready to train `stepCount` steps into `output`.
    private func rolloutRun(modelFolder: URL, encoder: ExampleEncoder, prompts: [Example], stepCount: Int,
                            output: String) throws -> () throws -> [[String: Double]] {
        let policy = try TrainableModel(directory: modelFolder)
        func frozenReference() throws -> PPOReference {
            let reference = try PretrainedModel.load(directory: modelFolder)
            reference.setTrainable(false)
            return .model(reference)
        }
        func arguments(learningRate: Float, batch: Int) -> TrainingArguments {
            var training = TrainingArguments()
            training.outputDirectory = output
            training.learningRate = learningRate
            training.batchSize = batch
            training.maximumSteps = stepCount
            training.loggingSteps = 1
            training.saveSteps = 0
            return training
        }
        let length = try BuiltInRewards.named("length", maximumCompletionLength: Self.completionLength)!
        let rewards = [NamedReward(name: length.name, function: length.function)]
        switch trainer {
        case .grpo:
            var configuration = GRPOConfiguration()
            configuration.training = arguments(learningRate: 1e-6, batch: batchSize ?? 8)
            configuration.generationCount = 4
            configuration.maximumCompletionLength = Self.completionLength
            let trainer = try GRPOTrainer(configuration: configuration, policy: policy, reference: nil, rewards: rewards,
                                          encoder: encoder, prompts: prompts)
            return { try trainer.train().history }
        case .rloo:
            var configuration = RLOOConfiguration()
            configuration.training = arguments(learningRate: 1e-6, batch: batchSize ?? 8)
            configuration.generationCount = 4
            configuration.maximumCompletionLength = Self.completionLength
            let trainer = try RLOOTrainer(configuration: configuration, policy: policy, reference: try frozenReference(),
                                          rewards: rewards, encoder: encoder, prompts: prompts)
            return { try trainer.train().history }
        case .onlineDPO:
            var configuration = OnlineDPOConfiguration()
            configuration.training = arguments(learningRate: 5e-7, batch: batchSize ?? 4)
            configuration.maximumNewTokens = Self.completionLength
            let trainer = try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: try frozenReference(),
                                               rewards: rewards, encoder: encoder, prompts: prompts)
            return { try trainer.train().history }
        case .dpo, .sft, .orpo, .kto:
            preconditionFailure("timed by run()")
        }
    }
}
