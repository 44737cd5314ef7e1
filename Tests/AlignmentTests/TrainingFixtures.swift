import Datasets
import Foundation
import LanguageModels
import Tensors
import Tokenizers
@testable import Alignment

/// Tiny models and data for trainer behaviour tests: a byte-level BPE tokenizer from the tokenizer fixtures and
/// a randomly initialised two-layer Llama small enough for debug builds.
enum TrainingFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A model folder (config, weights, tokenizer with eos/pad declared) in a fresh temporary directory.
    /// - Parameter context: `max_position_embeddings`, the longest sequence the model accepts.
    static func modelFolder(seed: UInt64 = 1, hidden: Int = 32, context: Int = 2048) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-tiny-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repository.appendingPathComponent("Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json"),
                                         to: directory.appendingPathComponent("tokenizer.json"))
        let tokenizerConfig = #"{"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": null}"#
        try tokenizerConfig.write(to: directory.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        var configuration = LlamaConfiguration()
        configuration.vocabularySize = 1008
        configuration.hiddenSize = hidden
        configuration.intermediateSize = 2 * hidden
        configuration.layerCount = 2
        configuration.headCount = 4
        configuration.keyValueHeadCount = 2
        configuration.tieWordEmbeddings = true
        configuration.maximumPositionEmbeddings = context
        var generator = SeededGenerator(seed: seed)
        let model = LlamaModel(configuration, generator: &generator)
        try PretrainedModel.save(model, to: directory)
        return directory
    }

    static func encoder(_ directory: URL) throws -> ExampleEncoder {
        ExampleEncoder(tokenizer: try Tokenizer(directory: directory))
    }

    /// Prompt–completion pairs with a learnable rule (the completion repeats the prompt's last word).
    static func promptCompletions(count: Int, seed: UInt64 = 3) -> [Example] {
        let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "river", "stone"]
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let a = words[Int(generator.next() % 10)], b = words[Int(generator.next() % 10)]
            return Example(.promptCompletion(prompt: .standard("say \(a) \(b):"), completion: .standard(" \(b) \(b)")), line: index + 1)
        }
    }

    static func arguments(_ directory: URL, steps: Int) -> TrainingArguments {
        var arguments = TrainingArguments()
        arguments.outputDirectory = directory.appendingPathComponent("out").path
        arguments.maximumSteps = steps
        arguments.batchSize = 4
        arguments.learningRate = 3e-3
        arguments.learningRateSchedule = "constant"
        arguments.loggingSteps = 1
        arguments.maximumGradientNorm = 1
        return arguments
    }
}
