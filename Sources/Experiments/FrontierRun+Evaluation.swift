import Foundation
import JSON
import LanguageModels
import Reports
import Runtime
import SafeTensors
import Tensors
import Tokenizers

extension FrontierRun {
    /// Measures the reference and every DPO and PPO run of a seed — each run at its checkpoints and at its end — on
    /// the held-out prompts, writing every evaluated policy's samples to `evaluation/<run>[-step-N].jsonl`.
    /// Training seconds and final metrics are left for the caller to fill in.
    func evaluate(seed: UInt64, task: FrontierTask, folder: URL, log: @Sendable (String) -> Void) throws -> [FrontierRunResult] {
        let referenceFolder = folder.appendingPathComponent(FrontierRecipe.referenceModel)
        let reference = try PretrainedModel.load(directory: referenceFolder)
        let tokenizer = try Tokenizer(directory: referenceFolder)
        let evaluation = folder.appendingPathComponent("evaluation")
        try? FileManager.default.removeItem(at: evaluation)
        try FileManager.default.createDirectory(at: evaluation, withIntermediateDirectories: true)

        // The same sampling seed for every policy: differences between rows are the policies', not the sampler's.
        func measure(_ policy: any CausalLanguageModel, file: String) throws -> FrontierMeasurement {
            let (measurement, samples, ratios) = try FrontierEvaluation.measure(policy: policy, reference: reference, tokenizer: tokenizer,
                                                                            prompts: task.heldOutPrompts, count: configuration.evaluationSamples,
                                                                            maximumNewTokens: configuration.responseLength, seed: seed &+ 0xE7A1)
            try Self.writeSamples(samples, logRatios: ratios, prompts: task.heldOutPrompts, to: evaluation.appendingPathComponent("\(file).jsonl"))
            return measurement
        }
        func result(_ name: String, _ method: String, beta: Double? = nil, klTarget: Double? = nil, final: FrontierMeasurement,
                    trajectory: [FrontierCheckpoint]) -> FrontierRunResult {
            log("[seed \(seed)] \(name): reward " + String(format: "%.3f ± %.3f, KL %.2f ± %.2f nats", final.rewardMean, final.rewardStandardError,
                                                         final.kl, final.klStandardError)
                + (trajectory.count > 1 ? " (and \(trajectory.count - 1) earlier checkpoints)" : ""))
            return FrontierRunResult(name: name, method: method, beta: beta, klTarget: klTarget, measurement: final, trajectory: trajectory,
                                     trainingSeconds: nil, finalMetrics: [:])
        }
        /// A run's checkpoints before its last step, then its final model.
        func trajectory(_ name: String, total: Int, load: (URL) throws -> any CausalLanguageModel) throws -> [FrontierCheckpoint] {
            let output = folder.appendingPathComponent("\(FrontierRecipe.training)/\(name)/model")
            var points: [FrontierCheckpoint] = []
            for (step, checkpoint) in ExperimentFiles.checkpoints(in: output) where step < total {
                points.append(FrontierCheckpoint(step: step, measurement: try measure(try load(checkpoint), file: "\(name)-step-\(step)")))
            }
            points.append(FrontierCheckpoint(step: total, measurement: try measure(try PretrainedModel.load(directory: output), file: name)))
            return points
        }

        var runs = [result("reference", "reference", final: try measure(reference, file: "reference"), trajectory: [])]
        for beta in configuration.betas {
            let name = FrontierRecipe.dpoStage(beta: beta)
            let points = try trajectory(name, total: configuration.dpoSteps) { try PretrainedModel.load(directory: $0) }
            runs.append(result(name, "DPO", beta: beta, final: points[points.count - 1].measurement, trajectory: points))
        }
        for target in configuration.klTargets {
            let name = FrontierRecipe.ppoStage(klTarget: target)
            let points = try trajectory(name, total: configuration.ppoIterations) { try Self.ppoPolicy($0, base: referenceFolder) }
            runs.append(result(name, "PPO", klTarget: target, final: points[points.count - 1].measurement, trajectory: points))
        }
        return runs
    }

    /// The policy of a PPO checkpoint: the model it started from (`base`) with the checkpoint's policy tensors.
    static func ppoPolicy(_ checkpoint: URL, base: URL) throws -> any CausalLanguageModel {
        let model = try PretrainedModel.load(directory: base)
        try ExperimentFiles.assignPPOPolicy(from: checkpoint, to: model)
        return model
    }

    /// Example generations for the report: for the first `promptCount` held-out prompts, the first continuation every
    /// run's final policy sampled (the same sampler seed for all, so the rows differ only by policy), with its
    /// ground-truth reward; read back from `evaluation/<run>.jsonl`. Runs without a file are left out.
    static func examples(runs: [String], evaluation: URL, promptCount: Int = 2) -> [GenerationExample] {
        var firstByPrompt: [(run: String, records: [String: (text: String, reward: Double)])] = []
        var prompts: [String] = []
        for run in runs {
            guard let text = try? String(contentsOf: evaluation.appendingPathComponent("\(run).jsonl"), encoding: .utf8) else { continue }
            var records: [String: (text: String, reward: Double)] = [:]
            for line in text.split(separator: "\n") {
                guard let value = try? JSONParser.parse(String(line)), let prompt = value["prompt"]?.stringValue,
                      let completion = value["completion"]?.stringValue, records[prompt] == nil else { continue }
                records[prompt] = (completion, value["reward"]?.doubleValue ?? 0)
                if !prompts.contains(prompt) { prompts.append(prompt) }
            }
            firstByPrompt.append((run, records))
        }
        return prompts.prefix(promptCount).enumerated().map { index, prompt in
            GenerationExample(kind: "held-out prompt", id: "\(index + 1)", prompt: prompt, responses: firstByPrompt.compactMap { run in
                run.records[prompt].map { GenerationExample.Response(model: run.run, text: $0.text, verdict: String(format: "reward %+.3f", $0.reward)) }
            })
        }
    }

    /// The evaluation's samples, one JSON line each (prompt, continuation, reward, log π/π_ref), for auditing.
    static func writeSamples(_ samples: [FrontierSample], logRatios: [Double], prompts: [String], to url: URL) throws {
        let records = zip(samples, logRatios).map { sample, ratio -> JSONValue in
            ["completion": .string(sample.text), "log_ratio": .numeric(ratio), "prompt": .string(prompts[sample.promptIndex]),
             "reward": .numeric(FrontierTask.reward(sample.text)), "tokens": .integer(sample.responseIds.count)]
        }
        try ExperimentFiles.writeJSONL(records, to: url)
    }
}
