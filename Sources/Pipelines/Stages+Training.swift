import Alignment
import Constitutional
import Datasets
import Foundation
import LanguageModels
import Settings
import Yams

extension Stages {
    /// The preference trainers a pipeline runs itself: reward model, DPO and PPO (RL-CAI).
    public static let builtInTrainers: [StageType: TrainingStage] = [
        .reward: { try reward($0) }, .dpo: { try dpo($0) }, .ppo: { try ppo($0) }, .grpo: { try grpo($0) }, .rloo: { try rloo($0) },
        .orpo: { try orpo($0) }, .kto: { try kto($0) },
        // Its judge waits on async labelling, so it trains on a thread of its own, off Swift's cooperative pool.
        .onlineDPO: { request in try await onOwnThread { try onlineDPO(request) } },
    ]

    /// A reward (preference) model trained on the labels with Alignment's `RewardTrainer` (TRL's RewardTrainer keys
    /// under `training:`; `chosen_probability` soft labels are used as the paper's preference-model targets) — or,
    /// with `heads_from_labels` / `heads:`, one reward model per head (``rewardHeads(_:recipe:configuration:)``).
    public static func reward(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: RewardConfiguration.keys)
        let configuration = try recipe.decode(RewardConfiguration.self)
        try configuration.validate()
        if request.headsFromLabels || !request.heads.isEmpty { return try rewardHeads(request, recipe: recipe, configuration: configuration) }
        let examples = try trainingExamples(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let model = try SequenceClassifier.load(directory: request.model, seed: configuration.training.seed)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: request.model, encoder: encoder,
                                        train: examples)
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// One reward model per head, set up as `charter reward --heads-from-labels --head NAME=FILE` sets it up
    /// (`RewardEnsembleTraining`): the principles of `dataset`'s label records first (`PrincipleHeads`), then the
    /// `heads:` files; the stage's model folder becomes an ensemble folder (ensemble.json, head-NAME/) that a ppo,
    /// grpo, rloo or online_dpo stage combines with `reward_aggregation: weighted` or `maxmin`. Returns each head's
    /// last metrics as `NAME/METRIC` and `heads`, the number of heads.
    static func rewardHeads(_ request: TrainingStageRequest, recipe: TrainingRecipe, configuration: RewardConfiguration) throws -> [String: Double] {
        var named: [(name: String, examples: [Example])] = []
        if request.headsFromLabels {
            let labels = try Dataset.load(try requireDataset(request))
            named = try PrincipleHeads.pairs(fromLabels: labels.examples, source: labels.url.path)
        }
        for head in request.heads { named.append((head.name, try Dataset.load(head.dataset).examples)) }
        var metrics: [String: Double] = [:]
        let manifest = try RewardEnsembleTraining.train(configuration: configuration, base: request.model, chatTemplate: recipe["chat_template_name"] as? String,
                                                        heads: named, log: { _ in }) { trainer, arguments in
            let summary = try TrainingLoop(arguments: arguments).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(trainer.configuration))
            let head = URL(fileURLWithPath: arguments.outputDirectory).lastPathComponent.dropFirst("head-".count)
            for (key, value) in finish(summary) { metrics["\(head)/\(key)"] = value }
        }
        metrics["heads"] = Double(manifest.members.count)
        return metrics
    }

    /// DPO on the labels with Alignment's `DPOTrainer` (TRL's DPOConfig keys under `training:`). The reference is
    /// chosen as `charter dpo` chooses it (`ReferencePolicy.dpo`): `ref_model` when given, else a frozen copy of the
    /// initial policy (read once with `precompute_ref_log_probs`).
    public static func dpo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: DPOConfiguration.keys)
        let configuration = try recipe.decode(DPOConfiguration.self)
        try configuration.validate()
        let examples = try trainingExamples(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let policy = try TrainableModel(directory: request.model)
        let reference = try ReferencePolicy.dpo(configuration: configuration, policy: policy, policyFolder: request.model,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder,
                                     train: examples)
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// ORPO on the stage's preference pairs (TRL's ORPOConfig keys under `training:`), set up as `charter orpo`.
    public static func orpo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: ORPOConfiguration.keys)
        let configuration = try recipe.decode(ORPOConfiguration.self)
        try configuration.validate()
        let examples = try trainingExamples(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let trainer = try ORPOTrainer(configuration: configuration, policy: try TrainableModel(directory: request.model), encoder: encoder,
                                      train: examples, evaluation: [])
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// KTO on the stage's data (TRL's KTOConfig keys under `training:`): unpaired `label` rows, or preference pairs
    /// unpaired as TRL does; the reference is `ref_model`, else a frozen copy of the initial policy (with
    /// `precompute_ref_log_probs`: the initial policy read once), as `charter kto`.
    public static func kto(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: KTOConfiguration.keys)
        let configuration = try recipe.decode(KTOConfiguration.self)
        try configuration.validate()
        let examples = try trainingExamples(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let policy = try TrainableModel(directory: request.model)
        let reference = try ReferencePolicy.kto(configuration: configuration, policy: policy, policyFolder: request.model,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
        let trainer = try KTOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder,
                                     train: examples, evaluation: [])
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// RL-CAI's last step: PPO of the policy against the preference model (`reward_model:`, usually `stage:reward`) on
    /// the stage's prompts, with TRL's PPOConfig keys under `training:` — set up exactly as `charter ppo` sets it up
    /// (Alignment's `PPOTrainer(configuration:policy:folders:…)`): the reference is `ref_model` or a frozen copy of the
    /// initial policy, the critic a value head on the policy's trunk or on `value_model_path`.
    public static func ppo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: PPOConfiguration.keys + ["value_model_path"])  // the reward model is the stage's input
        let configuration = try recipe.decode(PPOConfiguration.self)
        try configuration.validate()
        guard let rewardModel = request.rewardModel else { throw ConstitutionalError("stage \(request.stage) needs reward_model (e.g. stage:reward)") }
        guard let prompts = request.prompts else { throw ConstitutionalError("stage \(request.stage) needs prompts") }
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let trainer = try PPOTrainer(configuration: configuration, policy: try TrainableModel(directory: request.model),
                                     folders: try PPOModelFolders(policy: request.model, recipe: recipe, rewardModel: rewardModel),
                                     encoder: encoder, prompts: try Dataset.load(prompts).examples)
        var effective = try recipe.effective(configuration)
        if let path = recipe["value_model_path"] { effective["value_model_path"] = path }
        let summary = try trainer.train(resume: true, effectiveConfiguration: effective)
        return (summary.history.last ?? [:]).merging(["iterations": Double(summary.iterations)]) { $1 }
    }

    /// The stage's `training:` YAML as a TRL recipe, with the output folder and the recipe's seed filled in.
    public static func trainingRecipe(_ request: TrainingStageRequest, keys: [String]) throws -> TrainingRecipe {
        // bf16 is the pipeline's (Pipeline.execute sets MatmulPrecision around the stage), so no "read and not used" note.
        var recipe = TrainingRecipe(allowedKeys: keys + TrainingRecipe.modelKeys + ["bf16"])
        try YAMLPrecheck.check(request.trainingYAML, file: "stage \(request.stage) training")
        let values = try Yams.load(yaml: request.trainingYAML) as? [String: Any] ?? [:]
        try recipe.override(values)
        if recipe["seed"] == nil { try recipe.override(["seed": Int(request.seed)]) }
        try recipe.override(["output_dir": request.output.path])
        if recipe["use_peft"] as? Bool == true || recipe["lora_r"] != nil {
            throw ConstitutionalError("stage \(request.stage): LoRA training is not available in pipeline stages yet; train the full model, or run charter \(request.type.rawValue) with --lora-r on the stage's dataset")
        }
        return recipe
    }

    /// Reads a reward, dpo or ppo stage's `training:` as its trainer will (the same recipe, decoded into the same
    /// configuration) and runs the configuration's `validate()`, without touching any folder: a pipeline checks
    /// every stage's settings this way when it reads the recipe.
    /// - Throws: `SettingsError` naming the key and the value, or the trainer recipe's errors.
    static func checkTrainingSettings(stage: String, type: StageType, trainingYAML: String, seed: UInt64) throws {
        let unused = URL(fileURLWithPath: "/")  // the folders are not read
        let request = TrainingStageRequest(stage: stage, type: type, model: unused, dataset: nil, prompts: nil, rewardModel: nil,
                                           output: unused, trainingYAML: trainingYAML, seed: seed)
        switch type {
        case .reward: try trainingRecipe(request, keys: RewardConfiguration.keys).decode(RewardConfiguration.self).validate()
        case .dpo: try trainingRecipe(request, keys: DPOConfiguration.keys).decode(DPOConfiguration.self).validate()
        case .ppo: try trainingRecipe(request, keys: PPOConfiguration.keys + ["value_model_path"]).decode(PPOConfiguration.self).validate()
        case .grpo: try trainingRecipe(request, keys: GRPOConfiguration.keys + [BuiltInRewards.recipeKey]).decode(GRPOConfiguration.self).validate()
        case .rloo: try trainingRecipe(request, keys: RLOOConfiguration.keys + [BuiltInRewards.recipeKey]).decode(RLOOConfiguration.self).validate()
        case .orpo: try trainingRecipe(request, keys: ORPOConfiguration.keys).decode(ORPOConfiguration.self).validate()
        case .kto: try trainingRecipe(request, keys: KTOConfiguration.keys).decode(KTOConfiguration.self).validate()
        case .onlineDPO: try trainingRecipe(request, keys: onlineDPOKeys).decode(OnlineDPOConfiguration.self).validate()
        case .sft, .sample, .samplePairs, .critique, .label: return
        }
    }

    public static func requireDataset(_ request: TrainingStageRequest) throws -> URL {
        guard let dataset = request.dataset else { throw ConstitutionalError("stage \(request.stage) needs dataset (e.g. stage:label)") }
        return dataset
    }

    /// The stage's preference pairs: `dataset`'s, then those of `mix_in` when the stage has one. Both files are read
    /// with the same reader (TRL preference JSONL; a pair without `chosen_probability` is a hard label) and must be
    /// the same type and format, so that the trainer reads every pair the same way.
    static func trainingExamples(_ request: TrainingStageRequest) throws -> [Example] {
        let dataset = try Dataset.load(try requireDataset(request))
        guard let mixInURL = request.mixIn else { return dataset.examples }
        let mixIn = try Dataset.load(mixInURL)
        guard mixIn.type == dataset.type, mixIn.format == dataset.format else {
            throw ConstitutionalError("stage \(request.stage): mix_in \(mixInURL.path) holds \(mixIn.format.rawValue) \(mixIn.type.rawValue) data but "
                                      + "dataset \(dataset.url.path) holds \(dataset.format.rawValue) \(dataset.type.rawValue) data; "
                                      + "both must have the same fields to be trained on together")
        }
        return dataset.examples + mixIn.examples
    }

    public static func finish(_ summary: TrainingLoop.Summary) -> [String: Double] {
        summary.lastMetrics.merging(["steps": Double(summary.steps)]) { $1 }
    }
}

