import CKernels
import Foundation

/// Per-token log-probabilities through a language model's output projection, without materialising the
/// (…, V) logits: the loss of every trainer (SFT's cross-entropy, DPO/ORPO/KTO/PPO sequence log-probabilities).
///
/// A batch of 8 × 1024 tokens over a 49,152-token vocabulary has 1.6 GB of logits and as much again for their
/// gradient. Here the rows that have a target are processed in chunks: a chunk's logits are computed, reduced
/// to log p(target) (and, on request, entropy and argmax), and dropped; the backward pass recomputes them to form
/// ∂logits and accumulates ∂hidden and ∂weight (the latter only when the weight is trained — not under LoRA).
/// Rows without a target (prompt, padding) cost nothing. Checked against `matmul` + `targetLogProbabilities`
/// in `ProjectedLogProbabilityTests`. The three products follow `MatmulPrecision.current`.
extension Tensor {
    /// What the vocabulary distribution of each row with a target looked like (no gradient).
    public struct VocabularyStatistics {
        /// Entropy of softmax(logits), per row of `hidden` (0 at rows without a target).
        public var entropy: [Double]
        /// Index of the largest logit, per row (−1 at rows without a target).
        public var argmax: [Int32]
        /// Mean of the logits over the vocabulary, per row (0 at rows without a target).
        public var logitMean: [Double]
    }

    /// log softmax(scale · hidden · weightᵀ)[target] for every row of `hidden`, 0 where the target is `ignoreIndex`
    /// (or negative).
    ///
    /// hidden: (…, C); weight: (V, C); targets: one id per row (…) → (…), on the tape in hidden and weight.
    /// - Parameters:
    ///   - logitScale: multiplies the logits (1 / temperature for PPO's tempered policy).
    ///   - statistics: also compute `VocabularyStatistics` (one more pass over each chunk's logits).
    ///   - chunkElements: at most this many logits exist at once (rows per chunk = chunkElements / V, at least 1).
    public static func projectedLogProbabilities(hidden: Tensor, weight: Tensor, targets: [Int32], ignoreIndex: Int32 = -100,
                                                 logitScale: Float = 1, statistics: Bool = false,
                                                 chunkElements: Int = 1 << 24) -> (Tensor, VocabularyStatistics?) {
        let columns = hidden.shape[hidden.rank - 1], rows = hidden.count / Swift.max(columns, 1)
        let vocabulary = weight.shape[0]
        precondition(weight.rank == 2 && weight.shape[1] == columns,
                     "projectedLogProbabilities: weight \(weight.shape) for hidden \(hidden.shape)")
        precondition(targets.count == rows, "projectedLogProbabilities: \(targets.count) targets for \(rows) rows of \(hidden.shape)")
        var keptRows: [Int32] = [], keptTargets: [Int32] = []
        for (row, target) in targets.enumerated() where target != ignoreIndex && target >= 0 {
            precondition(Int(target) < vocabulary, "projectedLogProbabilities: target \(target) outside vocabulary \(vocabulary)")
            keptRows.append(Int32(row))
            keptTargets.append(target)
        }
        let plan = ProjectionChunks(rows: keptRows, targets: keptTargets, columns: columns, vocabulary: vocabulary,
                                    scale: logitScale, chunkElements: chunkElements)
        var logSumExp = [Float](repeating: 0, count: keptRows.count)
        var found = statistics ? VocabularyStatistics(entropy: .init(repeating: 0, count: rows), argmax: .init(repeating: -1, count: rows),
                                                      logitMean: .init(repeating: 0, count: rows)) : nil
        let result = Tensor.make(Array(hidden.shape.dropLast())) { out in
            out.initialize(repeating: 0, count: rows)
            plan.forEachChunk(hidden: hidden, weight: weight) { start, count, logits in
                var kept: Int64 = 0
                logSumExp.withUnsafeMutableBufferPointer { lse in
                    _ = ck_cross_entropy_forward(Int64(count), Int64(vocabulary), logits, Array(keptTargets[start..<(start + count)]),
                                                 ignoreIndex, lse.baseAddress! + start, &kept)
                }
                for i in 0..<count {
                    let row = Int(keptRows[start + i]), target = Int(keptTargets[start + i])
                    out[row] = logits[i * vocabulary + target] - logSumExp[start + i]
                }
                if found != nil { Self.describe(logits, rows: keptRows[start..<(start + count)], vocabulary: vocabulary, into: &found!) }
            }
        }
        let operation = Operation.projectedLogProbabilities(plan: plan, logSumExp: logSumExp)
        return (record(result, operation, inputs: [hidden, weight]), found)
    }

