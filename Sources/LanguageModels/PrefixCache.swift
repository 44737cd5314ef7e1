import Foundation
import Tensors

/// Keys and values of token prefixes already run through a model, reused by later requests that start with the same
/// tokens (automatic prefix caching, as vLLM's): Constitutional AI's critique, revision and comparison prompts
/// repeat long few-shot blocks, and a revision prompt is its critique prompt plus a few lines.
///
/// Entries are whole prefixes (one sequence's keys and values, every layer), matched token by token: a request
/// reuses the longest common prefix with any entry. An entry that another one extends is dropped (the longer one
/// serves both), so a conversation growing over rounds occupies one entry. Memory is bounded by `byteBudget`; the
/// least recently used entries go first.
///
/// Reuse does not change generation: only keys and values computed by a prompt's own prefill are stored (never those
/// of generated tokens, which one-row decoding steps compute with different rounding), and a request always feeds at
/// least ``minimumFedTokens`` tokens, so on the AVX2 and AVX-512 kernel paths every logit is bit-identical to a run
/// without the cache (on the portable and NEON paths attention's tiles of a few rows may round differently: equal
/// within float rounding); so are scored log-probabilities
/// (``CausalLanguageModel/tokenLogProbabilities(_:from:prefixCache:)``, with one exception named there).
public final class PrefixCache: @unchecked Sendable {
    /// Products of at most 8 rows take the GEMM's skinny kernel, and attention computes the scores of fewer than 4
    /// query rows as dot products; both round differently from the packed products a whole prefill uses
    /// (`skinny` in CKernels/gemm.c, `CK_ATTENTION_MIN_ROWS_FOR_TRANSPOSE` in attention.c). Feeding at least 10
    /// tokens (9 rows of logits when scoring) keeps the cached path on the same kernels for float weights. Quantized
    /// weights multiply fewer than 16–48 rows (by type: `ck_q_gemm_rows` in quant.c) with int8-quantized activations and
    /// more through the float GEMM, so with them a cached request that feeds fewer tokens than that while the whole
    /// prompt has more rounds differently from a whole prefill: equal within quantization rounding, not bit for bit.
    public static let minimumFedTokens = 10
    /// The default budget: 512 MiB holds ~11,600 positions of SmolLM2-135M (46 KB each) or ~4,000 of Qwen2-0.5B.
    public static let defaultByteBudget = 512 << 20

    /// Most bytes of keys and values kept (0: nothing is cached).
    public let byteBudget: Int

    /// Counters since the cache was made.
    public struct Statistics: Equatable, Sendable {
        /// Requests that looked for a prefix, and those that found one.
        public var lookups = 0, hits = 0
        /// Positions reused (not recomputed) and positions fed to the model by requests that looked.
        public var reusedTokens = 0, fedTokens = 0
        /// Entries dropped for the budget.
        public var evictions = 0
    }

    private struct Entry {
        var tokens: [Int32]
        var keys: [Tensor]  // per layer (1, Hkv, S, D)
        var values: [Tensor]
        /// The KV cache's precision they came from (half-precision values, widened): served only to caches of it.
        var precision: SequenceBuffer.Precision
        var bytes: Int
        var lastUse: Int
    }

    private var entries: [Entry] = []
    private var clock = 0
    private var counters = Statistics()
    private let lock = NSLock()

    public init(byteBudget: Int = PrefixCache.defaultByteBudget) {
        precondition(byteBudget >= 0, "prefix cache budget \(byteBudget) bytes is negative")
        self.byteBudget = byteBudget
    }

    /// Bytes of keys and values held now.
    public var bytes: Int { lock.withLock { entries.reduce(0) { $0 + $1.bytes } } }
    /// Cached prefixes now.
    public var count: Int { lock.withLock { entries.count } }
    public var statistics: Statistics { lock.withLock { counters } }