extension Stages {
    /// GRPO of the stage's model on its prompts (TRL's GRPOConfig keys under `training:`), rewarded by the preference
    /// model of `reward_model:` (RL-CAI with group-relative advantages instead of a critic) and/or the verifiable
    /// rewards named by `reward_funcs` (exact-match, length, cmd:PROGRAM).
    public static func grpo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: GRPOConfiguration.keys + [BuiltInRewards.recipeKey])
        let configuration = try recipe.decode(GRPOConfiguration.self)
        try configuration.validate()
        let setup = try groupRollouts(request, recipe: recipe, beta: configuration.beta, maximumCompletionLength: configuration.maximumCompletionLength,
                                      aggregation: try configuration.ensemble.aggregation)
        let trainer = try GRPOTrainer(configuration: configuration, policy: setup.policy, reference: setup.reference, rewards: setup.rewards,
                                      encoder: setup.encoder, prompts: setup.prompts, evaluationPrompts: [])
        var effective = try recipe.effective(configuration)
        effective[BuiltInRewards.recipeKey] = setup.rewards.map(\.name)
        let summary = try trainer.train(resume: true, effectiveConfiguration: effective)
        return (summary.history.last ?? [:]).merging(["iterations": Double(summary.iterations)]) { $1 }
    }

    /// RLOO, set up as ``grpo(_:)`` (TRL's RLOOConfig keys under `training:`).
    public static func rloo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: RLOOConfiguration.keys + [BuiltInRewards.recipeKey])
        let configuration = try recipe.decode(RLOOConfiguration.self)
        try configuration.validate()
        let setup = try groupRollouts(request, recipe: recipe, beta: configuration.beta, maximumCompletionLength: configuration.maximumCompletionLength,
                                      aggregation: try configuration.ensemble.aggregation)
        let trainer = try RLOOTrainer(configuration: configuration, policy: setup.policy, reference: setup.reference, rewards: setup.rewards,
                                      encoder: setup.encoder, prompts: setup.prompts, evaluationPrompts: [])
        var effective = try recipe.effective(configuration)
        effective[BuiltInRewards.recipeKey] = setup.rewards.map(\.name)
        let summary = try trainer.train(resume: true, effectiveConfiguration: effective)
        return (summary.history.last ?? [:]).merging(["iterations": Double(summary.iterations)]) { $1 }
    }

    /// What a grpo or rloo stage trains with: the policy and its encoder, the reference (β > 0: `ref_model` or a
    /// frozen copy), the prompts, and the rewards — `reward_funcs` first, then the preference model (an ensemble folder's
    /// members combined by `aggregation`, the stage's `reward_aggregation`).
    static func groupRollouts(_ request: TrainingStageRequest, recipe: TrainingRecipe, beta: Float, maximumCompletionLength: Int,
                              aggregation: RewardAggregation) throws
        -> (policy: TrainableModel, reference: PPOReference?, rewards: [NamedReward], encoder: ExampleEncoder, prompts: [Example]) {
        guard let promptsURL = request.prompts else { throw ConstitutionalError("stage \(request.stage) needs prompts") }
        var rewards: [(name: String, function: RewardFunction)] = []
        for name in BuiltInRewards.names(recipe[BuiltInRewards.recipeKey]) {
            guard let reward = try BuiltInRewards.named(name, maximumCompletionLength: maximumCompletionLength) else {
                throw ConstitutionalError("stage \(request.stage): unknown reward \(name.debugDescription) in reward_funcs; a pipeline stage offers exact-match, length and cmd:PROGRAM (and the preference model of reward_model:)")
            }
            rewards.append(reward)
        }
        if let rewardModel = request.rewardModel {  // a sequence classifier, or an ensemble folder (charter reward --ensemble, --head)
            rewards.append(("reward_model", try PPOModelFolders(policy: request.model, rewardModel: rewardModel)
                .rewardFunction(aggregation: aggregation, seed: request.seed)))
        }
        guard !rewards.isEmpty else {
            throw ConstitutionalError("stage \(request.stage) needs a reward: reward_model: (e.g. stage:reward) or reward_funcs under training: (exact-match, length, cmd:PROGRAM)")
        }
        let prompts = try Dataset.load(promptsURL).examples
        for case let exactMatch as ExactMatchReward in rewards.map(\.function) { try exactMatch.check(prompts, source: promptsURL.lastPathComponent) }
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let policy = try TrainableModel(directory: request.model)
        let reference = beta > 0
            ? try ReferencePolicy.ppo(policy: policy, policyFolder: request.model,
                                      referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
            : nil
        return (policy, reference, BuiltInRewards.uniquelyNamed(rewards), encoder, prompts)
    }
}

