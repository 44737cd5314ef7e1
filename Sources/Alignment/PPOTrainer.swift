import Datasets
import Foundation
import LanguageModels
import NeuralNetworks
import Runtime
import Settings
import Tensors

/// PPO-RLHF (Ziegler et al. 2019; Stiennon et al. 2020; Ouyang et al. 2022), TRL's `PPOTrainer`: each iteration
/// samples prompts, rolls them out with the policy, scores them with the reward, shapes per-token rewards with a KL
/// penalty to the reference, estimates advantages with GAE, and runs `num_ppo_epochs` × `num_mini_batches` steps of
/// the clipped policy and value losses. Metrics (metrics.jsonl) carry TRL's names.
///
/// Where Charter deliberately differs from TRL 1.x's `PPOTrainer`:
/// - The response is the generated tokens up to and including the stop token, whatever the pad token is. TRL finds
///   the end by the first pad token, so with pad = eos (common) it drops the eos from the policy loss; and it adds
///   the score one position after the last response token. Here the score lands on the last response token
///   (Ziegler et al.'s textbook placement) and values/advantages cover exactly the response tokens.
/// - Old log-probs come from a no-gradient forward pass of the same batch layout as the update (TRL reads them
///   from the generation logits), so the first minibatch starts at ratio 1.
/// - `policy/entropy_avg`, `policy/approxkl_avg` and `val/ratio` average over response tokens only (TRL's include
///   padding positions); `objective/entropy` sums −log π over response tokens only.
/// - Gradients are clipped to `max_grad_norm` before each optimizer step; the KL coefficient can adapt
///   (`kl_target`), as in TRL's older `PPOTrainer`; `objective/kl_coef` logs the β used.
public final class PPOTrainer {
    public let configuration: PPOConfiguration
    public let policy: TrainableModel
    public let critic: PPOCritic
    let reference: PPOReference
    let reward: RewardFunction
    /// The reward-hacking monitor (`monitor_reward_model`), scoring the same rollouts; see ``RewardHackingAlarm``.
    public var monitor: RewardFunction?
    /// A fired alarm's warning, printed after the iteration.
    var pendingWarning: String?
    /// Set when the alarm fired with `stop_on_divergence`: the loop ends the run after this iteration.
    var stopReason: String?
    let encoder: ExampleEncoder
    /// Tokenized prompts (training and, for sample generations, evaluation).
    let prompts: [[Int32]]
    let evaluationPrompts: [[Int32]]
    let stopToken: Int32?

