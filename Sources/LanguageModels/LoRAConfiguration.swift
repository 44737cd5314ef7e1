import Foundation
import JSON
import Settings

/// A LoRA adapter's settings, read and written as PEFT's `adapter_config.json` (Hu et al. 2021, "LoRA: Low-Rank
/// Adaptation of Large Language Models"). `fields` are PEFT's names; keys Charter does not use are kept in
/// `otherFields` and written back, so a PEFT config survives a load/save round trip.
public struct LoRAConfiguration: KeyedSettings, Equatable, Sendable {
    /// Which modules get an adapter: PEFT's `target_modules`.
    public enum TargetModules: Codable, Equatable, Sendable {
        /// A module matches a name when it equals it or ends with "." + name (`"q_proj"` matches every layer's).
        case names([String])
        /// A regular expression that must match the whole module name; `"all-linear"` means every linear layer
        /// except the output head.
        case pattern(String)

        public static let allLinear = TargetModules.pattern("all-linear")

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let pattern = try? container.decode(String.self) { self = .pattern(pattern) } else { self = .names(try container.decode([String].self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .names(let names): try container.encode(names)
            case .pattern(let pattern): try container.encode(pattern)
            }
        }
    }

    /// How A and B start (PEFT's `init_lora_weights`).
    public enum InitialWeights: Codable, Equatable, Sendable {
        /// `true`: A ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5, nn.Linear's init), B = 0, so training
        /// starts from the base model.
        case kaimingUniform
        /// `"gaussian"`: A ~ N(0, 1/r²), B = 0.
        case gaussian
        /// `false`: A and B both as nn.Linear initialises them (B ≠ 0: the adapter changes the model at once;
        /// PEFT uses it for tests).
        case random

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { self = flag ? .kaimingUniform : .random; return }
            let name = try container.decode(String.self)
            guard name.lowercased() == "gaussian" else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "init_lora_weights \"\(name)\" is not supported (true, false or \"gaussian\")")
            }
            self = .gaussian
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .kaimingUniform: try container.encode(true)
            case .gaussian: try container.encode("gaussian")
            case .random: try container.encode(false)
            }
        }
    }

    public var rank = 8                               // r: inner size of B·A
    public var alpha: Float = 8                       // lora_alpha: the update is scaled by alpha / r
    public var dropout: Float = 0                     // lora_dropout: on the adapter's input, in training only
    /// nil: PEFT's default for the architecture (`q_proj`, `v_proj` for Llama family, `c_attn` for GPT-2).
    public var targetModules: TargetModules? = nil
    public var excludeModules: TargetModules? = nil   // modules never adapted, matched like targetModules
    public var bias = "none"                          // only "none": biases stay frozen and are not saved
    public var fanInFanOut = false                    // true for GPT-2's Conv1D (in, out) weights; set by `LoRA.apply`
    public var useRSLoRA = false                      // scale by alpha / √r (Kalajdzievski 2023, "rank-stabilized LoRA")
    public var initialWeights = InitialWeights.kaimingUniform
    public var taskType: String? = "CAUSAL_LM"
    public var peftType = "LORA"
    public var baseModelNameOrPath: String? = nil
    public var inferenceMode = false
    public var modulesToSave: [String]? = nil         // must be nil: fully trained extra modules are not supported
    public var rankPattern: [String: Int] = [:]       // must be empty: per-module ranks are not supported
    public var alphaPattern: [String: Float] = [:]    // must be empty: per-module alphas are not supported
    public var layersToTransform: [Int]? = nil        // must be nil: every layer is adapted
    /// Every other key of adapter_config.json, written back unchanged.
    public var otherFields: [String: JSONValue] = [:]

    /// The factor on B·A·x.
    public var scaling: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    public init() {}

    public init(rank: Int = 8, alpha: Float = 8, dropout: Float = 0, targetModules: TargetModules? = nil) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
    }

    /// Largest rank accepted: above PEFT's usual 8–256 and rsLoRA's largest experiments, low enough that a typo
    /// (`r: 100000`) cannot allocate adapters larger than the model (A and B hold r × (in + out) values per module).
    public static let maximumRank = 1024

    /// PEFT's `adapter_config.json` keys (defaults are the property values above).
    public static var fields: [SettingsField<Self>] {
        [.init("r", \.rank, where: .from(1, to: maximumRank)),
         .init("lora_alpha", \.alpha, where: SettingsCheck.positive.and(.atMost(65_536))),
         .init("lora_dropout", \.dropout, where: .within(0..<1)),
         .init("target_modules", \.targetModules), .init("exclude_modules", \.excludeModules), .init("bias", \.bias),
         .init("fan_in_fan_out", \.fanInFanOut), .init("use_rslora", \.useRSLoRA), .init("init_lora_weights", \.initialWeights),
         // PEFT writes task_type; a config without it has none (not the default).
         SettingsField(keys: ["task_type"], read: { configuration, container in
             configuration.taskType = try SettingsField<Self>.decodeIfPresent(String.self, forKey: SettingsKey("task_type"), in: container)
         }, write: { configuration, container in try container.encode(configuration.taskType, forKey: SettingsKey("task_type")) }),
         .init("peft_type", \.peftType), .init("base_model_name_or_path", \.baseModelNameOrPath),
         .init("inference_mode", \.inferenceMode), .init("modules_to_save", \.modulesToSave),
         .init("rank_pattern", \.rankPattern), .init("alpha_pattern", \.alphaPattern),
         .init("layers_to_transform", oneOrMany: \.layersToTransform, writesSingleAsScalar: false)]
    }

    /// PEFT options that change what the adapter computes; a config that turns one on is refused.
    static let unsupportedOptions = [
        "use_dora": "DoRA (use_dora)", "lora_bias": "trainable LoRA biases (lora_bias)",
        "target_parameters": "adapters on parameters (target_parameters)",
        "trainable_token_indices": "trainable tokens (trainable_token_indices)",
        "layer_replication": "layer replication (layer_replication)", "use_qalora": "QA-LoRA (use_qalora)",
        "alora_invocation_tokens": "activated LoRA (alora_invocation_tokens)", "megatron_config": "Megatron layers (megatron_config)",
        "arrow_config": "Arrow routing (arrow_config)", "use_bdlora": "block-diagonal LoRA (use_bdlora)",
        "kasa_config": "KaSA (kasa_config)", "monteclora_config": "MonteCLoRA (monteclora_config)",
        "velora_config": "VeLoRA (velora_config)",
    ]

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: SettingsKey.self)
        try read(from: container)
        let known = Set(Self.keys)
        for key in container.allKeys where !known.contains(key.stringValue) {
            otherFields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: SettingsKey.self)
        try write(to: &container)  // target_modules etc. null when unset, as PEFT writes them
        for (key, value) in otherFields { try container.encode(value, forKey: SettingsKey(key)) }
    }

    /// Checks that Charter can run this adapter exactly as PEFT would, and every value against its key's range
    /// (`r` in [1, `maximumRank`], `lora_alpha` in (0, 65536], `lora_dropout` in [0, 1)).
    /// - Throws: `LoRAError` saying which field is unsupported or out of range and what to change.
    public func validate() throws {
        guard peftType == "LORA" else { throw LoRAError("peft_type is \"\(peftType)\"; only \"LORA\" adapters are supported") }
        if let taskType, taskType != "CAUSAL_LM" {
            throw LoRAError("task_type is \"\(taskType)\"; only \"CAUSAL_LM\" adapters are supported")
        }
        do { try checkRanges() } catch let error as SettingsError { throw LoRAError(error.description) }
        guard bias == "none" else {
            throw LoRAError("bias \"\(bias)\" is not supported: only \"none\" (base biases stay frozen); retrain with bias=\"none\"")
        }
        if let modulesToSave, !modulesToSave.isEmpty {
            throw LoRAError("modules_to_save \(modulesToSave) is not supported: Charter saves and loads only LoRA matrices")
        }
        if !rankPattern.isEmpty { throw LoRAError("rank_pattern \(rankPattern) is not supported: every adapted module must use r = \(rank)") }
        if !alphaPattern.isEmpty { throw LoRAError("alpha_pattern \(alphaPattern) is not supported: every adapted module must use lora_alpha = \(alpha)") }
        if let layersToTransform { throw LoRAError("layers_to_transform \(layersToTransform) is not supported: set it to null to adapt every layer") }
        for (key, feature) in Self.unsupportedOptions.sorted(by: { $0.key < $1.key }) {
            if let value = otherFields[key], value.isSet { throw LoRAError("\(key) = \(value.serialized()) turns on \(feature), which Charter does not support") }
        }
    }
}

extension JSONValue {
    /// False for the values PEFT uses to mean "off": null, false, 0, "", [] and {}.
    var isSet: Bool {
        switch self {
        case .null: return false
        case .bool(let value): return value
        case .number(let value): return (value.doubleValue ?? 1) != 0
        case .string(let value): return !value.isEmpty
        case .array(let value): return !value.isEmpty
        case .object(let value): return !value.isEmpty
        }
    }
}
