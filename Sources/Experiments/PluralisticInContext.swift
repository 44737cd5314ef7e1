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
/// preferences", conditional training; Yang et al. 2024, "Rewards-in-Context"). Two designs (``Design``):
/// - **heads** (the default): the line names a crowd of four readers, one letter each ("crowd: EEEF" is factual
///   weight 0.25). For every training prompt the reference is sampled `inContextSamplesPerPrompt` times; for each
///   weight w the samples the weighted heads rank highest — the objective best-of-n selects by, from heads trained on
///   the labelled pairs — become the targets after the line for w. No ground truth, no labels beyond the heads'.
/// - **labels** (the first design, measured flat): the line "weights: enthusiast 1−w, factual w"; for each weight and
///   labelled pair one decider, a factual reader with probability w, and the completion that decider's group chose.
///   The tiny model learned the targets' average: one decider's choice between two reference samples shifts the
///   targets of the two ends of the sweep apart by little, and it memorises the completions before it reads that.
/// At use time the policy is sampled at temperature 1 with the asked weights in its prompt: plain sampling, no
/// selection, no reward model.
public enum PluralisticInContext {
    /// How the conditioning data are made and which line the policy reads.
    public enum Design: String, Codable, CaseIterable, Sendable {
        /// Head-selected reference samples after the crowd line.
        case heads
        /// One labelled pair's choice per weight, by a drawn decider, after the digit line (results written before the
        /// heads design read as this).
        case labels
    }

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

    /// Readers in the crowd line: the heads design reads factual weights in steps of 1/4.
    public static let crowdSize = 4

    /// Whether the crowd line can state `factualWeight` (a multiple of 1/``crowdSize`` in [0, 1]).
    public static func crowdCanState(_ factualWeight: Double) -> Bool {
        let readers = factualWeight * Double(crowdSize)
        return (0...1).contains(factualWeight) && abs(readers - readers.rounded()) < 1e-9
    }

    /// The weight line put before a prompt.
    /// - heads: the crowd of ``crowdSize`` readers, enthusiasts (E) first, then factual readers (F): "crowd: EEEF\n"
    ///   for factual weight 0.25. Each letter is its own token, so a weight differs from its neighbour in a token of
    ///   its own rather than in one digit of a number.
    /// - labels: "weights: enthusiast 0.75, factual 0.25\n".
    /// - Precondition: with `.heads`, `crowdCanState(factualWeight)`.
    public static func prefix(_ design: Design, factualWeight: Double) -> String {
        switch design {
        case .labels:
            return String(format: "weights: enthusiast %.2f, factual %.2f\n", 1 - factualWeight, factualWeight)
        case .heads:
            precondition(crowdCanState(factualWeight), "the crowd line states factual weights in steps of 1/\(crowdSize), got \(factualWeight)")
            let factual = Int((factualWeight * Double(crowdSize)).rounded())
            return "crowd: " + String(repeating: "E", count: crowdSize - factual) + String(repeating: "F", count: factual) + "\n"
        }
    }

    /// The labels design's conditioning data: for every weight w and every pair, the completion chosen by a decider
    /// drawn from a crowd that is a share w factual readers, after the weight line. Reads only the labels.
    /// - Parameter seed: the seeded draws of the deciders (one per weight and pair).
    /// - Returns: prompt–completion examples, weights in the order given, pairs in order within each weight.
    public static func conditioningExamples(_ pairs: [LabelledPair], factualWeights: [Double], seed: UInt64) -> [(prompt: String, completion: String)] {
        var crowd = SeededGenerator(seed: seed)
        return factualWeights.flatMap { weight in
            pairs.compactMap { pair -> (prompt: String, completion: String)? in
                let label = Double(crowd.nextUniform()) < weight ? pair.factual : pair.enthusiast
                return label.map { (prompt: prefix(.labels, factualWeight: weight) + pair.prompt, completion: $0.chosen) }
            }
        }
    }

