import Tensors

/// Updates parameters from their gradients. Implementations keep per-parameter state that
/// `state()`/`load(_:)` save and restore exactly, so a resumed run continues bit-identically.
public protocol Optimizer: AnyObject {
    /// The parameters updated, in a fixed order (state is matched by position).
    var parameters: [Tensor] { get }
    /// The learning rate used by the next `step()`; schedules set it before each step.
    var learningRate: Float { get set }
    /// Number of `step()` calls made so far.
    var stepCount: Int { get }
    /// Applies one update from each parameter's `grad` (parameters without a gradient are skipped).
    func step()
    /// The complete optimizer state.
    func state() -> OptimizerState
    /// Restores a state produced by `state()` of an optimizer over parameters of the same shapes.
    func load(_ state: OptimizerState) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for parameter in parameters { parameter.grad = nil }
    }
}

/// An optimizer's state: step count and named per-parameter buffers (e.g. "m.3" is Adam's first moment of
/// parameter 3). Codable; Float values round-trip exactly.
public struct OptimizerState: Codable, Equatable, Sendable {
    public var kind: String
    public var stepCount: Int
    public var learningRate: Float
    public var buffers: [String: [Float]]

    public init(kind: String, stepCount: Int, learningRate: Float, buffers: [String: [Float]]) {
        self.kind = kind
        self.stepCount = stepCount
        self.learningRate = learningRate
        self.buffers = buffers
    }
}

/// A state that does not fit the optimizer it is loaded into.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

extension OptimizerState {
    /// Buffer `name` checked against the size of the parameter it belongs to.
    func buffer(_ name: String, count: Int) throws -> [Float] {
        guard let values = buffers[name] else {
            throw OptimizerStateError(description: "optimizer state has no buffer \"\(name)\"; was it saved by a different optimizer?")
        }
        guard values.count == count else {
            throw OptimizerStateError(description: "optimizer buffer \"\(name)\" has \(values.count) values, parameter has \(count)")
        }
        return values
    }
}

/// Global gradient-norm clipping (as `torch.nn.utils.clip_grad_norm_`): when the L2 norm of all gradients
/// together exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
/// - Returns: the total norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for gradient in parameters.compactMap(\.grad) {
        gradient.withUnsafeBufferPointer { values in
            var sum: Float = 0
            for value in values { sum += value * value }
            total += Double(sum)
        }
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for gradient in parameters.compactMap(\.grad) {
            gradient.withUnsafeMutableBufferPointer { values in
                for i in values.indices { values[i] *= coefficient }
            }
        }
    }
    return norm
}
