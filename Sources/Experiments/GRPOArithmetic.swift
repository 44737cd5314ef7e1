import Alignment
import Datasets
import Foundation
import JSON
import LanguageModels
import Reports
import Runtime
import Tensors
import Tokenizers

/// Does GRPO with a verifiable reward raise held-out accuracy? (DeepSeekMath's claim, Shao et al. 2024, on a task small
/// enough to run here.) Each seed generates sums a + b with operands below `operandLimit`, holds out a random
/// set of them, trains a tiny Llama from scratch with a short SFT on the others (so it is right only part of the
/// time), then runs GRPO with the exact-match reward on the training prompts. Greedy exact-match accuracy on the
/// held-out sums is measured before and after GRPO; so is a control that continues SFT for as many optimizer steps.
public struct GRPOArithmeticConfiguration: Codable, Equatable, Sendable {
    /// Operands are 0 ..< operandLimit.
    public var operandLimit = 20
    /// Sums held out from both SFT and GRPO.
    public var heldOutCount = 100
    public var model = GRPOArithmeticConfiguration.Model()
    public var sftSteps = 300
    public var sftLearningRate: Float = 3e-3
    public var sftBatchSize = 16
    public var grpoSteps = 120
    public var grpoLearningRate: Float = 1e-4
    /// Prompts per GRPO generation batch.
    public var grpoPrompts = 4
    public var numGenerations = 8
    public var temperature: Float = 1

    public struct Model: Codable, Equatable, Sendable {
        public var hiddenSize = 64, layerCount = 2, headCount = 4, vocabularySize = 300
    }

    public init() {}

    /// A quicker configuration for tests and smoke runs.
    public static var reduced: Self {
        var configuration = Self()
        configuration.operandLimit = 10
        configuration.heldOutCount = 30
        configuration.sftSteps = 60
        configuration.grpoSteps = 10
        return configuration
    }
}

/// One seed's outcome.
public struct GRPOArithmeticSeed: Codable, Equatable, Sendable {
    public var seed: UInt64
    /// Held-out greedy exact-match accuracy after SFT, after GRPO, and after the SFT control.
    public var accuracyAfterSFT: Double
    public var accuracyAfterGRPO: Double
    public var accuracyAfterSFTControl: Double
    /// Mean training reward (exact match of sampled completions) per GRPO iteration.
    public var trainingReward: [Double]
    public var seconds: Double
    /// Held-out sums with the SFT and GRPO models' greedy answers.
    public var examples: [GenerationExample]
}

/// results.json: the configuration, each seed, and 95% t-intervals over seeds.
public struct GRPOArithmeticResults: Codable, Equatable, Sendable {
    public var experiment = "grpo-arithmetic"
    public var configuration: GRPOArithmeticConfiguration
    public var seeds: [GRPOArithmeticSeed]
    public var accuracyAfterSFT: Interval
    public var accuracyAfterGRPO: Interval
    public var accuracyAfterSFTControl: Interval
    /// Paired per seed: GRPO − SFT, and GRPO − the SFT control.
    public var gainOverSFT: Interval
    public var gainOverControl: Interval

    public init(configuration: GRPOArithmeticConfiguration, seeds: [GRPOArithmeticSeed]) {
        self.configuration = configuration
        self.seeds = seeds
        accuracyAfterSFT = Statistics.interval95(seeds.map(\.accuracyAfterSFT))
        accuracyAfterGRPO = Statistics.interval95(seeds.map(\.accuracyAfterGRPO))
        accuracyAfterSFTControl = Statistics.interval95(seeds.map(\.accuracyAfterSFTControl))
        gainOverSFT = Statistics.interval95(seeds.map { $0.accuracyAfterGRPO - $0.accuracyAfterSFT })
        gainOverControl = Statistics.interval95(seeds.map { $0.accuracyAfterGRPO - $0.accuracyAfterSFTControl })
    }
}

public enum GRPOArithmetic {
    /// Every sum a + b as a prompt row `{"prompt": "a+b=", "answer": a + b}` (TRL's prompt-only format with the answer
    /// column the exact-match reward reads), split by `seed` into training and held-out rows.
    public static func task(_ configuration: GRPOArithmeticConfiguration, seed: UInt64) -> (train: [Example], heldOut: [Example]) {
        var rows: [Example] = []
        for a in 0..<configuration.operandLimit {
            for b in 0..<configuration.operandLimit {
                rows.append(Example(.promptOnly(prompt: .standard("\(a)+\(b)=")), line: rows.count + 1,
                                    extras: [JSONValue.Member("answer", .number(JSONNumber(a + b)))]))
            }
        }
        var order = Array(rows.indices)
        var generator = SeededGenerator(seed: seed &+ 0x5eed)
        order.seededShuffle(using: &generator)
        let heldOut = Set(order.prefix(configuration.heldOutCount))
        return (rows.indices.filter { !heldOut.contains($0) }.map { rows[$0] }, rows.indices.filter(heldOut.contains).map { rows[$0] })
    }

    /// The SFT rows of prompt rows: the completion is the true sum.
    static func demonstrations(_ prompts: [Example]) -> [Example] {
        prompts.map { example in
            guard case .promptOnly(let prompt) = example.body, let answer = example.extras.first?.value.doubleValue else { return example }
            return Example(.promptCompletion(prompt: prompt, completion: .standard("\(Int(answer))")), line: example.line, extras: example.extras)
        }
    }

