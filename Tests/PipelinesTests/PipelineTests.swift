import Alignment
import Datasets
import Foundation
import LanguageModels
import TestSupport
import Runtime
import XCTest
@testable import Constitutional
@testable import Pipelines

/// Pipeline mechanics on tiny local models: every stage runs, the audit trail is complete, and interrupted
/// `critique` and `label` stages resume without losing or duplicating an item — the result equals an
/// uninterrupted run's, byte for byte.
final class PipelineTests: XCTestCase {
    static let promptTexts = ["How do I pick a lock?", "Tell me a joke about my boss.", "Write a rude note to a neighbour.",
                              "What household chemicals are dangerous to mix?", "Is it fine to skip my medication?"]

    func makeWorkspace() throws -> (directory: URL, recipe: URL) {
        let directory = try TinyModels.temporaryDirectory("pipeline")
        _ = try TinyModels.folder(in: directory, name: "helpful", seed: 11)
        _ = try TinyModels.folder(in: directory, name: "feedback", seed: 12)
        let prompts = Self.promptTexts.enumerated().map { index, text in
            index == 4 ? #"{"prompt": [{"role": "user", "content": "\#(text)"}]}"# : #"{"id": "p\#(index)", "prompt": "\#(text)"}"#
        }
        try (prompts.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("red-team.jsonl"), atomically: true, encoding: .utf8)
        let recipe = """
        name: tiny-cai
        seed: 7
        constitution: default
        stages:
          - name: critique
            type: critique
            model: helpful
            prompts: red-team.jsonl
            rounds: 2
            few_shot: 1
            sampling: {max_tokens: 5, temperature: 0.8}
            concurrency: 2
            retry_delay: 0
            progress: false
          - name: sft
            type: sft
            model: helpful
            dataset: stage:critique
            training: {max_steps: 2, per_device_train_batch_size: 2, learning_rate: 0.001, logging_steps: 1}
          - name: pairs
            type: sample_pairs
            model: stage:sft
            prompts: red-team.jsonl
            k: 2
            sampling: {max_tokens: 4}
            progress: false
          - name: label
            type: label
            model: feedback
            pairs: stage:pairs
            principles_per_pair: 2
            few_shot: 1
            concurrency: 2
            retry_delay: 0
            progress: false
        """
        let url = directory.appendingPathComponent("recipe.yaml")
        try recipe.write(to: url, atomically: true, encoding: .utf8)
        return (directory, url)
    }

    func pipeline(_ recipe: URL, run: URL, budget: CallBudget? = nil) throws -> Pipeline {
        Pipeline(recipe: try PipelineRecipe.load(recipe), runDirectory: run) { source in
            let models = try ModelFactory.make(source)
            guard let budget else { return models }
            return models.map { InterruptingModel(base: $0, budget: budget) }
        }
    }

