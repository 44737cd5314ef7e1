import Foundation
import Runtime
import Tensors

/// What to generate and when to stop: the sampling settings and the model's end-of-sequence tokens.
public struct GenerationConfiguration: Equatable, Sendable {
    /// `maximumTokens` new tokens at most, `stop` strings (the text is cut before the first one, as OpenAI's
    /// `stop`), `seed` (nil: 0), `topLogProbabilities` (also record this many most likely tokens at every step).
    public var sampling: SamplingOptions
    /// Tokens that end a sequence (included in the output tokens, like transformers).
    public var endOfSequenceTokens: [Int32]

    public init(sampling: SamplingOptions = SamplingOptions(maximumTokens: 64), endOfSequenceTokens: [Int32] = []) {
        self.sampling = sampling
        self.endOfSequenceTokens = endOfSequenceTokens
    }
}

/// Why a sequence stopped (OpenAI's `finish_reason`).
public enum FinishReason: String, Codable, Sendable {
    case stop, length
    /// A ``GenerationMonitor`` (a safety probe) ended the sequence.
    case contentFilter = "content_filter"
}

/// Watches one hidden state while a ``Generator`` decodes and may end a sequence early (an activation probe).
///
/// The hidden states come from the forward pass generation runs anyway (`ModelInput.outputHiddenStates` only keeps
/// references to them), so watching costs the monitor's own arithmetic.
public protocol GenerationMonitor: AnyObject {
    /// The hidden state to watch, in transformers' convention: 0 the embeddings, i the output of block i (the last
    /// one after the final norm).
    var layer: Int { get }
    /// Called for sequence `sequence` with the watched layer's hidden states of the positions just fed, `count`
    /// rows of `hiddenSize` values: at the first step the prompt's real tokens (`tokenIndex` nil), then one row, the
    /// newest generated token (`tokenIndex` its index among the generated tokens). The newest token's hidden state
    /// exists only once it is fed back, so the last token of a sequence is never observed.
    /// - Returns: true to end the sequence now with ``FinishReason/contentFilter`` (the token sampled in this step
    ///   is dropped).
    func observe(sequence: Int, tokenIndex: Int?, hiddenStates: UnsafeBufferPointer<Float>, count: Int, hiddenSize: Int) -> Bool
}

/// One generated continuation.
public struct GeneratedSequence: Equatable, Sendable {
    /// New tokens (an end-of-sequence token that stopped generation is included).
    public var tokens: [Int32]
    /// log p(token | everything before) under the model (temperature 1, unfiltered), one per token.
    public var logProbabilities: [Float]
    /// Per token, the `topLogProbabilities` most likely (token, log-prob) pairs, most likely first.
    public var alternatives: [[Alternative]] = []
    /// The decoded text, cut before a stop string, when a detokenizer was given.
    public var text: String?
    public var finishReason: FinishReason

    public struct Alternative: Equatable, Sendable {
        public var token: Int32
        public var logProbability: Float
    }
}

/// Generates continuations of token prompts with a KV cache, several prompts at once, reporting each step's new tokens
/// to the task's ``TokenProgress`` listener (a progress line).
public struct Generator {
    public let model: any CausalLanguageModel
    /// Turns generated ids into text (needed for stop strings and `GeneratedSequence.text`).
    public var detokenize: (([Int32]) -> String)?
    /// Watches a hidden state at every step and may end sequences (nil: no hidden states are kept).
    public var monitor: (any GenerationMonitor)?
    /// Steers the residual stream of every sequence from the first forward pass (nil: none).
    public var steering: ActivationSteering?
    /// With a monitor: a sequence the monitor triggers on is steered from the next token on, instead of ended
    /// (its `rows` are ignored: each sequence is switched on by its own trigger).
    public var steeringOnTrigger: ActivationSteering?
    /// Reuses (and stores) the keys and values of prompt prefixes across calls (nil: every prompt is prefilled): a
    /// batch starts from the longest cached prefix all its prompts share, or — when that feeds more positions — each
    /// prompt is prefilled on its own from its own longest cached prefix, exactly as alone, and stored. Not used with a
    /// monitor or steering, which see every prompt position.
    public var prefixCache: PrefixCache?
    /// How the KV cache stores keys and values (`--kv-cache`): float32, or half floats (half the memory and the bytes
    /// each decoding step reads, values rounded; llama.cpp's default).
    public var kvCachePrecision: SequenceBuffer.Precision = .float32

