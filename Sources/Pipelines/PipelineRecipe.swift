import Checksums
import Alignment
import Constitutional
import Foundation
import LanguageModels
import Runtime
import Settings
import Yams

/// The stages a pipeline can declare, in the order Constitutional AI uses them.
public enum StageType: String, Codable, CaseIterable, Sendable {
    /// Sample responses to prompts (k per prompt) from a model.
    case sample
    /// SL-CAI critique → revision, with the SFT dataset.
    case critique
    /// Supervised fine-tuning on a dataset (Alignment's SFTTrainer).
    case sft
    /// Sample k ≥ 2 responses per prompt from the SL-CAI model, as pairs.
    case samplePairs = "sample_pairs"
    /// RLAIF labelling of pairs.
    case label
    /// Preference (reward) model training, then RL-CAI with `ppo`.
    case reward
    /// Direct preference optimisation on the labels.
    case dpo
    /// PPO against the preference model (RL-CAI).
    case ppo
    /// GRPO against the preference model and/or verifiable rewards (`reward_funcs` under `training:`).
    case grpo
    /// RLOO, the same way.
    case rloo
    /// ORPO on preference pairs (no reference model).
    case orpo
    /// KTO on unpaired desirable/undesirable labels, or on pairs unpaired as TRL does.
    case kto
    /// Online DPO on the stage's prompts, pairs ranked by the preference model (`reward_model:`) or by the
    /// constitution (`judge: constitution` with `feedback_model:`, RL-CAI done online).
    case onlineDPO = "online_dpo"

    /// The recipe keys a stage of this type reads (besides name, type, model and the run options).
    var keys: [String] {
        switch self {
        case .sample, .samplePairs: return ["prompts", "k", "prompting", "seed", "sampling", "redraw_identical"]
        case .critique: return ["prompts", "rounds", "prompting", "few_shot", "seed", "sampling", "helpful", "helpful_ratio"]
        case .sft: return ["dataset", "training", "backend", "launcher"]
        case .reward: return ["dataset", "mix_in", "training", "backend", "launcher", "heads_from_labels", "heads"]
        case .dpo: return ["dataset", "mix_in", "training", "backend", "launcher"]
        case .orpo, .kto: return ["dataset", "mix_in", "training"]
        case .ppo: return ["prompts", "reward_model", "training"]
        case .grpo, .rloo: return ["prompts", "reward_model", "training", "backend", "launcher"]
        case .onlineDPO: return ["prompts", "reward_model", "judge", "feedback_model", "training"]
        case .label: return ["pairs", "principles_per_pair", "chain_of_thought", "clamp_low", "clamp_high", "both_orders", "few_shot", "seed", "reasoning"]
        }
    }

    /// The output other stages get from `stage:NAME`.
    var primaryOutput: String {
        switch self {
        case .sample: return "samples.jsonl"
        case .critique: return "sft.jsonl"
        case .samplePairs: return "pairs.jsonl"
        case .label: return "preferences.jsonl"
        case .sft, .reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO: return "model"
        }
    }
}

/// One stage of a recipe, with every setting its type reads.
public struct StageRecipe: Sendable {
    public var name: String
    public var type: StageType
    public var model: ModelSource?
    /// Input paths or `stage:NAME[/file]` references, by key (`prompts`, `pairs`, `dataset`, `helpful`, …).
    public var inputs: [String: String]
    /// The stage's YAML with sorted keys (hashed into the cache key).
    public var canonicalConfiguration: String
    public var critique = CritiqueConfiguration()
    public var feedback = FeedbackConfiguration()
    public var sample = SampleConfiguration()
    public var run = RunOptions()
    /// The SFT stage's settings (TRL's SFTConfig keys under `training:`).
    public var training = SFTConfiguration()
    /// The stage's `training:` mapping as YAML, for trainers that read their own configuration (reward, dpo, ppo).
    public var trainingYAML = "{}"
    /// The recipe's seed (trainers use it when `training:` sets none).
    public var seed: UInt64 = 0
    public var helpfulRatio = 0.5
    /// Who trains an sft, reward or dpo stage: "charter" (in process) or "trl" (`charter export trl`'s folder run as a
    /// subprocess, by `launcher` when given: a shell command in which `{folder}` is the export and `{config}` its
    /// config.yaml; by default its launch.sh).
    public var backend = "charter"
    public var launcher: String?
    /// A critique or sample stage without `prompting:` chooses when it runs: chat when its model has a chat template,
    /// transcript otherwise (``PromptingStyle/automatic(for:)``).
    public var automaticPrompting = false
    /// An online_dpo stage's judge ("constitution": the pipeline's constitution asks `feedback_model`), or nil.
    public var judge: String?
    /// A reward stage's `heads_from_labels: true`: one reward model per principle of `dataset` (a label stage's
    /// records), as `charter reward --heads-from-labels`.
    public var headsFromLabels = false
    /// A reward stage's `heads: {NAME: FILE or stage:NAME}`: one reward model per named preference file, in the order
    /// written, as `charter reward --head NAME=FILE` (each file is the input `heads.NAME`).
    public var heads: [String] = []
    /// A training stage's `training.bf16: true` (TRL's key): its matrix products run in bf16 mixed precision
    /// (`MatmulPrecision`), as `--bf16` does for the trainer commands.
    public var bf16 = false