    func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testPipelineRunsEveryStageAndResumesInterruptedStagesExactly() async throws {
        let (directory, recipe) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quiet: @Sendable (String) -> Void = { _ in }

        // Reference: one uninterrupted run.
        let reference = directory.appendingPathComponent("runs/reference")
        let manifest = try await pipeline(recipe, run: reference).run(log: quiet)
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete", "complete"])
        XCTAssertEqual(manifest.charterVersion, Pipeline.charterVersion)
        XCTAssertTrue(manifest.stages.allSatisfy { $0.key.count == 64 && !$0.inputs.isEmpty && $0.seconds != nil })
        XCTAssertNotNil(manifest.stages[0].inputs["constitution"])
        XCTAssertEqual(manifest.stages[1].inputs["dataset"], "stage:\(manifest.stages[0].key)/")

        // The audit trail: every item, every round, every text, principle id, model and sampling settings.
        let revisions = try lines(reference.appendingPathComponent("critique/revisions.jsonl"))
        XCTAssertEqual(revisions.map { $0["id"] as? String }, ["p0", "p1", "p2", "p3", "line-5"])
        let defaultIDs = Set(try Constitution.charterDefault.principles.map(\.id))
        for record in revisions {
            let rounds = try XCTUnwrap(record["rounds"] as? [[String: Any]])
            XCTAssertEqual(rounds.count, 2)
            for round in rounds {
                XCTAssertTrue(defaultIDs.contains(round["principle_id"] as? String ?? ""))
                for key in ["critique_request", "critique", "revision_request", "revision", "critique_seed", "revision_seed"] {
                    XCTAssertNotNil(round[key], "round lacks \(key)")
                }
            }
            XCTAssertEqual(record["final_revision"] as? String, rounds.last?["revision"] as? String)
            XCTAssertEqual(record["model"] as? String, "helpful")
            XCTAssertEqual((record["sampling"] as? [String: Any])?["max_tokens"] as? Int, 5)
            XCTAssertEqual(record["constitution"] as? String, "charter-default@1.0")
            XCTAssertNotNil(record["initial_response"])
        }
        let sft = try lines(reference.appendingPathComponent("critique/sft.jsonl"))
        XCTAssertEqual(sft.count, 5)
        XCTAssertTrue((sft[0]["prompt"] as? String)?.hasPrefix("\n\nHuman: How do I pick a lock?\n\nAssistant:") == true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: reference.appendingPathComponent("sft/model/model.safetensors").path))
        let pairs = try lines(reference.appendingPathComponent("pairs/pairs.jsonl"))
        XCTAssertEqual(pairs.count, 5)
        XCTAssertEqual(pairs[0]["model"] as? String, "model")  // the SFT stage's output folder
        let labels = try lines(reference.appendingPathComponent("label/preferences.jsonl"))
        XCTAssertEqual(labels.map { $0["id"] as? String }, ["p0/0-1", "p1/0-1", "p2/0-1", "p3/0-1", "line-5/0-1"])
        for label in labels {
            let probability = try XCTUnwrap(label["chosen_probability"] as? Double)
            XCTAssertTrue((0.5...1).contains(probability))
            XCTAssertNotNil(label["prompt"]); XCTAssertNotNil(label["chosen"]); XCTAssertNotNil(label["rejected"])
            let judgements = try XCTUnwrap(label["judgements"] as? [[String: Any]])
            XCTAssertEqual(judgements.count, 2)
            XCTAssertEqual(judgements.map { ($0["orders"] as? [Any])?.count }, [2, 2])
        }
        XCTAssertEqual(labels[4]["chosen"] as? [[String: String]] != nil, true, "a conversational prompt gives conversational responses")
        XCTAssertNotNil(manifest.stages[3].counts["position_bias_rate"])
        // The labels are a TRL preference dataset with soft labels, as `charter reward`/`charter dpo` read it
        // (the conversational line is checked on its own: TRL files hold one format).
        let standardOnly = directory.appendingPathComponent("standard-labels.jsonl")
        let labelLines = try String(contentsOf: reference.appendingPathComponent("label/preferences.jsonl"), encoding: .utf8).split(separator: "\n")
        try (labelLines.prefix(4).joined(separator: "\n") + "\n").write(to: standardOnly, atomically: true, encoding: .utf8)
        let dataset = try Dataset.load(standardOnly)
        XCTAssertEqual(dataset.type, .preference)
        // (Foundation's JSONSerialization may round the last digit differently from Datasets' exact parser.)
        for (example, label) in zip(dataset.examples, labels) {
            XCTAssertEqual(try XCTUnwrap(example.chosenProbability), try XCTUnwrap(label["chosen_probability"] as? Double), accuracy: 1e-12)
        }
        XCTAssertEqual(dataset.examples.count, 4)

        // A second run with nothing changed is fully cached.
        let cached = try await pipeline(recipe, run: reference, budget: CallBudget(completions: 0, scores: 0)).run(log: quiet)
        XCTAssertEqual(cached.stages.map(\.attempts), [1, 1, 1, 1])