extension Stages {
    /// The keys of an online_dpo stage's `training:`: TRL's OnlineDPOConfig keys, `reward_funcs`, `ref_model`, and the
    /// judge's `principles_per_pair`, `both_orders` and `few_shot` (the judge itself and its model are stage keys).
    public static let onlineDPOKeys = OnlineDPOConfiguration.keys + [BuiltInRewards.recipeKey, "principles_per_pair", "both_orders", "few_shot"]

    /// Online DPO of the stage's model on its prompts (TRL's OnlineDPOConfig keys under `training:`), set up as
    /// `charter online-dpo`: pairs ranked by the preference model of `reward_model:` and/or `reward_funcs`, or — with
    /// `judge: constitution` — by the pipeline's constitution asked of `feedback_model:` in both orders (RL-CAI with
    /// on-policy pairs); the reference is `ref_model` or a frozen copy of the initial policy.
    public static func onlineDPO(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: onlineDPOKeys)
        let configuration = try recipe.decode(OnlineDPOConfiguration.self)
        try configuration.validate()
        guard let promptsURL = request.prompts else { throw ConstitutionalError("stage \(request.stage) needs prompts") }
        let seed = configuration.training.seed
        var rewards: [(name: String, function: RewardFunction)] = []
        for name in BuiltInRewards.names(recipe[BuiltInRewards.recipeKey]) {
            guard let reward = try BuiltInRewards.named(name, maximumCompletionLength: configuration.maximumNewTokens) else {
                throw ConstitutionalError("stage \(request.stage): unknown reward \(name.debugDescription); use exact-match, length or cmd:PROGRAM")
            }
            rewards.append(reward)
        }
        if let rewardModel = request.rewardModel {
            rewards.append(("reward_model", try PPOModelFolders(policy: request.model, rewardModel: rewardModel)
                .rewardFunction(aggregation: try configuration.ensemble.aggregation, seed: seed)))
        }
        var judge: ConstitutionJudge?
        if let constitution = request.judge {
            guard let feedbackModel = request.feedbackModel else { throw ConstitutionalError("stage \(request.stage): judge: constitution needs feedback_model") }
            var judgeRecipe = TrainingRecipe(allowedKeys: ConstitutionJudge.recipeKeys)
            var judgeKeys: [String: Any] = ["judge": "constitution", "feedback_model": feedbackModel.path]
            for key in ["principles_per_pair", "both_orders", "few_shot"] { if let value = recipe[key] { judgeKeys[key] = value } }
            try judgeRecipe.override(judgeKeys)
            judge = try ConstitutionJudge.fromRecipe(judgeRecipe, constitution: constitution, seed: seed) { try ModelFactory.make($0) }
        }
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let policy = try TrainableModel(directory: request.model)
        let reference = try ReferencePolicy.ppo(policy: policy, policyFolder: request.model,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
        let trainer = try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: reference,
                                           rewards: BuiltInRewards.uniquelyNamed(rewards), judge: judge, encoder: encoder,
                                           prompts: try Dataset.load(promptsURL).examples)
        var effective = try recipe.effective(configuration)
        effective[BuiltInRewards.recipeKey] = rewards.map(\.name)
        if let judge { effective["judge"] = judge.name }
        let summary = try trainer.train(resume: true, effectiveConfiguration: effective)
        return (summary.history.last ?? [:]).merging(["steps": Double(summary.iterations)]) { $1 }
    }

    /// Runs synchronous work on a thread of its own and awaits it, so that work which blocks (waiting on async work of
    /// its own) does not hold one of the cooperative pool's few threads.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 16 << 20
            thread.start()
        }
    }
}