    /// A KV cache holding the longest cached prefix of `tokens` that leaves at least ``minimumFedTokens`` of them to
    /// feed, and no more than `limit` positions, with its length; nil when no entry shares enough.
    /// - Parameters:
    ///   - limit: the most positions to reuse (e.g. so that a scored token's predecessor is fed).
    ///   - batch: rows of the returned cache, each holding the prefix (for a batch of prompts that share it).
    func lookup(_ tokens: [Int32], limit: Int? = nil, batch: Int = 1, layerCount: Int,
                precision: SequenceBuffer.Precision = .float32) -> (length: Int, cache: KVCache)? {
        lock.withLock {
            counters.lookups += 1
            let usable = min(tokens.count - Self.minimumFedTokens, limit ?? .max)
            var best: (index: Int, length: Int)?
            for (index, entry) in entries.enumerated() where entry.precision == precision {
                let shared = min(Self.commonPrefixLength(entry.tokens, tokens), usable)
                if shared > (best?.length ?? 0) { best = (index, shared) }
            }
            guard let best, entries[best.index].keys.count == layerCount else {
                counters.fedTokens += tokens.count
                return nil
            }
            clock += 1
            entries[best.index].lastUse = clock
            counters.hits += 1
            counters.reusedTokens += best.length
            counters.fedTokens += tokens.count - best.length
            let entry = entries[best.index]
            func prefix(_ t: Tensor) -> Tensor {
                let row = t.shape[2] == best.length ? t : t.slice(axis: 2, 0..<best.length)
                return batch == 1 ? row : Tensor.concatenate(Array(repeating: row, count: batch), axis: 0)
            }
            return (best.length, KVCache(keys: entry.keys.map(prefix), values: entry.values.map(prefix), precision: precision))
        }
    }

    /// The positions ``lookup(_:limit:batch:layerCount:precision:)`` would reuse for `tokens` (0: none), without using
    /// an entry or counting a lookup: for choosing how to prefill before doing it.
    func reusableLength(_ tokens: [Int32], limit: Int? = nil, layerCount: Int, precision: SequenceBuffer.Precision = .float32) -> Int {
        lock.withLock {
            let usable = min(tokens.count - Self.minimumFedTokens, limit ?? .max)
            return entries.filter { $0.precision == precision && $0.keys.count == layerCount }
                .map { min(Self.commonPrefixLength($0.tokens, tokens), usable) }.max().map { max($0, 0) } ?? 0
        }
    }

    /// Stores the keys and values `cache` holds for `tokens` (row `row`, whose first `tokens.count` positions are
    /// these tokens, unpadded), when the forward pass that made them fed at least ``minimumFedTokens`` tokens (`fed`):
    /// fewer rows round differently from an uncached prefill. A buffer that holds exactly that is shared, not copied:
    /// a KV cache that grows moves to new storage.
    func insert(_ tokens: [Int32], cache: KVCache, row: Int = 0, fed: Int) {
        guard fed >= Self.minimumFedTokens, !tokens.isEmpty, byteBudget > 0, cache.keys.allSatisfy({ $0 != nil }), cache.values.allSatisfy({ $0 != nil }),
              cache.keys.allSatisfy({ $0!.batch > row && $0!.length >= tokens.count }) else { return }
        let keys = cache.keys.map { $0!.tensor(rows: row..<(row + 1), positions: tokens.count) }
        let values = cache.values.map { $0!.tensor(rows: row..<(row + 1), positions: tokens.count) }
        let bytes = (keys + values).reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
        lock.withLock {
            clock += 1
            // Already covered by a longer (or equal) entry: only refresh it.
            if let index = entries.firstIndex(where: { $0.precision == cache.precision && $0.tokens.count >= tokens.count && $0.tokens.starts(with: tokens) }) {
                entries[index].lastUse = clock
                return
            }
            guard bytes <= byteBudget else { return }
            entries.removeAll { $0.precision == cache.precision && tokens.starts(with: $0.tokens) }  // the new entry serves their requests too
            entries.append(Entry(tokens: tokens, keys: keys, values: values, precision: cache.precision, bytes: bytes, lastUse: clock))
            var total = entries.reduce(0) { $0 + $1.bytes }
            while total > byteBudget, let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
                total -= entries[oldest].bytes
                entries.remove(at: oldest)
                counters.evictions += 1
            }
        }
    }

    /// Drops every entry (e.g. after the model's weights change).
    public func removeAll() { lock.withLock { entries.removeAll() } }

    static func commonPrefixLength(_ a: [Int32], _ b: [Int32]) -> Int {
        var length = 0
        let end = min(a.count, b.count)
        while length < end && a[length] == b[length] { length += 1 }
        return length
    }
}
