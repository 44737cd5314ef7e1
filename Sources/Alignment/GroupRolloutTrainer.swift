import Datasets
import Foundation
import JSON
import LanguageModels
import NeuralNetworks
import Settings
import Tensors

/// A reward function with the name its metrics carry (`rewards/<name>/mean`, TRL's `reward_func.__name__`).
public struct NamedReward {
    public var name: String
    public var function: RewardFunction

    public init(name: String, function: RewardFunction) {
        self.name = name
        self.function = function
    }
}

/// What GRPO, RLOO and online DPO share: prompts repeated `num_generations` times and sampled with the policy, scored
/// by weighted reward functions (or, for online DPO, a pairwise judge), the reference's log-probs when β > 0, and
/// `num_iterations` optimizer steps over the generation batch in `gradient_accumulation_steps` micro-batches. Only
/// the advantage estimator and the loss differ (`Method`); `GRPOTrainer`, `RLOOTrainer` and `OnlineDPOTrainer` are its
/// public faces.
final class GroupRolloutTrainer {
    /// The algorithm: its advantage estimator and loss.
    enum Method: Equatable {
        /// `GRPOLoss`: group-normalised advantages, per-token clipped ratio, k3 KL in the loss.
        case grpo(lossType: GRPOLoss.LossType, scaling: GRPOLoss.RewardScaling, biasCorrectedKL: Bool)
        /// `RLOOLoss`: leave-one-out advantages of KL-penalised rewards, per-sequence clipped ratio.
        case rloo(normalizeAdvantages: Bool)
        /// `PreferenceLoss.dpo` on each prompt's two completions, ranked by the scores or the judge
        /// (`GroupRolloutTrainer+OnlineDPO.swift`); β per epoch.
        case onlineDPO(loss: PreferenceLoss.Kind, betas: [Float], missingEOSPenalty: Float?)

        var name: String {
            switch self {
            case .grpo: return "GRPO"
            case .rloo: return "RLOO"
            case .onlineDPO: return "Online DPO"
            }
        }

        var isOnlineDPO: Bool {
            if case .onlineDPO = self { return true }
            return false
        }
    }

    let settings: GroupRolloutSettings
    let method: Method
    let policy: TrainableModel
    /// π_ref, nil when β = 0 (no reference is loaded, as in TRL).
    let reference: PPOReference?
    let rewards: [NamedReward]
    /// Online DPO's pairwise judge, used instead of reward functions.
    let judge: PairwiseJudge?
    let rewardWeights: [Float]
    let encoder: ExampleEncoder
    let prompts: [[Int32]]
    /// What the reward functions and the judge see of each training prompt besides its ids.
    let promptContexts: [PromptContext]
    let evaluationPrompts: [[Int32]]
    let evaluationContexts: [PromptContext]
    let endOfSequence: Int32?
    /// The epoch the current step is in (0-based), for online DPO's per-epoch β.
    var epochInProgress = 0

