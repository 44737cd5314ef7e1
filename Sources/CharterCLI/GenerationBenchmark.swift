import ArgumentParser
import Foundation
import JSON
import LanguageModels
import Probes
import Runtime
import Tensors

/// `charter bench generate`: prefill and decode speed with a KV cache, the measurement of
/// Benchmarks/transformers/bench_generate.py on the same model folder.
struct GenerationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prefill and greedy-decode tokens/s with a KV cache (compare Benchmarks/transformers/bench_generate.py).")

    @Option(help: "A Hugging Face model folder (e.g. one written by bench_generate.py --save-model), or a GGUF file.") var model: String
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var kvCache: KVCacheOptions
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Runs measured (median reported) after one warm-up.") var repeats = 3
    @Option(help: "Prompt tokens.") var promptLength = 64
    @Option(help: "New tokens per run.") var newTokens = 128
    @Option(help: "Sequences decoded together, each with its own random prompt of --prompt-length tokens: tokens/s then counts every sequence's tokens.") var batch = 1
    @Option(help: "A probe folder for this model: instead, time Generator's decoding without and with the probe scoring every token (alternating rounds) and report the ratio.")
    var probe: String?

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        let network = try PretrainedModel.load(directory: URL(fileURLWithPath: model), precision: try precision.precision)
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        let kvCachePrecision = try kvCache.kvCachePrecision
        var generator = SeededGenerator(seed: 0)
        let prompts = (0..<batch).map { _ in (0..<promptLength).map { _ in Int32(3 + generator.next() % UInt64(network.vocabularySize - 3)) } }
        if let probe { return try measureProbe(probe, network: network, prompt: prompts[0]) }
        func measure() -> (prefill: Double, decode: Double) {
            withoutGradients {
                let cache = KVCache(layerCount: network.layerCount, precision: kvCachePrecision)
                cache.reservedPositions = promptLength + newTokens
                let start = DispatchTime.now().uptimeNanoseconds
                // The last position's logits only, as generation needs them (and llama.cpp computes them).
                var logits = network.forward(ModelInput(ids: prompts.flatMap { $0 }, batch: batch, time: promptLength), cache: cache).lastPositionLogits
                var next = logits.argmax(axis: -1).map { Int32($0) }  // (B, 1): one token per sequence
                let prefilled = DispatchTime.now().uptimeNanoseconds
                for _ in 1..<newTokens {
                    logits = network.forward(ModelInput(ids: next, batch: batch, time: 1), cache: cache).logits
                    next = logits.argmax(axis: -1).map { Int32($0) }
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
            "new_tokens": .integer(newTokens), "batch": .integer(batch), "prefill_tokens_per_s": .numeric(Double(batch * promptLength) / prefill),
            "decode_tokens_per_s": .numeric(Double(batch * (newTokens - 1)) / decode), "params": .integer(network.parameterCount),
            "dtype": .string(precision.dtype), "kv_cache": .string(kvCachePrecision.rawValue), "quantized": .bool(network.isQuantized),
            "kernel_path": .string(MachineDescription.current.kernelPath), "quantized_kernels": .string(QuantizedMatrix.kernelName),
            "peak_rss_bytes": ProcessMemory.peakResidentBytes.map { .integer($0) } ?? .null,
        ]))
    }

    /// Decode tokens/s of `Generator` (greedy, no end token) without and with a safety circuit scoring every token,
    /// medians over alternating rounds; the circuit's threshold is raised above any score so both runs decode the
    /// same number of tokens.
    func measureProbe(_ path: String, network: any CausalLanguageModel, prompt: [Int32]) throws {
        let folder = URL(fileURLWithPath: path)
        var loaded = try Probe.load(from: folder)
        try loaded.check(model: ModelIdentity(model: network, name: URL(fileURLWithPath: model).lastPathComponent), folder: folder)
        loaded.description.threshold = .infinity
        let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: newTokens))
        let kvCachePrecision = try kvCache.kvCachePrecision
        func decodeSeconds(_ monitor: (any GenerationMonitor)?) -> Double {
            var first: UInt64 = 0, last: UInt64 = 0, count = 0
            var generator = Generator(model: network, monitor: monitor)
            generator.kvCachePrecision = kvCachePrecision
            _ = generator.generate(prompts: [prompt], configuration: configuration) { _, _, _ in
                last = DispatchTime.now().uptimeNanoseconds
                if count == 0 { first = last }
                count += 1
            }
            precondition(count == newTokens, "decoded \(count) of \(newTokens) tokens")
            return Double(last - first) / 1e9
        }
        _ = decodeSeconds(nil)
        _ = decodeSeconds(ProbeMonitor(probe: loaded, watch: .both))
        var plain: [Double] = [], watched: [Double] = [], scoring: [Double] = []
        for _ in 0..<repeats {
            plain.append(decodeSeconds(nil))
            let timed = TimedMonitor(ProbeMonitor(probe: loaded, watch: .both))
            watched.append(decodeSeconds(timed))
            scoring.append(timed.seconds / watched[watched.count - 1])
        }
        let plainRate = Double(newTokens - 1) / plain.sorted()[repeats / 2], watchedRate = Double(newTokens - 1) / watched.sorted()[repeats / 2]
        printJSONLine(JSONValue(sortingKeys: [
            "impl": "charter", "bench": "generate-probe", "threads": .integer(ComputeThreads.count), "prompt_len": .integer(prompt.count),
            "new_tokens": .integer(newTokens), "probe_layer": .integer(loaded.description.layer),
            "decode_tokens_per_s": .numeric(plainRate), "decode_tokens_per_s_with_probe": .numeric(watchedRate),
            "ratio": .numeric(watchedRate / plainRate), "scoring_share_of_decode": .numeric(scoring.sorted()[repeats / 2]),
        ]))
    }

    /// Times a monitor's own work (the probe's scoring), which a loaded machine's noise does not hide.
    final class TimedMonitor: GenerationMonitor {
        let inner: any GenerationMonitor
        private(set) var seconds = 0.0
        var layer: Int { inner.layer }
        init(_ inner: any GenerationMonitor) { self.inner = inner }
        func observe(sequence: Int, tokenIndex: Int?, hiddenStates: UnsafeBufferPointer<Float>, count: Int, hiddenSize: Int) -> Bool {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            return inner.observe(sequence: sequence, tokenIndex: tokenIndex, hiddenStates: hiddenStates, count: count, hiddenSize: hiddenSize)
        }
    }
}
