import Alignment
import Foundation
import Pipelines
import Runtime

/// What the experiments built on the frontier task's review language share (`overoptimization`, `pluralistic`): the
/// world and its reference model per seed, and the small reward-model and PPO settings they train with.
enum ReviewWorldSetup {
    /// Writes the world of `seed` under `folder` and trains (or reuses) its reference model.
    /// - Returns: the task (its training and held-out prompts) and the reference model's folder.
    static func reference(_ world: FrontierConfiguration, name: String, seed: UInt64, folder: URL,
                          log: @escaping @Sendable (String) -> Void) async throws -> (task: FrontierTask, model: URL) {
        let frontier = FrontierRun(name: name, configuration: world, seeds: [seed], directory: folder.deletingLastPathComponent())
        let task = FrontierTask(seed: seed, heldOutCount: world.heldOutItems)
        log("[seed \(seed)] the review world and the reference model")
        try frontier.writeWorld(task, seed: seed, to: folder.appendingPathComponent(FrontierRecipe.world))
        let referenceRecipe = folder.appendingPathComponent("reference.yaml")
        try AtomicFile.write(Data(FrontierRecipe.referenceYAML(world, seed: seed).utf8), to: referenceRecipe)
        _ = try await Pipeline(recipe: try PipelineRecipe.load(referenceRecipe), runDirectory: folder.appendingPathComponent(FrontierRecipe.reference))
            .run { log("[seed \(seed)] reference \($0)") }
        return (task, folder.appendingPathComponent(FrontierRecipe.referenceModel))
    }

    /// A reward model's settings: batch 16, cosine schedule, `steps` steps, a seed derived from the run's.
    static func rewardConfiguration(_ world: FrontierConfiguration, steps: Int, learningRate: Double, seed: UInt64, output: URL) -> RewardConfiguration {
        var configuration = RewardConfiguration()
        configuration.training.maximumSteps = steps
        configuration.training.batchSize = 16
        configuration.training.learningRate = Float(learningRate)
        configuration.training.learningRateSchedule = "cosine"
        configuration.training.seed = (seed << 16) &+ 0x5EED
        configuration.training.loggingSteps = 10
        configuration.training.outputDirectory = output.path
        configuration.maximumLength = world.contextLength
        return configuration
    }

    /// Rollouts per PPO iteration.
    static let ppoBatchSize = 32

    /// PPO's settings: batches of `ppoBatchSize` rollouts sampled at temperature 1 up to eos, 2 mini-batches, a fixed
    /// KL coefficient, no sample generations; `iterations` × `ppoBatchSize` episodes.
    static func ppoConfiguration(_ world: FrontierConfiguration, iterations: Int, learningRate: Double, klCoefficient: Double,
                                 seed: UInt64, output: URL) -> PPOConfiguration {
        var ppo = PPOConfiguration()
        ppo.training.batchSize = ppoBatchSize
        ppo.training.learningRate = Float(learningRate)
        ppo.training.seed = seed &+ 0x990
        ppo.training.loggingSteps = 1
        ppo.training.outputDirectory = output.path
        ppo.totalEpisodes = iterations * ppoBatchSize
        ppo.klCoefficient = Float(klCoefficient)
        ppo.responseLength = world.responseLength
        ppo.temperature = 1
        ppo.stopToken = "eos"
        ppo.miniBatchCount = 2
        ppo.sampleGenerationCount = 0
        return ppo
    }
}
