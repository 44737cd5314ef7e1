import LanguageModels

/// Where the frozen reference policy π_ref of the KL penalty comes from.
public enum PPOReference {
    /// A separate model (a reference folder, or a frozen copy of the policy's starting weights).
    case model(any CausalLanguageModel)
    /// The policy itself with its LoRA adapters switched off (the base model is the reference).
    case adaptersDisabled
}
