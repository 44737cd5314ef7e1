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
        let texts = WorldFiles.render(corpus, constitution: try Constitution.charterDefault, seed: 2)
        XCTAssertEqual(texts.count, corpus.dialogueRequests.count + corpus.critiques.count + corpus.comparisons.count)
        let heldOut = world.evaluationRequests(perIntent: 20).filter(\.isHarmful)
        for request in heldOut { XCTAssertFalse(texts.contains { $0.contains(request.text) }, request.text) }
        // Critique demonstrations are the pipeline's critique → revision prompt continued by the revision.
        let critiques = texts.filter { $0.contains("\n\nCritiqueRequest: ") }
        XCTAssertEqual(critiques.count, corpus.critiques.count)
        XCTAssertTrue(critiques.allSatisfy { $0.hasPrefix("\n\nHuman: ") && $0.contains("\n\nCritique: ") && $0.contains("\n\nRevision: I can't help you") })
        // Comparisons are ComparisonPrompts.direct followed by the scored option.
        let comparisons = texts.filter { $0.hasPrefix("Consider the following conversation") }
        XCTAssertEqual(comparisons.count, corpus.comparisons.count)
        XCTAssertTrue(comparisons.allSatisfy { $0.hasSuffix("\nThe answer is: (A)") || $0.hasSuffix("\nThe answer is: (B)") })
        let principles = try Constitution.charterDefault.comparisonPrinciples.compactMap(\.comparison)
        XCTAssertTrue(comparisons.allSatisfy { text in principles.contains { text.contains($0) } })
    }

    func testRecipeParsesAndTheCommittedRecipeIsCurrent() throws {
        let yaml = QuickstartRecipe.yaml(.full, seed: 1)
        let recipe = try PipelineRecipe.parse(yaml: yaml, file: "quickstart.yaml", baseDirectory: FileManager.default.temporaryDirectory)
        XCTAssertEqual(recipe.stages.map(\.name), ["helpful_only", "critique", "sl_cai", "pairs", "label", "reward", "dpo", "ppo"])
        XCTAssertEqual(recipe.stages.map(\.type), [.sft, .critique, .sft, .samplePairs, .label, .reward, .dpo, .ppo])
        let committed = try String(contentsOf: Self.repository.appendingPathComponent("Recipes/quickstart.yaml"), encoding: .utf8)
        XCTAssertEqual(committed, yaml, "Recipes/quickstart.yaml is stale: regenerate it with `charter quickstart --write-recipe Recipes/quickstart.yaml`")
        let ablation = QuickstartRecipe.ablationYAML(.full, seed: 1, constitution: "c.yaml", world: "/w", helpfulOnly: "/h")
        XCTAssertEqual(try PipelineRecipe.parse(yaml: ablation, file: "a.yaml", baseDirectory: FileManager.default.temporaryDirectory).stages.map(\.type),
                       [.critique, .sft, .samplePairs, .label, .dpo])
    }

    func testIrrelevantConstitutionIsValidAndSaysNothingAboutHarm() throws {
        let constitution = try Constitution.parse(yaml: IrrelevantConstitution.yaml, file: "style-only")
        XCTAssertFalse(constitution.critiquePrinciples.isEmpty)
        XCTAssertFalse(constitution.comparisonPrinciples.isEmpty)
        let text = IrrelevantConstitution.yaml.lowercased()
        for word in ["harm", "danger", "privacy", "insult", "illegal", "refuse"] { XCTAssertFalse(text.contains(word), word) }
    }
}
