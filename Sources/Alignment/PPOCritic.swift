import Tensors

/// The critic: a value head on the policy's final hidden states (shared trunk, TRL's
/// `AutoModelForCausalLMWithValueHead`), or on a separate model (TRL's `value_model`, e.g. the reward model's trunk).
public final class PPOCritic {
    /// nil: the policy's own trunk.
    public let trunk: TrainableModel?
    public let head: ValueHead

    public init(trunk: TrainableModel?, head: ValueHead) {
        self.trunk = trunk
        self.head = head
    }

    var trainableParameters: [Tensor] { (trunk?.trainableParameters ?? []) + head.trainableParameters() }
}
