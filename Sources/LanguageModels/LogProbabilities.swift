import Tensors

extension CausalLanguageModel {
    /// log p(token_i | tokens_<i) for i ≥ 1 of each sequence (so `count − 1` values per sequence), computed in
    /// batches of right-padded sequences (causal attention makes padding at the end invisible to real tokens).
    /// - Throws: `ContextLengthError` naming the first sequence longer than the model's context, before any runs.
    public func tokenLogProbabilities(_ sequences: [[Int32]], batchSize: Int = 8) throws -> [[Float]] {
        for (index, sequence) in sequences.enumerated() { try checkContext(tokens: sequence.count, item: "sequence \(index)") }
        return withoutGradients {
            var results: [[Float]] = []
            for start in stride(from: 0, to: sequences.count, by: max(1, batchSize)) {
                let group = Array(sequences[start..<min(start + batchSize, sequences.count)])
                let time = group.map(\.count).max() ?? 0
                guard time > 1 else { results += group.map { _ in [] }; continue }
                let ids = group.flatMap { $0 + [Int32](repeating: $0.last ?? 0, count: time - $0.count) }
                // Target at position t − 1 is the token at t; padding and the last position have none.
                var targets = [Int32](repeating: -100, count: group.count * time)
                for (b, sequence) in group.enumerated() {
                    for t in 1..<max(sequence.count, 1) { targets[b * time + t - 1] = sequence[t] }
                }
                let output = forward(ModelInput(ids: ids, batch: group.count, time: time), cache: nil)
                let (logProbabilities, _) = output.targetLogProbabilities(targets)  // (B, T)
                logProbabilities.withUnsafeBufferPointer { values in
                    for (b, sequence) in group.enumerated() {
                        results.append((1..<max(sequence.count, 1)).map { t in values[b * time + t - 1] })
                    }
                }
            }
            return results
        }
    }

    /// log p(token_i | tokens_<i) for i in `start..<sequence.count` of one sequence, starting from the longest prefix
    /// `prefixCache` holds and storing the first `start` positions (the prompt) in it. Only the last positions are
    /// projected onto the vocabulary — the scored ones, and at least 9 so that the projection takes the packed GEMM
    /// that `tokenLogProbabilities([sequence])` uses for all of them: the values are the same bit for bit on the AVX2
    /// and AVX-512 paths, unless that path's last chunk of positions has 8 or fewer (then within float rounding).
    /// - Throws: `ContextLengthError` when the sequence is longer than the model's context.
    public func tokenLogProbabilities(_ sequence: [Int32], from start: Int, prefixCache: PrefixCache) throws -> [Float] {
        precondition((1...sequence.count).contains(start), "scoring from token \(start) of a sequence of \(sequence.count)")
        try checkContext(tokens: sequence.count, item: "the sequence")
        guard start < sequence.count else { return [] }
        return withoutGradients {
            // Position start − 1 predicts the first scored token, so it is always fed.
            let hit = prefixCache.lookup(sequence, limit: start - 1, layerCount: layerCount)
            let reused = hit?.length ?? 0, cache = hit?.cache ?? KVCache(layerCount: layerCount)
            let fed = Array(sequence[reused...])
            var targets = [Int32](repeating: -100, count: fed.count)
            let projected = max(sequence.count - start, PrefixCache.minimumFedTokens - 1)  // ≤ fed − 1 rows have a next token
            for t in max(reused + 1, sequence.count - projected)..<sequence.count { targets[t - 1 - reused] = sequence[t] }
            let output = forward(ModelInput(ids: fed, batch: 1, time: fed.count), cache: cache)
            prefixCache.insert(Array(sequence[..<start]), cache: cache, fed: fed.count)
            let (logProbabilities, _) = output.targetLogProbabilities(targets)  // (1, T)
            return logProbabilities.withUnsafeBufferPointer { values in (start..<sequence.count).map { values[$0 - 1 - reused] } }
        }
    }
}
