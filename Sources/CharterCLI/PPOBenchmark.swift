import Alignment
import ArgumentParser
import Datasets
import Foundation
import JSON
import LanguageModels
import Tensors

/// `charter bench ppo`: wall-clock time of whole PPO iterations (rollout + update) and of their phases, on the tiny
/// Llama and HH prompts that Benchmarks/trl/common.py prepares, printed as one JSON line.
struct PPOBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "PPO rollout + update time per batch, with its phases (run Benchmarks/trl/bench_dpo.py once to prepare the workdir).")

    @Option(help: "Folder Benchmarks/trl/common.py prepared (model/, dpo.jsonl: the prompts are used).") var workdir = "/tmp/charter-bench"
    @Option(help: "Measured iterations (after the warm-up iterations).") var iterations = 3
    @Option(help: "Warm-up iterations, not measured.") var warmup = 1
    @Option(help: "Rollouts per iteration (per_device_train_batch_size; one minibatch).") var batch = 8
    @Option(help: "response_length") var responseLength = 32
    @Option(help: "num_ppo_epochs") var ppoEpochs = 4
    @Option(help: "Keep only the last this many tokens of each prompt (HH prompts are long for a 1k-token vocabulary).") var promptTokens = 64
    @Option(help: "Kernel threads (default: CHARTER_THREADS or all cores).") var threads: Int?

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        let folder = URL(fileURLWithPath: workdir)
        let modelFolder = try DPOBenchmark.preparedModel(in: workdir, script: "bench_dpo.py")
        let encoder = try ExampleEncoder.load(directory: modelFolder)
        let data = try Dataset.load(folder.appendingPathComponent("dpo.jsonl"))
        // Prompts cut to their last `promptTokens` tokens, decoded back to text so the trainer tokenizes them as usual.
        let prompts: [Example] = data.examples.compactMap { example in
            guard case let .preference(.standard(prompt), _, _) = example.body else { return nil }
            let ids = encoder.encode(prompt).suffix(promptTokens).map(Int.init)
            return Example(.promptOnly(prompt: .standard(encoder.tokenizer.decode(Array(ids)))), line: example.line)
        }
        var configuration = PPOConfiguration()
        configuration.training.outputDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("charter-bench-ppo-\(UUID().uuidString)").path
        configuration.training.maximumSteps = warmup + iterations
        configuration.training.batchSize = batch
        configuration.training.learningRate = 1e-5
        configuration.training.loggingSteps = 1
        configuration.responseLength = responseLength
        configuration.ppoEpochs = ppoEpochs
        configuration.stopToken = "eos"
        configuration.sampleGenerationCount = 0
        defer { try? FileManager.default.removeItem(atPath: configuration.training.outputDirectory) }

        let policy = try TrainableModel(directory: modelFolder)
        let reference = try PretrainedModel.load(directory: modelFolder)
        reference.setTrainable(false)
        let rewardModel = try SequenceClassifier.load(directory: modelFolder, seed: 7)
        var generator = SeededGenerator(seed: 1)
        let hidden = try PPOCommand.hiddenSize(of: modelFolder)
        let trainer = try PPOTrainer(configuration: configuration, policy: policy,
                                     critic: PPOCritic(trunk: nil, head: ValueHead(hiddenSize: hidden, generator: &generator)),
                                     reference: .model(reference), reward: RewardModelScorer(model: rewardModel, sharesTokenizer: true),
                                     encoder: encoder, prompts: prompts)
        let history = try trainer.train().history.dropFirst(warmup)
        func median(_ key: String) -> Double {
            let values = history.compactMap { $0[key] }.sorted()
            return values.isEmpty ? 0 : values[values.count / 2] * 1000
        }
        printJSONLine(JSONValue(sortingKeys: [
            "impl": "charter", "benchmark": "ppo", "threads": .integer(ComputeThreads.count), "batch": .integer(batch),
            "response_length": .integer(responseLength), "num_ppo_epochs": .integer(ppoEpochs), "prompt_tokens_max": .integer(promptTokens),
            "params": .integer(policy.model.parameterCount), "iteration_ms_median": .numeric(median("time/total")),
            "rollout_ms_median": .numeric(median("time/rollout")), "forward_ms_median": .numeric(median("time/forward")),
            "scoring_ms_median": .numeric(median("time/scoring")), "update_ms_median": .numeric(median("time/update")),
            "mean_response_tokens": .numeric(history.compactMap { $0["response_length"] }.reduce(0, +) / Double(max(history.count, 1))),
        ]))
    }
}