    public init(model: any CausalLanguageModel, detokenize: (([Int32]) -> String)? = nil, monitor: (any GenerationMonitor)? = nil) {
        precondition(monitor.map { (0...model.layerCount).contains($0.layer) } ?? true,
                     "monitor layer \(monitor?.layer ?? 0) outside the model's hidden states 0...\(model.layerCount)")
        self.model = model
        self.detokenize = detokenize
        self.monitor = monitor
    }

    /// Continues every prompt. Prompts of different lengths are left-padded into one batch with an attention
    /// mask, and positions count real tokens only, so each result equals generating that prompt alone.
    /// - Parameter onToken: called after each step with (sequence index, new token, its log-probability).
    public func generate(prompts: [[Int32]], configuration: GenerationConfiguration,
                         onToken: ((Int, Int32, Float) -> Void)? = nil) -> [GeneratedSequence] {
        var generators = [SeededGenerator(seed: configuration.sampling.seed ?? 0)]
        return run(prompts: prompts, configurations: prompts.map { _ in configuration },
                   generatorOfRow: prompts.map { _ in 0 }, generators: &generators, onToken: onToken)
    }

    /// Continues every prompt with its own settings and its own random stream (seeded by its configuration), so
    /// each result is what generating that prompt alone with that configuration gives — a server can batch
    /// unrelated requests into one forward pass per token.
    public func generate(prompts: [[Int32]], configurations: [GenerationConfiguration],
                         onToken: ((Int, Int32, Float) -> Void)? = nil) -> [GeneratedSequence] {
        precondition(prompts.count == configurations.count, "\(prompts.count) prompts for \(configurations.count) configurations")
        var generators = configurations.map { SeededGenerator(seed: $0.sampling.seed ?? 0) }
        return run(prompts: prompts, configurations: configurations, generatorOfRow: Array(prompts.indices),
                   generators: &generators, onToken: onToken)
    }