    /// - Parameters:
    ///   - prompts: prompt-only examples (standard text, or conversations through the chat template with the
    ///     generation prompt appended); of prompt–completion and preference examples only the prompt is used.
    /// - Throws: `TrainingError.data` for examples that are not prompt-only or encode to no tokens,
    ///   `SettingsError` for unusable settings.
    public init(configuration: PPOConfiguration, policy: TrainableModel, critic: PPOCritic, reference: PPOReference,
                reward: RewardFunction, encoder: ExampleEncoder, prompts: [Example], evaluationPrompts: [Example] = []) throws {
        try configuration.validate()
        self.configuration = configuration
        self.policy = policy
        policy.model.gradientCheckpointing = configuration.training.gradientCheckpointing
        self.critic = critic
        self.reference = reference
        self.reward = reward
        self.encoder = encoder
        if case .adaptersDisabled = reference, LoRA.adapters(in: policy.model).isEmpty {
            throw SettingsError(key: "ref_model", message: "the reference is the LoRA base, but the policy has no LoRA adapters")
        }
        if configuration.stopToken == "eos" {
            guard let eos = encoder.endOfSequence else {
                throw SettingsError(key: "stop_token", message: "\"eos\" was asked for, but the tokenizer declares no eos token")
            }
            stopToken = eos
        } else {
            stopToken = configuration.stopTokenId.map(Int32.init)
        }
        // Rollouts are generated up to the policy's context, and the reference and value models then read them whole.
        var readers: [(key: String, name: String, model: any CausalLanguageModel)] = []
        if case .model(let model) = reference { readers.append(("ref_model", "reference model", model)) }
        if let trunk = critic.trunk { readers.append(("value_model_path", "value model", trunk.model)) }
        if let context = policy.model.maximumSequenceLength {
            for reader in readers {
                if let shorter = reader.model.maximumSequenceLength, shorter < context {
                    throw SettingsError(key: reader.key, message: "the \(reader.name)'s context (\(shorter) tokens) is shorter than the "
                                        + "policy's (\(context)), but it must read every rollout the policy writes")
                }
            }
        }
        func tokenize(_ examples: [Example]) throws -> [[Int32]] {
            try examples.map { example in
                let prompt: ExampleText
                switch example.body {
                case .promptOnly(let text), .promptCompletion(let text, _), .preference(let text, _, _), .unpairedPreference(let text, _, _):
                    prompt = text  // PPO uses only the prompt of richer formats
                case .languageModeling:
                    throw TrainingError.data("line \(example.line): PPO needs prompts (a \"prompt\" field), found \(example.type.rawValue) data")
                }
                let ids: [Int32]
                switch prompt {
                case .standard(let text): ids = encoder.encode(text)
                case .conversational(let messages): ids = try encoder.conversation(messages, addGenerationPrompt: true, line: example.line).ids
                }
                guard !ids.isEmpty else { throw TrainingError.data("line \(example.line): the prompt encodes to no tokens") }
                if let context = policy.model.maximumSequenceLength, ids.count >= context {
                    throw TrainingError.data("line \(example.line): the prompt has \(ids.count) tokens, which leaves no room for a response "
                                             + "in the model's context of \(context) tokens; shorten it to at most \(context - 1) tokens")
                }
                return ids
            }
        }
        self.prompts = try tokenize(prompts)
        self.evaluationPrompts = try tokenize(evaluationPrompts)
        guard !self.prompts.isEmpty else { throw TrainingError.data("the prompt set is empty") }
        // PPO's ratio compares two evaluations of the same policy: dropout (in LoRA adapters) stays off, as in TRL.
        LoRA.setTraining(policy.model, false)
        if let trunk = critic.trunk { LoRA.setTraining(trunk.model, false) }
    }

    /// Every parameter the optimizer updates: the policy's, then the critic's.
    var trainableParameters: [Tensor] { policy.trainableParameters + critic.trainableParameters }

    /// The result of a run.
    public struct Summary {
        public var iterations: Int
        /// One record per iteration (TRL's metric names plus timings in seconds); metrics.jsonl gets every
        /// `logging_steps`-th record.
        public var history: [[String: Double]]
    }

    /// Trains for `configuration.iterations(promptCount:)` iterations in the shared run skeleton (`TrainingLoop`; an
    /// iteration is its step). With `resume`, continues from the newest complete checkpoint in the output folder so
    /// that N iterations equal k + resume + N − k, bit for bit.
    /// - Parameter stopAfter: end the run (without the final save) once this many iterations are done, as an
    ///   interrupted run would; the learning-rate schedule still spans the full run.
    /// - Parameter effectiveConfiguration: written as training_config.json (default: the configuration's keys).
    public func train(resume: Bool = false, stopAfter: Int? = nil, effectiveConfiguration: [String: Any] = [:]) throws -> Summary {
        let configurationFile = effectiveConfiguration.isEmpty
            ? try TrainingLoop.configurationFile(configuration) : try TrainingLoop.configurationFile(effectiveConfiguration)
        let run = try TrainingLoop(arguments: configuration.training)
            .drive(self, resume: resume, configurationFile: configurationFile, stopAfter: stopAfter)
        return Summary(iterations: run.summary.steps, history: run.steps)
    }

