import Foundation
import LanguageModels

/// Chooses and loads the reference policy π_ref of DPO, KTO and PPO, as TRL chooses it — the one resolver `charter dpo`,
/// `charter kto`, `charter ppo` and the pipeline's `dpo` and `ppo` stages share:
/// 1. `ref_model` when given;
/// 2. when the policy re-trains an existing PEFT adapter (`--adapter`), a copy of the policy with that adapter;
/// 3. when the policy trains LoRA adapters, the policy with its adapters switched off (the base model, no second copy);
/// 4. when the trainer can read the initial policy once before training (DPO's and KTO's `precompute_ref_log_probs`),
///    the policy itself;
/// 5. else a copy of the initial policy's folder.
///
/// Every separate reference model is frozen (`setTrainable(false)`, TRL's `create_reference_model`): a reference is
/// only read, so none of its parameters requires a gradient — no tape is recorded through it, no optimizer or
/// trainable-parameter count picks it up, whichever caller loaded it.
public enum ReferencePolicy {
    /// Where the reference comes from.
    enum Choice {
        case model(any CausalLanguageModel)
        case adaptersDisabled
        case initialPolicy
    }

    /// A model folder (with `adapter`'s PEFT adapter on top, if given) loaded as a frozen reference.
    public static func frozenModel(_ directory: URL, adapter: URL? = nil) throws -> any CausalLanguageModel {
        let model = try PretrainedModel.load(directory: directory)
        if let adapter { try LoRA.load(from: adapter, into: model) }
        model.setTrainable(false)
        return model
    }

    /// The reference of a DPO run: none for reference-free losses (SimPO, SFT), else the rules above.
    /// - Parameters:
    ///   - policy: the policy as loaded (with LoRA adapters when training them).
    ///   - policyFolder: the folder the policy was loaded from (`model_name_or_path`).
    ///   - referenceModel: `ref_model`, if given.
    ///   - adapter: the PEFT adapter folder the policy continues training, if any.
    public static func dpo(configuration: DPOConfiguration, policy: TrainableModel, policyFolder: URL, referenceModel: URL?,
                           adapter: URL? = nil) throws -> DPOReference {
        if configuration.isReferenceFree { return .referenceFree }
        switch try choose(policy: policy, policyFolder: policyFolder, referenceModel: referenceModel, adapter: adapter,
                          canReadInitialPolicyOnce: configuration.precomputeReferenceLogProbabilities) {
        case .model(let model): return .model(model)
        case .adaptersDisabled: return .adaptersDisabled
        case .initialPolicy: return .initialPolicy
        }
    }

    /// The reference of a KTO run (the rules above; rule 4 with `precompute_ref_log_probs`).
    public static func kto(configuration: KTOConfiguration, policy: TrainableModel, policyFolder: URL, referenceModel: URL?,
                           adapter: URL? = nil) throws -> DPOReference {
        switch try choose(policy: policy, policyFolder: policyFolder, referenceModel: referenceModel, adapter: adapter,
                          canReadInitialPolicyOnce: configuration.precomputeReferenceLogProbabilities) {
        case .model(let model): return .model(model)
        case .adaptersDisabled: return .adaptersDisabled
        case .initialPolicy: return .initialPolicy
        }
    }

    /// The reference of the KL penalty of a PPO run (rules 1, 3 and 5).
    public static func ppo(policy: TrainableModel, policyFolder: URL, referenceModel: URL?) throws -> PPOReference {
        switch try choose(policy: policy, policyFolder: policyFolder, referenceModel: referenceModel, adapter: nil,
                          canReadInitialPolicyOnce: false) {
        case .model(let model): return .model(model)
        case .adaptersDisabled: return .adaptersDisabled
        case .initialPolicy: preconditionFailure("not chosen when the trainer cannot read the initial policy once")
        }
    }

    static func choose(policy: TrainableModel, policyFolder: URL, referenceModel: URL?, adapter: URL?,
                       canReadInitialPolicyOnce: Bool) throws -> Choice {
        if let referenceModel { return .model(try frozenModel(referenceModel)) }
        // TRL re-training an existing adapter: the reference is a frozen copy of it (its "ref" adapter).
        if let adapter { return .model(try frozenModel(policyFolder, adapter: adapter)) }
        if policy.adapterConfiguration != nil { return .adaptersDisabled }
        if canReadInitialPolicyOnce { return .initialPolicy }
        return .model(try frozenModel(policyFolder))
    }
}