    private func run(prompts: [[Int32]], configurations: [GenerationConfiguration], generatorOfRow: [Int],
                     generators: inout [SeededGenerator], onToken: ((Int, Int32, Float) -> Void)?) -> [GeneratedSequence] {
        precondition(!prompts.isEmpty && prompts.allSatisfy { !$0.isEmpty }, "every prompt needs at least one token")
        precondition(configurations.allSatisfy { $0.sampling.stop.isEmpty } || detokenize != nil, "stop strings need a detokenizer")
        return withoutGradients {
            let batch = prompts.count, promptLength = prompts.map(\.count).max()!
            var mask = [UInt8](), ids = [Int32]()
            for prompt in prompts {
                let padding = promptLength - prompt.count
                mask += [UInt8](repeating: 0, count: padding) + [UInt8](repeating: 1, count: prompt.count)
                ids += [Int32](repeating: prompt[0], count: padding) + prompt  // padding ids are never attended
            }
            let padded = mask.contains(0)
            var cache = KVCache(layerCount: model.layerCount, precision: kvCachePrecision)
            // Start from the longest cached prefix that every prompt shares and feed only the rest.
            let prefixCache = monitor == nil && steering == nil && steeringOnTrigger == nil ? self.prefixCache : nil
            var reused = 0
            // A batch with a prefix cache prefills each prompt on its own, from its own longest cached prefix, when that
            // feeds fewer positions than one padded pass from the prefix all prompts share (see `prefillsAlone`).
            var alone = false
            if let prefixCache {
                let shared = prompts.dropFirst().reduce(prompts[0].count) { min($0, PrefixCache.commonPrefixLength(prompts[0], $1)) }
                let limit = min(shared, prompts.map(\.count).min()! - PrefixCache.minimumFedTokens)
                if batch > 1 {
                    let own = prompts.map { prefixCache.reusableLength($0, layerCount: model.layerCount, precision: kvCachePrecision) }
                    let common = prefixCache.reusableLength(prompts[0], limit: limit, layerCount: model.layerCount, precision: kvCachePrecision)
                    alone = Self.prefillsAlone(prompts, reusable: own, shared: common)
                }
                if !alone, let hit = prefixCache.lookup(prompts[0], limit: limit, batch: batch, layerCount: model.layerCount, precision: kvCachePrecision) {
                    (cache, reused) = (hit.cache, hit.length)
                    // Padding goes between the reused prefix and each prompt's rest, so the prefix lines up in every row.
                    (mask, ids) = ([], [])
                    for prompt in prompts {
                        let padding = promptLength - prompt.count
                        mask += [UInt8](repeating: 1, count: reused) + [UInt8](repeating: 0, count: padding) + [UInt8](repeating: 1, count: prompt.count - reused)
                        ids += [Int32](repeating: prompt[0], count: padding) + prompt[reused...]
                    }
                }
            }
            var results = prompts.map { _ in GeneratedSequence(tokens: [], logProbabilities: [], text: nil, finishReason: .length) }
            var finished = configurations.map { $0.sampling.maximumTokens <= 0 }
            var keyLength = promptLength
            // Steering: every row with `steering`; with `steeringOnTrigger`, the rows the monitor has triggered on.
            var triggered = [Bool](repeating: false, count: batch)
            func currentSteering() -> ActivationSteering? {
                if var onTrigger = steeringOnTrigger, triggered.contains(true) {
                    onTrigger.rows = triggered
                    return onTrigger
                }
                return steering
            }
            var input = ModelInput(ids: ids, batch: batch, time: ids.count / batch, attentionMask: padded ? mask : nil,
                                   positions: padded ? ModelInput.positions(fromMask: mask, batch: batch, keyLength: keyLength, time: promptLength - reused) : nil,
                                   outputHiddenStates: monitor != nil, steering: currentSteering())
            let longest = configurations.map(\.sampling.maximumTokens).max() ?? 0
            let limit = model.maximumSequenceLength.map { $0 - promptLength } ?? longest
            cache.reservedPositions = promptLength + max(0, min(longest, limit))  // room for every step: decoding never moves it
            for step in 0..<max(0, min(longest, limit)) {
                if finished.allSatisfy({ $0 }) { break }
                let output: ModelOutput?, logits: Tensor
                if step == 0, alone, let prefixCache {
                    // Each prompt as `generate` runs it alone (its own cached prefix; stored whole afterwards), then the
                    // caches right-aligned into one left-padded batch for decoding: the same mask as an uncached batch.
                    var caches: [KVCache] = [], rows: [Tensor] = []
                    for prompt in prompts {
                        let (rowCache, start) = prefixCache.lookup(prompt, layerCount: model.layerCount, precision: kvCachePrecision).map { ($0.cache, $0.length) }
                            ?? (KVCache(layerCount: model.layerCount, precision: kvCachePrecision), 0)
                        rowCache.reservedPositions = prompt.count
                        rows.append(model.forward(ModelInput(ids: Array(prompt[start...]), batch: 1, time: prompt.count - start), cache: rowCache).lastPositionLogits)
                        prefixCache.insert(prompt, cache: rowCache, fed: prompt.count - start)
                        caches.append(rowCache)
                    }
                    cache = KVCache(stacking: caches, capacity: cache.reservedPositions)
                    (output, logits) = (nil, Tensor.concatenate(rows, axis: 0))
                } else {
                    let pass = model.forward(input, cache: cache)
                    if step == 0, let prefixCache {  // the prompts' own prefill (never decoded positions) of unpadded rows
                        for (b, prompt) in prompts.enumerated() where prompt.count == promptLength {
                            prefixCache.insert(prompt, cache: cache, row: b, fed: input.time)
                        }
                    }
                    (output, logits) = (pass, pass.lastPositionLogits)  // (B, 1, V): a prefill's other positions are never sampled from
                }
                let vocabulary = logits.shape[2], time = logits.shape[1]
                let filtered = monitor.map { watch(output!.hiddenStates[$0.layer], monitor: $0, prompts: prompts, results: results, finished: finished) }
                var next = [Int32](repeating: 0, count: batch)
                logits.withUnsafeBufferPointer { all in
                    for b in 0..<batch {
                        let configuration = configurations[b]
                        let row = UnsafeBufferPointer(rebasing: all[((b * time + time - 1) * vocabulary)..<((b * time + time) * vocabulary)])
                        // Finished rows still draw, so a shared stream advances the same however rows finish.
                        let token = configuration.sampling.sample(row, generator: &generators[generatorOfRow[b]])
                        next[b] = Int32(token)
                        guard !finished[b] else { continue }
                        if filtered?[b] == true {
                            if steeringOnTrigger != nil {
                                triggered[b] = true  // steered from the next forward pass on; this token stands
                            } else {
                                finished[b] = true; results[b].finishReason = .contentFilter; continue
                            }
                        }
                        results[b].tokens.append(Int32(token))
                        let logSum = Self.logSumExp(row)
                        let logProbability = row[token] - logSum
                        results[b].logProbabilities.append(logProbability)
                        if let top = configuration.sampling.topLogProbabilities, top > 0 {
                            results[b].alternatives.append(Self.top(top, of: row, logSum: logSum))
                        }
                        onToken?(b, Int32(token), logProbability)
                    }
                }
                TokenProgress.generated(finished.filter { !$0 }.count)  // a token for every unfinished sequence
                for b in 0..<batch where !finished[b] {
                    let configuration = configurations[b]
                    if configuration.endOfSequenceTokens.contains(next[b]) {
                        finished[b] = true; results[b].finishReason = .stop
                    } else if !configuration.sampling.stop.isEmpty, let detokenize,
                              configuration.sampling.stop.contains(where: detokenize(results[b].tokens).contains) {
                        finished[b] = true; results[b].finishReason = .stop
                    } else if results[b].tokens.count >= configuration.sampling.maximumTokens {
                        finished[b] = true
                    }
                }
                if finished.allSatisfy({ $0 }) { break }
                // Next step: one token per sequence, attending everything so far.
                keyLength += 1
                for b in (0..<batch).reversed() { mask.insert(1, at: (b + 1) * (keyLength - 1)) }
                input = ModelInput(ids: next, batch: batch, time: 1, attentionMask: padded ? mask : nil,
                                   positions: padded ? ModelInput.positions(fromMask: mask, batch: batch, keyLength: keyLength, time: 1) : nil,
                                   outputHiddenStates: monitor != nil, steering: currentSteering())
            }
            if let detokenize {
                for b in 0..<batch { results[b].text = Self.cut(detokenize(results[b].tokens), at: configurations[b].sampling.stop) }
            }
            return results
        }
    }

