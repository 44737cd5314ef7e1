import Foundation
import XCTest
import LanguageModels
import Tensors

/// Runs the built `charter` executable as a user would, on a tiny model folder.
final class CLITests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json"),
                                         to: folder.appendingPathComponent("tokenizer.json"))
        try #"{"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}"#.write(to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        var configuration = LlamaConfiguration()
        configuration.vocabularySize = 1008
        configuration.hiddenSize = 32
        configuration.intermediateSize = 64
        configuration.layerCount = 2
        configuration.headCount = 4
        var generator = SeededGenerator(seed: 9)
        try PretrainedModel.save(LlamaModel(configuration, generator: &generator), to: folder)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A one-layer GPT-2 folder (width 16, 2 heads) with `contextLength` positions and the test tokenizer.
    func tinyGPT(named name: String, contextLength: Int, seed: UInt64) throws -> URL {
        let gpt = folder.appendingPathComponent(name)
        var configuration = GPTConfiguration()
        (configuration.vocabularySize, configuration.contextLength, configuration.layerCount) = (1008, contextLength, 1)
        (configuration.headCount, configuration.width) = (2, 16)
        var generator = SeededGenerator(seed: seed)
        try PretrainedModel.save(GPTModel(configuration, generator: &generator), to: gpt)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(file), to: gpt.appendingPathComponent(file))
        }
        return gpt
    }

    /// Runs charter with `arguments` and optional standard input (in `directory`, or this process's working
    /// directory); returns (exit status, stdout, stderr).
    func charter(_ arguments: [String], input: String? = nil, directory: URL? = nil) throws -> (Int32, String, String) {
        let process = Process()
        if let directory { process.currentDirectoryURL = directory }
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("charter")
        if !FileManager.default.fileExists(atPath: process.executableURL!.path) {
            process.executableURL = Self.repository.appendingPathComponent(".build/debug/charter")
        }
        process.arguments = arguments
        let output = Pipe(), error = Pipe(), standardInput = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = standardInput
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
        try standardInput.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    func write(_ lines: [String], to name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testGenerateIsDeterministicAndBatchMatchesSingle() throws {
        let (status, first, _) = try charter(["generate", "--model", folder.path, "--prompt", "the cat", "--max-new-tokens", "6"])
        XCTAssertEqual(status, 0)
        let (_, second, _) = try charter(["generate", "--model", folder.path, "--prompt", "the cat", "--max-new-tokens", "6"])
        XCTAssertEqual(first, second)
        let input = try write([#"{"prompt": "the cat"}"#, #"{"prompt": "a much longer prompt about dogs"}"#], to: "prompts.jsonl")
        let (batchStatus, lines, _) = try charter(["generate", "--model", folder.path, "--input", input, "--max-new-tokens", "6"])
        XCTAssertEqual(batchStatus, 0)
        let records = lines.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0]?["completion"] as? String, first.trimmingCharacters(in: .newlines), "a left-padded batch gives the same text")
        XCTAssertEqual((records[1]?["completion_logprobs"] as? [Double])?.count, (records[1]?["completion_ids"] as? [Int])?.count)
    }

    /// `--kv-cache f16` stores keys and values as halves: a completion of the same length whose log-probabilities
    /// differ from float32's only by that rounding; a wrong value is refused naming the flag.
    func testGenerateWithAHalfPrecisionKVCache() throws {
        let input = try write([#"{"prompt": "the cat sat on the mat and then"}"#], to: "kv-prompt.jsonl")
        func completion(_ flags: [String]) throws -> [String: Any] {
            let (status, output, errors) = try charter(["generate", "--model", folder.path, "--input", input, "--max-new-tokens", "6",
                                                        "--temperature", "0"] + flags)
            XCTAssertEqual(status, 0, errors)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        }
        let float32 = try completion([]), half = try completion(["--kv-cache", "f16"])
        let a = try XCTUnwrap(float32["completion_logprobs"] as? [Double]), b = try XCTUnwrap(half["completion_logprobs"] as? [Double])
        XCTAssertEqual(a.count, b.count)
        XCTAssertNotEqual(a, b, "keys and values are rounded to halves")
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 0.05) }
        let (status, _, errors) = try charter(["generate", "--model", folder.path, "--prompt", "x", "--kv-cache", "f8"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("--kv-cache f8: give f32 or f16"), errors)
    }

    func testLogprobsOutputsOneValuePerTokenAfterTheFirst() throws {
        let input = try write([#"{"text": "hello world"}"#, #"{"prompt": "hello", "completion": " world"}"#], to: "score.jsonl")
        let (status, output, errors) = try charter(["logprobs", "--model", folder.path, "--input", input])
        XCTAssertEqual(status, 0, errors)
        let records = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(records.count, 2)
        for record in records {
            let ids = record["ids"] as? [Int] ?? [], values = record["token_logprobs"] as? [Double] ?? []
            XCTAssertEqual(values.count, ids.count - 1)
            XCTAssertTrue(values.allSatisfy { $0 <= 0 })
        }
        let completion = records[1]["completion_logprob"] as? Double ?? 0
        let values = records[1]["token_logprobs"] as? [Double] ?? []
        XCTAssertLessThan(completion, 0)
        XCTAssertGreaterThanOrEqual(completion, values.reduce(0, +) - 1e-4)
    }

    func testTokenizeRoundTrip() throws {
        let input = try write([#"{"text": "Hello, world! 123"}"#], to: "text.jsonl")
        let (status, output, _) = try charter(["tokenize", "--tokenizer", folder.path, "--input", input])
        XCTAssertEqual(status, 0)
        let ids = try write([output.trimmingCharacters(in: .newlines)], to: "ids.jsonl")
        let (decodeStatus, decoded, _) = try charter(["tokenize", "--tokenizer", folder.path, "--input", ids, "--decode"])
        XCTAssertEqual(decodeStatus, 0)
        XCTAssertTrue(decoded.contains("Hello, world! 123"), decoded)
    }

    func testChatAnswersAndQuits() throws {
        let (status, output, errors) = try charter(["chat", "--model", folder.path, "--chat-template", "chatml", "--max-new-tokens", "4"],
                                                   input: "hi there\n/reset\nagain\n/quit\n")
        XCTAssertEqual(status, 0, errors)
        XCTAssertEqual(output.split(separator: "\n", omittingEmptySubsequences: false).count, 3, "two replies, each ending a line: \(output)")
    }

    func testSFTTrainsWritesMetricsAndRejectsUnknownRecipeKeys() throws {
        let data = try write((0..<8).map { #"{"prompt": "say \#($0):", "completion": " \#($0) \#($0)"}"# }, to: "sft.jsonl")
        let output = folder.appendingPathComponent("sft-out").path
        let (status, _, errors) = try charter(["sft", "--model", folder.path, "--dataset", data, "--output-dir", output,
                                               "--max-steps", "3", "--batch-size", "2", "--logging-steps", "1"])
        XCTAssertEqual(status, 0, errors)
        let metrics = try String(contentsOfFile: output + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 3)
        XCTAssertTrue(metrics[0].contains("mean_token_accuracy"))
        XCTAssertNoThrow(try PretrainedModel.load(directory: URL(fileURLWithPath: output)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/training_config.json"))
        let recipe = try write(["learning_rate: 1.0e-4", "not_a_key: 3"], to: "recipe.yaml")
        let (bad, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--config", recipe])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(message.contains("not_a_key"), message)
    }

    func testBadInputNamesTheFileAndLine() throws {
        let input = try write([#"{"text": "fine"}"#, #"{"txt": 3}"#], to: "bad.jsonl")
        let (status, _, errors) = try charter(["logprobs", "--model", folder.path, "--input", input])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("bad.jsonl:2"), errors)
        let (missing, _, message) = try charter(["generate", "--model", folder.appendingPathComponent("nope").path, "--prompt", "x"])
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(message.contains("nope': no such folder"), message)
    }

    func testOutOfRangeRecipeValuesNameTheKey() throws {
        let data = try write([#"{"prompt": "say 1:", "completion": " 1 1"}"#], to: "sft.jsonl")
        for (flags, key) in [(["--lora-r", "0"], "lora_r"), (["--set", "max_length=0"], "max_length")] {
            let (status, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1",
                                                    "--output-dir", folder.appendingPathComponent("out").path] + flags)
            XCTAssertNotEqual(status, 0, "\(flags)")
            XCTAssertTrue(message.contains(key) && message.contains("must be at least 1"), message)
        }
    }

    /// The fault campaign's crashes: `logprobs` on a text longer than GPT-2's n_positions, and `sft` with the default
    /// max_length 1024 on a shorter model. The first is refused naming the line and the limit, the second truncates.
    func testSequencesLongerThanTheContextAreRefusedOrTruncatedNamingTheLimit() throws {
        let gpt = try tinyGPT(named: "gpt2-16", contextLength: 16, seed: 2)
        let long = String(repeating: "the cat sat on the mat. ", count: 10)
        let input = try write([#"{"text": "hello world"}"#, #"{"text": "\#(long)"}"#], to: "long.jsonl")
        let (status, output, errors) = try charter(["logprobs", "--model", gpt.path, "--input", input])
        XCTAssertEqual(status, 1, "an error, not a crash: \(errors)")
        XCTAssertTrue(output.isEmpty, "nothing is scored before the input is checked")
        XCTAssertTrue(errors.contains("long.jsonl:2 has"), errors)
        XCTAssertTrue(errors.contains("more than the model's context of 16"), errors)

        let (generateStatus, _, generateErrors) = try charter(["generate", "--model", gpt.path, "--prompt", long])
        XCTAssertEqual(generateStatus, 1, generateErrors)
        XCTAssertTrue(generateErrors.contains("leaves no room to generate in the model's context of 16 tokens"), generateErrors)

        let data = try write((0..<4).map { #"{"prompt": "say \#($0):", "completion": " \#(long)"}"# }, to: "sft-long.jsonl")
        let (sftStatus, _, sftErrors) = try charter(["sft", "--model", gpt.path, "--dataset", data, "--max-steps", "1", "--batch-size", "2",
                                                     "--output-dir", folder.appendingPathComponent("sft-16").path])
        XCTAssertEqual(sftStatus, 0, sftErrors)
        XCTAssertTrue(sftErrors.contains("max_length 1024 is longer than the model's context of 16 tokens: sequences are limited to 16"), sftErrors)
        XCTAssertTrue(sftErrors.contains("4 truncated to max_length 16"), sftErrors)
    }

    func testCritiqueExitsWithStatus3AndNamesTheFailuresFileWhenItemsFail() throws {
        // A GPT-2 with a 512-token context: the second prompt overflows it, so that item fails.
        let gpt = try tinyGPT(named: "gpt", contextLength: 512, seed: 3)
        let prompts = try write([#"{"id": "short", "prompt": "Hi"}"#,
                                 #"{"id": "long", "prompt": "\#(String(repeating: "word ", count: 600))"}"#], to: "prompts.jsonl")
        let output = folder.appendingPathComponent("critique.jsonl")
        let (status, _, errors) = try charter(["critique", "--model", gpt.path, "--prompts", prompts, "--output", output.path,
                                               "--rounds", "1", "--few-shot", "0", "--max-tokens", "2", "--retries", "0",
                                               "--concurrency", "1", "--quiet"])
        let failures = (try? String(contentsOf: folder.appendingPathComponent("critique.failures.jsonl"), encoding: .utf8)) ?? ""
        XCTAssertEqual(status, 3, errors + failures)
        XCTAssertTrue(errors.contains("1 of 2 items failed; their errors are in \(folder.appendingPathComponent("critique.failures.jsonl").path)"), errors)
        XCTAssertEqual(try String(contentsOf: output, encoding: .utf8).split(separator: "\n").count, 1, "the other item was written")
    }
}
