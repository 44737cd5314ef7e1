import Foundation
import XCTest
@testable import LanguageModels
import Tensors

/// Reusing a cached prompt prefix changes nothing: logits, scored log-probabilities and generated tokens equal an
/// uncached run bit for bit (on the AVX2 and AVX-512 kernel paths; within 1e-5 on the others), on Llama
/// (grouped-query, rotary) and GPT-2 (learned positions), for a prefix cached in full, in part, and after it was
/// evicted by the budget.
final class PrefixCacheTests: XCTestCase {
    static let vocabulary = 61

    /// Weights 10× GPT-2's init so that logits are far from uniform and greedy choices are not near-ties.
    static func llama() -> LlamaModel {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (vocabulary, 16, 32)
        (configuration.layerCount, configuration.headCount, configuration.keyValueHeadCount) = (2, 4, 2)
        configuration.maximumPositionEmbeddings = 256
        var generator = SeededGenerator(seed: 11)
        let model = LlamaModel(configuration, generator: &generator)
        scaleMatrices(model)
        return model
    }

    static func scaleMatrices(_ model: any CausalLanguageModel) {
        for parameter in model.parameters() where parameter.rank == 2 {
            parameter.withUnsafeMutableBufferPointer { values in for index in values.indices { values[index] *= 10 } }
        }
    }

    static func gpt() -> GPTModel {
        var configuration = GPTConfiguration()
        (configuration.vocabularySize, configuration.contextLength, configuration.layerCount) = (vocabulary, 256, 2)
        (configuration.headCount, configuration.width) = (2, 16)
        var generator = SeededGenerator(seed: 12)
        let model = GPTModel(configuration, generator: &generator)
        scaleMatrices(model)
        return model
    }

    static var models: [(String, any CausalLanguageModel)] { [("llama", llama()), ("gpt", gpt())] }

    /// Whether this machine's kernel path promises bit-identical cached results (see ``PrefixCache``).
    static let bitIdentical = ["avx2", "avx512"].contains(MachineDescription.current.kernelPath)

    /// Equal bit for bit where the path promises it, else within 1e-5.
    func assertSame(_ actual: [Float], _ expected: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        if Self.bitIdentical {
            XCTAssertEqual(actual, expected, "\(message): the cached path should be bit-identical", file: file, line: line)
        } else {
            XCTAssertLessThanOrEqual(zip(actual, expected).map { abs($0 - $1) }.max() ?? 0, 1e-5, message, file: file, line: line)
        }
    }

