import LanguageModels
import Tensors

/// The 3-block Llama (hidden 16, grouped-query attention) and GPT-2 (width 16) that the steering and
/// gradient-checkpointing tests run, each from a fixed seed, with the (B 2, T 6) ids both feed them.
enum SmallModels {
    static let ids: [Int32] = [3, 17, 42, 5, 9, 31, 2, 60, 11, 7, 23, 1]

    static func llama() -> LlamaModel {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (64, 16, 24)
        (configuration.layerCount, configuration.headCount, configuration.keyValueHeadCount) = (3, 4, 2)
        var generator = SeededGenerator(seed: 7)
        return LlamaModel(configuration, generator: &generator)
    }

    static func gpt() -> GPTModel {
        var configuration = GPTConfiguration()
        (configuration.vocabularySize, configuration.contextLength, configuration.layerCount) = (64, 16, 3)
        (configuration.headCount, configuration.width) = (2, 16)
        var generator = SeededGenerator(seed: 8)
        return GPTModel(configuration, generator: &generator)
    }
}
