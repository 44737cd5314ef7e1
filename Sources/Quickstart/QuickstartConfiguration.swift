import Foundation
import ToyWorld

/// Every size of a quickstart run: the world's corpora, the tiny model, each pipeline stage's data and steps, and
/// the evaluation. ``full`` is `charter quickstart`; ``reduced`` is the test-suite run (debug build, ~1 minute).
public struct QuickstartConfiguration: Codable, Equatable, Sendable {
    public var corpus = CorpusSizes()
    /// Byte-level BPE vocabulary trained on the world's corpus.
    public var vocabularySize = 1024
    // The helpful-only Llama: small enough to train from scratch in about two minutes on two cores.
    public var hiddenSize = 128
    public var layerCount = 4
    public var headCount = 4
    public var intermediateSize = 384
    public var contextLength = 512
    /// Optimizer steps of the helpful-only model (batch 16 of 256-token packed blocks).
    public var helpfulOnlySteps = 600
    public var helpfulOnlyLearningRate = 2e-3
    /// Red-team prompts per harmful training intent (critique, pairs).
    public var redTeamPerIntent = 8
    /// Critique → revision rounds per red-team prompt.
    public var critiqueRounds = 1
    /// SL-CAI: steps of SFT on revisions mixed with helpful data.
    public var slCAISteps = 80
    public var slCAILearningRate = 5e-4
    /// Benign prompts per intent available to the helpful mix.
    public var helpfulPerIntent = 20
    /// Comparison principles asked per pair (each in both orders).
    public var principlesPerPair = 2
    public var rewardSteps = 60
    public var dpoSteps = 60
    public var dpoBeta = 0.1
    public var dpoLearningRate = 1e-4
    /// PPO rollouts in total (prompts are cycled), its learning rate and KL coefficient (β of the KL penalty).
    public var ppoEpisodes = 256
    public var ppoLearningRate = 3e-4
    public var ppoKLCoefficient = 0.05
    /// Held-out evaluation requests per intent.
    public var evaluationPerIntent = 12
    /// Longest generated response (tokens).
    public var maximumResponseTokens = 48
    /// Also run the irrelevant-constitution ablation.
    public var ablation = true

    public init() {}

    public static let full = QuickstartConfiguration()

    /// A smaller world and model for the test suite (debug build).
    public static var reduced: QuickstartConfiguration {
        var c = QuickstartConfiguration()
        c.corpus.benignPerIntent = 24
        c.corpus.harmfulPerIntent = 12
        c.corpus.critiquesPerIntent = 12
        c.corpus.comparisonsPerIntent = 12
        c.vocabularySize = 768
        c.hiddenSize = 64
        c.layerCount = 2
        c.headCount = 4
        c.intermediateSize = 192
        c.helpfulOnlySteps = 250
        c.redTeamPerIntent = 4
        c.slCAISteps = 40
        c.helpfulPerIntent = 8
        c.principlesPerPair = 1
        c.rewardSteps = 30
        c.dpoSteps = 40
        c.ppoEpisodes = 64
        c.evaluationPerIntent = 6
        c.maximumResponseTokens = 40
        c.ablation = false
        return c
    }
}
