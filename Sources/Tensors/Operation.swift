/// Every differentiable operation, with what its gradient rule needs saved from the forward pass.
/// The rules themselves are all in `Operation+Gradients.swift`.
enum Operation {
    case binary(BinaryKind)
    case affine(scale: Float)
    case unary(UnaryKind)
    case clamp(lower: Float, upper: Float)
    case reshape(from: Shape)
    case permute([Int])
    case slice(axis: Int, start: Int, inputShape: Shape)
    case concatenate(axis: Int, sizes: [Int])
    case gatherRows([Int32], rowCount: Int)
    case select(condition: [Float], shape: Shape)
    case sum(axes: Set<Int>, inputShape: Shape)
    case max(axis: Int, winners: [Int32], inputShape: Shape)
    case logSumExp(output: Tensor)
    case softmax(output: Tensor)
    case logSoftmax(output: Tensor)
    case matmul(transposeA: Bool, transposeB: Bool)
    case targetLogProbabilities(targets: [Int32], ignoreIndex: Int32, logSumExp: [Float])
    case checkpoint(Recomputation)
    case projectedLogProbabilities(plan: ProjectionChunks, logSumExp: [Float])
    case crossEntropy(targets: [Int32], ignoreIndex: Int32, logSumExp: [Float], scale: Float)
    case layerNorm(mean: [Float], reciprocalStd: [Float], hasWeight: Bool, hasBias: Bool)
    case rmsNorm(reciprocalStd: [Float])
    case swiGLU
    case rotary(cos: Tensor, sin: Tensor)
    case attention(output: Tensor, logSumExp: [Float], scale: Float, causal: Bool, keyMask: [UInt8]?, segmentStarts: [Int32]?)
}

extension Operation {
    /// The tensors the operation itself saved for its gradient (outputs, rotary tables).
    var savedTensors: [Tensor] {
        switch self {
        case .logSumExp(let output), .softmax(let output), .logSoftmax(let output): [output]
        case .rotary(let cos, let sin): [cos, sin]
        case .attention(let output, _, _, _, _, _): [output]
        default: []
        }
    }
}