    static func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int32(generator.next() % UInt64(vocabulary)) }
    }

    /// (T, V) logits of one sequence run whole.
    static func logits(_ model: any CausalLanguageModel, _ tokens: [Int32], cache: KVCache? = nil) -> [Float] {
        withoutGradients { model.forward(ModelInput(ids: tokens, batch: 1, time: tokens.count), cache: cache).logits.scalars }
    }

    func testCachedLogitsEqualAWholePrefill() {
        for (name, model) in Self.models {
            let sequence = Self.tokens(75, seed: 1)
            let whole = Self.logits(model, sequence)
            // Prefill 37 tokens (not a multiple of the attention kernel's 32-row tiles) and store them.
            let prefixCache = PrefixCache()
            let first = KVCache(layerCount: model.layerCount)
            _ = Self.logits(model, Array(sequence[..<37]), cache: first)
            prefixCache.insert(Array(sequence[..<37]), cache: first, fed: 37)
            guard let hit = prefixCache.lookup(sequence, layerCount: model.layerCount) else { return XCTFail("\(name): no hit") }
            XCTAssertEqual(hit.length, 37)
            let rest = Self.logits(model, Array(sequence[37...]), cache: hit.cache)
            let expected = Array(whole[(37 * Self.vocabulary)...])
            assertSame(rest, expected, name)
        }
    }

    func testALookupAlwaysLeavesEnoughTokensToFeed() {
        let model = Self.llama(), sequence = Self.tokens(30, seed: 2)
        let prefixCache = PrefixCache(), cache = KVCache(layerCount: model.layerCount)
        _ = Self.logits(model, sequence, cache: cache)
        prefixCache.insert(sequence, cache: cache, fed: sequence.count)
        XCTAssertEqual(prefixCache.lookup(sequence, layerCount: 2)?.length, 30 - PrefixCache.minimumFedTokens)
        XCTAssertEqual(prefixCache.lookup(Array(sequence[..<20]) + [1, 2], layerCount: 2)?.length, 22 - PrefixCache.minimumFedTokens)
        XCTAssertEqual(prefixCache.lookup(sequence, limit: 9, layerCount: 2)?.length, 9)
        XCTAssertNil(prefixCache.lookup(Array(sequence[..<10]), layerCount: 2), "10 tokens leave nothing to reuse")
        // A prefill of fewer rows rounds differently: it is never stored.
        let short = KVCache(layerCount: 2), few = Array(sequence[..<9])
        _ = Self.logits(model, few, cache: short)
        prefixCache.insert(few, cache: short, fed: 9)
        XCTAssertEqual(prefixCache.count, 1)
    }

    func testScoredLogProbabilitiesEqualUncachedOnes() throws {
        for (name, model) in Self.models {
            let prefixCache = PrefixCache()
            let shared = Self.tokens(50, seed: 3)
            for (index, completion) in ([[7, 8, 9], [7, 10, 11, 12], [13]] as [[Int32]]).enumerated() {
                let sequence = shared + completion
                let expected = try model.tokenLogProbabilities([sequence])[0].suffix(completion.count)
                let cached = try model.tokenLogProbabilities(sequence, from: shared.count, prefixCache: prefixCache)
                assertSame(cached, Array(expected), "\(name) completion \(index)")
            }
            // The first call stored the shared prompt; the next two reused it but for the last positions that make
            // up the 10 tokens always fed.
            XCTAssertEqual(prefixCache.statistics.hits, 2, name)
            XCTAssertEqual(prefixCache.statistics.reusedTokens, (shared.count + 4 - PrefixCache.minimumFedTokens) + (shared.count + 1 - PrefixCache.minimumFedTokens), name)
        }
    }

    func testGenerationIsIdenticalWithTheCacheOnAndOff() {
        for (name, model) in Self.models {
            // First tokens chosen so that prompts share exactly the prefixes the comments say.
            let few = [0] + Self.tokens(39, seed: 4), answer = [2] + Self.tokens(11, seed: 5)
            let prompts = [
                few + answer,  // 52 tokens, stored
                few + answer + [4] + Self.tokens(11, seed: 6),  // extends the first: reuses its 52 positions, replaces it
                few + [3] + Self.tokens(14, seed: 7),  // shares only the 40-token few-shot block; evicts the entry it used
                [1] + Self.tokens(29, seed: 8),  // unrelated: evicts the previous entry
                few + answer,  // evicted meanwhile: prefilled in full again
            ]
            // Budget for one entry of up to 70 positions: 2 layers × (keys + values) × Hkv·D floats per position.
            let perPosition = model.layerCount * 2 * (name == "llama" ? 2 * 4 : 16) * MemoryLayout<Float>.stride
            let prefixCache = PrefixCache(byteBudget: 70 * perPosition)
            var cached = Generator(model: model)
            cached.prefixCache = prefixCache
            let plain = Generator(model: model)
            for options in [SamplingOptions(maximumTokens: 10, temperature: 0), SamplingOptions(maximumTokens: 10, temperature: 1, seed: 9)] {
                prefixCache.removeAll()
                for (index, prompt) in prompts.enumerated() {
                    let configuration = GenerationConfiguration(sampling: options)
                    let expected = plain.generate(prompts: [prompt], configuration: configuration)[0]
                    let actual = cached.generate(prompts: [prompt], configuration: configuration)[0]
                    XCTAssertEqual(actual.tokens, expected.tokens, "\(name) prompt \(index) temperature \(options.temperature)")
                    assertSame(actual.logProbabilities, expected.logProbabilities, "\(name) prompt \(index)")
                }
            }
            let statistics = prefixCache.statistics
            XCTAssertEqual(statistics.lookups, 10, name)
            XCTAssertEqual(statistics.hits, 4, "\(name): prompts 1 and 2 hit, 3 and 4 do not: \(statistics)")
            XCTAssertEqual(statistics.reusedTokens, 2 * (52 + 40), "\(name): \(statistics)")
            XCTAssertEqual(statistics.evictions, 6, name)
            XCTAssertLessThanOrEqual(prefixCache.bytes, 70 * perPosition)
        }
    }

    /// With a half-precision KV cache (`--kv-cache f16`) generation is again the same with the prefix cache on and
    /// off, and the two precisions never serve each other's entries.
    func testAHalfPrecisionCacheReusesOnlyHalfPrecisionPrefixes() {
        for (name, model) in Self.models {
            let few = [0] + Self.tokens(39, seed: 40)
            let prompts = [few + [2] + Self.tokens(11, seed: 41), few + [3] + Self.tokens(12, seed: 42)]
            let prefixCache = PrefixCache()
            var plain = Generator(model: model), cached = Generator(model: model), single = Generator(model: model)
            plain.kvCachePrecision = .float16
            cached.kvCachePrecision = .float16
            cached.prefixCache = prefixCache
            single.prefixCache = prefixCache
            let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 8, temperature: 0))
            for (index, prompt) in prompts.enumerated() {
                let expected = plain.generate(prompts: [prompt], configuration: configuration)[0]
                let actual = cached.generate(prompts: [prompt], configuration: configuration)[0]
                XCTAssertEqual(actual.tokens, expected.tokens, "\(name) prompt \(index)")
                assertSame(actual.logProbabilities, expected.logProbabilities, "\(name) prompt \(index)")
            }
            XCTAssertEqual(prefixCache.statistics.hits, 1, "\(name): the second prompt reuses the first's few-shot block")
            let float32 = Generator(model: model).generate(prompts: [prompts[1]], configuration: configuration)[0]
            let fromTheCache = single.generate(prompts: [prompts[1]], configuration: configuration)[0]
            XCTAssertEqual(prefixCache.statistics.hits, 1, "\(name): a float32 cache finds no half-precision entry")
            assertSame(fromTheCache.logProbabilities, float32.logProbabilities, "\(name) float32")
            XCTAssertNotEqual(float32.logProbabilities, plain.generate(prompts: [prompts[1]], configuration: configuration)[0].logProbabilities,
                              "\(name): half-precision keys and values round")
        }
    }

    /// A batch (as `charter serve` forms) starts from the prefix its prompts share; padding then sits between the
    /// prefix and each prompt's rest. Batched arithmetic rounds differently from a lone prompt (as without the cache).
    func testABatchSharingACachedPrefixEqualsEachPromptAlone() {
        for (name, model) in Self.models {
            let few = [0] + Self.tokens(39, seed: 30)
            let prompts = [few + [2] + Self.tokens(9, seed: 31), few + [3] + Self.tokens(10, seed: 32), few + [4] + Self.tokens(12, seed: 33)]
            let prefixCache = PrefixCache()
            var cached = Generator(model: model)
            cached.prefixCache = prefixCache
            _ = cached.generate(prompts: [few + [5, 6, 7, 8]], configuration: GenerationConfiguration(sampling: .greedy))
            let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 8, temperature: 0))
            let batched = cached.generate(prompts: prompts, configuration: configuration)
            XCTAssertEqual(prefixCache.statistics.hits, 1, name)
            XCTAssertEqual(prefixCache.statistics.reusedTokens, 40, name)
            for (prompt, result) in zip(prompts, batched) {
                let alone = Generator(model: model).generate(prompts: [prompt], configuration: configuration)[0]
                XCTAssertEqual(result.tokens, alone.tokens, name)
                for (a, b) in zip(result.logProbabilities, alone.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-4, name) }
            }
            // The longest prompt (unpadded) was stored; it serves itself alone next time, bit for bit.
            let longest = prompts[2]
            XCTAssertEqual(prefixCache.lookup(longest + [1], layerCount: model.layerCount)?.length, longest.count + 1 - PrefixCache.minimumFedTokens)
            let again = cached.generate(prompts: [longest], configuration: configuration)[0]
            let fresh = Generator(model: model).generate(prompts: [longest], configuration: configuration)[0]
            XCTAssertEqual(again.tokens, fresh.tokens, name)
            assertSame(again.logProbabilities, fresh.logProbabilities, name)
        }
    }

    /// A batch of conversations' next turns (as `charter critique --batch` sends them) prefills each turn from its own
    /// conversation's cached prompt, not only from the few-shot block all share, and stores every turn, not only the
    /// longest: each row's prefill is then the one it gets alone, bit for bit.
    func testABatchOfNextTurnsPrefillsEachFromItsOwnConversation() {
        for (name, model) in Self.models { for precision in SequenceBuffer.Precision.allCases {
            let name = "\(name) \(precision.rawValue)"
            let few = [0] + Self.tokens(39, seed: 50)
            let conversations = [few + [2] + Self.tokens(20, seed: 51), few + [3] + Self.tokens(25, seed: 52), few + [4] + Self.tokens(15, seed: 53)]
            let prefixCache = PrefixCache()
            var cached = Generator(model: model), plain = Generator(model: model)
            (cached.prefixCache, cached.kvCachePrecision, plain.kvCachePrecision) = (prefixCache, precision, precision)
            let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 6, temperature: 0))
            for conversation in conversations { _ = cached.generate(prompts: [conversation], configuration: configuration) }
            let before = prefixCache.statistics
            let turns = conversations.enumerated().map { $0.element + [5] + Self.tokens(12, seed: 54 + UInt64($0.offset)) }
            // Alone each turn feeds 13 tokens (+16 per pass, 87 in all); padded from the shared 40 it would feed 3 × 39.
            XCTAssertTrue(Generator.prefillsAlone(turns, reusable: conversations.map(\.count), shared: 40), name)
            let batched = cached.generate(prompts: turns, configuration: configuration)
            let statistics = prefixCache.statistics
            XCTAssertEqual(statistics.lookups - before.lookups, 3, "\(name): one lookup per turn")
            XCTAssertEqual(statistics.reusedTokens - before.reusedTokens, conversations.map(\.count).reduce(0, +), "\(name): \(statistics)")
            for (turn, result) in zip(turns, batched) {
                let alone = plain.generate(prompts: [turn], configuration: configuration)[0]
                XCTAssertEqual(result.tokens, alone.tokens, name)
                // The first token comes from the turn's own prefill: the bits of the uncached run alone.
                assertSame(Array(result.logProbabilities.prefix(1)), Array(alone.logProbabilities.prefix(1)), "\(name): first token")
                for (a, b) in zip(result.logProbabilities, alone.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-4, name) }
                // Every turn was stored, whatever its length in the batch.
                XCTAssertEqual(prefixCache.reusableLength(turn + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], layerCount: model.layerCount, precision: precision),
                               turn.count, name)
            }
        } }
    }

    /// A batch whose prompts share their cached prefix and little else is still prefilled as one padded pass.
    func testPromptsThatShareOnlyTheirPrefixArePrefilledTogether() {
        XCTAssertFalse(Generator.prefillsAlone([[Int32]](repeating: Array(repeating: 1, count: 53), count: 3), reusable: [40, 40, 40], shared: 40))
        // Without a cached prefix, prompts of one length gain nothing from separate passes.
        XCTAssertFalse(Generator.prefillsAlone([[1, 2, 3], [4, 5, 6]], reusable: [0, 0], shared: 0))
    }

    func testEntriesAreMergedAndEvictedLeastRecentlyUsedFirst() {
        let model = Self.gpt()
        func stored(_ tokens: [Int32]) -> KVCache {
            let cache = KVCache(layerCount: model.layerCount)
            _ = Self.logits(model, tokens, cache: cache)
            return cache
        }
        let a = Self.tokens(10, seed: 20), b = Self.tokens(10, seed: 21), c = Self.tokens(10, seed: 22)
        let perEntry = 10 * model.layerCount * 2 * 16 * MemoryLayout<Float>.stride
        let prefixCache = PrefixCache(byteBudget: 2 * perEntry + perEntry / 2)
        prefixCache.insert(a, cache: stored(a), fed: 10)
        prefixCache.insert(a + b, cache: stored(a + b), fed: 20)
        XCTAssertEqual(prefixCache.count, 1, "a + b replaces a")
        XCTAssertEqual(prefixCache.bytes, 2 * perEntry)
        prefixCache.insert(a, cache: stored(a), fed: 10)
        XCTAssertEqual(prefixCache.count, 1, "a is already covered by a + b")
        prefixCache.insert(b, cache: stored(b), fed: 10)  // over budget: a + b is the least recently used
        XCTAssertEqual(prefixCache.count, 1)
        XCTAssertEqual(prefixCache.statistics.evictions, 1)
        XCTAssertNil(prefixCache.lookup(a + c, layerCount: model.layerCount))
        XCTAssertEqual(prefixCache.lookup(b + c, layerCount: model.layerCount)?.length, 10)
        prefixCache.insert(c + c + c, cache: stored(c + c + c), fed: 30)  // larger than the whole budget: not kept
        XCTAssertEqual(prefixCache.count, 1)
        XCTAssertEqual(PrefixCache(byteBudget: 0).lookup(a, layerCount: 2)?.length, nil)
    }
}
