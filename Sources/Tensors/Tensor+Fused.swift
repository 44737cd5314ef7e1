import CKernels

/// Fused operations: one pass where a composition of primitives would take several, each with its own
/// gradient rule (checked against the composition in the tests).
extension Tensor {
    /// Mean cross-entropy of `targets` under softmax(`self`) over the last axis, ignoring `ignoreIndex`.
    ///
    /// self: (…, V) logits; targets: one class id per row (…). The loss is −(1/N) Σ log softmax(x)[target]
    /// over the N kept rows (0 when none are kept), without materialising the softmax.
    /// - Parameter reduction: `.mean` over kept rows (PyTorch's default) or `.sum`.
    public func crossEntropy(targets: [Int32], ignoreIndex: Int32 = -100, reduction: LossReduction = .mean) -> Tensor {
        let vocabulary = shape[rank - 1], rows = count / Swift.max(vocabulary, 1)
        precondition(targets.count == rows, "crossEntropy: \(targets.count) targets for \(rows) rows of \(shape)")
        for target in targets where target != ignoreIndex && target >= 0 {
            precondition(Int(target) < vocabulary, "crossEntropy: target \(target) outside vocabulary \(vocabulary)")
        }
        var lse = [Float](repeating: 0, count: rows)
        var kept: Int64 = 0
        let total = ck_cross_entropy_forward(Int64(rows), Int64(vocabulary), storage.pointer, targets, ignoreIndex, &lse, &kept)
        let scale: Float = reduction == .sum ? 1 : (kept > 0 ? 1 / Float(kept) : 0)
        let loss = Tensor(Float(total) * scale)
        return loss.record(Operation.crossEntropy(targets: targets, ignoreIndex: ignoreIndex, logSumExp: lse, scale: scale),
                           inputs: [self])
    }

    /// log softmax(self)[target] for every row (…, V) → (…), 0 where the target is `ignoreIndex`.
    ///
    /// The per-token log-likelihood that sequence scoring (DPO, PPO, reward models) sums over completion tokens;
    /// computed like `crossEntropy` without materialising the log-softmax.
    public func targetLogProbabilities(_ targets: [Int32], ignoreIndex: Int32 = -100) -> Tensor {
        let vocabulary = shape[rank - 1], rows = count / Swift.max(vocabulary, 1)
        precondition(targets.count == rows, "targetLogProbabilities: \(targets.count) targets for \(rows) rows of \(shape)")
        for target in targets where target != ignoreIndex && target >= 0 {
            precondition(Int(target) < vocabulary, "targetLogProbabilities: target \(target) outside vocabulary \(vocabulary)")
        }
        var lse = [Float](repeating: 0, count: rows)
        var kept: Int64 = 0
        let logits = storage.pointer
        _ = ck_cross_entropy_forward(Int64(rows), Int64(vocabulary), logits, targets, ignoreIndex, &lse, &kept)
        let result = Tensor.make(Array(shape.dropLast())) { out in
            for row in 0..<rows {
                let target = targets[row]
                out[row] = target == ignoreIndex || target < 0 ? 0 : logits[row * vocabulary + Int(target)] - lse[row]
            }
        }
        return result.record(Operation.targetLogProbabilities(targets: targets, ignoreIndex: ignoreIndex, logSumExp: lse), inputs: [self])
    }

    /// LayerNorm over the last axis: (x − mean) / √(var + eps) · weight + bias (Ba et al. 2016).
    public func layerNorm(weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) -> Tensor {
        let columns = shape[rank - 1], rows = count / Swift.max(columns, 1)
        for parameter in [weight, bias].compactMap({ $0 }) {
            precondition(parameter.shape == [columns], "layerNorm parameter \(parameter.shape) for input \(shape)")
        }
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        let result = Tensor.make(shape) { y in
            ck_layernorm_forward(Int64(rows), Int64(columns), storage.pointer, weight?.storage.pointer,
                                 bias?.storage.pointer, epsilon, y, &mean, &rstd)
        }
        return result.record(Operation.layerNorm(mean: mean, reciprocalStd: rstd, hasWeight: weight != nil, hasBias: bias != nil),
                             inputs: [self] + [weight, bias].compactMap { $0 })
    }

    /// RMSNorm over the last axis: x / √(mean(x²) + eps) · weight (Zhang & Sennrich 2019; Llama).
    public func rmsNorm(weight: Tensor?, epsilon: Float = 1e-6) -> Tensor {
        let columns = shape[rank - 1], rows = count / Swift.max(columns, 1)
        if let weight { precondition(weight.shape == [columns], "rmsNorm weight \(weight.shape) for input \(shape)") }
        var rstd = [Float](repeating: 0, count: rows)
        let result = Tensor.make(shape) { y in
            ck_rmsnorm_forward(Int64(rows), Int64(columns), storage.pointer, weight?.storage.pointer, epsilon, y, &rstd)
        }
        return result.record(Operation.rmsNorm(reciprocalStd: rstd), inputs: [self] + [weight].compactMap { $0 })
    }