    /// The heads design's conditioning data: for every weight and every prompt, the `kept` samples of that prompt
    /// with the highest objective at that weight (the earlier sample first on a tie), after the crowd line.
    /// - Parameters:
    ///   - samples: reference samples, each with the index of its prompt in `prompts`.
    ///   - objectives: per weight (in the order of `factualWeights`), one score per sample — the weighted heads.
    /// - Returns: examples grouped by weight, then by prompt, best first.
    public static func selectedExamples(prompts: [String], samples: [(promptIndex: Int, text: String)], objectives: [[Double]],
                                        factualWeights: [Double], kept: Int) -> [(prompt: String, completion: String)] {
        precondition(objectives.count == factualWeights.count && objectives.allSatisfy { $0.count == samples.count },
                     "one objective per weight (\(objectives.count) for \(factualWeights.count)) and per sample (\(objectives.map(\.count)) for \(samples.count))")
        let byPrompt = Dictionary(grouping: samples.indices, by: { samples[$0].promptIndex })
        return zip(factualWeights, objectives).flatMap { weight, objective in
            prompts.indices.flatMap { promptIndex -> [(prompt: String, completion: String)] in
                let ranked = (byPrompt[promptIndex] ?? []).sorted { objective[$0] > objective[$1] || (objective[$0] == objective[$1] && $0 < $1) }
                return ranked.prefix(kept).map { (prompt: prefix(.heads, factualWeight: weight) + prompts[promptIndex], completion: samples[$0].text) }
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
    /// - Parameter examples: prompt–completion pairs, each prompt behind its weight line.
    /// - Throws: `ExperimentError` when a weight line and a prompt leave no room for a response in the model's context.
    static func train(_ c: PluralisticConfiguration, examples: [(prompt: String, completion: String)], tokenizer: Tokenizer, seed: UInt64,
                      folder: URL, log: @escaping @Sendable (String) -> Void) async throws -> URL {
        // Every weight line before every prompt of the world (training and held-out) must leave room for a response.
        let longest = c.factualWeights.flatMap { weight in
            FrontierTask.prompts(for: FrontierTask.items).map { tokenizer.encode(prefix(c.inContextDesign, factualWeight: weight) + $0).count }
        }.max() ?? 0
        guard longest + c.world.responseLength + 1 <= c.world.contextLength else {
            throw ExperimentError("in-context: a weight line and prompt take \(longest) tokens, and \(c.world.responseLength) response tokens "
                                  + "do not fit the model's context of \(c.world.contextLength); shorten the weight line or raise contextLength")
        }
        try ExperimentFiles.writeJSONL(examples.map { ["prompt": $0.prompt, "completion": $0.completion] }, to: folder.appendingPathComponent(data))
        let recipe = folder.appendingPathComponent("in-context.yaml")
        try AtomicFile.write(Data(recipeYAML(c, seed: seed).utf8), to: recipe)
        log("[seed \(seed)] in-context policy (\(c.inContextDesign.rawValue)): \(examples.count) conditioning examples, \(c.inContextSteps) SFT steps from the reference")
        _ = try await Pipeline(recipe: try PipelineRecipe.load(recipe), runDirectory: folder.appendingPathComponent(run))
            .run { log("[seed \(seed)] in-context \($0)") }
        return folder.appendingPathComponent(model)
    }

    /// Samples the policy `count` times on `prompts` with `design`'s weight line for `factualWeight`, and the KL of each
    /// sample from the reference on the bare prompt: log π(y | line, x) − log π_ref(y | x).
    static func sample(_ policy: any CausalLanguageModel, reference: any CausalLanguageModel, tokenizer: Tokenizer, prompts: [String],
                       design: Design, factualWeight: Double, count: Int, maximumNewTokens: Int, seed: UInt64) throws -> (samples: [FrontierSample], kl: Double) {
        let samples = FrontierEvaluation.sample(policy, tokenizer: tokenizer, prompts: prompts.map { prefix(design, factualWeight: factualWeight) + $0 },
                                                count: count, maximumNewTokens: maximumNewTokens, seed: seed)
        let bare = prompts.map { tokenizer.encode($0).map(Int32.init) }
        let ratios = try FrontierEvaluation.logRatios(policy: policy, reference: reference, samples: samples,
                                                      referencePrompts: samples.map { bare[$0.promptIndex] })
        return (samples, Statistics.mean(ratios))
    }
}
