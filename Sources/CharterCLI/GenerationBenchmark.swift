import ArgumentParser
import Foundation
import JSON
import LanguageModels
import Tensors

/// `charter bench generate`: prefill and decode speed with a KV cache, the measurement of
/// Benchmarks/transformers/bench_generate.py on the same model folder.
struct GenerationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prefill and greedy-decode tokens/s with a KV cache (compare Benchmarks/transformers/bench_generate.py).")

    @Option(help: "A Hugging Face model folder (e.g. one written by bench_generate.py --save-model).") var model: String
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Runs measured (median reported) after one warm-up.") var repeats = 3
    @Option(help: "Prompt tokens.") var promptLength = 64
    @Option(help: "New tokens per run.") var newTokens = 128

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        let network = try PretrainedModel.load(directory: URL(fileURLWithPath: model))
        var generator = SeededGenerator(seed: 0)
        let prompt = (0..<promptLength).map { _ in Int32(3 + generator.next() % UInt64(network.vocabularySize - 3)) }
        func measure() -> (prefill: Double, decode: Double) {
            withoutGradients {
                let cache = KVCache(layerCount: network.layerCount)
                let start = DispatchTime.now().uptimeNanoseconds
                var logits = network.forward(ModelInput(ids: prompt, batch: 1, time: promptLength), cache: cache).logits
                var next = Int32(logits.argmax(axis: -1).last ?? 0)
                let prefilled = DispatchTime.now().uptimeNanoseconds
                for _ in 1..<newTokens {
                    logits = network.forward(ModelInput(ids: [next], batch: 1, time: 1), cache: cache).logits
                    next = Int32(logits.argmax(axis: -1)[0])
                }
                let end = DispatchTime.now().uptimeNanoseconds
                return (Double(prefilled - start) / 1e9, Double(end - prefilled) / 1e9)
            }
        }
        _ = measure()
        let runs = (0..<repeats).map { _ in measure() }
        let prefill = runs.map(\.prefill).sorted()[repeats / 2], decode = runs.map(\.decode).sorted()[repeats / 2]
        printJSONLine(JSONValue(sortingKeys: [
            "impl": "charter", "bench": "generate", "threads": .integer(ComputeThreads.count), "prompt_len": .integer(promptLength),
            "new_tokens": .integer(newTokens), "prefill_tokens_per_s": .numeric(Double(promptLength) / prefill),
            "decode_tokens_per_s": .numeric(Double(newTokens - 1) / decode), "params": .integer(network.parameterCount),
        ]))
    }
}
