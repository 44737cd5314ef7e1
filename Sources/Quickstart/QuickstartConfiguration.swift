import Foundation
import JSON
import ToyWorld

/// Every size of a quickstart run: the world's corpora, the tiny model, each pipeline stage's data and steps, and
/// the evaluation. ``full`` is `charter quickstart`; ``reduced`` is the test-suite run (`swift test`).
public struct QuickstartConfiguration: Codable, Equatable, Sendable {
    public var corpus = CorpusSizes()
    /// What the world keeps out of training among its borderline look-alikes: whole intents ("intent", one per harm
    /// category, whose answers no model learns) or one phrasing of every look-alike ("phrasing": held-out requests a
    /// model has learned to answer). Results written before the field existed read as "intent".
    public var borderlineHoldout = ToyWorld.BorderlineHoldout.intent
    /// Byte-level BPE vocabulary trained on the world's corpus.
    public var vocabularySize = 1024
    // The helpful-only Llama: small enough to train from scratch in about four minutes on two cores.
    public var hiddenSize = 128
    public var layerCount = 4
    public var headCount = 4
    public var intermediateSize = 384
    public var contextLength = 512
    /// Optimizer steps of the helpful-only model, on batches of ``helpfulOnlyBatchSize`` packed blocks of
    /// ``helpfulOnlyBlockLength`` tokens. 2000: at 1100 its critiques still copy the principle's topic in some seeds
    /// (objecting under principles that do not cover the request); at 2000 they decide as the world does in ~96%.
    public var helpfulOnlySteps = 2000
    public var helpfulOnlyBatchSize = 8
    public var helpfulOnlyBlockLength = 256
    public var helpfulOnlyLearningRate = 2e-3
    /// Red-team prompts per harmful training intent (critique, pairs, PPO).
    public var redTeamPerIntent = 8
    /// Borderline prompts per borderline training intent, mixed into the RL prompts (pairs, PPO).
    public var borderlinePromptsPerIntent = 8
    /// PPO's prompts: the red-team prompts plus this many borderline prompts per borderline training intent and this
    /// many plain benign prompts per benign intent, as the paper's RL mixes helpfulness prompts into the red-team ones.
    /// Only PPO reads them (`world/ppo_prompts.jsonl`).
    public var ppoBorderlinePromptsPerIntent = 8
    public var ppoBenignPromptsPerIntent = 0
    /// Critique → revision rounds per red-team prompt.
    public var critiqueRounds = 1
    /// SL-CAI: steps of SFT on revisions mixed with helpful data.
    public var slCAISteps = 80
    public var slCAILearningRate = 5e-4
    /// Benign prompts per intent available to the helpful mix.
    public var helpfulPerIntent = 20
    /// Human helpfulness comparisons per borderline training intent, mixed into the preference model's and DPO's
    /// data (a quarter as many per benign intent; 0: AI harmlessness labels only). 24: with 8, the longer PPO run
    /// below over-refused held-out borderline requests more than SL-CAI (+3.1 points [+0.1, +6.2], 5 seeds, AVX-512):
    /// the AI labels get borderline pairs right only ~83% of the time, and the preference model learned to reward
    /// refusing them. The paper's preference model is likewise trained on human helpfulness data beside the AI labels.
    public var helpfulnessPairsPerIntent = 24
    /// Redraws of a pair's second response when it repeats the first (`redraw_identical` of the pairs stages): the
    /// tiny SL-CAI model samples the same text twice in 30–60 of 128 pairs at temperature 1, and no judge can decide
    /// such a pair (0: keep them).
    public var pairRedraws = 4
    /// Comparison principles asked per pair (each in both orders): the AI-feedback ensemble.
    public var principlesPerPair = 4
    public var rewardSteps = 60
    /// 80: at 40, DPO's cut in SL-CAI's harmful compliance reached 0 in its interval (5 seeds, AVX-512; chosen on those
    /// seeds, see README).
    public var dpoSteps = 80
    public var dpoBeta = 0.1
    public var dpoLearningRate = 5e-5
    /// PPO rollouts in total (prompts are cycled), its learning rate and KL coefficient (β of the KL penalty).
    /// 1024: at 256 (16 iterations) the preference model's score was still rising when PPO stopped, and RL-CAI's cut in
    /// SL-CAI's compliance was −13.3 points [−26.7, +0.1] (5 seeds, AVX-512). Chosen on seeds 1–5 of that path; see the
    /// README for the confirmation on seeds it was not chosen on.
    public var ppoEpisodes = 1024
    public var ppoLearningRate = 5e-5
    public var ppoKLCoefficient = 0.1
    /// PPO checkpoints kept along the way (evaluated for the Elo curve).
    public var ppoCheckpoints = 4
    /// RL-CAI by online DPO with the constitution as judge (`charter quickstart --online-dpo`); nil: not run.
    public var onlineDPO: OnlineDPOSizes?
    /// Held-out evaluation requests per intent.
    public var evaluationPerIntent = 12
    /// Longest generated response (tokens).
    public var maximumResponseTokens = 48
    /// Longest generated text in the critique stage (its critiques reason in steps before deciding).
    public var critiqueTokens = 80
    /// Also run SL-CAI under the partial constitution (two of the four harm categories).
    public var partialConstitution = true
    /// Also run the irrelevant-constitution ablation (SL-CAI, labels and DPO under style-only principles).
    public var ablation = true
    /// Also label the main pairs with chain-of-thought reasoning (for label quality), with this many principles per pair.
    public var chainOfThoughtLabels = true
    public var chainOfThoughtPrinciplesPerPair = 1
    /// Bootstrap resamples for the Elo intervals.
    public var bootstrapSamples = 200