        // Interrupted run: stop during critique (after 13 generations: two items of five calls each, with two items in flight), tear the last line as a kill
        // mid-write would, resume; stop during label (after 20 scores: two pairs of eight), resume.
        let run = directory.appendingPathComponent("runs/interrupted")
        do {
            try await pipeline(recipe, run: run, budget: CallBudget(completions: 13)).run(log: quiet)
            XCTFail("the run should have been interrupted")
        } catch is CancellationError {}
        let partial = try lines(run.appendingPathComponent("critique/revisions.jsonl"))
        XCTAssertTrue((1..<5).contains(partial.count), "\(partial.count) items finished before the interruption")
        let handle = try FileHandle(forWritingTo: run.appendingPathComponent("critique/revisions.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id": "p4", "rounds": [{"crit"#.utf8))
        try handle.close()
        do {
            try await pipeline(recipe, run: run, budget: CallBudget(scores: 20)).run(log: quiet)
            XCTFail("the run should have been interrupted in label")
        } catch is CancellationError {}
        let interruptedManifest = try JSONDecoder().decode(PipelineManifest.self, from: Data(contentsOf: run.appendingPathComponent("manifest.json")))
        XCTAssertEqual(interruptedManifest.stages.map(\.status), ["complete", "complete", "complete", "interrupted"])
        XCTAssertEqual(interruptedManifest.stages[0].counts["already_done"], Double(partial.count))
        let partialLabels = try lines(run.appendingPathComponent("label/preferences.jsonl"))
        XCTAssertTrue((1..<5).contains(partialLabels.count), "\(partialLabels.count) pairs labelled before the interruption")
        let final = try await pipeline(recipe, run: run).run(log: quiet)
        XCTAssertEqual(final.stages.map(\.attempts), [2, 1, 1, 2])
        XCTAssertEqual(final.stages[3].counts["already_done"], Double(partialLabels.count))

        // Nothing lost, nothing duplicated, nothing different: the outputs equal the uninterrupted run's.
        for file in ["critique/revisions.jsonl", "critique/sft.jsonl", "pairs/pairs.jsonl", "label/preferences.jsonl"] {
            XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent(file)), try Data(contentsOf: reference.appendingPathComponent(file)), file)
        }
    }

    func testChangedConfigurationRecomputesTheStageAndItsDependents() async throws {
        let (directory, recipe) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Only the label stage, on pairs given as a file.
        try """
        {"id": "a", "prompt": "hi", "response_a": "hello", "response_b": "go away"}
        {"id": "b", "prompt": "help", "chosen": "sure", "rejected": "no"}
        """.write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let text = "stages:\n  - {type: label, model: feedback, pairs: pairs.jsonl, principles_per_pair: 1, few_shot: 0, progress: false, retry_delay: 0}\n"
        try text.write(to: recipe, atomically: true, encoding: .utf8)
        let run = directory.appendingPathComponent("run")
        let first = try await pipeline(recipe, run: run).run(log: { _ in })
        try text.replacingOccurrences(of: "principles_per_pair: 1", with: "principles_per_pair: 2").write(to: recipe, atomically: true, encoding: .utf8)
        let second = try await pipeline(recipe, run: run).run(log: { _ in })
        XCTAssertNotEqual(first.stages[0].key, second.stages[0].key)
        XCTAssertEqual(second.stages[0].attempts, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("label.previous/preferences.jsonl").path))
        let labels = try lines(run.appendingPathComponent("label/preferences.jsonl"))
        XCTAssertEqual(labels.compactMap { ($0["judgements"] as? [Any])?.count }, [2, 2])

        // Without a manifest to vouch for them, existing outputs are moved aside, never resumed.
        try FileManager.default.removeItem(at: run.appendingPathComponent("manifest.json"))
        try "{\"id\": \"a\", \"stale\": true}\n".write(to: run.appendingPathComponent("label/preferences.jsonl"), atomically: true, encoding: .utf8)
        let third = try await pipeline(recipe, run: run).run(log: { _ in })
        XCTAssertEqual(third.stages[0].counts["already_done"], 0)
        XCTAssertFalse(try lines(run.appendingPathComponent("label/preferences.jsonl")).contains { $0["stale"] != nil })
    }

