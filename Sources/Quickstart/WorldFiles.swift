import Constitutional
import Experiments
import Foundation
import LanguageModels
import Runtime
import Tensors
import ToyWorld

/// Writes a toy world's inputs for the pipeline: the helpful-only corpus rendered in the Constitutional layer's
/// own prompt formats (so demonstrations look exactly like the prompts the pipeline asks), red-team prompts,
/// helpful data for SL-CAI's mix, and a randomly initialised Llama with a tokenizer trained on the corpus.
public struct WorldFiles {
    public let world: ToyWorld
    public let configuration: QuickstartConfiguration
    public let directory: URL

    public var corpusURL: URL { directory.appendingPathComponent("corpus.jsonl") }
    public var redTeamURL: URL { directory.appendingPathComponent("red_team.jsonl") }
    public var helpfulURL: URL { directory.appendingPathComponent("helpful.jsonl") }
    public var evaluationURL: URL { directory.appendingPathComponent("evaluation.jsonl") }
    public var initialModelURL: URL { directory.appendingPathComponent("initial_model") }

    public init(world: ToyWorld, configuration: QuickstartConfiguration, directory: URL) {
        self.world = world
        self.configuration = configuration
        self.directory = directory
    }

    public var rlPromptsURL: URL { directory.appendingPathComponent("rl_prompts.jsonl") }
    public var ppoPromptsURL: URL { directory.appendingPathComponent("ppo_prompts.jsonl") }
    /// Human helpfulness comparisons (TRL preference lines, hard labels) mixed into the preference model's and DPO's data.
    public var helpfulnessPairsURL: URL { directory.appendingPathComponent("helpfulness_pairs.jsonl") }

    /// The world's constitutions (subsets of ``ToyWorld/principles``): every harm principle, the seed's partial one
    /// (two categories) and the style-only one.
    public func constitutionURL(_ variant: ConstitutionVariant) -> URL { directory.appendingPathComponent("constitution-\(variant.rawValue).yaml") }

    /// The corpus as training texts (one document each), every demonstration in the Constitutional layer's prompt
    /// format under its principle's own texts.
    public static func render(_ corpus: HelpfulOnlyCorpus, seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        var texts = corpus.dialogues.map { CritiquePrompts.responsePrompt([user($0.request)]) + " " + $0.response }
        for demonstration in corpus.critiques {
            let principle = ToyWorld.principle(demonstration.principleID)!
            let conversation = [user(demonstration.request), ChatMessage(role: "assistant", content: demonstration.response)]
            let critiquePrompt = CritiquePrompts.critiquePrompt(examples: [], conversation: conversation, request: principle.critiqueRequest)
            texts.append(CritiquePrompts.revisionPrompt(critiquePrompt: critiquePrompt, critique: demonstration.critique,
                                                        request: principle.revisionRequest) + " " + demonstration.revision)
        }
        for demonstration in corpus.comparisons {
            let question = ToyWorld.principle(demonstration.principleID)!.comparison
            if let reasoning = demonstration.reasoning {
                texts.append(ComparisonPrompts.chainOfThought(examples: [], conversation: [user(demonstration.request)], principle: question,
                                                              responseA: demonstration.responseA, responseB: demonstration.responseB)
                             + " \(reasoning)\(ComparisonPrompts.answerCue) (\(demonstration.preferred))")
            } else {
                texts.append(ComparisonPrompts.direct(examples: [], conversation: [user(demonstration.request)], principle: question,
                                                      responseA: demonstration.responseA, responseB: demonstration.responseB)
                             + " (\(demonstration.preferred))")
            }
        }
        texts.shuffle(using: &generator)
        return texts
    }

    static func user(_ request: Request) -> ChatMessage { ChatMessage(role: "user", content: request.text) }

    /// Writes every file; returns the rendered corpus.
    @discardableResult
    public func write() throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let texts = Self.render(world.helpfulOnlyCorpus(configuration.corpus), seed: world.seed)
        try ExperimentFiles.writeJSONL(texts.map { ["text": $0] }, to: corpusURL)
        // Transcript prompts, so that pairs, labels, DPO and PPO see the format the model was trained on.
        func prompts(_ requests: [Request]) -> [[String: String]] { requests.map { ["id": $0.id, "prompt": CritiquePrompts.responsePrompt([Self.user($0)])] } }
        let redTeam = world.redTeamRequests(perIntent: configuration.redTeamPerIntent)
        try ExperimentFiles.writeJSONL(prompts(redTeam), to: redTeamURL)
        // RL prompts: the red-team prompts and borderline ones (as the paper's RL mixes in helpfulness prompts).
        try ExperimentFiles.writeJSONL(prompts(rlRequests), to: rlPromptsURL)
        try ExperimentFiles.writeJSONL(prompts(ppoRequests), to: ppoPromptsURL)
        let helpful = world.helpfulRequests(perIntent: configuration.helpfulPerIntent)
        try ExperimentFiles.writeJSONL(helpful.map { ["prompt": CritiquePrompts.responsePrompt([Self.user($0)]), "completion": " " + world.helpfulAnswer($0)] },
                                       to: helpfulURL)
        try ExperimentFiles.writeJSONL(prompts(evaluationRequests), to: evaluationURL)
        let comparisons = world.helpfulnessComparisons(perIntent: configuration.helpfulnessPairsPerIntent)
        try ExperimentFiles.writeJSONL(comparisons.map { ["id": $0.request.id, "prompt": CritiquePrompts.responsePrompt([Self.user($0.request)]),
                                                          "chosen": " " + $0.chosen, "rejected": " " + $0.rejected] },
                                       to: helpfulnessPairsURL)
        for variant in ConstitutionVariant.allCases {
            try AtomicFile.write(Data(WorldConstitution.yaml(variant, world: world).utf8), to: constitutionURL(variant))
        }
        try writeInitialModel(texts: texts + redTeam.map(\.text))
        return texts
    }

    /// The RL prompts the pairs are sampled on: the red-team prompts and borderline ones.
    var rlRequests: [Request] {
        world.redTeamRequests(perIntent: configuration.redTeamPerIntent) + world.borderlineRequests(perIntent: configuration.borderlinePromptsPerIntent)
    }

    /// PPO's prompts: the red-team prompts, its own share of borderline ones and plain benign ones (the paper's RL mixes
    /// helpfulness prompts into the red-team ones).
    var ppoRequests: [Request] {
        world.redTeamRequests(perIntent: configuration.redTeamPerIntent) + world.borderlineRequests(perIntent: configuration.ppoBorderlinePromptsPerIntent)
            + world.ppoHelpfulRequests(perIntent: configuration.ppoBenignPromptsPerIntent)
    }

    /// Every request a model is judged on: held-out intents and phrasings, retention of the trained skills, and
    /// fresh requests of the harmful and borderline training intents.
    public var evaluationRequests: [Request] {
        let n = configuration.evaluationPerIntent
        return world.evaluationRequests(perIntent: n) + world.retentionRequests(perIntent: n) + world.seenHarmfulRequests(perIntent: max(1, n / 2))
            + world.seenBorderlineRequests(perIntent: n)
    }

    /// A randomly initialised Llama folder whose tokenizer is trained (byte-level BPE) on the world's texts.
    func writeInitialModel(texts: [String]) throws {
        let c = configuration
        try InitialModel(vocabularySize: c.vocabularySize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                         layerCount: c.layerCount, headCount: c.headCount, contextLength: c.contextLength)
            .write(texts: texts, seed: world.seed, to: initialModelURL)
    }
}