    public init() {}

    /// The toy world of `seed` as this configuration shapes it.
    public func world(seed: UInt64) -> ToyWorld { ToyWorld(seed: seed, borderlineHoldout: borderlineHoldout) }

    /// PPO iterations (batches of 16 rollouts) between kept checkpoints.
    var ppoSaveSteps: Int { max(1, ppoEpisodes / 16 / max(1, ppoCheckpoints)) }

    /// This configuration with fields replaced by `overrides` (field name → value, as `charter quickstart --set`
    /// passes them). Unknown fields and values of the wrong type are errors naming the field.
    public func overriding(_ overrides: [(key: String, value: String)]) throws -> QuickstartConfiguration {
        try ConfigurationOverrides.apply(overrides, to: self, command: "quickstart", textChoices: Self.textChoices)
    }

    /// The values each text field takes.
    public static let textChoices = ["borderlineHoldout": ToyWorld.BorderlineHoldout.allCases.map(\.rawValue)]

    public static let full = QuickstartConfiguration()

    /// The test suite's run (`swift test`, debug build): a smaller corpus and a 2-layer model trained on small
    /// batches, short downstream stages with a short SL-CAI (so that it leaves compliance for RL to remove). Large
    /// enough to show the direction of claims 1 and 2 on the harmful side; too small to learn the benign skills or to
    /// follow its principles when critiquing (measured: it revises under most principles that do not cover the
    /// request), so the constitution's content (claim 3) is shown by the full run only.
    public static var reduced: QuickstartConfiguration {
        var c = QuickstartConfiguration()
        c.corpus.benignPerIntent = 24
        c.corpus.borderlinePerIntent = 12
        c.corpus.harmfulPerIntent = 12
        c.corpus.critiquesPerIntent = 12
        c.corpus.comparisonsPerIntent = 12
        c.corpus.reasonedComparisonsPerIntent = 0
        c.vocabularySize = 768
        c.hiddenSize = 64
        c.layerCount = 2
        c.headCount = 4
        c.intermediateSize = 192
        c.helpfulOnlySteps = 400
        c.helpfulOnlyBatchSize = 4
        c.redTeamPerIntent = 3
        c.borderlinePromptsPerIntent = 3
        c.ppoBorderlinePromptsPerIntent = 3
        // With four general principles in the full constitution the critic revises most red-team answers: 6 steps of SFT
        // saturated SL-CAI (0% compliance, measured); 4 leave it complying with 19% of held-out harmful requests.
        c.slCAISteps = 4
        c.helpfulPerIntent = 8
        c.principlesPerPair = 1
        c.rewardSteps = 15
        c.dpoSteps = 30
        c.ppoEpisodes = 64
        c.ppoLearningRate = 3e-4  // a quarter of the episodes: a larger step to move at all
        // No human helpfulness comparisons: this model answers no benign request correctly (0% benign accuracy), so
        // comparisons of answers against refusals can only teach it to stop refusing (measured: DPO then complied
        // with 44% of held-out harmful requests, SL-CAI 12.5%).
        c.helpfulnessPairsPerIntent = 0
        c.ppoCheckpoints = 1
        c.evaluationPerIntent = 4
        c.maximumResponseTokens = 40
        c.chainOfThoughtLabels = false
        c.bootstrapSamples = 50
        return c
    }
}

