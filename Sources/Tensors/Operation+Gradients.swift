import CKernels

/// The gradient rules of every operation, in one table (as tinygrad keeps them).
///
/// Each rule receives the operation's recorded inputs (every shape; the values and output that `readsInput` and
/// `readsOutput` say it reads) and ∂L/∂output, and returns ∂L/∂input for every input (nil where an input needs
/// none). Rules run with recording off and may use any tensor operation.
extension Operation {
    func gradients(inputs: RecordedInputs, outputGradient g: Tensor) -> [Tensor?] {
        let shapes = inputs.shapes
        switch self {
        case .binary(let kind):
            switch kind {
            case .add: return [g.summed(toShape: shapes[0]), g.summed(toShape: shapes[1])]
            case .subtract: return [g.summed(toShape: shapes[0]), (-g).summed(toShape: shapes[1])]
            case .multiply:
                return [inputs.tracked[0] ? (g * inputs[1]).summed(toShape: shapes[0]) : nil,
                        inputs.tracked[1] ? (g * inputs[0]).summed(toShape: shapes[1]) : nil]
            case .divide:
                // d(a/b)/db = −a/b² = −output/b
                let b = inputs[1]
                return [(g / b).summed(toShape: shapes[0]), inputs.tracked[1] ? (-(g * inputs.output) / b).summed(toShape: shapes[1]) : nil]
            }

        case .affine(let scale):
            return [g * scale]

        case .unary(let kind):
            if kind.readsOutput {
                let output = inputs.output
                switch kind {
                case .tanh: return [g * (1 - output.squared())]
                case .sigmoid: return [g * output * (1 - output)]
                case .sqrt: return [g / (output * 2)]
                default: return [g * output]  // exp
                }
            }
            let x = inputs[0], n = Int64(x.count)
            switch kind {
            case .exp, .tanh, .sigmoid, .sqrt: preconditionFailure("\(kind) reads its output")
            case .log: return [g / x]
            case .geluTanh: return [Tensor.make(x.shape) { ck_gelu_tanh_backward(n, x.storage.pointer, g.storage.pointer, $0) }]
            case .geluErf: return [Tensor.make(x.shape) { ck_gelu_erf_backward(n, x.storage.pointer, g.storage.pointer, $0) }]
            case .silu: return [Tensor.make(x.shape) { ck_silu_backward(n, x.storage.pointer, g.storage.pointer, $0) }]
            case .relu: return [Tensor.make(x.shape) { dx in
                for i in 0..<x.count { dx[i] = x.storage.pointer[i] > 0 ? g.storage.pointer[i] : 0 }
            }]
            case .square: return [g * x * 2]
            case .abs: return [Tensor.make(x.shape) { dx in
                for i in 0..<x.count {
                    let value = x.storage.pointer[i]
                    dx[i] = value > 0 ? g.storage.pointer[i] : (value < 0 ? -g.storage.pointer[i] : 0)
                }
            }]
            case .power(let p): return [g * x.pow(p - 1) * p]
            }

        case .clamp(let lower, let upper):
            let x = inputs[0]
            return [Tensor.make(x.shape) { dx in
                for i in 0..<x.count {
                    let value = x.storage.pointer[i]
                    dx[i] = value >= lower && value <= upper ? g.storage.pointer[i] : 0
                }
            }]

        case .reshape(let from):
            return [g.reshaped(from)]

        case .permute(let axes):
            var inverse = [Int](repeating: 0, count: axes.count)
            for (position, axis) in axes.enumerated() { inverse[axis] = position }
            return [g.permuted(inverse)]

        case .slice(let axis, let start, let inputShape):
            // Scatter the gradient back into zeros at the sliced positions.
            let outer = inputShape[..<axis].reduce(1, *), inner = inputShape[(axis + 1)...].reduce(1, *)
            let length = g.shape[axis]
            let result = Tensor.zeros(inputShape)
            let destination = result.storage.pointer
            for o in 0..<outer {
                (destination + (o * inputShape[axis] + start) * inner)
                    .update(from: g.storage.pointer + o * length * inner, count: length * inner)
            }
            return [result]

        case .concatenate(let axis, let sizes):
            var offset = 0
            return sizes.map { size in
                defer { offset += size }
                return g.slice(axis: axis, offset..<(offset + size))
            }

        case .gatherRows(let indices, let rowCount):
            guard inputs.tracked[0] else { return [nil] }  // a frozen embedding table: no (V, C) zeros
            // Embedding backward: rows used several times accumulate (in index order: deterministic).
            let rowSize = g.count / Swift.max(indices.count, 1)
            let result = Tensor.zeros([rowCount] + shapes[0].dropFirst())
            let destination = result.storage.pointer, source = g.storage.pointer
            for (i, index) in indices.enumerated() {
                let row = destination + Int(index) * rowSize, gradientRow = source + i * rowSize
                for j in 0..<rowSize { row[j] += gradientRow[j] }
            }
            return [result]

        case .select(let condition, let shape):
            let whenTrue = Tensor.make(shape) { out in
                for i in 0..<shape.elementCount { out[i] = condition[i] != 0 ? g.storage.pointer[i] : 0 }
            }
            return [whenTrue.summed(toShape: shapes[0]), (g - whenTrue).summed(toShape: shapes[1])]

        case .sum(let axes, let inputShape):
            var keptShape = inputShape
            for axis in axes { keptShape[axis] = 1 }
            return [g.reshaped(keptShape).expanded(to: inputShape)]

        case .max(let axis, let winners, let inputShape):
            let outer = inputShape[..<axis].reduce(1, *), size = inputShape[axis]
            let inner = inputShape[(axis + 1)...].reduce(1, *)
            let result = Tensor.zeros(inputShape)
            for o in 0..<outer {
                for i in 0..<inner {
                    result.storage.pointer[(o * size + Int(winners[o * inner + i])) * inner + i] = g.storage.pointer[o * inner + i]
                }
            }
            return [result]

        case .logSumExp(let lse):
            // ∂/∂x log Σ exp(x) = softmax(x) = exp(x − lse)
            let x = inputs[0]
            return [g.unsqueezed(-1) * (x - lse.unsqueezed(-1)).exp()]

        case .softmax(let y):
            let columns = y.shape[y.rank - 1], rows = y.count / Swift.max(columns, 1)
            return [Tensor.make(y.shape) { ck_softmax_backward(Int64(rows), Int64(columns), y.storage.pointer, g.storage.pointer, $0) }]

        case .logSoftmax(let y):
            let columns = y.shape[y.rank - 1], rows = y.count / Swift.max(columns, 1)
            return [Tensor.make(y.shape) { ck_log_softmax_backward(Int64(rows), Int64(columns), y.storage.pointer, g.storage.pointer, $0) }]

        case .matmul(let transposeA, let transposeB):
            // Only the gradients some input needs: a frozen weight (LoRA's base) costs no weight-gradient GEMM.
            return Tensor.matmulGradients(inputs.values[0], inputs.values[1], shapes: (shapes[0], shapes[1]), transposeA: transposeA,
                                          transposeB: transposeB, g, needA: inputs.tracked[0], needB: inputs.tracked[1])

        case .crossEntropy(let targets, let ignoreIndex, let lse, let scale):
            let logits = inputs[0]
            let vocabulary = logits.shape[logits.rank - 1], rows = logits.count / Swift.max(vocabulary, 1)
            return [Tensor.make(logits.shape) {
                ck_cross_entropy_backward(Int64(rows), Int64(vocabulary), logits.storage.pointer, targets, ignoreIndex, lse,
                                          scale * g.item, $0)
            }]

        case .targetLogProbabilities(let targets, let ignoreIndex, let lse):
            // ∂/∂logits of log softmax[target] = onehot − softmax: the cross-entropy gradient negated, per row.
            let logits = inputs[0]
            let vocabulary = logits.shape[logits.rank - 1], rows = logits.count / Swift.max(vocabulary, 1)
            return [Tensor.make(logits.shape) { dx in
                ck_cross_entropy_backward(Int64(rows), Int64(vocabulary), logits.storage.pointer, targets, ignoreIndex, lse, -1, dx)
                for row in 0..<rows {
                    let scale = g.storage.pointer[row], base = dx + row * vocabulary
                    for j in 0..<vocabulary { base[j] *= scale }
                }
            }]

        case .checkpoint(let recomputation):
            return Tensor.checkpointGradients(recomputation, inputs: inputs, g)

        case .projectedLogProbabilities(let plan, let lse):
            return Tensor.projectedLogProbabilityGradients(plan, logSumExp: lse, hidden: inputs[0], weight: inputs[1], g)

        case .layerNorm(let mean, let rstd, let hasWeight, let hasBias):
            let x = inputs[0], columns = x.shape[x.rank - 1], rows = x.count / Swift.max(columns, 1)
            let weight = hasWeight ? inputs[1] : nil
            let weightGradient = hasWeight ? Tensor.zeros([columns]) : nil
            let biasGradient = hasBias ? Tensor.zeros([columns]) : nil
            let inputGradient = Tensor.make(x.shape) { dx in
                ck_layernorm_backward(Int64(rows), Int64(columns), x.storage.pointer, weight?.storage.pointer, mean, rstd,
                                      g.storage.pointer, dx, weightGradient?.storage.pointer, biasGradient?.storage.pointer)
            }
            return [inputGradient] + [weightGradient, biasGradient].compactMap { $0 }

        case .rmsNorm(let rstd):
            let x = inputs[0], columns = x.shape[x.rank - 1], rows = x.count / Swift.max(columns, 1)
            let weight = inputs.count > 1 ? inputs[1] : nil
            let weightGradient = weight == nil ? nil : Tensor.zeros([columns])
            let inputGradient = Tensor.make(x.shape) { dx in
                ck_rmsnorm_backward(Int64(rows), Int64(columns), x.storage.pointer, weight?.storage.pointer, rstd,
                                    g.storage.pointer, dx, weightGradient?.storage.pointer)
            }
            return [inputGradient] + [weightGradient].compactMap { $0 }

        case .swiGLU:
            let (gate, up) = (inputs[0], inputs[1]), n = gate.count
            let gradientUp = Tensor.make(gate.shape) { ck_silu_forward(Int64(n), gate.storage.pointer, $0) }
            let gradientGate = Tensor.make(gate.shape) { dx in
                for i in 0..<n { dx[i] = g.storage.pointer[i] * up.storage.pointer[i] }
                ck_silu_backward(Int64(n), gate.storage.pointer, dx, dx)
            }
            gradientUp.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<n { buffer[i] *= g.storage.pointer[i] }
            }
            return [gradientGate, gradientUp]

        case .rotary(let cos, let sin):
            // The rotation is orthogonal: its gradient is the inverse rotation.
            let s = g.shape
            return [Tensor.make(s) { dx in
                Tensor.applyRotary(g.storage.pointer, dx, batch: s[0], heads: s[1], time: s[2], headSize: s[3],
                                   cos: cos, sin: sin, inverse: true)
            }]

        case .attention(let out, let lse, let scale, let causal, let keyMask, let segmentStarts):
            let (q, k, v) = (inputs[0], inputs[1], inputs[2])
            let dq = Tensor.zeros(q.shape), dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape)
            ck_attention_backward(Int64(q.shape[0]), Int64(q.shape[1]), Int64(k.shape[1]), Int64(q.shape[2]), Int64(k.shape[2]),
                                  Int64(q.shape[3]), q.storage.pointer, k.storage.pointer, v.storage.pointer, scale, causal ? 1 : 0,
                                  keyMask, segmentStarts, out.storage.pointer, lse, g.storage.pointer,
                                  dq.storage.pointer, dk.storage.pointer, dv.storage.pointer)
            return [dq, dk, dv]
        }
    }
}

