import ArgumentParser
import Datasets
import Foundation
import JSON
import LanguageModels
import NeuralNetworks
import Runtime
import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `charter bench train`: forward + backward + clipping + AdamW for nanoGPT's shakespeare-char GPT, the same
/// step as Benchmarks/pytorch/bench_train.py, printed as one JSON line.
///
/// By default every step trains on one fixed batch of seeded random tokens (a speed benchmark; the loss falls towards
/// zero as the model memorises it). With `--data FILE` it trains as nanoGPT's shakespeare-char run does: a character
/// vocabulary (the file's distinct characters, sorted) and a fresh batch every step, `batch` windows of `context + 1`
/// characters at offsets drawn with SplitMix64 from `--data-seed` (offset = next() mod (characters − context − 1)),
/// the same draws `bench_train.py --data` makes, so both engines and both precisions see the same batches.
struct TrainingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput of a GPT of nanoGPT's shakespeare-char shape (6×384, context 256, batch 12).")

    @Option(help: "Measured steps (after the warm-up steps).") var steps = 10
    @Option(help: "Warm-up steps, not measured.") var warmup = 3
    @Option(help: "Kernel threads (default: CHARTER_THREADS or all cores).") var threads: Int?
    @Option(help: "Batch size.") var batch = 12
    @Option(help: "Print each step's time to standard error.") var verbose = false
    @Flag(help: "bf16 mixed precision: matmul operands rounded to bfloat16, fp32 accumulation and master weights (see MatmulPrecision).")
    var bf16 = false
    @Option(help: "Write every step's loss (warm-up steps included), one per line, to this file.") var losses: String?
    @Option(help: "A UTF-8 text file to train on as nanoGPT's shakespeare-char does: character vocabulary, a fresh batch each step.")
    var data: String?
    @Option(help: "Seed of the batch offsets with --data (SplitMix64).") var dataSeed: UInt64 = 1337
    @Option(help: "Linear learning-rate warm-up over this many steps, as nanoGPT's get_lr: 6e-4 · (step + 1) / (N + 1) while step < N (0: none).")
    var lrWarmup = 0

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        MatmulPrecision.current = bf16 ? .bfloat16 : .float32
        var configuration = GPTConfiguration.shakespeareCharacters
        let time = configuration.contextLength
        let corpus = try data.map { file -> CharacterCorpus in
            do { return try CharacterCorpus(file: URL(fileURLWithPath: file), context: time) } catch { throw ValidationError("\(error)") }
        }
        if let corpus { configuration.vocabularySize = corpus.vocabularySize }
        var generator = SeededGenerator(seed: 1337)
        let model = GPTModel(configuration, generator: &generator)
        // One fixed batch, as the PyTorch script: inputs are tokens 0..<T of each row, targets 1...T.
        let rows = (0..<batch).map { _ in (0...time).map { _ in Int32(generator.next() % UInt64(configuration.vocabularySize)) } }
        let fixed = (inputs: rows.flatMap { $0.dropLast() }, targets: rows.flatMap { $0.dropFirst() })
        var offsets = SplitMix64(seed: dataSeed)
        let learningRate: Float = 6e-4
        let optimizer = AdamW(parameters: model.trainableParameters(), learningRate: learningRate, beta1: 0.9, beta2: 0.95,
                              epsilon: 1e-8, weightDecay: 0.1, noDecay: model.parametersWithoutDecay)
        var stepTimes: [Double] = [], stepLosses: [Float] = []
        for step in 0..<(warmup + steps) {
            let (inputs, targets) = corpus?.batch(rows: batch, offsets: &offsets) ?? fixed
            optimizer.learningRate = step < lrWarmup ? learningRate * Float(step + 1) / Float(lrWarmup + 1) : learningRate
            TensorMemory.beginStep()  // as the trainers' loop does
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = model(inputs, batch: batch, time: time).crossEntropy(targets: targets)
            loss.backward()
            clipGradientNorm(optimizer.parameters, maxNorm: 1)
            optimizer.step()
            optimizer.zeroGradients()
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            stepLosses.append(loss.item)
            if step >= warmup { stepTimes.append(milliseconds) }
            if verbose { FileHandle.standardError.write("step \(step): \(String(format: "%.1f", milliseconds)) ms, loss \(loss.item)\n".data(using: .utf8)!) }
        }
        if let losses {
            try AtomicFile.write(Data(stepLosses.map { "\($0)\n" }.joined().utf8), to: URL(fileURLWithPath: losses))
        }
        let median = stepTimes.sorted()[stepTimes.count / 2]
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        let peakMegabytes = Double(usage.ru_maxrss) / 1_048_576  // bytes on macOS
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMegabytes = Double(usage.ru_maxrss) / 1024       // KiB on Linux
        #endif
        printJSONLine(JSONValue(sortingKeys: [
            "impl": "charter", "tokens_per_s": .numeric(Double(batch * time) / (median / 1000)), "step_ms_median": .numeric(median),
            "step_ms_min": .numeric(stepTimes.min() ?? 0), "step_ms_max": .numeric(stepTimes.max() ?? 0), "peak_rss_mb": .numeric(peakMegabytes),
            "threads": .integer(ComputeThreads.count), "params": .integer(model.parameterCount),
            "loss_first": .numeric(Double(stepLosses.first ?? 0)), "loss_last": .numeric(Double(stepLosses.last ?? 0)),
            "matmul_precision": .string(bf16 ? "bf16" : "fp32"), "vocab": .integer(configuration.vocabularySize),
            "lr_warmup": .integer(lrWarmup), "data": corpus.map { .string($0.file.path) } ?? .string("fixed random batch"),
            "kernel_path": .string(bf16 ? MatmulPrecision.bfloat16KernelPath : MachineDescription.current.kernelPath),
        ]))
    }
}
