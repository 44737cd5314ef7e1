import Alignment
import Constitutional
import Foundation
import Settings

extension PipelineRecipe {
    /// Checks every value of a stage against its key's range when the recipe is read — run options, the stage
    /// type's settings, their `sampling:`/`reasoning:` and a trainer stage's `training:` (the trainer's own
    /// `validate()`) — so a bad value is reported with its path (`stages[1].training.max_length`) before any
    /// earlier stage runs.
    static func checkRanges(of stage: StageRecipe, type: StageType, path: String, seed: UInt64,
                            problems: inout [ConstitutionError.Problem]) {
        func check(_ prefix: String, _ body: () throws -> Void) {
            do { try body() } catch let error as SettingsError {
                problems.append(.init("\(prefix).\(error.key)", error.message))
            } catch {
                problems.append(.init(prefix, "\(error)"))
            }
        }
        check(path) { try stage.run.checkRanges() }
        switch type {
        case .critique:
            check(path) { try stage.critique.checkRanges() }
            check("\(path).sampling") { try stage.critique.sampling.checkRanges() }
        case .sample, .samplePairs:
            check(path) { try stage.sample.checkRanges() }
            check("\(path).sampling") { try stage.sample.sampling.checkRanges() }
        case .label:
            check(path) { try stage.feedback.checkRanges() }
            check("\(path).reasoning") { try stage.feedback.reasoning.checkRanges() }
        case .sft:
            check("\(path).training") { try stage.training.validate() }
        case .reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO:
            // Unknown keys are already reported (once) by the caller; the trainer's recipe would report them again.
            guard !problems.contains(where: { $0.path.hasPrefix("\(path).training.") }) else { return }
            check("\(path).training") {
                try Stages.checkTrainingSettings(stage: stage.name, type: type, trainingYAML: stage.trainingYAML, seed: seed)
            }
        }
    }
}