extension Operation {
    /// Whether the gradient rule reads input `index`'s value, given which inputs take a gradient; the tape keeps
    /// only those (see `TapeNode`).
    func readsInput(_ index: Int, tracked: [Bool]) -> Bool {
        switch self {
        case .binary(let kind):
            switch kind {
            case .add, .subtract: return false
            case .multiply: return tracked[1 - index]  // each side's gradient is g times the other side
            case .divide: return index == 1
            }
        case .unary(let kind): return !kind.readsOutput
        case .clamp, .logSumExp, .crossEntropy, .targetLogProbabilities, .checkpoint, .projectedLogProbabilities,
             .layerNorm, .rmsNorm, .swiGLU, .attention:
            return true
        case .matmul: return tracked[1 - index]  // ∂A needs B and ∂B needs A: a frozen weight's input is not kept
        case .affine, .reshape, .permute, .slice, .concatenate, .gatherRows, .select, .sum, .max, .softmax, .logSoftmax, .rotary:
            return false
        }
    }

    /// Whether the gradient rule reads the operation's output.
    func readsOutput(tracked: [Bool]) -> Bool {
        switch self {
        case .binary(.divide): return tracked[1]
        case .unary(let kind): return kind.readsOutput
        default: return false
        }
    }
}

extension UnaryKind {
    /// The functions whose derivative is written with their output (exp, tanh, sigmoid, sqrt).
    var readsOutput: Bool {
        switch self {
        case .exp, .tanh, .sigmoid, .sqrt: true
        default: false
        }
    }
}