    /// One PPO iteration: rollouts, scoring, advantages, then the minibatch updates. Returns the iteration's metrics.
    func iterate(prompts batchPrompts: [[Int32]], state: inout State, optimizer: AdamW,
                 lastCheckpoint: String?) throws -> [String: Double] {
        var clock = PhaseClock()
        var rollouts = rollOut(batchPrompts, seed: state.generator.next())
        clock.lap("time/rollout")
        try evaluateRollouts(&rollouts)
        clock.lap("time/forward")
        let items = scoredRollouts(rollouts)
        rollouts.scores = try score(items)
        clock.lap("time/scoring")
        let monitorMetrics = try watch(items, scores: rollouts.scores, state: &state)
        let beta = state.klController.coefficient
        var metrics = shapeRewardsAndAdvantages(&rollouts, beta: beta)
        metrics["objective/kl_coef"] = Double(beta)
        metrics.merge(reward.lastMetrics) { $1 }
        metrics.merge(monitorMetrics) { $1 }
        let updateMetrics = try update(rollouts, generator: &state.generator, optimizer: optimizer,
                                       iteration: state.iteration + 1, lastCheckpoint: lastCheckpoint)
        metrics.merge(updateMetrics) { $1 }
        clock.lap("time/update")
        state.klController.update(kl: metrics["objective/kl"] ?? 0, episodes: rollouts.count)
        for (key, value) in clock.laps { metrics[key] = value }
        metrics["time/total"] = clock.total
        return metrics
    }

    // MARK: Rollout

    /// Samples a response to every prompt (left-padded batches of `local_rollout_forward_batch_size`, seeded) and
    /// cuts each after the stop token.
    func rollOut(_ batchPrompts: [[Int32]], seed: UInt64) -> PPORollouts {
        respond(to: batchPrompts, sampling: SamplingOptions(temperature: configuration.temperature)) { seed &+ UInt64($0) }
    }

    /// The policy's responses to `prompts` in batches of `batchSize` (default `local_rollout_forward_batch_size`; batch
    /// `n` generated with `seed(n)`), each cut right after the stop token's first occurrence.
    func respond(to prompts: [[Int32]], sampling: SamplingOptions, batchSize: Int? = nil, seed: (Int) -> UInt64) -> PPORollouts {
        var generation = GenerationConfiguration(sampling: sampling, endOfSequenceTokens: stopToken.map { [$0] } ?? [])
        generation.sampling.maximumTokens = configuration.responseLength
        let generator = Generator(model: policy.model)
        var sequences: [[Int32]] = []
        let chunk = batchSize ?? configuration.rolloutForwardBatchSize
        for (number, start) in stride(from: 0, to: prompts.count, by: chunk).enumerated() {
            let group = Array(prompts[start..<min(start + chunk, prompts.count)])
            generation.sampling.seed = seed(number)
            for (prompt, result) in zip(group, generator.generate(prompts: group, configuration: generation)) {
                var response = result.tokens
                if let stopToken, let cut = response.firstIndex(of: stopToken) { response.removeSubrange((cut + 1)...) }
                sequences.append(prompt + response)
            }
        }
        return PPORollouts(sequences: sequences, promptLengths: prompts.map(\.count))
    }

    /// log π(target) per position (B, T) under `model`'s output tempered as the rollouts were sampled, computed
    /// without the (B, T, V) logits; with `statistics`, also the tempered distribution's entropy at each target.
    func temperedLogProbabilities(_ output: ModelOutput, targets: [Int32], statistics: Bool = false) -> (Tensor, Tensor.VocabularyStatistics?) {
        output.targetLogProbabilities(targets, logitScale: 1 / (configuration.temperature + 1e-7), statistics: statistics)
    }

    /// Values V(s_t) from the critic for `batch`: (B, T), from the policy's hidden states when the trunk is shared.
    func values(_ batch: PPOBatch, policyOutput: ModelOutput) -> Tensor {
        if let trunk = critic.trunk {
            let output = trunk.model.forward(ModelInput(ids: batch.ids, batch: batch.batch, time: batch.time, outputHiddenStates: true), cache: nil)
            return critic.head(Self.finalHiddenState(output))
        }
        return critic.head(Self.finalHiddenState(policyOutput))
    }