    /// - Throws: `TrainingError.data` for prompts that are not usable, `SettingsError` for unusable settings.
    init(settings: GroupRolloutSettings, method: Method, policy: TrainableModel, reference: PPOReference?, rewards: [NamedReward],
         judge: PairwiseJudge? = nil, encoder: ExampleEncoder, prompts: [Example], evaluationPrompts: [Example]) throws {
        try settings.validate()
        self.settings = settings
        self.method = method
        self.policy = policy
        self.reference = settings.beta != 0 ? reference : nil
        if judge != nil {
            guard method.isOnlineDPO else { throw SettingsError(key: "judge", message: "only online DPO ranks with a pairwise judge") }
            guard rewards.isEmpty else {
                throw SettingsError(key: "judge", message: "give either reward functions (reward_funcs, reward_model_path) or a judge, not both")
            }
            if case .onlineDPO(_, _, let penalty?) = method {
                throw SettingsError(key: "missing_eos_penalty", message: "is \(penalty), but a judge gives no scores to penalise; drop it or rank with a reward model")
            }
        } else if rewards.isEmpty {
            throw SettingsError(key: "reward_funcs", message: method.isOnlineDPO
                                ? "online DPO needs a judge or a reward model: give reward_model_path (a reward model folder), reward functions or judge: constitution"
                                : "give at least one reward function")
        }
        if settings.ensemble.aggregatesEnsemble, !rewards.contains(where: { $0.function is EnsembleReward }) {
            throw SettingsError(key: "reward_aggregation", message: "is \(settings.ensemble.name), but no reward is a reward-model ensemble folder "
                                + "(one with \(RewardEnsembleManifest.fileName)) whose members it could combine; give one as the reward model, or drop the key")
        }
        if let weights = settings.rewardWeights, weights.count != rewards.count {
            throw SettingsError(key: "reward_weights", message: "has \(weights.count) weights for \(rewards.count) reward functions; give one per function")
        }
        if settings.beta != 0 && reference == nil {
            throw SettingsError(key: "beta", message: "is \(settings.beta) but no reference model was given; set beta: 0 or give ref_model")
        }
        if case .adaptersDisabled = self.reference, LoRA.adapters(in: policy.model).isEmpty {
            throw SettingsError(key: "ref_model", message: "the reference is the LoRA base, but the policy has no LoRA adapters")
        }
        self.rewards = rewards
        self.judge = judge
        rewardWeights = settings.rewardWeights ?? [Float](repeating: 1, count: rewards.count)
        self.encoder = encoder
        endOfSequence = encoder.endOfSequence
        let (trainIds, trainContexts) = try Self.tokenize(prompts, encoder: encoder, context: policy.model.maximumSequenceLength, method: method.name)
        let (evaluationIds, evaluationContexts) = try Self.tokenize(evaluationPrompts, encoder: encoder,
                                                                   context: policy.model.maximumSequenceLength, method: method.name)
        guard !trainIds.isEmpty else { throw TrainingError.data("the prompt set is empty") }
        self.prompts = trainIds
        promptContexts = trainContexts
        self.evaluationPrompts = evaluationIds
        self.evaluationContexts = evaluationContexts
        // The ratio compares two evaluations of the same policy: dropout (in LoRA adapters) stays off.
        LoRA.setTraining(policy.model, false)
    }

    /// What reward functions and judges get of a prompt besides its ids: the row's other columns (TRL passes them as
    /// keywords) and, for a conversational prompt, its messages (TRL hands judges and reward functions the messages,
    /// not the rendered chat text).
    struct PromptContext {
        var columns: [JSONValue.Member]
        var messages: [Message]?
    }

    /// Prompt ids (standard text, or conversations through the chat template with the generation prompt) and the
    /// rows' other columns and messages. Of prompt–completion and preference rows only the prompt is used.
    static func tokenize(_ examples: [Example], encoder: ExampleEncoder, context: Int?, method: String) throws
        -> (ids: [[Int32]], contexts: [PromptContext]) {
        let ids = try examples.map { example -> [Int32] in
            let prompt: ExampleText
            switch example.body {
            case .promptOnly(let text), .promptCompletion(let text, _), .preference(let text, _, _), .unpairedPreference(let text, _, _):
                prompt = text
            case .languageModeling:
                throw TrainingError.data("line \(example.line): \(method) needs prompts (a \"prompt\" field), found \(example.type.rawValue) data")
            }
            let ids: [Int32]
            switch prompt {
            case .standard(let text): ids = encoder.encode(text)
            case .conversational(let messages): ids = try encoder.conversation(messages, addGenerationPrompt: true, line: example.line).ids
            }
            guard !ids.isEmpty else { throw TrainingError.data("line \(example.line): the prompt encodes to no tokens") }
            if let context, ids.count >= context {
                throw TrainingError.data("line \(example.line): the prompt has \(ids.count) tokens, which leaves no room for a completion "
                                         + "in the model's context of \(context) tokens; shorten it to at most \(context - 1) tokens")
            }
            return ids
        }
        let contexts = examples.map { example -> PromptContext in
            var messages: [Message]?
            switch example.body {
            case .promptOnly(.conversational(let list)), .promptCompletion(.conversational(let list), _),
                 .preference(.conversational(let list), _, _), .unpairedPreference(.conversational(let list), _, _):
                messages = list
            default: messages = nil
            }
            return PromptContext(columns: example.extras, messages: messages)
        }
        return (ids, contexts)
    }