    /// Entropy (relative to the largest logit, in double precision), argmax and mean of a chunk's rows of logits, one
    /// row of `logits` per entry of `rows` (the row of the result it describes); the rows run in parallel
    /// (`ck_logit_statistics`: on a real vocabulary this is hundreds of millions of exponentials per batch).
    private static func describe(_ logits: UnsafeMutablePointer<Float>, rows: ArraySlice<Int32>, vocabulary: Int,
                                 into found: inout VocabularyStatistics) {
        var entropy = [Double](repeating: 0, count: rows.count), mean = entropy
        var argmax = [Int32](repeating: 0, count: rows.count)
        ck_logit_statistics(Int64(rows.count), Int64(vocabulary), logits, &entropy, &argmax, &mean)
        for (i, row) in rows.enumerated() {
            found.entropy[Int(row)] = entropy[i]
            found.argmax[Int(row)] = argmax[i]
            found.logitMean[Int(row)] = mean[i]
        }
    }

    /// ∂L/∂hidden and ∂L/∂weight of `projectedLogProbabilities` (nil for an input that is not tracked): each chunk's
    /// logits are recomputed, turned into ∂log p/∂logits = onehot − softmax scaled by the row's gradient, and
    /// multiplied back through the projection.
    static func projectedLogProbabilityGradients(_ plan: ProjectionChunks, logSumExp: [Float], hidden: Tensor, weight: Tensor,
                                                 _ g: Tensor) -> [Tensor?] {
        let columns = plan.columns, vocabulary = plan.vocabulary
        let hiddenGradient = hidden.isTracked ? Tensor.zeros(hidden.shape) : nil
        let weightGradient = weight.isTracked ? Tensor.zeros(weight.shape) : nil
        guard hiddenGradient != nil || weightGradient != nil else { return [nil, nil] }
        plan.forEachChunk(hidden: hidden, weight: weight) { start, count, logits in
            Array(logSumExp[start..<(start + count)]).withUnsafeBufferPointer { lse in
                ck_cross_entropy_backward(Int64(count), Int64(vocabulary), logits, Array(plan.targets[start..<(start + count)]),
                                          -1, lse.baseAddress!, -1, logits)
            }
            for i in 0..<count {
                let scale = g.storage.pointer[Int(plan.rows[start + i])], base = logits + i * vocabulary
                for v in 0..<vocabulary { base[v] *= scale }
            }
            // ∂logits of the unscaled product is scale · ∂(scaled logits).
            if let hiddenGradient {
                var chunk = [Float](repeating: 0, count: count * columns)
                sgemm(0, 0, Int64(count), Int64(columns), Int64(vocabulary), plan.scale, logits, Int64(vocabulary),
                      weight.storage.pointer, Int64(columns), 0, &chunk, Int64(columns))
                let destination = hiddenGradient.storage.pointer
                chunk.withUnsafeBufferPointer { source in
                    for i in 0..<count {
                        (destination + Int(plan.rows[start + i]) * columns).update(from: source.baseAddress! + i * columns, count: columns)
                    }
                }
            }
            if let weightGradient {
                plan.gatherHidden(hidden, start: start, count: count) { gathered in
                    sgemm(1, 0, Int64(vocabulary), Int64(columns), Int64(count), plan.scale, logits, Int64(vocabulary),
                          gathered, Int64(columns), 1, weightGradient.storage.pointer, Int64(columns))
                }
            }
        }
        return [hiddenGradient, weightGradient]
    }
}

/// The rows with a target, in chunks of at most `rowsPerChunk`, and the GEMM that makes a chunk's logits.
struct ProjectionChunks {
    /// Rows of the flattened hidden states that have a target, ascending, and their targets.
    let rows: [Int32]
    let targets: [Int32]
    let columns: Int
    let vocabulary: Int
    let scale: Float
    let rowsPerChunk: Int

    init(rows: [Int32], targets: [Int32], columns: Int, vocabulary: Int, scale: Float, chunkElements: Int) {
        self.rows = rows
        self.targets = targets
        self.columns = columns
        self.vocabulary = vocabulary
        self.scale = scale
        rowsPerChunk = Swift.max(1, Swift.min(rows.count, chunkElements / Swift.max(vocabulary, 1)))
    }

    /// Calls `body(start, count, logits)` for each chunk of kept rows with that chunk's (count, V) logits,
    /// which `body` may overwrite.
    func forEachChunk(hidden: Tensor, weight: Tensor, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        guard !rows.isEmpty else { return }
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerChunk * vocabulary)
        defer { logits.deallocate() }
        for start in stride(from: 0, to: rows.count, by: rowsPerChunk) {
            let count = Swift.min(rowsPerChunk, rows.count - start)
            gatherHidden(hidden, start: start, count: count) { gathered in
                sgemm(0, 1, Int64(count), Int64(vocabulary), Int64(columns), scale, gathered, Int64(columns),
                      weight.storage.pointer, Int64(columns), 0, logits, Int64(vocabulary))
            }
            body(start, count, logits)
        }
    }

    /// The hidden rows of chunk `start..<start + count`, contiguous (count, C).
    func gatherHidden(_ hidden: Tensor, start: Int, count: Int, _ body: (UnsafePointer<Float>) -> Void) {
        let source = hidden.storage.pointer
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: count * columns)
        defer { gathered.deallocate() }
        for i in 0..<count {
            (gathered + i * columns).update(from: source + Int(rows[start + i]) * columns, count: columns)
        }
        body(gathered)
    }
}
