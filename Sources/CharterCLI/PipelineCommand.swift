import ArgumentParser
import Constitutional
import Foundation
import Pipelines
import Settings
import Tensors

/// `charter pipeline recipe.yaml`: a declarative Constitutional AI pipeline with cached, resumable stages.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run a Constitutional AI recipe (sample → critique → sft → sample_pairs → label → reward → ppo, or → dpo), resumably.",
        discussion: """
        Each stage runs in <run-dir>/<stage name>; manifest.json records the configuration, Charter's version, the \
        SHA-256 of every input, timings and counts. Re-running skips completed stages whose inputs are unchanged, \
        resumes an interrupted stage at its first unfinished item, and redoes stages whose configuration or inputs \
        changed (keeping the old folder as <name>.previous). Trainer stages (sft, reward, dpo, ppo) take TRL keys \
        under training:.
        """)

    @Argument(help: "The recipe YAML.") var recipe: String
    @Option(help: "The run folder (default: runs/<recipe name>).") var runDirectory: String?
    @Option(help: "Kernel threads for local models.") var threads: Int?

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        let recipe = try PipelineRecipe.load(URL(fileURLWithPath: self.recipe))
        // The recipe's name is a folder under runs/, which it must not leave (links followed).
        let directory = try runDirectory.map { URL(fileURLWithPath: $0) }
            ?? SafePath.child(recipe.name, of: URL(fileURLWithPath: "runs"), key: "name")
        let manifest = try waitFor {
            try await Pipeline(recipe: recipe, runDirectory: directory, trainers: Stages.builtInTrainers, makeModels: makeLanguageModels).run()
        }
        print("pipeline \(manifest.name): \(manifest.stages.count) stages complete; manifest \(directory.appendingPathComponent("manifest.json").path)")
    }
}
