import Foundation
import LanguageModels
import Reports
import Tensors
import Tokenizers

/// One policy's point on the frontier: its mean ground-truth reward and its KL divergence from the reference, on
/// continuations it sampled for held-out prompts.
public struct FrontierMeasurement: Codable, Equatable, Sendable {
    public var samples: Int
    public var rewardMean: Double
    public var rewardStandardError: Double
    /// KL(π‖π_ref) in nats per continuation, and the standard error of that Monte-Carlo estimate.
    public var kl: Double
    public var klStandardError: Double
    /// Mean continuation length in tokens, and the share that ended with eos (rather than at the length limit).
    public var meanLength: Double
    public var endedRate: Double
}

/// A sampled continuation: prompt and response token ids (the response ends with eos when the model stopped).
public struct FrontierSample: Sendable {
    public var promptIndex: Int
    public var promptIds: [Int32]
    public var responseIds: [Int32]
    public var text: String
}

/// Sampling from a policy and the two numbers of the frontier.
public enum FrontierEvaluation {
    /// `count` continuations at temperature 1, prompt i mod `prompts.count` for sample i, in seeded batches.
    /// - Parameter batchSize: prompts per generation call (each batch draws from its own seeded stream).
    public static func sample(_ model: any CausalLanguageModel, tokenizer: Tokenizer, prompts: [String], count: Int,
                              maximumNewTokens: Int, seed: UInt64, batchSize: Int = 64) -> [FrontierSample] {
        let encoded = prompts.map { tokenizer.encode($0).map(Int32.init) }
        let endOfSequence = tokenizer.eosTokenId.map { [Int32($0)] } ?? []
        let generator = Generator(model: model)
        var samples: [FrontierSample] = []
        for (number, start) in stride(from: 0, to: count, by: batchSize).enumerated() {
            let indices = (start..<min(start + batchSize, count)).map { $0 % prompts.count }
            let configuration = GenerationConfiguration(
                sampling: SamplingOptions(maximumTokens: maximumNewTokens, temperature: 1, seed: seed &+ UInt64(number)),
                endOfSequenceTokens: endOfSequence)
            let results = generator.generate(prompts: indices.map { encoded[$0] }, configuration: configuration)
            for (index, result) in zip(indices, results) {
                samples.append(FrontierSample(promptIndex: index, promptIds: encoded[index], responseIds: result.tokens,
                                              text: tokenizer.decode(result.tokens.map(Int.init), skipSpecialTokens: true)))
            }
        }
        return samples
    }

    /// Per sample, log π(y|x) − log π_ref(y|x) = Σ_t [log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)] over the
    /// response tokens (eos included). Its mean over samples y ~ π is the Monte-Carlo estimate of the sequence-level
    /// KL(π‖π_ref). Both models score the same batches the same way, so a model against itself gives exactly 0.
    /// - Parameter referencePrompts: per sample, the prompt the reference conditions on instead of the sample's own (a
    ///   policy prompted with an extra instruction against the reference on the bare prompt); nil: the same prompt.
    public static func logRatios(policy: any CausalLanguageModel, reference: any CausalLanguageModel, samples: [FrontierSample],
                                 referencePrompts: [[Int32]]? = nil, batchSize: Int = 64) throws -> [Double] {
        precondition(referencePrompts.map { $0.count == samples.count } ?? true,
                     "\(referencePrompts?.count ?? 0) reference prompts for \(samples.count) samples")
        let sequences = samples.map { $0.promptIds + $0.responseIds }
        let referenceSequences = referencePrompts.map { zip($0, samples).map { $0 + $1.responseIds } } ?? sequences
        let policyLogProbabilities = try policy.tokenLogProbabilities(sequences, batchSize: batchSize)
        let referenceLogProbabilities = try reference.tokenLogProbabilities(referenceSequences, batchSize: batchSize)
        return samples.indices.map { index in
            let count = samples[index].responseIds.count
            return zip(policyLogProbabilities[index].suffix(count), referenceLogProbabilities[index].suffix(count))
                .reduce(0.0) { $0 + Double($1.0) - Double($1.1) }
        }
    }

    /// Samples `count` continuations of `prompts` from `policy` and measures their ground-truth reward and the KL
    /// from `reference`; returns the samples and their log-ratios too.
    public static func measure(policy: any CausalLanguageModel, reference: any CausalLanguageModel, tokenizer: Tokenizer,
                               prompts: [String], count: Int, maximumNewTokens: Int,
                               seed: UInt64) throws -> (measurement: FrontierMeasurement, samples: [FrontierSample], logRatios: [Double]) {
        let samples = sample(policy, tokenizer: tokenizer, prompts: prompts, count: count, maximumNewTokens: maximumNewTokens, seed: seed)
        let rewards = samples.map { FrontierTask.reward($0.text) }
        let ratios = try logRatios(policy: policy, reference: reference, samples: samples)
        let eos = tokenizer.eosTokenId.map(Int32.init)
        let (rewardMean, rewardError) = Statistics.meanAndStandardError(rewards)
        let (kl, klError) = Statistics.meanAndStandardError(ratios)
        let measurement = FrontierMeasurement(
            samples: samples.count, rewardMean: rewardMean, rewardStandardError: rewardError, kl: kl, klStandardError: klError,
            meanLength: Double(samples.reduce(0) { $0 + $1.responseIds.count }) / Double(max(samples.count, 1)),
            endedRate: Double(samples.filter { $0.responseIds.last == eos }.count) / Double(max(samples.count, 1)))
        return (measurement, samples, ratios)
    }
}
