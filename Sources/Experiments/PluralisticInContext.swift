import Foundation
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tensors
import Tokenizers

/// The in-context alternative of `charter experiment pluralistic`: one policy that reads the user's weights from its
/// prompt, so that a new weighting changes no weights of the model and needs no reward model at use time.
///
/// The review world's models are trained from scratch and have never seen an instruction, so the policy first learns
/// once to read a weight line — reward-conditioned SFT (Korbak et al. 2023, "Pretraining language models with human
/// preferences", conditional training; Chen et al. 2021, Decision Transformer). Its data are the labelled pairs the
/// heads train on, no more: for each conditioning weight w and each pair, one person decides — a factual reader with
/// probability w, an enthusiast otherwise, the crowd of the pooled model with its share set to w — and the
/// completion that person's group chose becomes the target after the line "weights: enthusiast 1−w, factual w"
/// (pairs whose decider's group tied are left out). The model so learns, for each w, the reviews a crowd of that mix
/// prefers. At use time the policy is sampled at temperature 1 with the asked weights in its prompt: plain sampling,
/// no selection, no reward model.
public enum PluralisticInContext {
    /// One sampled pair of completions of `prompt` with each group's label (nil: that group's rewards tied).
    public struct LabelledPair: Equatable, Sendable {
        public var prompt: String
        public var enthusiast: FrontierPreference?
        public var factual: FrontierPreference?

        public init(prompt: String, enthusiast: FrontierPreference?, factual: FrontierPreference?) {
            (self.prompt, self.enthusiast, self.factual) = (prompt, enthusiast, factual)
        }
    }

    /// The run folder of the conditioning SFT (relative to a seed folder), and its model.
    static let run = "in-context", model = "in-context/sft/model", data = "pairs/in-context.jsonl"

    /// The weight line put before a prompt, e.g. "weights: enthusiast 0.75, factual 0.25\n".
    public static func prefix(factualWeight: Double) -> String {
        String(format: "weights: enthusiast %.2f, factual %.2f\n", 1 - factualWeight, factualWeight)
    }

    /// The conditioning SFT data: for every weight w and every pair, the completion chosen by a decider drawn from a
    /// crowd that is a share w factual readers, after the weight line. Reads only the labels.
    /// - Parameter seed: the seeded draws of the deciders (one per weight and pair).
    /// - Returns: prompt–completion examples, weights in the order given, pairs in order within each weight.
    public static func conditioningExamples(_ pairs: [LabelledPair], factualWeights: [Double], seed: UInt64) -> [(prompt: String, completion: String)] {
        var crowd = SeededGenerator(seed: seed)
        return factualWeights.flatMap { weight in
            pairs.compactMap { pair -> (prompt: String, completion: String)? in
                let label = Double(crowd.nextUniform()) < weight ? pair.factual : pair.enthusiast
                return label.map { (prompt: prefix(factualWeight: weight) + pair.prompt, completion: $0.chosen) }
            }
        }
    }

    /// The conditioning SFT as a pipeline recipe (relative to the seed folder): the reference model fine-tuned on
    /// `data`, loss on the completions.
    static func recipeYAML(_ c: PluralisticConfiguration, seed: UInt64) -> String {
        """
        # The in-context policy: the reference model taught once to read a weight line (reward-conditioned SFT on the
        # completions the groups' labels chose).
        name: pluralistic-in-context
        seed: \(seed)
        constitution: default
        stages:
          - name: sft
            type: sft
            model: \(FrontierRecipe.referenceModel)
            dataset: \(data)
            training: {max_steps: \(c.inContextSteps), per_device_train_batch_size: 32, learning_rate: \(c.inContextLearningRate), lr_scheduler_type: cosine, warmup_steps: 10, max_length: \(c.world.contextLength), logging_steps: 10}

        """
    }

    /// Writes the conditioning data and trains the in-context policy under `folder` (reused when already trained).
    /// - Returns: the policy's folder and the number of conditioning examples.
    /// - Throws: `ExperimentError` when a weight line and a prompt leave no room for a response in the model's context.
    static func train(_ c: PluralisticConfiguration, pairs: [LabelledPair], tokenizer: Tokenizer, seed: UInt64, folder: URL,
                      log: @escaping @Sendable (String) -> Void) async throws -> (model: URL, examples: Int) {
        // Every weight line before every prompt of the world (training and held-out) must leave room for a response.
        let longest = c.factualWeights.flatMap { weight in
            FrontierTask.prompts(for: FrontierTask.items).map { tokenizer.encode(prefix(factualWeight: weight) + $0).count }
        }.max() ?? 0
        guard longest + c.world.responseLength + 1 <= c.world.contextLength else {
            throw ExperimentError("in-context: a weight line and prompt take \(longest) tokens, and \(c.world.responseLength) response tokens "
                                  + "do not fit the model's context of \(c.world.contextLength); shorten the weight line or raise contextLength")
        }
        let examples = conditioningExamples(pairs, factualWeights: c.factualWeights, seed: seed &+ 0x1C7)
        try ExperimentFiles.writeJSONL(examples.map { ["prompt": $0.prompt, "completion": $0.completion] }, to: folder.appendingPathComponent(data))
        let recipe = folder.appendingPathComponent("in-context.yaml")
        try AtomicFile.write(Data(recipeYAML(c, seed: seed).utf8), to: recipe)
        log("[seed \(seed)] in-context policy: \(examples.count) conditioning examples, \(c.inContextSteps) SFT steps from the reference")
        _ = try await Pipeline(recipe: try PipelineRecipe.load(recipe), runDirectory: folder.appendingPathComponent(run))
            .run { log("[seed \(seed)] in-context \($0)") }
        return (folder.appendingPathComponent(model), examples.count)
    }

    /// Samples the policy `count` times on `prompts` with the weight line of `factualWeight`, and the KL of each
    /// sample from the reference on the bare prompt: log π(y | line, x) − log π_ref(y | x).
    static func sample(_ policy: any CausalLanguageModel, reference: any CausalLanguageModel, tokenizer: Tokenizer, prompts: [String],
                       factualWeight: Double, count: Int, maximumNewTokens: Int, seed: UInt64) throws -> (samples: [FrontierSample], kl: Double) {
        let samples = FrontierEvaluation.sample(policy, tokenizer: tokenizer, prompts: prompts.map { prefix(factualWeight: factualWeight) + $0 },
                                                count: count, maximumNewTokens: maximumNewTokens, seed: seed)
        let bare = prompts.map { tokenizer.encode($0).map(Int32.init) }
        let ratios = try FrontierEvaluation.logRatios(policy: policy, reference: reference, samples: samples,
                                                      referencePrompts: samples.map { bare[$0.promptIndex] })
        return (samples, Statistics.mean(ratios))
    }
}