    /// Whether the stage trains one reward model per head (an ensemble folder with ensemble.json) instead of one.
    public var trainsHeads: Bool { headsFromLabels || !heads.isEmpty }
}

/// A declarative pipeline (`charter pipeline recipe.yaml`):
///
/// ```yaml
/// name: tiny-cai
/// seed: 7
/// constitution: default            # or a constitution YAML path
/// stages:
///   - {name: critique, type: critique, model: models/helpful, prompts: red-team.jsonl, rounds: 2}
///   - {name: sft, type: sft, model: models/helpful, dataset: stage:critique, training: {max_steps: 100}}
///   - {name: pairs, type: sample_pairs, model: stage:sft, prompts: red-team.jsonl, k: 2}
///   - {name: label, type: label, model: models/feedback, pairs: stage:pairs, chain_of_thought: true}
///   - {name: dpo, type: dpo, model: stage:sft, dataset: stage:label}
/// ```
///
/// Paths are relative to the recipe's folder; `stage:NAME` is an earlier stage's main output and
/// `stage:NAME/FILE` any file of its folder.
public struct PipelineRecipe: Sendable {
    public var name: String
    public var seed: UInt64
    public var constitution: String
    public var stages: [StageRecipe]
    /// The recipe's folder (relative paths start here).
    public var baseDirectory: URL
    /// The recipe text's SHA-256.
    public var sha256: String

    static let topKeys = ["name", "seed", "constitution", "stages"]
    static let commonKeys = ["name", "type", "model", "concurrency", "retries", "retry_delay", "abort_after_initial_failures", "progress"]