    /// What one more prefill pass costs, in positions, when the prompts of a batch are prefilled one by one: each
    /// pass reads every weight matrix once more, about what computing 16 positions costs on a 100M-parameter model.
    static let separatePrefillCost = 16

    /// Whether prefilling each prompt on its own, from its own cached prefix (`reusable[i]` positions), feeds fewer
    /// positions than one left-padded pass of all of them from the cached prefix they share (`shared` positions).
    /// A conversation's next turn extends its own earlier prompt, which other conversations do not share.
    static func prefillsAlone(_ prompts: [[Int32]], reusable: [Int], shared: Int) -> Bool {
        let padded = prompts.count * ((prompts.map(\.count).max() ?? 0) - shared)
        let separate = zip(prompts, reusable).reduce(0) { $0 + $1.0.count - $1.1 + separatePrefillCost }
        return separate < padded
    }

    /// Shows each unfinished sequence's newly fed positions of `hidden` (B, T, C) to the monitor: at the first step the
    /// prompt's real (unpadded) tokens, then the newest token. Returns, per sequence, whether the monitor ended it.
    private func watch(_ hidden: Tensor, monitor: any GenerationMonitor, prompts: [[Int32]], results: [GeneratedSequence],
                       finished: [Bool]) -> [Bool] {
        let (time, hiddenSize) = (hidden.shape[1], hidden.shape[2])
        return hidden.withUnsafeBufferPointer { all in
            prompts.indices.map { b in
                guard !finished[b] else { return false }
                let count = results[b].tokens.isEmpty ? prompts[b].count : 1  // the first step fed the prompt
                let start = (b * time + time - count) * hiddenSize
                let rows = UnsafeBufferPointer(rebasing: all[start..<(start + count * hiddenSize)])
                return monitor.observe(sequence: b, tokenIndex: results[b].tokens.isEmpty ? nil : results[b].tokens.count - 1,
                                       hiddenStates: rows, count: count, hiddenSize: hiddenSize)
            }
        }
    }

    /// log Σ exp(row), computed stably in Double.
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Float {
        let top = row.max() ?? 0
        var sum = 0.0
        for value in row { sum += Foundation.exp(Double(value - top)) }
        return top + Float(Foundation.log(sum))
    }

    /// The `count` largest entries of a logit row as log-probabilities, largest first (ties: lower id first).
    static func top(_ count: Int, of row: UnsafeBufferPointer<Float>, logSum: Float) -> [GeneratedSequence.Alternative] {
        var best: [Int] = []
        for index in row.indices {
            if best.count < count || row[index] > row[best[best.count - 1]] {
                let position = best.firstIndex { row[index] > row[$0] } ?? best.count
                best.insert(index, at: position)
                if best.count > count { best.removeLast() }
            }
        }
        return best.map { GeneratedSequence.Alternative(token: Int32($0), logProbability: row[$0] - logSum) }
    }

    /// The text before the earliest stop string.
    static func cut(_ text: String, at stops: [String]) -> String {
        let positions = stops.compactMap { text.range(of: $0)?.lowerBound }
        guard let first = positions.min() else { return text }
        return String(text[..<first])
    }
}
