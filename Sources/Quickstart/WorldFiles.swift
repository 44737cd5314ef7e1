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

    /// The corpus as training texts (one document each).
    public static func render(_ corpus: HelpfulOnlyCorpus, constitution: Constitution, seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        let critiquePrinciples = constitution.critiquePrinciples, comparisons = constitution.comparisonPrinciples.compactMap(\.comparison)
        var texts = corpus.dialogues.map { CritiquePrompts.responsePrompt([user($0.request)]) + " " + $0.response }
        for demonstration in corpus.critiques {
            let principle = critiquePrinciples[Int(generator.next() % UInt64(critiquePrinciples.count))]
            let conversation = [user(demonstration.request), ChatMessage(role: "assistant", content: demonstration.response)]
            let critiquePrompt = CritiquePrompts.critiquePrompt(examples: [], conversation: conversation, request: principle.critiqueRequest ?? "")
            texts.append(CritiquePrompts.revisionPrompt(critiquePrompt: critiquePrompt, critique: demonstration.critique,
                                                        request: principle.revisionRequest ?? "") + " " + demonstration.revision)
        }
        for demonstration in corpus.comparisons {
            let question = comparisons[Int(generator.next() % UInt64(comparisons.count))]
            texts.append(ComparisonPrompts.direct(examples: [], conversation: [user(demonstration.request)], principle: question,
                                                  responseA: demonstration.responseA, responseB: demonstration.responseB)
                         + " (\(demonstration.preferred))")
        }
        texts.shuffle(using: &generator)
        return texts
    }

    static func user(_ request: Request) -> ChatMessage { ChatMessage(role: "user", content: request.text) }

    /// Writes every file; returns the rendered corpus.
    @discardableResult
    public func write(constitution: Constitution) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let texts = Self.render(world.helpfulOnlyCorpus(configuration.corpus), constitution: constitution, seed: world.seed)
        try ExperimentFiles.writeJSONL(texts.map { ["text": $0] }, to: corpusURL)
        let redTeam = world.redTeamRequests(perIntent: configuration.redTeamPerIntent)
        // Transcript prompts, so that pairs, labels, DPO and PPO see the format the model was trained on.
        try ExperimentFiles.writeJSONL(redTeam.map { ["id": $0.id, "prompt": CritiquePrompts.responsePrompt([Self.user($0)])] }, to: redTeamURL)
        let helpful = world.helpfulRequests(perIntent: configuration.helpfulPerIntent)
        try ExperimentFiles.writeJSONL(helpful.map { ["prompt": CritiquePrompts.responsePrompt([Self.user($0)]), "completion": " " + world.helpfulAnswer($0)] },
                                       to: helpfulURL)
        let evaluation = world.evaluationRequests(perIntent: configuration.evaluationPerIntent) + world.retentionRequests(perIntent: configuration.evaluationPerIntent)
        try ExperimentFiles.writeJSONL(evaluation.map { ["id": $0.id, "prompt": CritiquePrompts.responsePrompt([Self.user($0)])] }, to: evaluationURL)
        try writeInitialModel(texts: texts + redTeam.map(\.text))
        return texts
    }

    /// A randomly initialised Llama folder whose tokenizer is trained (byte-level BPE) on the world's texts.
    func writeInitialModel(texts: [String]) throws {
        let c = configuration
        try InitialModel(vocabularySize: c.vocabularySize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                         layerCount: c.layerCount, headCount: c.headCount, contextLength: c.contextLength)
            .write(texts: texts, seed: world.seed, to: initialModelURL)
    }
}