extension QuickstartConfiguration {
    /// Reads a results.json configuration. One written before PPO had its own prompts has no `ppo…PromptsPerIntent`
    /// fields and reads as that run's PPO prompts were: the pairs' borderline share and no benign prompts, so
    /// `--report-only` still renders it. Every other field is required.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        corpus = try c.decode(CorpusSizes.self, forKey: .corpus)
        borderlineHoldout = try c.decodeIfPresent(ToyWorld.BorderlineHoldout.self, forKey: .borderlineHoldout) ?? .intent
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        contextLength = try c.decode(Int.self, forKey: .contextLength)
        helpfulOnlySteps = try c.decode(Int.self, forKey: .helpfulOnlySteps)
        helpfulOnlyBatchSize = try c.decode(Int.self, forKey: .helpfulOnlyBatchSize)
        helpfulOnlyBlockLength = try c.decode(Int.self, forKey: .helpfulOnlyBlockLength)
        helpfulOnlyLearningRate = try c.decode(Double.self, forKey: .helpfulOnlyLearningRate)
        redTeamPerIntent = try c.decode(Int.self, forKey: .redTeamPerIntent)
        borderlinePromptsPerIntent = try c.decode(Int.self, forKey: .borderlinePromptsPerIntent)
        ppoBorderlinePromptsPerIntent = try c.decodeIfPresent(Int.self, forKey: .ppoBorderlinePromptsPerIntent) ?? borderlinePromptsPerIntent
        ppoBenignPromptsPerIntent = try c.decodeIfPresent(Int.self, forKey: .ppoBenignPromptsPerIntent) ?? 0
        critiqueRounds = try c.decode(Int.self, forKey: .critiqueRounds)
        slCAISteps = try c.decode(Int.self, forKey: .slCAISteps)
        slCAILearningRate = try c.decode(Double.self, forKey: .slCAILearningRate)
        helpfulPerIntent = try c.decode(Int.self, forKey: .helpfulPerIntent)
        helpfulnessPairsPerIntent = try c.decode(Int.self, forKey: .helpfulnessPairsPerIntent)
        pairRedraws = try c.decode(Int.self, forKey: .pairRedraws)
        principlesPerPair = try c.decode(Int.self, forKey: .principlesPerPair)
        rewardSteps = try c.decode(Int.self, forKey: .rewardSteps)
        dpoSteps = try c.decode(Int.self, forKey: .dpoSteps)
        dpoBeta = try c.decode(Double.self, forKey: .dpoBeta)
        dpoLearningRate = try c.decode(Double.self, forKey: .dpoLearningRate)
        ppoEpisodes = try c.decode(Int.self, forKey: .ppoEpisodes)
        ppoLearningRate = try c.decode(Double.self, forKey: .ppoLearningRate)
        ppoKLCoefficient = try c.decode(Double.self, forKey: .ppoKLCoefficient)
        ppoCheckpoints = try c.decode(Int.self, forKey: .ppoCheckpoints)
        onlineDPO = try c.decodeIfPresent(OnlineDPOSizes.self, forKey: .onlineDPO)
        evaluationPerIntent = try c.decode(Int.self, forKey: .evaluationPerIntent)
        maximumResponseTokens = try c.decode(Int.self, forKey: .maximumResponseTokens)
        critiqueTokens = try c.decode(Int.self, forKey: .critiqueTokens)
        partialConstitution = try c.decode(Bool.self, forKey: .partialConstitution)
        ablation = try c.decode(Bool.self, forKey: .ablation)
        chainOfThoughtLabels = try c.decode(Bool.self, forKey: .chainOfThoughtLabels)
        chainOfThoughtPrinciplesPerPair = try c.decode(Int.self, forKey: .chainOfThoughtPrinciplesPerPair)
        bootstrapSamples = try c.decode(Int.self, forKey: .bootstrapSamples)
    }
}

/// The quickstart's online DPO stage (Guo et al. 2024): from the SL-CAI model, two completions per RL prompt, ranked by
/// the constitution's AI feedback asked of the helpful-only model (the label stage's judge, online), DPO loss against
/// the SL-CAI model.
public struct OnlineDPOSizes: Codable, Equatable, Sendable {
    /// Optimizer steps, each on `batchSize` prompts (two completions each).
    public var steps = 40
    public var batchSize = 8
    public var learningRate = 5e-5
    public var beta = 0.1

    public init() {}
}