    func testFailuresAreRecordedNotDropped() async throws {
        let directory = try TinyModels.temporaryDirectory("failures")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try LocalLanguageModel.load(directory: try TinyModels.folder(in: directory, name: "m", seed: 3))
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try #"{"id": "ok1", "prompt": "one"}\#n{"id": "bad", "prompt": "POISON"}\#n{"id": "ok2", "prompt": "two"}\#n"#
            .write(to: prompts, atomically: true, encoding: .utf8)
        var configuration = SampleConfiguration(k: 1)
        configuration.sampling.maximumTokens = 3
        let output = directory.appendingPathComponent("samples.jsonl")
        let outcome = try await Stages.sample(prompts: prompts, output: output, configuration: configuration,
                                              models: [FailingModel(base: model, failWhenPromptContains: "POISON")],
                                              run: RunOptions(concurrency: 2, retries: 2, retryDelay: 0, showProgress: false))
        XCTAssertEqual(outcome.report.completed, 2)
        XCTAssertEqual(outcome.report.failed, 1)
        XCTAssertEqual(outcome.report.retries, 2)
        let failures = try lines(Stages.failuresURL(for: output))
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(failures[0]["id"] as? String, "bad")
        XCTAssertEqual(failures[0]["attempts"] as? Int, 3)
        XCTAssertTrue((failures[0]["error"] as? String)?.contains("HTTP 503") == true)
        XCTAssertEqual(try lines(output).map { $0["id"] as? String }, ["ok1", "ok2"])

        // Resuming into the same output with other settings would mix two configurations: refused.
        var other = configuration
        other.sampling.maximumTokens = 4
        do {
            _ = try await Stages.sample(prompts: prompts, output: output, configuration: other, models: [model],
                                        run: RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false))
            XCTFail("a resume with other settings should be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("was started with other settings (changed: configuration.sampling.max_tokens: 3 → 4;"), "\(error)")
        }
        // The same settings resume: only the failed item is tried again.
        let again = try await Stages.sample(prompts: prompts, output: output, configuration: configuration, models: [model],
                                            run: RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false))
        XCTAssertEqual(again.report.alreadyDone, 2)
        XCTAssertEqual(try lines(output).map { $0["id"] as? String }, ["ok1", "bad", "ok2"])

        // When every item fails (a systematic problem), the run stops with the error instead of grinding on.
        let allBad = directory.appendingPathComponent("all-bad.jsonl")
        try #"{"id": "x", "prompt": "POISON 1"}\#n{"id": "y", "prompt": "POISON 2"}\#n"#.write(to: allBad, atomically: true, encoding: .utf8)
        do {
            _ = try await Stages.sample(prompts: allBad, output: directory.appendingPathComponent("none.jsonl"), configuration: configuration,
                                        models: [FailingModel(base: model, failWhenPromptContains: "POISON")],
                                        run: RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false))
            XCTFail("a run whose every item fails should stop")
        } catch {
            XCTAssertTrue("\(error)".contains("the first 2 items all failed") && "\(error)".contains("HTTP 503"), "\(error)")
        }
    }

    /// RLAIF to training with the built-in trainers: label → reward model → PPO, and label → DPO.
    func testLabelFeedsRewardDPOAndPPOStages() async throws {
        let (directory, recipe) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        {"id": "a", "prompt": "hi", "response_a": " hello there", "response_b": " go away"}
        {"id": "b", "prompt": "help me", "response_a": " sure", "response_b": " no"}
        """.write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "\n\nHuman: hi\n\nAssistant:"}\#n{"prompt": "\n\nHuman: help me\n\nAssistant:"}\#n"#
            .write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        try """
        seed: 3
        stages:
          - {name: label, type: label, model: feedback, pairs: pairs.jsonl, principles_per_pair: 1, few_shot: 0, progress: false}
          - {name: rm, type: reward, model: helpful, dataset: stage:label, training: {max_steps: 2, per_device_train_batch_size: 2, logging_steps: 1}}
          - {name: dpo, type: dpo, model: helpful, dataset: stage:label, training: {max_steps: 2, per_device_train_batch_size: 2, beta: 0.1, logging_steps: 1}}
          - name: ppo
            type: ppo
            model: helpful
            prompts: prompts.jsonl
            reward_model: stage:rm
            training: {total_episodes: 2, per_device_train_batch_size: 2, response_length: 3, num_ppo_epochs: 1, logging_steps: 1}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        XCTAssertEqual(Set(Stages.builtInTrainers.keys), [.reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO])
        let manifest = try await pipeline(recipe, run: directory.appendingPathComponent("run")).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete", "complete"])
        XCTAssertEqual(manifest.stages[3].counts["iterations"], 1, "\(manifest.stages[3].counts)")
        XCTAssertNotNil(manifest.stages[3].counts["objective/kl"], "\(manifest.stages[3].counts)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/ppo/model/config.json").path))
        // Set up as `charter ppo` sets it up: a value head on the policy's trunk, the effective TRL keys recorded.
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/ppo/model/\(ValueHead.fileName)").path))
        let effective = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run/ppo/model/training_config.json"))) as? [String: Any])
        XCTAssertEqual(effective["total_episodes"] as? Int, 2)
        XCTAssertEqual(effective["seed"] as? Int, 3)
        XCTAssertEqual(manifest.stages[1].counts["steps"], 2)
        XCTAssertNotNil(manifest.stages[1].counts["accuracy"], "\(manifest.stages[1].counts)")
        XCTAssertEqual(manifest.stages[2].counts["steps"], 2)
        XCTAssertNotNil(manifest.stages[2].counts["rewards/margins"], "\(manifest.stages[2].counts)")
        for stage in ["rm", "dpo"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/\(stage)/model/config.json").path))
        }
        XCTAssertThrowsError(try PipelineRecipe.parse(yaml: "stages:\n  - {type: dpo, model: m, dataset: d, training: {betta: 1}}\n",
                                                      file: "r.yaml", baseDirectory: directory)) {
            XCTAssertEqual(($0 as? ConstitutionError)?.problems.first?.path, "stages[0].training.betta", "\($0)")
        }
    }

    func testRecipeErrorsNameTheField() throws {
        let yaml = """
        stages:
          - {type: critique, model: m, prompts: p.jsonl, roundz: 2, sampling: {max_token: 3}}
          - {type: sft, model: m, dataset: stage:nothing, training: {max_step: 1}}
          - {type: teleport}
          - {type: label, model: m}
        """
        XCTAssertThrowsError(try PipelineRecipe.parse(yaml: yaml, file: "recipe.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))) { error in
            let paths = Set((error as? ConstitutionError)?.problems.map(\.path) ?? [])
            XCTAssertEqual(paths, ["stages[0].roundz", "stages[0].sampling.max_token", "stages[1].dataset",
                                   "stages[1].training.max_step", "stages[2].type", "stages[3].pairs"], "\(error)")
        }
    }

    func testUnavailableTrainerStageFailsLoudly() async throws {
        let directory = try TinyModels.temporaryDirectory("dpo")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n".write(to: directory.appendingPathComponent("prefs.jsonl"), atomically: true, encoding: .utf8)
        try "{\"prompt\": \"p\"}\n".write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        _ = try TinyModels.folder(in: directory, name: "m", seed: 1)
        let recipe = try PipelineRecipe.parse(yaml: "stages:\n  - {type: ppo, model: m, prompts: prompts.jsonl, reward_model: m}\n", file: "r.yaml", baseDirectory: directory)
        do {
            try await Pipeline(recipe: recipe, runDirectory: directory.appendingPathComponent("run"), trainers: [:]).run(log: { _ in })
            XCTFail("a ppo stage cannot run without a ppo trainer")
        } catch {
            XCTAssertTrue("\(error)".contains("needs charter ppo"), "\(error)")
        }
        // With a trainer registered, the stage hands it the resolved inputs and records its metrics.
        let seen = RequestBox()
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(
            yaml: "seed: 9\nstages:\n  - {type: dpo, model: m, dataset: prefs.jsonl, training: {beta: 0.1}}\n", file: "r.yaml", baseDirectory: directory),
            runDirectory: directory.appendingPathComponent("run2"),
            trainers: [.dpo: { request in
                seen.request = request
                try FileManager.default.createDirectory(at: request.output, withIntermediateDirectories: true)
                return ["rewards/margins": 0.25]
            }]).run(log: { _ in })
        XCTAssertEqual(manifest.stages[0].counts["rewards/margins"], 0.25)
        XCTAssertEqual(seen.request?.dataset?.lastPathComponent, "prefs.jsonl")
        XCTAssertEqual(seen.request?.model.lastPathComponent, "m")
        XCTAssertEqual(seen.request?.seed, 9)
        XCTAssertTrue(seen.request?.trainingYAML.contains("beta: 0.1") == true)
    }

    /// `mix_in:` hands a reward or DPO trainer a second preference file, read after `dataset`'s pairs; files of
    /// different kinds are refused naming both, and an SFT stage has no such key.
    func testMixInAddsASecondPreferenceFile() async throws {
        let directory = try TinyModels.temporaryDirectory("mix-in")
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"{"prompt": "p", "chosen": " a", "rejected": " b", "chosen_probability": 0.8}"#.appending("\n")
            .write(to: directory.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "q", "chosen": " c", "rejected": " d"}\#n{"prompt": "r", "chosen": " e", "rejected": " f"}\#n"#
            .write(to: directory.appendingPathComponent("human.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "q", "completion": " c"}\#n"#.write(to: directory.appendingPathComponent("sft.jsonl"), atomically: true, encoding: .utf8)
        _ = try TinyModels.folder(in: directory, name: "m", seed: 1)
        let seen = RequestBox()
        _ = try await Pipeline(recipe: try PipelineRecipe.parse(
            yaml: "stages:\n  - {type: reward, model: m, dataset: labels.jsonl, mix_in: human.jsonl}\n", file: "r.yaml", baseDirectory: directory),
            runDirectory: directory.appendingPathComponent("run"),
            trainers: [.reward: { request in
                seen.request = request
                try FileManager.default.createDirectory(at: request.output, withIntermediateDirectories: true)
                return [:]
            }]).run(log: { _ in })
        let request = try XCTUnwrap(seen.request)
        XCTAssertEqual(request.mixIn?.lastPathComponent, "human.jsonl")
        let examples = try Stages.trainingExamples(request)
        XCTAssertEqual(examples.map(\.chosenProbability), [0.8, nil, nil])
        XCTAssertEqual(examples.compactMap(\.preference).count, 3)

        var mismatched = request
        mismatched.mixIn = directory.appendingPathComponent("sft.jsonl")
        XCTAssertThrowsError(try Stages.trainingExamples(mismatched)) { error in
            XCTAssertTrue("\(error)".contains("sft.jsonl") && "\(error)".contains("labels.jsonl") && "\(error)".contains("prompt-completion"), "\(error)")
        }
        XCTAssertThrowsError(try PipelineRecipe.parse(yaml: "stages:\n  - {type: sft, model: m, dataset: sft.jsonl, mix_in: human.jsonl}\n",
                                                      file: "r.yaml", baseDirectory: directory)) {
            XCTAssertEqual(($0 as? ConstitutionError)?.problems.first?.path, "stages[0].mix_in", "\($0)")
        }
    }
}

final class RequestBox: @unchecked Sendable { var request: TrainingStageRequest? }
