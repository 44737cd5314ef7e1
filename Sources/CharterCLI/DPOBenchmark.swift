import Alignment
import ArgumentParser
import Datasets
import Foundation
import JSON
import LanguageModels
import NeuralNetworks
import Runtime
import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `charter bench trainer dpo|sft|orpo|kto|grpo|rloo|online-dpo`: optimizer steps of Charter's trainers on the model
/// and data that Benchmarks/trl/bench_dpo.py, bench_sft.py and bench_trainers.py prepare and time with TRL, with the
/// same settings, printed as one JSON line.
struct DPOBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "Trainer steps/s (SFT: tokens/s) on the tiny Llama and HH data of Benchmarks/trl (run its Python script first).")

    enum Trainer: String, ExpressibleByArgument, CaseIterable {
        case dpo, sft, orpo, kto, grpo, rloo
        case onlineDPO = "online-dpo"

        /// The Benchmarks/trl script that prepares the folder and times TRL.
        var script: String {
            switch self {
            case .dpo, .sft: return "bench_\(rawValue).py"
            case .onlineDPO: return "bench_trainers.py online_dpo"
            default: return "bench_trainers.py \(rawValue)"
            }
        }
    }

    @Argument(help: "dpo, sft, orpo, kto, grpo, rloo or online-dpo") var trainer: Trainer
    @Option(help: "Folder Benchmarks/trl/common.py prepared (model/, dpo.jsonl, sft.jsonl).") var workdir = "/tmp/charter-bench"
    @Option(help: "Measured steps per repeat (after the warm-up steps).") var steps = 10
    @Option(help: "Warm-up steps, not measured.") var warmup = 3
    @Option(help: "Repeats (fresh model and trainer each); the result is the median of their median step times.") var repeats = 3
    @Option(help: "Per step: pairs (dpo, orpo: 4), sequences (sft: 8), rows (kto: 8), completions (grpo, rloo: 8), prompts (online-dpo: 4).")
    var batchSize: Int?
    @Option(help: "max_length") var maxLength = 128
    @Option(help: "Kernel threads (default: CHARTER_THREADS or all cores).") var threads: Int?
    @Option(help: "A model folder (with its tokenizer) instead of the prepared tiny Llama, e.g. SmolLM2-135M-Instruct; the data stay the workdir's.")
    var modelDir: String?
    @Flag(help: "dpo, kto: precompute_ref_log_probs — the initial policy's log-probabilities read once before the steps (the setup time includes that pass); the steps run no reference.")
    var precomputeRefLogProbs = false

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        if precomputeRefLogProbs && ![.dpo, .kto].contains(trainer) {
            throw ValidationError("--precompute-ref-log-probs is for dpo and kto (their precompute_ref_log_probs)")
        }
        let folder = URL(fileURLWithPath: workdir)
        let prepared = try Self.preparedModel(in: workdir, script: trainer.script)
        let modelFolder = modelDir.map { URL(fileURLWithPath: $0) } ?? prepared
        let encoder = try ExampleEncoder.load(directory: modelFolder)
        if [.grpo, .rloo, .onlineDPO].contains(trainer) {
            return try runRollouts(modelFolder: modelFolder, encoder: encoder)
        }
        let data = try Dataset.load(folder.appendingPathComponent(trainer == .sft ? "sft.jsonl" : "dpo.jsonl"))
        var medians: [Double] = [], cpuMedians: [Double] = [], tokensPerStep: [Double] = [], setups: [Double] = []
        /// The reference: a frozen copy of the model folder, or with --precompute-ref-log-probs the initial policy.
        func reference() throws -> DPOReference {
            if precomputeRefLogProbs { return .initialPolicy }
            let model = try PretrainedModel.load(directory: modelFolder)
            model.setTrainable(false)
            return .model(model)
        }
        for _ in 0..<repeats {
            let setupStart = DispatchTime.now().uptimeNanoseconds
            let policy = try TrainableModel(directory: modelFolder)
            let objective: TrainingObjective
            let batch: Int
            switch trainer {
            case .dpo:
                var configuration = DPOConfiguration()
                configuration.maximumLength = maxLength
                configuration.training.learningRate = 1e-5
                configuration.precomputeReferenceLogProbabilities = precomputeRefLogProbs
                batch = batchSize ?? 4
                objective = try DPOTrainer(configuration: configuration, policy: policy, reference: try reference(),
                                           encoder: encoder, train: data.examples)
            case .sft:
                var configuration = SFTConfiguration()
                configuration.maximumLength = maxLength
                batch = batchSize ?? 8
                objective = try SFTTrainer(configuration: configuration, policy: policy, encoder: encoder, train: data.examples)
            case .orpo:
                var configuration = ORPOConfiguration()
                configuration.maximumLength = maxLength
                batch = batchSize ?? 4
                objective = try ORPOTrainer(configuration: configuration, policy: policy, encoder: encoder, train: data.examples)
            case .kto:
                var configuration = KTOConfiguration()
                configuration.maximumLength = maxLength
                configuration.training.batchSize = batchSize ?? 8
                // The steps take consecutive blocks of the data, the order precomputed KL pairs are fixed in.
                configuration.training.trainSamplingStrategy = "sequential"
                configuration.precomputeReferenceLogProbabilities = precomputeRefLogProbs
                batch = configuration.training.batchSize
                objective = try KTOTrainer(configuration: configuration, policy: policy, reference: try reference(),
                                           encoder: encoder, train: data.examples)
            case .grpo, .rloo, .onlineDPO:
                preconditionFailure("timed by runRollouts")
            }
            setups.append(Double(DispatchTime.now().uptimeNanoseconds - setupStart) / 1e9)
            let optimizer = AdamW(parameters: objective.trainableParameters, learningRate: trainer == .sft ? 2e-5 : 1e-5,
                                  beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, noDecay: objective.parametersWithoutDecay)
            var generator = SeededGenerator(seed: 42)
            var times: [Double] = [], cpuTimes: [Double] = [], tokens: [Double] = []
            for step in 0..<(warmup + steps) {
                let indices = (0..<batch).map { (step * batch + $0) % objective.exampleCount }
                let before = objective.counters["num_tokens"] ?? 0
                let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Self.cpuSeconds()
                let (loss, _) = try objective.loss(examples: indices, generator: &generator)
                loss.backward()
                clipGradientNorm(optimizer.parameters, maxNorm: 1)
                optimizer.step()
                optimizer.zeroGradients()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if step >= warmup {
                    times.append(seconds)
                    cpuTimes.append(Self.cpuSeconds() - cpuStart)
                    tokens.append((objective.counters["num_tokens"] ?? 0) - before)
                }
            }
            medians.append(times.sorted()[times.count / 2])
            cpuMedians.append(cpuTimes.sorted()[cpuTimes.count / 2])
            tokensPerStep.append(tokens.reduce(0, +) / Double(tokens.count))
        }
        let median = medians.sorted()[medians.count / 2]
        var result: [String: JSONValue] = [
            "impl": "charter", "benchmark": .string(trainer.rawValue), "step_ms_median": .numeric(median * 1000),
            "step_ms_per_repeat": .array(medians.map { .numeric($0 * 1000) }), "threads": .integer(ComputeThreads.count),
            "max_length": .integer(maxLength), "cpu_ms_per_step_median": .numeric(cpuMedians.sorted()[cpuMedians.count / 2] * 1000),
            "cpu_ms_per_repeat": .array(cpuMedians.map { .numeric($0 * 1000) }),
            "setup_ms_median": .numeric(setups.sorted()[setups.count / 2] * 1000),
            "precompute_ref_log_probs": .bool(precomputeRefLogProbs),
        ]
        switch trainer {
        case .dpo, .orpo:
            result["steps_per_s"] = .numeric(1 / median)
            result["pairs_per_step"] = .integer(batchSize ?? 4)
        case .kto:
            result["steps_per_s"] = .numeric(1 / median)
            result["rows_per_step"] = .integer(batchSize ?? 8)
        case .grpo, .rloo, .onlineDPO:
            preconditionFailure("timed by runRollouts")
        case .sft:
            let perStep = tokensPerStep.reduce(0, +) / Double(tokensPerStep.count)
            result["tokens_per_s"] = .numeric(perStep / median)
            result["tokens_per_step"] = .numeric(perStep)
            result["sequences_per_step"] = .integer(batchSize ?? 8)
        }
        printJSONLine(JSONValue(sortingKeys: result))
    }

    /// User + system CPU seconds of this process (all threads).
    static func cpuSeconds() -> Double { ProcessMemory.cpuSeconds }
}

extension DPOBenchmark {
    /// `workdir/model`, which Benchmarks/trl's scripts prepare; an error saying which script to run when it is missing.
    static func preparedModel(in workdir: String, script: String) throws -> URL {
        let modelFolder = URL(fileURLWithPath: workdir).appendingPathComponent("model")
        guard FileManager.default.fileExists(atPath: modelFolder.appendingPathComponent("config.json").path) else {
            throw CommandError("\(modelFolder.path) is missing: run python3 Benchmarks/trl/\(script) --workdir \(workdir) first")
        }
        return modelFolder
    }
}