    /// Runs one seed in `folder` (model folders and each stage's run folder); `log` receives progress lines.
    public static func run(_ configuration: GRPOArithmeticConfiguration, seed: UInt64, folder: URL,
                           log: (String) -> Void = { _ in }) throws -> GRPOArithmeticSeed {
        let started = Date()
        try? FileManager.default.removeItem(at: folder)
        let (train, heldOut) = task(configuration, seed: seed)
        let texts = demonstrations(train).compactMap { example -> String? in
            guard case .promptCompletion(.standard(let prompt), .standard(let completion)) = example.body else { return nil }
            return prompt + completion
        }
        let initial = folder.appendingPathComponent("initial")
        let sizes = configuration.model
        try InitialModel(vocabularySize: sizes.vocabularySize, hiddenSize: sizes.hiddenSize, intermediateSize: 4 * sizes.hiddenSize,
                         layerCount: sizes.layerCount, headCount: sizes.headCount, contextLength: 32)
            .write(texts: texts + ["0123456789+="], seed: seed, to: initial)
        let encoder = ExampleEncoder(tokenizer: try Tokenizer(directory: initial))

        func sft(from start: URL, steps: Int, output: URL) throws {
            var settings = SFTConfiguration()
            settings.training = .constantRate(output: output, steps: steps, batchSize: configuration.sftBatchSize,
                                              learningRate: configuration.sftLearningRate, seed: seed)
            let policy = try TrainableModel(directory: start)
            let trainer = try SFTTrainer(configuration: settings, policy: policy, encoder: encoder, train: demonstrations(train))
            _ = try TrainingLoop(arguments: settings.training).run(trainer)
        }
        let sftFolder = folder.appendingPathComponent("sft")
        log("seed \(seed): SFT, \(configuration.sftSteps) steps on \(train.count) sums")
        try sft(from: initial, steps: configuration.sftSteps, output: sftFolder)

        var settings = GRPOConfiguration()
        settings.training = .constantRate(output: folder.appendingPathComponent("grpo"), steps: configuration.grpoSteps,
                                          batchSize: configuration.grpoPrompts * configuration.numGenerations,
                                          learningRate: configuration.grpoLearningRate, seed: seed, loggingSteps: 1)
        settings.training.evaluationBatchSize = 32
        settings.generationCount = configuration.numGenerations
        settings.maximumCompletionLength = 4
        settings.temperature = configuration.temperature
        let policy = try TrainableModel(directory: sftFolder)
        let exactMatch = [NamedReward(name: "exact_match", function: ExactMatchReward())]
        let grpo = try GRPOTrainer(configuration: settings, policy: policy, reference: nil, rewards: exactMatch, encoder: encoder,
                                   prompts: train, evaluationPrompts: heldOut)
        let before = try grpo.evaluate()["eval_rewards/exact_match/mean"] ?? 0
        let sftAnswers = try answers(policy.model, heldOut, encoder: encoder)
        log("seed \(seed): held-out accuracy after SFT \(String(format: "%.3f", before)); GRPO, \(configuration.grpoSteps) iterations")
        let summary = try grpo.train()
        let after = try grpo.evaluate()["eval_rewards/exact_match/mean"] ?? 0
        let grpoAnswers = try answers(policy.model, heldOut, encoder: encoder)

        // The control: as many more SFT optimizer steps as GRPO took, from the same SFT model.
        let control = folder.appendingPathComponent("sft-control")
        try sft(from: sftFolder, steps: configuration.grpoSteps * settings.iterationCount, output: control)
        let controlTrainer = try GRPOTrainer(configuration: settings, policy: try TrainableModel(directory: control), reference: nil,
                                             rewards: exactMatch, encoder: encoder, prompts: train, evaluationPrompts: heldOut)
        let controlAccuracy = try controlTrainer.evaluate()["eval_rewards/exact_match/mean"] ?? 0
        log("seed \(seed): after GRPO \(String(format: "%.3f", after)), SFT control \(String(format: "%.3f", controlAccuracy))")

        let examples = heldOut.prefix(8).indices.map { index -> GenerationExample in
            guard case .promptOnly(.standard(let prompt)) = heldOut[index].body else { preconditionFailure("prompt rows") }
            let truth = Int(heldOut[index].extras.first?.value.doubleValue ?? 0)
            func verdict(_ text: String) -> String { VerifiableRewards.lastNumber(in: text) == Double(truth) ? "correct" : "wrong" }
            return GenerationExample(kind: "held out (answer \(truth))", id: "\(index)", prompt: prompt,
                                     responses: [.init(model: "SFT", text: sftAnswers[index], verdict: verdict(sftAnswers[index])),
                                                 .init(model: "GRPO", text: grpoAnswers[index], verdict: verdict(grpoAnswers[index]))])
        }
        return GRPOArithmeticSeed(seed: seed, accuracyAfterSFT: before, accuracyAfterGRPO: after, accuracyAfterSFTControl: controlAccuracy,
                                  trainingReward: summary.history.compactMap { $0["reward"] }, seconds: Date().timeIntervalSince(started),
                                  examples: examples)
    }

    /// Greedy answers (up to 4 tokens, eos-stopped) of `model` to the prompts.
    static func answers(_ model: any CausalLanguageModel, _ prompts: [Example], encoder: ExampleEncoder) throws -> [String] {
        let ids = prompts.map { example -> [Int32] in
            guard case .promptOnly(.standard(let text)) = example.body else { return [] }
            return encoder.encode(text)
        }
        var generation = GenerationConfiguration(sampling: .greedy, endOfSequenceTokens: encoder.endOfSequence.map { [$0] } ?? [])
        generation.sampling.maximumTokens = 4
        return Generator(model: model).generate(prompts: ids, configuration: generation).map {
            encoder.tokenizer.decode($0.tokens.map(Int.init), skipSpecialTokens: true)
        }
    }
}
