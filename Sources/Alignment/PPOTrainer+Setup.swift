import Datasets
import Foundation
import JSON
import LanguageModels
import Settings
import Tensors

/// The model folders a PPO run reads besides the policy's own, by TRL's `PPOConfig` / script keys.
public struct PPOModelFolders: Sendable {
    /// The policy's starting weights (`model_name_or_path`): a frozen copy is the reference unless `reference` is set.
    public var policy: URL
    /// The reward model scoring rollouts (`reward_model_path`), a sequence-classification folder.
    public var rewardModel: URL
    /// The reference π_ref of the KL penalty (`ref_model`); nil: a frozen copy of `policy` (or the LoRA base).
    public var reference: URL?
    /// The critic's trunk and initial head (`value_model_path`); nil: a value head on the policy's own trunk.
    public var valueModel: URL?

    /// The recipe keys besides `PPOConfiguration.keys` and `TrainingRecipe.modelKeys` that name these folders.
    public static let recipeKeys = ["reward_model_path", "value_model_path"]

    public init(policy: URL, rewardModel: URL, reference: URL? = nil, valueModel: URL? = nil) {
        self.policy = policy
        self.rewardModel = rewardModel
        self.reference = reference
        self.valueModel = valueModel
    }

    /// The folders a recipe names: `ref_model` and `value_model_path` from `recipe`, the reward model from
    /// `reward_model_path` unless given (a pipeline stage passes its `reward_model:` input).
    /// - Throws: `SettingsError` when no reward model is named.
    public init(policy: URL, recipe: TrainingRecipe, rewardModel: URL? = nil) throws {
        guard let reward = rewardModel ?? (recipe["reward_model_path"] as? String).map({ URL(fileURLWithPath: $0) }) else {
            throw SettingsError(key: "reward_model_path", message: "no reward model folder was given")
        }
        self.init(policy: policy, rewardModel: reward, reference: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) },
                  valueModel: (recipe["value_model_path"] as? String).map { URL(fileURLWithPath: $0) })
    }

    /// Whether the policy and the reward model have byte-identical `tokenizer.json` files, so rollouts are scored by
    /// token id (TRL's assumption) rather than re-tokenized with the reward model's tokenizer.
    public var sharesTokenizer: Bool {
        guard let first = try? Data(contentsOf: policy.appendingPathComponent("tokenizer.json")),
              let second = try? Data(contentsOf: rewardTokenizerFolder.appendingPathComponent("tokenizer.json")) else { return false }
        return first == second
    }

    /// The folder whose tokenizer the reward model uses: the reward model's, or an ensemble's first member's.
    var rewardTokenizerFolder: URL {
        guard RewardEnsembleManifest.isEnsemble(rewardModel), let manifest = try? RewardEnsembleManifest.load(directory: rewardModel) else { return rewardModel }
        return manifest.firstFolder(in: rewardModel)
    }

    /// The reward model folder as a reward: a sequence classifier, or an ensemble folder whose members' standardised
    /// scores are aggregated by `aggregation`; scored by token id when the tokenizers match (`sharesTokenizer`).
    /// - Throws: `SettingsError` (key `reward_aggregation`) when an aggregation other than mean is asked of a single
    ///   reward model, which has no members to combine; what loading the folder throws.
    public func rewardFunction(aggregation: RewardAggregation = .mean, seed: UInt64, batchSize: Int = 8) throws -> RewardFunction {
        if RewardEnsembleManifest.isEnsemble(rewardModel) {
            return try EnsembleReward.load(directory: rewardModel, aggregation: aggregation, sharesTokenizer: sharesTokenizer, seed: seed,
                                           batchSize: batchSize)
        }
        guard aggregation == .mean else {
            throw SettingsError(key: "reward_aggregation", message: "is \(aggregation), but \(rewardModel.path) is one reward model, not an ensemble folder "
                                + "(no \(RewardEnsembleManifest.fileName)); train one with charter reward --ensemble K or --head NAME=FILE, or drop the key")
        }
        return RewardModelScorer(model: try SequenceClassifier.load(directory: rewardModel, seed: seed), sharesTokenizer: sharesTokenizer,
                                 batchSize: batchSize)
    }

    /// `hidden_size` (Llama family) or `n_embd` (GPT-2) from a model folder's config.json, for a fresh value head.
    /// - Throws: `SettingsError` naming the file when neither is there.
    public static func hiddenSize(of directory: URL) throws -> Int {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url), let object = try? JSONParser.parse(data),
              let size = (object["hidden_size"] ?? object["n_embd"])?.integerValue else {
            throw SettingsError(key: "value_model_path", message: "\(url.path) has no hidden_size or n_embd for the value head; give a value_model_path")
        }
        return size
    }
}

