import Foundation
import XCTest
import LanguageModels
import Runtime
import Tensors

/// Trying what was just trained: adapters on every command that reads a model, `charter merge`, and the rough edges
/// of the train → try → resume loop.
extension CLITests {
    /// A LoRA adapter (B ≠ 0, so it changes the model) for the model in `base`, saved in PEFT's layout with
    /// `base_model_name_or_path` = `baseName`.
    func adapter(for base: URL, named name: String, baseName: String? = nil, targets: LoRAConfiguration.TargetModules = .allLinear) throws -> URL {
        let model = try PretrainedModel.load(directory: base)
        var configuration = LoRAConfiguration(rank: 2, alpha: 4, targetModules: targets)
        configuration.initialWeights = .random
        var generator = SeededGenerator(seed: 5)
        try LoRA.apply(configuration, to: model, generator: &generator)
        configuration.baseModelNameOrPath = baseName ?? base.path
        let directory = folder.appendingPathComponent(name)
        try LoRA.save(model, configuration: configuration, to: directory)
        return directory
    }

    /// Logits of `ids` (one sequence), flattened.
    func logits(_ model: any CausalLanguageModel, _ ids: [Int32]) -> [Float] {
        withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: ids.count), cache: nil).logits.scalars }
    }

    /// serve, critique and label read models through LocalLanguageModel: an adapter folder there is base + adapter.
    func testLocalLanguageModelReadsAnAdapterFolderAsItsBaseWithTheAdapter() async throws {
        let adapter = try adapter(for: folder, named: "served-adapter", targets: .names(["q_proj", "v_proj"]))
        let viaFolder = try LocalLanguageModel.load(directory: adapter)
        let viaLora = try LocalLanguageModel.load(directory: folder, lora: adapter)
        let plain = try LocalLanguageModel.load(directory: folder)
        let (a, b, c) = (try await viaFolder.score(prompt: "the cat", completion: " sat down"), try await viaLora.score(prompt: "the cat", completion: " sat down"),
                         try await plain.score(prompt: "the cat", completion: " sat down"))
        XCTAssertEqual(a.tokens.map(\.logProbability), b.tokens.map(\.logProbability))
        XCTAssertNotEqual(a.tokens.map(\.logProbability), c.tokens.map(\.logProbability))
    }

    func testAnAdapterFolderIsAModelEverywhereAndMergesExactly() throws {
        for (base, name) in [(folder!, "llama"), (try tinyGPT(named: "gpt", contextLength: 64, seed: 4), "gpt")] {
            let adapter = try adapter(for: base, named: "\(name)-adapter")
            let input = try write([#"{"text": "hello world, the cat sat"}"#], to: "\(name).jsonl")
            let (_, viaLora, loraErrors) = try charter(["logprobs", "--model", base.path, "--lora", adapter.path, "--input", input])
            let (status, viaFolder, folderErrors) = try charter(["logprobs", "--model", adapter.path, "--input", input])
            let (_, plain, _) = try charter(["logprobs", "--model", base.path, "--input", input])
            XCTAssertEqual(status, 0, folderErrors)
            XCTAssertFalse(viaLora.isEmpty, loraErrors)
            XCTAssertEqual(viaLora, viaFolder, "--model ADAPTER loads base_model_name_or_path with the adapter, as --lora does")
            XCTAssertNotEqual(viaLora, plain, "the adapter changes the model")
            let (generated, text, generateErrors) = try charter(["generate", "--model", base.path, "--lora", adapter.path, "--prompt", "the cat", "--max-new-tokens", "4"])
            XCTAssertEqual(generated, 0, generateErrors)
            XCTAssertEqual(text, try charter(["generate", "--model", adapter.path, "--prompt", "the cat", "--max-new-tokens", "4"]).1)

            let merged = folder.appendingPathComponent("\(name)-merged")
            let (mergeStatus, _, mergeErrors) = try charter(["merge", "--model", base.path, "--lora", adapter.path, "--output", merged.path])
            XCTAssertEqual(mergeStatus, 0, mergeErrors)
            for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: merged.appendingPathComponent(file).path), "\(name): \(file)")
            }
            let ids: [Int32] = [3, 17, 250, 9, 1000, 42, 7]
            let expected = logits(try AdaptedModelFolder(base: base, adapter: adapter).load().model, ids)
            let actual = logits(try PretrainedModel.load(directory: merged), ids)
            let difference = zip(expected, actual).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(difference, 1e-5, "\(name): merged logits = base + adapter logits (max |Δ| \(difference))")
            XCTAssertNotEqual(actual, logits(try PretrainedModel.load(directory: base), ids))
            let (again, _, refusal) = try charter(["merge", "--model", adapter.path, "--output", merged.path])
            XCTAssertNotEqual(again, 0)
            XCTAssertTrue(refusal.contains("--overwrite"), refusal)
        }
    }

    /// `charter merge` of adapters PEFT saved gives the logits of PEFT's merge_and_unload (Fixtures/lora/make_lora.py).
    func testMergingPEFTAdaptersGivesPEFTMergedLogits() throws {
        struct Reference: Decodable { struct Stored: Decodable { let data: [Float] }; let base: String; let input_ids: [[Int32]]; let merged_logits: Stored }
        let fixtures = Self.repository.appendingPathComponent("Tests/LanguageModelsTests/Fixtures")
        for name in ["llama_gqa", "llama_gqa_regex", "gpt2"] {
            let adapter = fixtures.appendingPathComponent("lora/peft/\(name)")
            let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: adapter.appendingPathComponent("reference.json")))
            let merged = folder.appendingPathComponent("peft-\(name)")
            let (status, _, errors) = try charter(["merge", "--model", fixtures.appendingPathComponent("checkpoints/\(reference.base)").path,
                                                   "--lora", adapter.path, "--output", merged.path])
            XCTAssertEqual(status, 0, errors)
            let ids = reference.input_ids[0]
            let actual = logits(try PretrainedModel.load(directory: merged), ids)
            XCTAssertEqual(actual.count, reference.merged_logits.data.count)
            let difference = zip(actual, reference.merged_logits.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(difference, 1e-4, "\(name): charter merge vs PEFT merge_and_unload, max |Δ| \(difference)")
        }
    }

    func testAnAdapterOfAHubModelOrWithoutBaseSaysWhatToPass() throws {
        let hub = try adapter(for: folder, named: "hub-adapter", baseName: "HuggingFaceTB/SmolLM2-135M-Instruct", targets: .names(["q_proj"]))
        let (status, _, errors) = try charter(["generate", "--model", hub.path, "--prompt", "x"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("\"HuggingFaceTB/SmolLM2-135M-Instruct\" is not a local model folder"), errors)
        XCTAssertTrue(errors.contains("--model BASE --lora \(hub.path)"), errors)
        // Commands that train read --model as a full model; an adapter there is named as one.
        let data = try write([#"{"prompt": "a", "completion": " b"}"#], to: "one.jsonl")
        let (trainStatus, _, trainErrors) = try charter(["sft", "--model", hub.path, "--dataset", data, "--output-dir", folder.appendingPathComponent("x").path])
        XCTAssertNotEqual(trainStatus, 0)
        XCTAssertTrue(trainErrors.contains("is a PEFT adapter folder"), trainErrors)
    }

    func testChatNamesItsTemplateAndSystemPromptAndAcknowledgesReset() throws {
        let adapter = try adapter(for: folder, named: "chat-adapter", targets: .names(["q_proj"]))
        let (status, output, errors) = try charter(["chat", "--model", folder.path, "--lora", adapter.path, "--chat-template", "chatml",
                                                    "--system", "Be brief.", "--max-new-tokens", "2"], input: "hi\n/reset\n/quit\n")
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("chat-adapter (LoRA adapter on \(folder.path))"), errors)
        XCTAssertTrue(errors.contains("chat template chatml (chosen with --chat-template)"), errors)
        XCTAssertTrue(errors.contains("system prompt: \"Be brief.\""), errors)
        XCTAssertTrue(errors.contains("(new conversation, same system prompt)"), errors)
        XCTAssertEqual(output.split(separator: "\n", omittingEmptySubsequences: false).count, 2, output)
    }

    func testMisspelledCommandVersionAndMissingTokenizerSayWhatIsWrong() throws {
        let (status, _, errors) = try charter(["chta", "--model", folder.path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("unknown command 'chta'; did you mean 'chat'?"), errors)
        XCTAssertFalse(errors.contains("Unknown option"), errors)
        let (versionStatus, version, _) = try charter(["--version"])
        XCTAssertEqual(versionStatus, 0)
        XCTAssertEqual(version.trimmingCharacters(in: .whitespacesAndNewlines), CharterVersion.current)

        let bare = folder.appendingPathComponent("no-tokenizer")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(file), to: bare.appendingPathComponent(file))
        }
        let (missing, _, message) = try charter(["generate", "--model", bare.path, "--prompt", "x"])
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(message.contains("\(bare.path) has no tokenizer.json"), message)
        let prompts = try write([#"{"prompt": "a"}"#], to: "ppo-prompts.jsonl")
        let absent = folder.appendingPathComponent("absent").path
        let (ppo, _, ppoMessage) = try charter(["ppo", "--model", absent, "--reward-model", absent, "--dataset", prompts, "--eval-batch-size", "2"])
        XCTAssertNotEqual(ppo, 0)
        XCTAssertTrue(ppoMessage.contains("Cannot read '\(absent)': no such folder"), "--eval-batch-size is a PPO key; \(ppoMessage)")
    }

    func testSFTRunRecordsItselfAsTRLDoesAndItsAdapterCanBeTried() throws {
        let data = try write((0..<6).map { #"{"prompt": "say \#($0):", "completion": " \#($0)"}"# }, to: "sft.jsonl")
        let output = folder.appendingPathComponent("runs/sft-lora")
        let (status, _, errors) = try charter(["sft", "--model", folder.path, "--dataset", data, "--eval-dataset", data, "--output-dir", output.path,
                                               "--max-steps", "2", "--batch-size", "2", "--eval-batch-size", "4", "--logging-steps", "1",
                                               "--lora-r", "2", "--lora-dropout", "0.05"])
        XCTAssertEqual(status, 0, errors)
        let recipe = try String(contentsOf: output.appendingPathComponent("training_config.json"), encoding: .utf8)
        XCTAssertTrue(recipe.contains(#""lora_dropout": 0.05,"#), recipe)
        XCTAssertTrue(recipe.contains(#""per_device_eval_batch_size": 4,"#), recipe)
        XCTAssertTrue(recipe.contains(#""output_dir": "\#(output.path)""#), "slashes unescaped: \(recipe)")
        XCTAssertFalse(recipe.contains(#"\/"#), recipe)

        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("trainer_state.json"))) as? [String: Any]
        XCTAssertEqual(state?["global_step"] as? Int, 2)
        XCTAssertEqual(state?["max_steps"] as? Int, 2)
        XCTAssertEqual(state?["train_batch_size"] as? Int, 2)
        let history = state?["log_history"] as? [[String: Any]] ?? []
        XCTAssertEqual(history.compactMap { $0["loss"] }.count, 2, "\(history)")
        XCTAssertNotNil(history.last?["eval_loss"], "\(history)")

        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        let sha = try shellSHA256(data)
        XCTAssertTrue(card.contains("base_model: \(folder.path)"), card)
        XCTAssertTrue(card.contains("library_name: peft"), card)
        XCTAssertTrue(card.contains("SHA-256 `\(sha)`"), card)
        XCTAssertTrue(card.contains("| eval_loss |"), card)
        XCTAssertTrue(card.contains(#""learning_rate""#), card)

        let (chat, reply, chatErrors) = try charter(["chat", "--model", output.path, "--chat-template", "chatml", "--max-new-tokens", "2"], input: "hi\n")
        XCTAssertEqual(chat, 0, chatErrors)
        XCTAssertFalse(reply.isEmpty)
    }

    /// The file's SHA-256 from the system's sha256sum (or shasum on macOS), an independent reference.
    func shellSHA256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = FileManager.default.fileExists(atPath: "/usr/bin/sha256sum") ? ["sha256sum", path] : ["shasum", "-a", "256", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix { !$0.isWhitespace })
    }

    func testRefusedResumeNamesTheSettingAndOverwriteStartsAfresh() throws {
        let prompts = try write([#"{"id": "a", "prompt": "Hi"}"#], to: "prompts.jsonl")
        let output = folder.appendingPathComponent("critique.jsonl")
        func critique(_ extra: [String]) throws -> (Int32, String, String) {
            try charter(["critique", "--model", folder.path, "--chat-template", "chatml", "--prompts", prompts, "--output", output.path,
                         "--few-shot", "0", "--max-tokens", "2", "--retries", "0", "--concurrency", "1", "--quiet"] + extra)
        }
        let (first, _, firstErrors) = try critique(["--rounds", "1"])
        XCTAssertEqual(first, 0, firstErrors)
        let (refused, _, message) = try critique(["--rounds", "2"])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(message.contains("configuration.rounds: 1 → 2"), message)
        XCTAssertTrue(message.contains("--overwrite"), message)
        let (fresh, _, freshErrors) = try critique(["--rounds", "2", "--overwrite"])
        XCTAssertEqual(fresh, 0, freshErrors)
        let record = try String(contentsOf: folder.appendingPathComponent("critique.run.json"), encoding: .utf8)
        XCTAssertTrue(record.contains(#"\"rounds\":2"#), record)
    }

    func testQuickstartSetTakesSnakeCaseAndCamelCase() throws {
        var recipes: [String] = []
        for assignment in ["sl_cai_steps=7", "slCAISteps=7", "slCAISteps=8"] {
            let file = folder.appendingPathComponent("recipe-\(recipes.count).yaml")
            let (status, _, errors) = try charter(["quickstart", "--reduced", "--set", assignment, "--write-recipe", file.path])
            XCTAssertEqual(status, 0, errors)
            recipes.append(try String(contentsOf: file, encoding: .utf8))
        }
        XCTAssertEqual(recipes[0], recipes[1], "snake_case and camelCase name the same field")
        XCTAssertNotEqual(recipes[1], recipes[2], "the field is in the recipe")
        let (status, _, errors) = try charter(["quickstart", "--reduced", "--set", "no_such_field=1", "--write-recipe", folder.appendingPathComponent("x.yaml").path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("no_such_field"), errors)
    }

    /// `charter experiment debate --report-only` rewrites the page from results.json alone, and refuses a run that
    /// does not exist, naming the file.
    func testDebateExperimentReportOnlyRewritesThePage() throws {
        let (missing, _, missingErrors) = try charter(["experiment", "debate", "--name", "none", "--report-only"], directory: folder)
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(missingErrors.contains("runs/none/results.json"), missingErrors)
        let (status, _, errors) = try charter(["experiment", "debate", "--reduced", "--seeds", "1", "--steps", "5", "--judge-restarts", "2",
                                               "--name", "deb", "--quiet"], directory: folder)
        XCTAssertEqual(status, 0, errors)
        let page = folder.appendingPathComponent("runs/deb/report.html")
        let written = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(written.contains("Up to 2 judges are trained per seed"), "the page says how the judge was chosen")
        try FileManager.default.removeItem(at: page)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("runs/deb/seed-1"))
        let (rewritten, output, rewriteErrors) = try charter(["experiment", "debate", "--name", "deb", "--report-only"], directory: folder)
        XCTAssertEqual(rewritten, 0, rewriteErrors)
        XCTAssertTrue(output.contains("debate − consultancy"), output)
        XCTAssertEqual(try String(contentsOf: page, encoding: .utf8), written, "the same page from results.json alone")
    }

    func testQuickstartReportOnlyNeedsAnEarlierRunAndTrainsNothing() throws {
        let (status, _, errors) = try charter(["quickstart", "--name", "none", "--report-only"], directory: folder)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("runs/none/results.json") && errors.contains("run charter quickstart with this --name first"), errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/none/seed-1").path), "nothing was trained")
    }
}
