import Foundation
import LanguageModels
import Tensors
import Tokenizers

/// Sample generations written at evaluation time (samples.jsonl), so a run shows what the model says, not only
/// its metrics: the first few evaluation prompts, continued greedily.
public struct SampleGenerations {
    /// Prompts (token ids) to continue.
    public var prompts: [[Int32]]
    public var tokenizer: Tokenizer
    public var maximumNewTokens = 48

    public init(prompts: [[Int32]], tokenizer: Tokenizer, count: Int = 4) {
        self.prompts = Array(prompts.filter { !$0.isEmpty }.prefix(count))
        self.tokenizer = tokenizer
    }

    /// Greedy continuations of the prompts by `model`, as JSON objects (`prompt`, `completion`).
    func generate(_ model: any CausalLanguageModel) -> [[String: Any]] {
        guard !prompts.isEmpty else { return [] }
        let eos = tokenizer.eosTokenId.map { [Int32($0)] } ?? []
        let tokenizer = self.tokenizer
        let results = Generator(model: model, detokenize: { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) })
            .generate(prompts: prompts, configuration: GenerationConfiguration(sampling: SamplingOptions(maximumTokens: maximumNewTokens, temperature: 0),
                                                                                endOfSequenceTokens: eos))
        return zip(prompts, results).map { prompt, result in
            ["prompt": tokenizer.decode(prompt.map(Int.init)), "completion": result.text ?? ""]
        }
    }
}