    static func finalHiddenState(_ output: ModelOutput) -> Tensor {
        guard let last = output.hiddenStates.last else { preconditionFailure("the model returned no hidden states") }
        return last
    }

    /// The rollout policy's log-probs and values and the reference's log-probs (no tape), in forward batches.
    func evaluateRollouts(_ rollouts: inout PPORollouts) throws {
        let chunk = configuration.rolloutForwardBatchSize
        try withoutGradients {
            for start in stride(from: 0, to: rollouts.count, by: chunk) {
                let batch = rollouts.batch(Array(start..<min(start + chunk, rollouts.count)), padding: encoder.padding)
                let output = policy.model.forward(ModelInput(ids: batch.ids, batch: batch.batch, time: batch.time,
                                                             outputHiddenStates: critic.trunk == nil), cache: nil)
                rollouts.logProbabilities += batch.gathered(temperedLogProbabilities(output, targets: batch.targets).0)
                rollouts.values += batch.gathered(values(batch, policyOutput: output))
                let referenceOutput: ModelOutput
                switch reference {
                case .model(let model): referenceOutput = model.forward(batch.input, cache: nil)
                case .adaptersDisabled: referenceOutput = LoRA.withAdaptersDisabled(policy.model) { policy.model.forward(batch.input, cache: nil) }
                }
                rollouts.referenceLogProbabilities += batch.gathered(temperedLogProbabilities(referenceOutput, targets: batch.targets).0)
            }
            for (index, row) in rollouts.logProbabilities.enumerated() where !row.allSatisfy(\.isFinite) {
                throw TrainingError.data("rollout \(index): a log-probability is not finite (the policy's logits overflowed)")
            }
        }
    }

    /// The rollouts as the reward function (and the monitor) read them: prompt and response ids and texts.
    func scoredRollouts(_ rollouts: PPORollouts) -> [ScoredRollout] {
        (0..<rollouts.count).map { index -> ScoredRollout in
            let prompt = Array(rollouts.sequences[index].prefix(rollouts.promptLengths[index]))
            let response = Array(rollouts.response(index))
            return ScoredRollout(promptIds: prompt, responseIds: response, prompt: decode(prompt), response: decode(response),
                                 endsWithStopToken: stopToken.map { response.last == $0 } ?? false)
        }
    }

    /// Every `monitor_steps` iterations: the monitor's scores of the same rollouts (the first `monitor_samples` of them
    /// when set), fed with the proxy's mean over all of them to the alarm.
    /// Metrics `monitor/reward`, `monitor/proxy` (the proxy's mean score, `missing_eos_penalty` included) and
    /// `monitor/alarm` (1 from the iteration the alarm fired). A run resumed from a checkpoint written without a monitor
    /// starts the alarm afresh.
    func watch(_ items: [ScoredRollout], scores: [Float], state: inout State) throws -> [String: Double] {
        guard let monitor else { return [:] }
        var alarm = state.alarm ?? RewardHackingAlarm(tolerance: configuration.monitorTolerance, smoothing: configuration.monitorSmoothing)
        let iteration = state.iteration + 1
        guard iteration % configuration.monitorSteps == 0 else { return alarm.firedAt != nil ? ["monitor/alarm": 1] : [:] }
        let checked = configuration.monitorSamples.map { Array(items.prefix($0)) } ?? items
        let values = try monitor.scores(checked).map(Double.init)
        guard values.count == checked.count, values.allSatisfy(\.isFinite) else {
            throw TrainingError.data("the monitor reward model returned \(values.count) scores (or a non-finite one) for \(checked.count) rollouts")
        }
        let proxy = scores.reduce(0.0) { $0 + Double($1) } / Double(max(scores.count, 1))
        if alarm.observe(iteration: iteration, proxy: proxy, monitorScores: values), let warning = alarm.warning {
            pendingWarning = warning
            if configuration.stopOnDivergence { stopReason = "stop_on_divergence: " + warning }
        }
        state.alarm = alarm
        return ["monitor/reward": values.reduce(0, +) / Double(values.count), "monitor/proxy": proxy, "monitor/alarm": alarm.firedAt != nil ? 1 : 0]
    }

