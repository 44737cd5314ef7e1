import Tensors

/// y = x·Wᵀ + b, with W stored (out, in) as in PyTorch and Hugging Face checkpoints.
public final class Linear: Module {
    public var weight: Tensor
    public var bias: Tensor?
    /// A trainable update added to the output (LoRA, in LanguageModels); nil for a plain linear layer.
    public var adapter: (any LinearAdapter)?
    /// The weight in a ggml block format, for inference (see ``quantize(_:)``); `weight` is then empty.
    public private(set) var quantizedWeight: QuantizedMatrix?

    /// Initialised like PyTorch: U(−1/√in, 1/√in) for weight and bias.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, generator: inout SeededGenerator) {
        let bound = 1 / Float(inputSize).squareRoot()
        weight = .randomUniform([outputSize, inputSize], lower: -bound, upper: bound, generator: &generator)
        self.bias = bias ? .randomUniform([outputSize], lower: -bound, upper: bound, generator: &generator) : nil
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    public init(weight: Tensor, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inputSize: Int { quantizedWeight?.columns ?? weight.shape[1] }
    public var outputSize: Int { quantizedWeight?.rows ?? weight.shape[0] }

    /// Replaces the float32 weight by `matrix` (out, in) for inference, freeing it: the layer then multiplies with
    /// the quantized kernels and has no weight to train.
    public func quantize(_ matrix: QuantizedMatrix) {
        precondition(matrix.rows == outputSize && matrix.columns == inputSize,
                     "quantized weight (\(matrix.rows), \(matrix.columns)) for a (\(outputSize), \(inputSize)) layer")
        quantizedWeight = matrix
        weight = Tensor(shape: [0], scalars: [])
    }

    /// x: (…, in) → (…, out)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = quantizedWeight.map { Tensor.matmul(x, quantized: $0) } ?? Tensor.matmul(x, weight, transposeB: true)
        let output = bias.map { y + $0 } ?? y
        return adapter?.adapt(output, input: x) ?? output
    }
}

/// Changes a `Linear` layer's output as a function of its input; its parameters are found through the layer.
public protocol LinearAdapter: Module {
    /// output: (…, out) of the base layer for input: (…, in) → the adapted (…, out)
    func adapt(_ output: Tensor, input: Tensor) -> Tensor
}

/// A lookup table of vectors: token ids → (…, size).
public final class Embedding: Module {
    public var weight: Tensor

    public init(count: Int, size: Int, standardDeviation: Float = 1, generator: inout SeededGenerator) {
        weight = .randomNormal([count, size], standardDeviation: standardDeviation, generator: &generator)
        weight.requiresGrad = true
    }

    /// The table in a ggml block format, for inference (see ``quantize(_:)``); `weight` is then empty.
    public private(set) var quantizedWeight: QuantizedMatrix?

    public init(weight: Tensor) { self.weight = weight }

    /// Replaces the float32 table by `matrix` (count, size) for inference, freeing it: lookups decode the rows they
    /// read, and nothing is left to train.
    public func quantize(_ matrix: QuantizedMatrix) {
        precondition(matrix.rows == weight.shape[0] && matrix.columns == weight.shape[1],
                     "quantized table (\(matrix.rows), \(matrix.columns)) for a \(weight.shape) embedding")
        quantizedWeight = matrix
        weight = Tensor(shape: [0], scalars: [])
    }

    /// ids (shape `shape`) → (shape…, size)
    public func callAsFunction(_ ids: [Int32], shape: Shape) -> Tensor {
        if let quantizedWeight { return quantizedWeight.gatheredRows(ids, indexShape: shape) }
        return weight.gathered(rows: ids, indexShape: shape)
    }
}

/// LayerNorm over the last axis with optional affine weight and bias.
public final class LayerNorm: Module {
    public var weight: Tensor?
    public var bias: Tensor?
    public let epsilon: Float

    public init(size: Int, epsilon: Float = 1e-5, weight: Bool = true, bias: Bool = true) {
        self.epsilon = epsilon
        self.weight = weight ? .ones([size]) : nil
        self.bias = bias ? .zeros([size]) : nil
        self.weight?.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, epsilon: epsilon) }
}

/// RMSNorm over the last axis (Llama).
public final class RMSNorm: Module {
    public var weight: Tensor
    public let epsilon: Float

    public init(size: Int, epsilon: Float = 1e-6) {
        self.epsilon = epsilon
        weight = .ones([size])
        weight.requiresGrad = true
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(weight: weight, epsilon: epsilon) }
}

/// Inverted dropout: zeroes each element with probability `rate` in training and scales the rest by 1/(1−rate).
public final class Dropout: Module {
    public let rate: Float
    public var isTraining = true

    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) must be in [0, 1)")
        self.rate = rate
    }

    public func callAsFunction(_ x: Tensor, generator: inout SeededGenerator) -> Tensor {
        guard isTraining, rate > 0 else { return x }
        return x * Tensor.dropoutMask(x.shape, keep: 1 - rate, generator: &generator)
    }
}