extension PPOTrainer {
    /// A trainer set up as `charter ppo` and the pipeline's `ppo` stage set it up, so the two cannot drift:
    /// - the reward: the reward model folder (seeded with `seed`), scoring by id when the tokenizers match;
    /// - the reference (`ReferencePolicy.ppo`): `ref_model`, else the LoRA base when the policy trains adapters, else
    ///   a frozen copy of the policy's starting weights;
    /// - the critic: `value_model_path`'s trunk (trained) with its score layer as the head's start, else a value head
    ///   on the policy's trunk initialised with seed + 1.
    /// - Parameters:
    ///   - policy: the policy as loaded (with LoRA adapters when training them).
    ///   - prompts: prompt-only examples (see ``init(configuration:policy:critic:reference:reward:encoder:prompts:evaluationPrompts:)``).
    /// - Throws: what loading the folders throws, and the designated initialiser's errors.
    public convenience init(configuration: PPOConfiguration, policy: TrainableModel, folders: PPOModelFolders, encoder: ExampleEncoder,
                            prompts: [Example], evaluationPrompts: [Example] = []) throws {
        let seed = configuration.training.seed
        if configuration.stopOnDivergence && configuration.monitorRewardModel == nil {
            throw SettingsError(key: "stop_on_divergence", message: "needs monitor_reward_model (the monitor whose fall stops the run)")
        }
        let reward = try folders.rewardFunction(aggregation: try configuration.ensemble.aggregation, seed: seed, batchSize: configuration.rolloutForwardBatchSize)

        let reference = try ReferencePolicy.ppo(policy: policy, policyFolder: folders.policy, referenceModel: folders.reference)

        let critic: PPOCritic
        if var valueDirectory = folders.valueModel {
            var column: Int?  // a shared trunk's first member's head
            if RewardEnsembleManifest.isEnsemble(valueDirectory) {
                let manifest = try RewardEnsembleManifest.load(directory: valueDirectory)
                column = manifest.members[0].column
                valueDirectory = manifest.firstFolder(in: valueDirectory)
            }
            let classifier = try SequenceClassifier.load(directory: valueDirectory, seed: seed &+ 1, labels: column == nil ? 1 : nil)
            classifier.body.setTrainable(true)
            critic = PPOCritic(trunk: TrainableModel(model: classifier.body, sourceDirectory: valueDirectory),
                               head: ValueHead(rewardModel: classifier, column: column ?? 0))
        } else {
            var generator = SeededGenerator(seed: seed &+ 1)
            critic = PPOCritic(trunk: nil, head: ValueHead(hiddenSize: try PPOModelFolders.hiddenSize(of: folders.policy), generator: &generator))
        }
        try self.init(configuration: configuration, policy: policy, critic: critic, reference: reference, reward: reward, encoder: encoder,
                      prompts: prompts, evaluationPrompts: evaluationPrompts)
        if let path = configuration.monitorRewardModel, path.hasPrefix("cmd:") {
            monitor = try BuiltInRewards.named(path, maximumCompletionLength: configuration.responseLength)?.function
        } else if let path = configuration.monitorRewardModel {
            let folder = URL(fileURLWithPath: path)
            let shares = PPOModelFolders(policy: folders.policy, rewardModel: folder).sharesTokenizer
            monitor = RewardEnsembleManifest.isEnsemble(folder)
                ? try EnsembleReward.load(directory: folder, aggregation: .mean, sharesTokenizer: shares, seed: seed, batchSize: configuration.rolloutForwardBatchSize)
                : RewardModelScorer(model: try SequenceClassifier.load(directory: folder, seed: seed), sharesTokenizer: shares,
                                    batchSize: configuration.rolloutForwardBatchSize)
        }
    }
}