    public static func load(_ url: URL) throws -> PipelineRecipe {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConstitutionError(file: url.path, path: "", "cannot read the recipe (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: url.path, baseDirectory: url.deletingLastPathComponent())
    }

    public static func parse(yaml: String, file: String, baseDirectory: URL) throws -> PipelineRecipe {
        let root: Node
        do {
            try YAMLPrecheck.check(yaml, file: file)
            guard let node = try Yams.compose(yaml: yaml), node.mapping != nil else {
                throw ConstitutionError(file: file, path: "", "expected a mapping with name, seed, constitution and stages")
            }
            root = node
        } catch let error as ConstitutionError { throw error } catch let error as YAMLLimitError {
            throw ConstitutionError(file: file, yaml: error)
        } catch {
            throw ConstitutionError(file: file, path: "", "not valid YAML: \(error)")
        }
        var problems: [ConstitutionError.Problem] = []
        for (key, _) in root.mapping! where !topKeys.contains(key.string ?? "") {
            problems.append(.init(key.string ?? "?", "unknown key; expected one of \(topKeys.joined(separator: ", "))"))
        }
        let name = root["name"]?.string ?? baseDirectory.lastPathComponent
        // The name is a folder name (`charter pipeline` runs in runs/<name>).
        if let problem = SafePath.problem(with: name) {
            problems.append(.init("name", "\(problem) (got \"\(name)\")" + (root["name"] == nil ? "; it defaults to the recipe's folder name, so set name:" : "")))
        }
        var seed: UInt64 = 0
        if let text = root["seed"]?.string {
            if let value = UInt64(text) { seed = value } else { problems.append(.init("seed", "must be a non-negative integer, got \(text)")) }
        }
        let constitution = root["constitution"]?.string ?? "default"
        guard let stageNodes = root["stages"]?.sequence, !stageNodes.isEmpty else {
            throw ConstitutionError(file: file, problems: problems + [.init("stages", "must list at least one stage")])
        }
        var stages: [StageRecipe] = []
        for (index, node) in stageNodes.enumerated() {
            let path = "stages[\(index)]"
            do {
                let stage = try parseStage(node, path: path, seed: seed, earlier: stages)
                if stages.contains(where: { $0.name.lowercased() == stage.name.lowercased() }) {
                    problems.append(.init("\(path).name", "\"\(stage.name)\" is already the name of an earlier stage; names must be unique (ignoring case: they are folder names)"))
                }
                stages.append(stage)
            } catch let error as ConstitutionError {
                problems += error.problems
            }
        }
        guard problems.isEmpty else { throw ConstitutionError(file: file, problems: problems) }
        return PipelineRecipe(name: name, seed: seed, constitution: constitution, stages: stages, baseDirectory: baseDirectory,
                              sha256: SHA256.hex(yaml))
    }

    static func parseStage(_ node: Node, path: String, seed: UInt64, earlier: [StageRecipe]) throws -> StageRecipe {
        guard let mapping = node.mapping else { throw ConstitutionError(file: "", path: path, "expected a mapping with at least type") }
        guard let typeName = node["type"]?.string else {
            throw ConstitutionError(file: "", path: "\(path).type", "missing; one of \(StageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let type = StageType(rawValue: typeName) else {
            throw ConstitutionError(file: "", path: "\(path).type", "\"\(typeName)\" is not a stage type; use one of \(StageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var problems: [ConstitutionError.Problem] = []
        let allowed = commonKeys + type.keys
        for (key, _) in mapping where !allowed.contains(key.string ?? "") {
            problems.append(.init("\(path).\(key.string ?? "?")", "unknown key for a \(type.rawValue) stage; expected one of \(allowed.joined(separator: ", "))"))
        }
        let name = node["name"]?.string ?? type.rawValue
        if let problem = SafePath.problem(with: name) ?? Pipeline.reservedNameProblem(name) {
            problems.append(.init("\(path).name", "\(problem) (got \"\(name)\"); a stage's name is its folder in the run folder"))
        }
        let canonical = try Yams.serialize(node: node, sortKeys: true)
        var stage = StageRecipe(name: name, type: type, model: nil, inputs: [:], canonicalConfiguration: canonical)
        // A settings error under its key: the stage's own, or for an sft stage's training settings one under `training:`.
        func settingsProblem(_ error: SettingsError) {
            let first = String(error.key.prefix { $0 != "." })
            let under = node[first] == nil && node["training"]?[first] != nil ? "\(path).training" : path
            problems.append(.init("\(under).\(error.key)", error.message))
        }
        func decode<T: Decodable>(_ make: () throws -> T) -> T? {
            do { return try make() } catch let error as SettingsError {
                settingsProblem(error)
            } catch DecodingError.dataCorrupted(let context) where context.underlyingError is SettingsError {
                // YAMLDecoder reports a settings type's own error as "not valid YAML"; the error inside names the key.
                if let error = context.underlyingError as? SettingsError { settingsProblem(error) }
            } catch let error as DecodingError {
                var problem = Constitution.problem(error)
                problem.path = problem.path.isEmpty ? path : "\(path).\(problem.path)"
                problems.append(problem)
            } catch {
                problems.append(.init(path, "\(error)"))
            }
            return nil
        }
        let decoder = YAMLDecoder()
        let text = canonical
        stage.model = decode { try node["model"].map { try decoder.decode(ModelSource.self, from: try Yams.serialize(node: $0)) } } ?? nil
        stage.run = decode { try decoder.decode(RunOptions.self, from: text) } ?? stage.run
        stage.automaticPrompting = node["prompting"] == nil
        if let backend = node["backend"] {
            if let name = backend.string, ["charter", "trl"].contains(name) { stage.backend = name } else {
                problems.append(.init("\(path).backend", "must be charter or trl, got \(backend.string.map { "\"\($0)\"" } ?? "a non-string")"))
            }
        }
        if let launcher = node["launcher"] {
            if let command = launcher.string, !command.isEmpty, stage.backend == "trl" { stage.launcher = command } else {
                problems.append(.init("\(path).launcher", launcher.string?.isEmpty == false ? "is used only with backend: trl" : "must be a shell command"))
            }
        }
        switch type {
        case .critique:
            stage.critique = decode { try decoder.decode(CritiqueConfiguration.self, from: text) } ?? stage.critique
            if node["seed"] == nil { stage.critique.seed = seed }
            if let ratio = node["helpful_ratio"]?.string {
                if let value = Double(ratio), (0..<1).contains(value) { stage.helpfulRatio = value } else {
                    problems.append(.init("\(path).helpful_ratio", "must be a number in [0, 1), got \(ratio)"))
                }
            }
        case .sample, .samplePairs:
            stage.sample = decode { try decoder.decode(SampleConfiguration.self, from: text) } ?? stage.sample
            if node["k"] == nil { stage.sample.k = type == .sample ? 1 : 2 }
            if node["seed"] == nil { stage.sample.seed = seed }
            if type == .samplePairs && stage.sample.k < 2 { problems.append(.init("\(path).k", "sample_pairs needs k ≥ 2")) }
        case .label:
            stage.feedback = decode { try decoder.decode(FeedbackConfiguration.self, from: text) } ?? stage.feedback
            if node["seed"] == nil { stage.feedback.seed = seed }
        case .sft, .reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO:
            if let training = node["training"] {
                stage.trainingYAML = try Yams.serialize(node: training)
                if type == .sft {
                    stage.training = decode { try decoder.decode(SFTConfiguration.self, from: stage.trainingYAML) } ?? stage.training
                }
                if let value = training["bf16"] {
                    if let on = value.bool { stage.bf16 = on } else {
                        problems.append(.init("\(path).training.bf16", "must be true or false, got \(value.string ?? "a \(value)")"))
                    }
                }
                let known: [String]? = type == .sft ? SFTConfiguration.keys + ["bf16"]
                    : type == .dpo ? DPOConfiguration.keys + TrainingRecipe.modelKeys
                    : type == .reward ? RewardConfiguration.keys + TrainingRecipe.modelKeys
                    : type == .grpo ? GRPOConfiguration.keys + TrainingRecipe.modelKeys + [BuiltInRewards.recipeKey]
                    : type == .rloo ? RLOOConfiguration.keys + TrainingRecipe.modelKeys + [BuiltInRewards.recipeKey]
                    : type == .orpo ? ORPOConfiguration.keys + TrainingRecipe.modelKeys
                    : type == .kto ? KTOConfiguration.keys + TrainingRecipe.modelKeys
                    : type == .onlineDPO ? Stages.onlineDPOKeys + TrainingRecipe.modelKeys
                    : PPOConfiguration.keys + TrainingRecipe.modelKeys + ["value_model_path"]
                // TRL keys Charter reads without acting on (bf16, use_cpu, …) are checked when a reward, dpo or ppo
                // stage's recipe is read (an sft stage decodes its configuration directly and refuses them here).
                for (key, _) in training.mapping ?? [:] where known.map({ !$0.contains(key.string ?? "") }) ?? false
                    && (type == .sft || TrainingRecipe.foreignKeys[key.string ?? ""] == nil) {
                    problems.append(.init("\(path).training.\(key.string ?? "?")",
                                          "not a \(type.rawValue) setting; expected one of \(known!.joined(separator: ", "))"))
                }
                if training["seed"] == nil { stage.training.training.seed = seed }
            } else {
                stage.training.training.seed = seed
            }
        }
        if type == .reward { parseHeads(node, path: path, into: &stage, problems: &problems) }
        checkRanges(of: stage, type: type, path: path, seed: seed, problems: &problems)
        for key in ["sampling", "reasoning"] {
            for (subkey, _) in node[key]?.mapping ?? [:] where !SamplingOptions.recipeKeys.contains(subkey.string ?? "") {
                problems.append(.init("\(path).\(key).\(subkey.string ?? "?")",
                                      "unknown sampling setting; expected one of \(SamplingOptions.recipeKeys.joined(separator: ", "))"))
            }
        }
        stage.seed = seed
        let required: [String]
        switch type {
        case .sample, .samplePairs, .critique: required = ["model", "prompts"]
        case .label: required = ["model", "pairs"]
        case .reward where !stage.heads.isEmpty && !stage.headsFromLabels: required = ["model"]  // each head names its file
        case .sft, .reward, .dpo, .orpo, .kto: required = ["model", "dataset"]
        case .ppo: required = ["model", "prompts", "reward_model"]
        case .grpo, .rloo: required = ["model", "prompts"]  // and a reward: reward_model or training.reward_funcs
        case .onlineDPO: required = ["model", "prompts"]  // and reward_model, training.reward_funcs or judge
        }
        for key in required where node[key] == nil {
            problems.append(.init("\(path).\(key)", "missing (a \(type.rawValue) stage needs \(required.joined(separator: " and ")))"))
        }
        if [.grpo, .rloo].contains(type), node["reward_model"] == nil, node["training"]?[BuiltInRewards.recipeKey] == nil {
            problems.append(.init("\(path).reward_model", "missing: a \(type.rawValue) stage needs a reward — reward_model: (e.g. stage:reward) or training: {reward_funcs: [exact-match]}"))
        }
        if type == .onlineDPO {
            let judged = node["judge"] != nil, scored = node["reward_model"] != nil || node["training"]?[BuiltInRewards.recipeKey] != nil
            if !judged && !scored {
                problems.append(.init("\(path).judge", "missing: an online_dpo stage ranks its pairs by judge: constitution (with feedback_model:) or by reward_model: (or training: {reward_funcs: …})"))
            } else if judged && scored {
                problems.append(.init("\(path).judge", "give either judge: or reward_model:/reward_funcs, not both"))
            }
            if let judge = node["judge"], judge.string != "constitution" {
                problems.append(.init("\(path).judge", "\"\(judge.string ?? "?")\" is not a judge Charter has; use judge: constitution"))
            }
            if judged, node["feedback_model"] == nil {
                problems.append(.init("\(path).feedback_model", "missing: judge: constitution needs the feedback model that answers its questions (a model folder, e.g. stage:sft)"))
            }
            stage.judge = node["judge"]?.string
        }
        for key in ["prompts", "pairs", "dataset", "mix_in", "helpful", "reward_model", "feedback_model"] {
            guard let value = node[key]?.string else { continue }
            stage.inputs[key] = value
        }
        if let model = stage.model { stage.inputs["model"] = model.path }
        for (key, value) in stage.inputs {
            guard let reference = StageReference(value) else { continue }
            if let file = reference.file, let problem = file.split(separator: "/", omittingEmptySubsequences: false).lazy.compactMap({ SafePath.problem(with: String($0)) }).first {
                problems.append(.init("\(path).\(key)", "\"\(value)\": the file after the stage name must be a relative path of plain names inside its folder: \(problem)"))
            }
            if !earlier.contains(where: { $0.name == reference.stage }) {
                problems.append(.init("\(path).\(key)", "\"\(value)\" refers to no earlier stage; stages run in order and can only use earlier ones (\(earlier.map(\.name).joined(separator: ", ")))"))
            }
        }
        guard problems.isEmpty else { throw ConstitutionError(file: "", problems: problems) }
        return stage
    }

    /// A reward stage's head keys (`heads_from_labels`, `heads`): the heads' names, their files as inputs, and the
    /// combinations that cannot run (TRL's backend trains one model; `mix_in` joins one model's pairs).
    static func parseHeads(_ node: Node, path: String, into stage: inout StageRecipe, problems: inout [ConstitutionError.Problem]) {
        if let flag = node["heads_from_labels"] {
            if let value = flag.bool { stage.headsFromLabels = value } else {
                problems.append(.init("\(path).heads_from_labels", "must be true or false (got \(flag.string.map { "\"\($0)\"" } ?? "a non-scalar"))"))
            }
        }
        if let heads = node["heads"] {
            guard let mapping = heads.mapping, !mapping.isEmpty else {
                problems.append(.init("\(path).heads", "must map each head's name to its preference file or stage:NAME, e.g. {harmless: stage:label, helpful: helpful.jsonl}"))
                return
            }
            for (key, value) in mapping {
                let name = key.string ?? "?"
                guard name.range(of: "^[A-Za-z0-9_.-]+$", options: .regularExpression) != nil else {
                    problems.append(.init("\(path).heads.\(name)", "a head's name must be letters, digits, _ . or - (it names a folder, head-NAME)"))
                    continue
                }
                guard let file = value.string, !file.isEmpty else {
                    problems.append(.init("\(path).heads.\(name)", "must be a preference file or stage:NAME"))
                    continue
                }
                stage.heads.append(name)
                stage.inputs["heads.\(name)"] = file
            }
        }
        guard stage.trainsHeads else { return }
        if stage.backend == "trl" {
            problems.append(.init("\(path).backend", "TRL trains one reward model; Charter trains the heads (heads_from_labels, heads): use backend: charter"))
        }
        if node["mix_in"] != nil {
            problems.append(.init("\(path).mix_in", "is added to one reward model's pairs; with heads give its pairs a head of their own (heads: {NAME: FILE})"))
        }
        if !stage.headsFromLabels, node["dataset"] != nil {
            problems.append(.init("\(path).dataset", "is read only with heads_from_labels: true when a stage trains heads; give each head's file under heads:"))
        }
    }
}

/// `stage:NAME` or `stage:NAME/FILE`.
struct StageReference {
    let stage: String
    let file: String?

    init?(_ text: String) {
        guard text.hasPrefix("stage:") else { return nil }
        let rest = text.dropFirst("stage:".count)
        if let slash = rest.firstIndex(of: "/") {
            stage = String(rest[..<slash])
            file = String(rest[rest.index(after: slash)...])
        } else {
            stage = String(rest)
            file = nil
        }
    }
}