    // MARK: Rollout

    /// G sampled completions of each prompt at `indices` (group by group), generated in batches of
    /// `per_device_train_batch_size` with seeds `seed`, `seed + 1`, …, each cut after its first eos.
    func rollOut(_ indices: [Int], seed: UInt64) -> GroupRollouts {
        let repeated = indices.flatMap { [Int](repeating: $0, count: settings.generationCount) }
        let sampling = SamplingOptions(temperature: settings.temperature, topP: settings.topP, topK: settings.topK, minP: settings.minP)
        return respond(to: repeated.map { prompts[$0] }, sampling: sampling,
                       groupSize: settings.generationCount, batchSize: settings.training.batchSize) { seed &+ UInt64($0) }
    }

    /// Completions of `prompts` (batch `n` generated with `seed(n)`), each cut right after the first eos.
    func respond(to prompts: [[Int32]], sampling: SamplingOptions, groupSize: Int, batchSize: Int, seed: (Int) -> UInt64) -> GroupRollouts {
        var generation = GenerationConfiguration(sampling: sampling, endOfSequenceTokens: endOfSequence.map { [$0] } ?? [])
        generation.sampling.maximumTokens = settings.maximumCompletionLength
        let generator = Generator(model: policy.model)
        var sequences: [[Int32]] = []
        for (number, start) in stride(from: 0, to: prompts.count, by: batchSize).enumerated() {
            let chunk = Array(prompts[start..<min(start + batchSize, prompts.count)])
            generation.sampling.seed = seed(number)
            for (prompt, result) in zip(chunk, generator.generate(prompts: chunk, configuration: generation)) {
                var completion = result.tokens
                if let eos = endOfSequence, let cut = completion.firstIndex(of: eos) { completion.removeSubrange((cut + 1)...) }
                sequences.append(prompt + completion)
            }
        }
        return GroupRollouts(sequences: sequences, promptLengths: prompts.map(\.count), groupSize: groupSize,
                             endOfSequence: endOfSequence, maskTruncated: settings.maskTruncatedCompletions)
    }

    func decode(_ ids: some Sequence<Int32>) -> String {
        encoder.tokenizer.decode(ids.map(Int.init), skipSpecialTokens: true)
    }

    /// rewards[function][completion] from every reward function; `contexts[i]` goes with completion i.
    /// - Throws: what a reward function throws, and `TrainingError.data` for a wrong count or a non-finite reward.
    func score(_ rollouts: GroupRollouts, contexts: [PromptContext]) throws -> [[Float]] {
        let items = scoredItems(rollouts, contexts: contexts)
        return try rewards.map { reward in
            let scores = try reward.function.scores(items)
            guard scores.count == items.count else {
                throw TrainingError.data("the reward function \(reward.name) returned \(scores.count) rewards for \(items.count) completions")
            }
            if let bad = scores.firstIndex(where: { !$0.isFinite }) {
                throw TrainingError.data("the reward function \(reward.name) gave completion \(bad) a reward that is not finite (\(scores[bad]))")
            }
            return scores
        }
    }

