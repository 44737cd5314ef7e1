import Constitutional
import Foundation
import Pipelines
import XCTest
@testable import Quickstart
@testable import ToyWorld

final class WorldFilesTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testRenderedCorpusHasNoHeldOutRequestAndUsesThePipelinePromptFormats() throws {
        let world = ToyWorld(seed: 2)
        let corpus = world.helpfulOnlyCorpus(QuickstartConfiguration.reduced.corpus)
        let texts = WorldFiles.render(corpus, seed: 2)
        XCTAssertEqual(texts.count, corpus.dialogueRequests.count + corpus.critiques.count + corpus.comparisons.count)
        let heldOut = world.evaluationRequests(perIntent: 20).filter(\.isHarmful)
        for request in heldOut { XCTAssertFalse(texts.contains { $0.contains(request.text) }, request.text) }
        // Critique demonstrations are the pipeline's critique → revision prompt continued by the revision.
        let critiques = texts.filter { $0.contains("\n\nCritiqueRequest: ") }
        XCTAssertEqual(critiques.count, corpus.critiques.count)
        XCTAssertTrue(critiques.allSatisfy { $0.hasPrefix("\n\nHuman: ") && $0.contains("\n\nCritique: ") && $0.contains("\n\nRevision: ") })
        XCTAssertTrue(critiques.contains { $0.contains("\n\nRevision: I can't help you") })
        XCTAssertTrue(critiques.contains { $0.contains("It needs no change.") })
        // Comparisons are ComparisonPrompts.direct (or .chainOfThought with its reasoning) followed by the scored option.
        let direct = texts.filter { $0.hasPrefix("Consider the following conversation") }
        let reasoned = texts.filter { $0.contains("Assistant: Let's think step by step:") }
        XCTAssertEqual(direct.count + reasoned.count, corpus.comparisons.count)
        XCTAssertTrue(direct.allSatisfy { $0.hasSuffix("\nThe answer is: (A)") || $0.hasSuffix("\nThe answer is: (B)") })
        XCTAssertTrue(reasoned.allSatisfy { $0.hasSuffix("\nSo the answer is: (A)") || $0.hasSuffix("\nSo the answer is: (B)") })
        let principles = ToyWorld.principles.map(\.comparison)
        XCTAssertTrue((direct + reasoned).allSatisfy { text in principles.contains { text.contains($0) } })
    }

    /// PPO's prompts are the pairs' prompts by default; its borderline and benign shares add prompts of training
    /// intents only, never a held-out intent or a benign intent's held-out phrasing.
    func testPPOPromptsMixInBorderlineAndBenignTrainingPrompts() throws {
        let world = ToyWorld(seed: 4)
        var c = QuickstartConfiguration.full
        let directory = URL(fileURLWithPath: "/unused")
        XCTAssertEqual(WorldFiles(world: world, configuration: c, directory: directory).ppoRequests.map(\.id),
                       WorldFiles(world: world, configuration: c, directory: directory).rlRequests.map(\.id))
        c.ppoBorderlinePromptsPerIntent = 20
        c.ppoBenignPromptsPerIntent = 3
        let files = WorldFiles(world: world, configuration: c, directory: directory)
        let ppo = files.ppoRequests
        XCTAssertEqual(files.rlRequests.count, 12 * 8 + 4 * 8, "the pairs' prompts do not change")
        XCTAssertEqual(ppo.filter(\.isHarmful).count, 12 * 8)
        XCTAssertEqual(ppo.filter(\.isBorderline).count, 4 * 20)
        let benign = ppo.filter { !$0.isHarmful && !$0.isBorderline }
        XCTAssertEqual(benign.count, world.benignIntents.count * 3)
        XCTAssertTrue(benign.allSatisfy { $0.id.hasPrefix("ppo-helpful/") && $0.phrasing != world.heldOutPhrasing[$0.intentID] })
        let heldOut = Set(world.intents.filter { $0.split == .heldOut }.map(\.id))
        XCTAssertTrue(ppo.allSatisfy { !heldOut.contains($0.intentID) })
        XCTAssertEqual(Set(ppo.map(\.id)).count, ppo.count)
    }

    func testRecipeParsesAndTheCommittedRecipeIsCurrent() throws {
        let yaml = QuickstartRecipe.yaml(.full, seed: 1)
        let recipe = try PipelineRecipe.parse(yaml: yaml, file: "quickstart.yaml", baseDirectory: FileManager.default.temporaryDirectory)
        XCTAssertEqual(recipe.stages.map(\.name), ["helpful_only", "critique", "sl_cai", "pairs", "label", "reward", "dpo", "ppo"])
        XCTAssertEqual(recipe.stages.last?.canonicalConfiguration.contains("save_steps"), true)
        XCTAssertEqual(recipe.stages.map(\.type), [.sft, .critique, .sft, .samplePairs, .label, .reward, .dpo, .ppo])
        let committed = try String(contentsOf: Self.repository.appendingPathComponent("Recipes/quickstart.yaml"), encoding: .utf8)
        XCTAssertEqual(committed, yaml, "Recipes/quickstart.yaml is stale: regenerate it with `charter quickstart --write-recipe Recipes/quickstart.yaml`")
        let temporary = FileManager.default.temporaryDirectory
        let ablation = QuickstartRecipe.variantYAML(.full, seed: 1, name: "irrelevant", constitution: "c.yaml", world: "/w", helpfulOnly: "/h", rlaif: true)
        XCTAssertEqual(try PipelineRecipe.parse(yaml: ablation, file: "a.yaml", baseDirectory: temporary).stages.map(\.type),
                       [.critique, .sft, .samplePairs, .label, .dpo])
        // The preference model and every DPO stage mix in the human helpfulness comparisons; the reduced run has none.
        XCTAssertEqual(recipe.stages.filter { $0.inputs["mix_in"] == "world/helpfulness_pairs.jsonl" }.map(\.name), ["reward", "dpo"])
        XCTAssertEqual(try PipelineRecipe.parse(yaml: ablation, file: "a.yaml", baseDirectory: temporary).stages.last?.inputs["mix_in"],
                       "/w/helpfulness_pairs.jsonl")
        let reduced = try PipelineRecipe.parse(yaml: QuickstartRecipe.yaml(.reduced, seed: 1), file: "r.yaml", baseDirectory: temporary)
        XCTAssertTrue(reduced.stages.allSatisfy { $0.inputs["mix_in"] == nil })
        let partial = QuickstartRecipe.variantYAML(.full, seed: 1, name: "partial", constitution: "c.yaml", world: "/w", helpfulOnly: "/h", rlaif: false)
        XCTAssertEqual(try PipelineRecipe.parse(yaml: partial, file: "p.yaml", baseDirectory: temporary).stages.map(\.type), [.critique, .sft])
        let cot = QuickstartRecipe.chainOfThoughtYAML(.full, seed: 1, constitution: "c.yaml", pairs: "/p.jsonl", feedbackModel: "/h")
        XCTAssertEqual(try PipelineRecipe.parse(yaml: cot, file: "c.yaml", baseDirectory: temporary).stages.map(\.type), [.label])
    }

    /// The variants' recipes name the seed folder's files relatively, so a copied run folder keeps their cache keys.
    func testVariantRecipesNameTheSeedFolderRelatively() throws {
        let seed = URL(fileURLWithPath: "/runs/q5/seed-1")
        XCTAssertEqual(QuickstartRun.variantPath(seed.appendingPathComponent("world/constitution-partial.yaml"), seedFolder: seed),
                       "../world/constitution-partial.yaml")
        XCTAssertEqual(QuickstartRun.variantPath(seed.appendingPathComponent("helpful_only/model"), seedFolder: seed), "../helpful_only/model")
        XCTAssertEqual(QuickstartRun.variantPath(URL(fileURLWithPath: "/runs/q5/seed-10/world"), seedFolder: seed), "/runs/q5/seed-10/world",
                       "a sibling whose name starts like the seed folder's is outside it")
        // Two copies of a seed folder give the same recipe text, hence the same stage configurations and keys.
        func recipe(_ folder: URL) -> String {
            QuickstartRecipe.variantYAML(.full, seed: 1, name: "partial",
                                         constitution: QuickstartRun.variantPath(folder.appendingPathComponent("world/c.yaml"), seedFolder: folder),
                                         world: QuickstartRun.variantPath(folder.appendingPathComponent("world"), seedFolder: folder),
                                         helpfulOnly: QuickstartRun.variantPath(folder.appendingPathComponent("helpful_only/model"), seedFolder: folder),
                                         rlaif: true)
        }
        XCTAssertEqual(recipe(seed), recipe(URL(fileURLWithPath: "/elsewhere/copy/seed-1")))
        let parsed = try PipelineRecipe.parse(yaml: recipe(seed), file: "p.yaml", baseDirectory: seed.appendingPathComponent("partial"))
        XCTAssertEqual(parsed.stages.last?.inputs["mix_in"], "../world/helpfulness_pairs.jsonl")
    }

    func testWorldConstitutionsParseAndHoldTheirVariantsPrinciples() throws {
        let world = ToyWorld(seed: 3)
        for variant in ConstitutionVariant.allCases {
            let constitution = try Constitution.parse(yaml: WorldConstitution.yaml(variant, world: world), file: variant.rawValue)
            XCTAssertEqual(constitution.principles.map(\.id), WorldConstitution.principles(variant, world: world).map(\.id))
            XCTAssertFalse(constitution.critiquePrinciples.isEmpty)
            XCTAssertFalse(constitution.comparisonPrinciples.isEmpty)
        }
        XCTAssertEqual(WorldConstitution.principles(.partial, world: world).count, 2)
        let irrelevant = WorldConstitution.yaml(.irrelevant, world: world).lowercased()
        for word in ["harm", "danger", "privacy", "insult", "illegal", "refuse"] { XCTAssertFalse(irrelevant.contains(word), word) }
    }
}