    /// Scores from the reward function, minus `missing_eos_penalty` for responses without the eos token.
    func score(_ items: [ScoredRollout]) throws -> [Float] {
        let eos = encoder.endOfSequence
        var scores = try reward.scores(items)
        guard scores.count == items.count else {
            throw TrainingError.data("the reward function returned \(scores.count) scores for \(items.count) rollouts")
        }
        if let penalty = configuration.missingEOSPenalty {
            for (index, item) in items.enumerated() where !(eos.map { item.responseIds.contains($0) } ?? false) {
                scores[index] -= penalty
            }
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError.data("the reward of rollout \(bad) is not finite (\(scores[bad]))")
        }
        return scores
    }

    func decode(_ ids: [Int32]) -> String {
        encoder.tokenizer.decode(ids.map(Int.init), skipSpecialTokens: true)
    }

    // MARK: Advantages

    /// Per-token KL, shaped rewards, (whitened) GAE advantages and returns; returns the objective/* metrics.
    func shapeRewardsAndAdvantages(_ rollouts: inout PPORollouts, beta: Float) -> [String: Double] {
        var rewards: [[Float]] = []
        for index in 0..<rollouts.count {
            let kl = PPOLoss.kl(logProbabilities: rollouts.logProbabilities[index],
                                referenceLogProbabilities: rollouts.referenceLogProbabilities[index], estimator: configuration.klEstimator)
            let shaped = PPOLoss.shapedRewards(kl: kl, score: rollouts.scores[index], coefficient: beta)
            rollouts.kl.append(kl)
            rollouts.nonScoreRewards.append(shaped.nonScore)
            rewards.append(shaped.rewards)
        }
        if configuration.whitenRewards { rewards = PPOLoss.whiten(rewards, shiftMean: false) }
        for index in 0..<rollouts.count {
            let (advantages, returns) = PPOLoss.generalizedAdvantages(rewards: rewards[index], values: rollouts.values[index],
                                                                      gamma: configuration.gamma, lambda: configuration.lambda)
            rollouts.advantages.append(advantages)
            rollouts.returns.append(returns)
        }
        if configuration.whitenAdvantages { rollouts.advantages = PPOLoss.whiten(rollouts.advantages) }
        let n = Double(rollouts.count)
        func meanOfSums(_ rows: [[Float]]) -> Double { rows.reduce(0) { $0 + $1.reduce(0) { $0 + Double($1) } } / n }
        let nonScore = meanOfSums(rollouts.nonScoreRewards)
        let scores = rollouts.scores.reduce(0) { $0 + Double($1) } / n
        let eos = encoder.endOfSequence
        return [
            "objective/kl": meanOfSums(rollouts.kl),
            "objective/entropy": -meanOfSums(rollouts.logProbabilities),
            "objective/non_score_reward": nonScore,
            "objective/rlhf_reward": nonScore + scores,
            "objective/scores": scores,
            "val/num_eos_tokens": Double((0..<rollouts.count).filter { index in eos.map { rollouts.response(index).contains($0) } ?? false }.count),
            "response_length": Double((0..<rollouts.count).reduce(0) { $0 + rollouts.responseLength($1) }) / n,
        ]
    }

    // MARK: Update