    /// What the reward functions report about their last scores (``RewardFunction/lastMetrics``: an ensemble's mean
    /// standardised score per head and its members' spread), under the trainer's names for rewards. GRPO and RLOO log
    /// reward `<name>`'s as `rewards/<name>/head/<HEAD>/mean` (PPO's `objective/head/<HEAD>`) and
    /// `rewards/<name>/ensemble_std`; online DPO, whose scores are `objective/scores` as PPO's are, keeps PPO's names.
    func rewardFunctionMetrics() -> [String: Double] {
        var metrics: [String: Double] = [:]
        for reward in rewards {
            for (key, value) in reward.function.lastMetrics {
                guard !method.isOnlineDPO else {
                    metrics[key] = value
                    continue
                }
                let name = key.hasPrefix("objective/") ? String(key.dropFirst("objective/".count)) : key
                metrics[name.hasPrefix("head/") ? "rewards/\(reward.name)/\(name)/mean" : "rewards/\(reward.name)/\(name)"] = value
            }
        }
        return metrics
    }

    /// Each completion as reward functions and judges see it: ids, decoded texts, whether it ended with eos, columns,
    /// the prompt's messages.
    func scoredItems(_ rollouts: GroupRollouts, contexts: [PromptContext]) -> [ScoredRollout] {
        (0..<rollouts.count).map { index -> ScoredRollout in
            let prompt = Array(rollouts.sequences[index].prefix(rollouts.promptLengths[index]))
            let completion = Array(rollouts.completion(index))
            var item = ScoredRollout(promptIds: prompt, responseIds: completion, prompt: decode(prompt), response: decode(completion),
                                     endsWithStopToken: !rollouts.truncated[index])
            item.columns = contexts[index].columns
            item.promptMessages = contexts[index].messages
            return item
        }
    }

    // MARK: Log-probabilities

    /// log π(target) per position (B, T) of the output tempered as TRL tempers it (logits divided by the sampling
    /// temperature; online DPO's TRL trainer takes the untempered logits), without the (B, T, V) logits; with
    /// `statistics`, also each position's entropy.
    func temperedLogProbabilities(_ output: ModelOutput, targets: [Int32], statistics: Bool = false) -> (Tensor, Tensor.VocabularyStatistics?) {
        let scale = settings.temperature == 1 || method.isOnlineDPO ? 1 : 1 / settings.temperature
        return output.targetLogProbabilities(targets, logitScale: scale, statistics: statistics)
    }

    /// Per-token log-probs of every completion under `which` (no tape), in batches of `per_device_train_batch_size`.
    func logProbabilities(_ rollouts: GroupRollouts, of which: PPOReference?) -> [[Float]] {
        withoutGradients {
            var rows: [[Float]] = []
            for start in stride(from: 0, to: rollouts.count, by: settings.training.batchSize) {
                let batch = rollouts.batch(Array(start..<min(start + settings.training.batchSize, rollouts.count)), padding: encoder.padding)
                let output: ModelOutput
                switch which {
                case nil: output = policy.model.forward(batch.input, cache: nil)
                case .model(let model)?: output = model.forward(batch.input, cache: nil)
                case .adaptersDisabled?: output = LoRA.withAdaptersDisabled(policy.model) { policy.model.forward(batch.input, cache: nil) }
                }
                rows += batch.gathered(temperedLogProbabilities(output, targets: batch.targets).0)
            }
            return rows
        }
    }

    // MARK: Advantages

