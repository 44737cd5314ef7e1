import Constitutional

/// The trainers the quickstart registers with ``Pipeline``: the Constitutional layer's built-in `reward`, `dpo` and
/// `ppo` stages (PPO set up as `charter ppo` sets it up: the critic a value head on the policy's trunk, the reference
/// a frozen copy of the initial policy, the stage's `reward_model` scoring rollouts).
public enum PipelineTrainers {
    /// ``Stages/builtInTrainers``, kept under this name for ``QuickstartRun``'s default.
    public static var available: [StageType: TrainingStage] { Stages.builtInTrainers }
}