    /// `num_ppo_epochs` passes over the rollouts in `num_mini_batches` shuffled minibatches; one optimizer step per
    /// minibatch (micro-batches of `per_device_train_batch_size` accumulate). Returns the averaged loss statistics.
    func update(_ rollouts: PPORollouts, generator: inout SeededGenerator, optimizer: AdamW, iteration: Int,
                lastCheckpoint: String?) throws -> [String: Double] {
        let arguments = configuration.training
        let miniBatchSize = rollouts.count / configuration.miniBatchCount
        let microBatchSize = min(arguments.batchSize, miniBatchSize)
        let microBatchCount = (miniBatchSize + microBatchSize - 1) / microBatchSize
        var statistics: [String: [Double]] = [:]
        var gradientNorms: [Double] = []
        for _ in 0..<configuration.ppoEpochs {
            let permutation = DataOrder.permutation(count: rollouts.count, seed: generator.next())
            for miniStart in stride(from: 0, to: miniBatchSize * configuration.miniBatchCount, by: miniBatchSize) {
                let (norm, _) = try TrainingLoop.optimizerStep(
                    optimizer, microBatches: microBatchCount, maximumGradientNorm: arguments.maximumGradientNorm, step: iteration,
                    lossName: "the PPO loss", lastCheckpoint: lastCheckpoint) { micro in
                    let microStart = miniStart + micro * microBatchSize
                    let indices = Array(permutation[microStart..<min(microStart + microBatchSize, miniStart + miniBatchSize)])
                    let (loss, microStatistics) = microBatchLoss(rollouts, indices: indices)
                    for (key, statistic) in microStatistics { statistics[key, default: []].append(statistic) }
                    return loss
                }
                gradientNorms.append(Double(norm))
            }
        }
        var metrics: [String: Double] = [:]
        for (key, values) in statistics { metrics[key] = values.reduce(0, +) / Double(values.count) }
        if let ratios = statistics["val/ratio"], ratios.count > 1 {
            let mean = ratios.reduce(0, +) / Double(ratios.count)
            metrics["val/ratio_var"] = ratios.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ratios.count - 1)
        } else {
            metrics["val/ratio_var"] = 0
        }
        metrics["grad_norm"] = gradientNorms.reduce(0, +) / Double(max(gradientNorms.count, 1))
        if let policy = metrics["loss/policy_avg"], let value = metrics["loss/value_avg"] {
            metrics["loss"] = policy + Double(configuration.valueCoefficient) * value
        }
        return metrics
    }

    /// The PPO loss of the rollouts at `indices` (on the tape) and its statistics under TRL's names.
    func microBatchLoss(_ rollouts: PPORollouts, indices: [Int]) -> (Tensor, [String: Double]) {
        let batch = rollouts.batch(indices, padding: encoder.padding)
        let output = policy.model.forward(ModelInput(ids: batch.ids, batch: batch.batch, time: batch.time,
                                                     outputHiddenStates: critic.trunk == nil), cache: nil)
        let (logProbabilities, found) = temperedLogProbabilities(output, targets: batch.targets, statistics: true)  // (B, T)
        let predictedValues = values(batch, policyOutput: output)  // (B, T)
        let mask = batch.mask
        func rows(_ keyPath: KeyPath<PPORollouts, [[Float]]>) -> Tensor { batch.placed(indices.map { rollouts[keyPath: keyPath][$0] }) }
        let (policyLoss, policyStatistics) = PPOLoss.clippedPolicyLoss(
            logProbabilities: logProbabilities, oldLogProbabilities: rows(\.logProbabilities), advantages: rows(\.advantages),
            mask: mask, clipRange: configuration.clipRange)
        let (valueLoss, valueClipFraction) = PPOLoss.clippedValueLoss(
            values: predictedValues, oldValues: rows(\.values), returns: rows(\.returns), mask: mask,
            clipRange: configuration.valueClipRange)
        let loss = policyLoss + valueLoss * configuration.valueCoefficient
        let statistics: [String: Double] = [
            "policy/approxkl_avg": policyStatistics.approximateKL,
            "policy/clipfrac_avg": policyStatistics.clipFraction,
            "loss/policy_avg": Double(policyLoss.item),
            "loss/value_avg": Double(valueLoss.item),
            "val/clipfrac_avg": valueClipFraction,
            "policy/entropy_avg": found.map(batch.meanEntropy) ?? 0,
            "val/ratio": policyStatistics.ratio,
        ]
        return (loss, statistics)
    }
}