    /// SwiGLU gating (Shazeer 2020): silu(self) ⊙ up, where self is the gate projection.
    public func swiGLU(_ up: Tensor) -> Tensor {
        precondition(shape == up.shape, "swiGLU gate \(shape) and up \(up.shape) differ")
        let n = count, gate = storage.pointer, u = up.storage.pointer
        let result = Tensor.make(shape) { y in
            ck_silu_forward(Int64(n), gate, y)
            for i in 0..<n { y[i] *= u[i] }
        }
        return result.record(Operation.swiGLU, inputs: [self, up])
    }

    /// Rotary position embedding (Su et al. 2021) in the rotate-half layout used by Hugging Face models.
    ///
    /// self: (B, H, T, D); cos, sin: (T, D/2) shared by the batch, or (B, T, D/2) per sequence (left-padded
    /// batches, KV-cache decoding). Not differentiable in cos/sin.
    public func rotaryEmbedding(cos: Tensor, sin: Tensor) -> Tensor {
        precondition(rank == 4 && shape[3] % 2 == 0, "rotaryEmbedding expects (B, H, T, D) with even D, got \(shape)")
        let (batch, heads, time, headSize) = (shape[0], shape[1], shape[2], shape[3])
        let perSequence = cos.rank == 3
        precondition(cos.shape == sin.shape && cos.shape == (perSequence ? [batch, time, headSize / 2] : [time, headSize / 2]),
                     "rotary tables \(cos.shape) for input \(shape)")
        let result = Tensor.make(shape) { y in
            Tensor.applyRotary(storage.pointer, y, batch: batch, heads: heads, time: time, headSize: headSize,
                               cos: cos, sin: sin, inverse: false)
        }
        return result.record(Operation.rotary(cos: cos, sin: sin), inputs: [self])
    }

    static func applyRotary(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, heads: Int,
                            time: Int, headSize: Int, cos: Tensor, sin: Tensor, inverse: Bool) {
        if cos.rank == 2 {
            ck_rope(Int64(batch * heads), Int64(time), Int64(headSize), x, cos.storage.pointer, sin.storage.pointer, y, inverse ? 1 : 0)
        } else {
            let stride = heads * time * headSize, table = time * headSize / 2
            for b in 0..<batch {
                ck_rope(Int64(heads), Int64(time), Int64(headSize), x + b * stride, cos.storage.pointer + b * table,
                        sin.storage.pointer + b * table, y + b * stride, inverse ? 1 : 0)
            }
        }
    }

    /// Scaled dot-product attention, fused (Vaswani et al. 2017; grouped-query heads, Ainslie et al. 2023).
    ///
    /// query: (B, Hq, T, D); key, value: (B, Hkv, S, D) with Hq a multiple of Hkv. With `causal`, query t
    /// attends keys ≤ t + S − T (queries are the last T positions). `keyMask` (B·S values, nonzero = keep)
    /// excludes padding keys. `segmentStarts` (B·T values) is the first key each query may attend: the start of
    /// its sequence in a packed row, so that packed sequences do not attend to each other. A query that can
    /// attend nothing outputs 0. Result: (B, Hq, T, D).
    public static func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, causal: Bool,
                                                 keyMask: [UInt8]? = nil, segmentStarts: [Int32]? = nil,
                                                 scale: Float? = nil) -> Tensor {
        precondition(query.rank == 4 && key.rank == 4 && key.shape == value.shape,
                     "attention expects (B,H,T,D) tensors, got q \(query.shape) k \(key.shape) v \(value.shape)")
        let (batch, queryHeads, time, headSize) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (keyHeads, keyTime) = (key.shape[1], key.shape[2])
        precondition(key.shape[0] == batch && key.shape[3] == headSize && queryHeads % keyHeads == 0,
                     "attention heads: q \(query.shape), k \(key.shape)")
        if let keyMask { precondition(keyMask.count == batch * keyTime, "keyMask of \(keyMask.count) for (B, S) = (\(batch), \(keyTime))") }
        if let segmentStarts {
            precondition(segmentStarts.count == batch * time, "segmentStarts of \(segmentStarts.count) for (B, T) = (\(batch), \(time))")
        }
        let scale = scale ?? 1 / Float(headSize).squareRoot()
        var lse = [Float](repeating: 0, count: batch * queryHeads * time)
        let result = Tensor.make(query.shape) { out in
            ck_attention_forward(Int64(batch), Int64(queryHeads), Int64(keyHeads), Int64(time), Int64(keyTime), Int64(headSize),
                                 query.storage.pointer, key.storage.pointer, value.storage.pointer, scale, causal ? 1 : 0,
                                 keyMask, segmentStarts, out, &lse)
        }
        return record(result, Operation.attention(output: result.detached(), logSumExp: lse, scale: scale, causal: causal, keyMask: keyMask,
                                                  segmentStarts: segmentStarts),
                      inputs: [query, key, value])
    }
}

/// How a loss combines per-example values.
public enum LossReduction: Sendable {
    case mean, sum
}
