import Foundation
import JSON
import LanguageModels
import Tensors
import Tokenizers

/// A from-scratch tiny Llama and its byte-level BPE vocabulary: what experiments train their first model from.
public struct InitialModel: Sendable {
    public var vocabularySize, hiddenSize, intermediateSize, layerCount, headCount, contextLength: Int

    public init(vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int, contextLength: Int) {
        (self.vocabularySize, self.hiddenSize, self.intermediateSize) = (vocabularySize, hiddenSize, intermediateSize)
        (self.layerCount, self.headCount, self.contextLength) = (layerCount, headCount, contextLength)
    }

    /// Writes `folder`: a byte-level BPE tokenizer trained on `texts` and a Llama of these sizes initialised from `seed`.
    public func write(texts: [String], seed: UInt64, to folder: URL) throws {
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let endOfText = "<|endoftext|>"
        let trainer = BPETrainer(vocabularySize: vocabularySize, specialTokens: [endOfText])
        try trainer.trainTokenizerJSON(on: texts).write(to: folder.appendingPathComponent("tokenizer.json"))
        let tokenizerConfig: JSONValue = ["eos_token": .string(endOfText), "pad_token": .string(endOfText)]
        try Data(tokenizerConfig.serialized(.indented).utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try Tokenizer(directory: folder)
        var model = LlamaConfiguration()
        model.vocabularySize = tokenizer.vocabularySize
        model.hiddenSize = hiddenSize
        model.intermediateSize = intermediateSize
        model.layerCount = layerCount
        model.headCount = headCount
        model.keyValueHeadCount = headCount
        model.maximumPositionEmbeddings = contextLength
        model.tieWordEmbeddings = true
        model.eosTokenId = tokenizer.eosTokenId.map { [$0] }
        var generator = SeededGenerator(seed: seed &+ 0x1417)
        try PretrainedModel.save(LlamaModel(model, generator: &generator), to: folder)
    }
}