    /// The weighted rewards, the log-probs the method needs (reference when β > 0; rollout policy when it is updated
    /// more than once, or RLOO's KL needs it) and the advantages; returns TRL's reward and completion metrics.
    func prepare(_ rollouts: inout GroupRollouts) throws -> [String: Double] {
        precondition(rollouts.rewardsPerFunction.count == rewards.count, "prepare: score the rollouts first")
        rollouts.rewards = (0..<rollouts.count).map { index in
            zip(rollouts.rewardsPerFunction, rewardWeights).reduce(Float(0)) { $0 + $1.0[index] * $1.1 }
        }
        if case .onlineDPO(_, _, let penalty) = method { rank(&rollouts, missingEOSPenalty: penalty) }
        if let reference { rollouts.referenceLogProbabilities = logProbabilities(rollouts, of: reference) }
        let needsOld: Bool
        switch method {
        case .grpo: needsOld = settings.iterationCount > 1
        case .rloo: needsOld = settings.iterationCount > 1 || reference != nil
        case .onlineDPO: needsOld = false
        }
        if needsOld && rollouts.oldLogProbabilities == nil {
            let old = logProbabilities(rollouts, of: nil)
            if let bad = old.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) {
                throw TrainingError.data("completion \(bad): a log-probability is not finite (the policy's logits overflowed)")
            }
            rollouts.oldLogProbabilities = old
        }
        var metrics: [String: Double] = [:]
        switch method {
        case .grpo(_, let scaling, _):
            let (advantages, zeroStd) = GRPOLoss.advantages(rewards: rollouts.rewards, groupSize: rollouts.groupSize, scaling: scaling)
            rollouts.advantages = advantages
            metrics["frac_reward_zero_std"] = Double(zeroStd.filter { $0 }.count) / Double(zeroStd.count)
        case .rloo(let normalize):
            var penalised = rollouts.rewards
            if let referenceRows = rollouts.referenceLogProbabilities, let oldRows = rollouts.oldLogProbabilities {
                let included = rollouts.included
                func masked(_ rows: [[Float]]) -> [[Float]] { rows.enumerated().map { included[$0.offset] ? $0.element : $0.element.map { _ in 0 } } }
                penalised = RLOOLoss.penalisedRewards(rewards: rollouts.rewards, logProbabilities: masked(oldRows),
                                                      referenceLogProbabilities: masked(referenceRows), beta: settings.beta)
                let tokens = (0..<rollouts.count).reduce(0) { $0 + rollouts.lossTokens($1) }
                let sum = (0..<rollouts.count).reduce(0.0) { total, index in
                    rollouts.included[index] ? total + zip(oldRows[index], referenceRows[index]).reduce(0.0) { $0 + Double($1.0 - $1.1) } : total
                }
                metrics["kl"] = sum / Double(max(tokens, 1))
            }
            rollouts.advantages = RLOOLoss.advantages(rewards: penalised, groupSize: rollouts.groupSize, normalize: normalize)
            let groupStd = stride(from: 0, to: penalised.count, by: rollouts.groupSize).map { start in
                GRPOLoss.standardDeviation(penalised[start..<(start + rollouts.groupSize)].map(Double.init)[...])
            }
            metrics["frac_reward_zero_std"] = Double(groupStd.filter { $0 <= 1e-8 }.count) / Double(groupStd.count)
        case .onlineDPO:
            return completionMetrics(rollouts).merging(rollouts.rewardMetrics) { $1 }
        }
        func meanAndStd(_ values: [Float]) -> (Double, Double) {
            let doubles = values.map(Double.init)
            return (doubles.reduce(0, +) / Double(max(doubles.count, 1)), GRPOLoss.standardDeviation(doubles[...]))
        }
        for (reward, values) in zip(rewards, rollouts.rewardsPerFunction) {
            let (mean, std) = meanAndStd(values)
            metrics["rewards/\(reward.name)/mean"] = mean
            metrics["rewards/\(reward.name)/std"] = std
        }
        (metrics["reward"], metrics["reward_std"]) = meanAndStd(rollouts.rewards)
        return metrics.merging(completionMetrics(rollouts)) { $1 }.merging(rollouts.rewardMetrics) { $1 }
    }

    /// `completions/mean_length`, `…/min_length`, `…/max_length` and `…/clipped_ratio` (the share without eos).
    func completionMetrics(_ rollouts: GroupRollouts) -> [String: Double] {
        let lengths = (0..<rollouts.count).map { Double(rollouts.completionLength($0)) }
        return ["completions/mean_length": lengths.reduce(0, +) / Double(lengths.count), "completions/min_length": lengths.min() ?? 0,
                "completions/max_length": lengths.max() ?? 0,
                "completions/clipped_ratio": Double(rollouts.truncated.filter { $0 }.count) / Double(rollouts.count)]
    }

    // MARK: Loss

    /// The loss of the completions at `indices` (one micro-batch, on the tape) and its statistics under TRL's names.
    /// - Parameter generationBatchTokens: completion tokens in the loss over the whole generation batch (`dapo`).
    func microBatchLoss(_ rollouts: GroupRollouts, indices: [Int], generationBatchTokens: Int) -> (Tensor, [String: Double]) {
        if case .onlineDPO(let kind, _, _) = method { return onlineDPOLoss(rollouts, indices: indices, kind: kind) }
        let batch = rollouts.batch(indices, padding: encoder.padding)
        let output = policy.model.forward(batch.input, cache: nil)
        let (logProbabilities, found) = temperedLogProbabilities(output, targets: batch.targets, statistics: true)  // (B, T)
        let mask = batch.placed(rollouts.tokenRows(indices) { rollouts.included[$0] ? 1 : 0 })
        let old = rollouts.oldLogProbabilities.map { rows in batch.placed(indices.map { rows[$0] }) } ?? logProbabilities.detached()
        var statistics: [String: Double] = ["entropy": found.map(batch.meanEntropy) ?? 0]
        switch method {
        case .grpo(let lossType, _, let biasCorrectedKL):
            let weights = GRPOLoss.sequenceWeights(lossType: lossType, lengths: indices.map { rollouts.lossTokens($0) },
                                                   maximumCompletionLength: settings.maximumCompletionLength,
                                                   generationBatchTokens: generationBatchTokens,
                                                   accumulationSteps: settings.training.gradientAccumulationSteps)
            let weightTensor = batch.placed(indices.enumerated().map { position, index in
                [Float](repeating: rollouts.included[index] ? weights[position] : 0, count: rollouts.completionLength(index))
            })
            let (loss, result) = GRPOLoss.loss(
                logProbabilities: logProbabilities, oldLogProbabilities: old,
                referenceLogProbabilities: rollouts.referenceLogProbabilities.map { rows in batch.placed(indices.map { rows[$0] }) },
                advantages: batch.placed(rollouts.tokenRows(indices) { rollouts.advantages[$0] }), weights: weightTensor, mask: mask,
                beta: settings.beta, epsilonLow: settings.epsilonLow, epsilonHigh: settings.epsilonHigh,
                biasCorrectedKL: biasCorrectedKL)
            if reference != nil { statistics["kl"] = result.kl }
            statistics["clip_ratio/low_mean"] = result.lowClipped
            statistics["clip_ratio/high_mean"] = result.highClipped
            statistics["clip_ratio/region_mean"] = result.regionClipped
            statistics["clip_ratio/low_min"] = result.lowClippedPerSequence.min() ?? 0
            statistics["clip_ratio/high_max"] = result.highClippedPerSequence.max() ?? 0
            return (loss, statistics)
        case .rloo:
            let sequence = (logProbabilities * mask).sum(axis: 1)  // (B)
            let oldSequence = withoutGradients { (old * mask).sum(axis: 1) }
            let advantages = Tensor(shape: [indices.count], scalars: indices.map { rollouts.advantages[$0] })
            let (loss, low, high) = RLOOLoss.loss(sequenceLogProbabilities: sequence, oldSequenceLogProbabilities: oldSequence,
                                                  advantages: advantages, epsilonLow: settings.epsilonLow, epsilonHigh: settings.epsilonHigh)
            let fraction = { (flags: [Bool]) in Double(flags.filter { $0 }.count) / Double(max(flags.count, 1)) }
            statistics["clip_ratio/low_mean"] = fraction(low)
            statistics["clip_ratio/high_mean"] = fraction(high)
            statistics["clip_ratio/region_mean"] = fraction(zip(low, high).map { $0 || $1 })
            statistics["clip_ratio/low_min"] = low.contains(false) ? 0 : (low.isEmpty ? 0 : 1)
            statistics["clip_ratio/high_max"] = high.contains(true) ? 1 : 0
            return (loss, statistics)
        case .onlineDPO:
            preconditionFailure("online DPO's loss is onlineDPOLoss")
        }
    }
}
