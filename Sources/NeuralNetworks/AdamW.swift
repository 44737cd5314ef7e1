import CKernels
import Tensors

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"),
/// matching `torch.optim.AdamW`: bias-corrected moments, decay applied as p ← p − lr·λ·p.
public final class AdamW: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Weight decay per parameter (typically 0 for biases and norms).
    public let weightDecays: [Float]
    public private(set) var stepCount = 0
    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]

    /// - Parameters:
    ///   - noDecay: parameters (by identity) that get no weight decay, e.g. biases and norm weights.
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01, noDecay: [Tensor] = []) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        let excluded = Set(noDecay.map(ObjectIdentifier.init))
        weightDecays = parameters.map { excluded.contains(ObjectIdentifier($0)) ? 0 : weightDecay }
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
        secondMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        stepCount += 1
        let t = Float(stepCount)
        let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            let n = Int64(parameter.count), decay = weightDecays[index]
            parameter.withUnsafeMutableBufferPointer { values in
                gradient.withUnsafeBufferPointer { grads in
                    ck_adamw_step(n, values.baseAddress, grads.baseAddress, &firstMoments[index], &secondMoments[index],
                                  learningRate, beta1, beta2, epsilon, decay, correction1, correction2)
                }
            }
        }
    }

    public func state() -> OptimizerState {
        var buffers: [String: [Float]] = [:]
        for index in parameters.indices {
            buffers["m.\(index)"] = firstMoments[index]
            buffers["v.\(index)"] = secondMoments[index]
        }
        return OptimizerState(kind: "adamw", stepCount: stepCount, learningRate: learningRate, buffers: buffers)
    }

    public func load(_ state: OptimizerState) throws {
        guard state.kind == "adamw" else { throw OptimizerStateError(description: "cannot load \(state.kind) state into AdamW") }
        firstMoments = try parameters.indices.map { try state.buffer("m.\($0)", count: parameters[$0].count) }
        secondMoments = try parameters.indices.map { try state.buffer("v.\($0)", count: parameters[$0].count) }
        stepCount = state.stepCount
        learningRate = state.learningRate
    }
}

/// Stochastic gradient descent with optional momentum (PyTorch's formulation: b ← μ·b + g; p ← p − lr·b)
/// and L2 weight decay added to the gradient.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public private(set) var stepCount = 0
    private var velocities: [[Float]]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocities = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        let firstStep = stepCount == 0
        stepCount += 1
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad?.scalars else { continue }
            parameter.withUnsafeMutableBufferPointer { values in
                for i in values.indices {
                    var g = gradient[i] + weightDecay * values[i]
                    if momentum != 0 {
                        // PyTorch starts the buffer at the first gradient rather than decaying from zero.
                        velocities[index][i] = firstStep ? g : momentum * velocities[index][i] + g
                        g = velocities[index][i]
                    }
                    values[i] -= learningRate * g
                }
            }
        }
    }

    public func state() -> OptimizerState {
        var buffers: [String: [Float]] = [:]
        for index in parameters.indices { buffers["momentum.\(index)"] = velocities[index] }
        return OptimizerState(kind: "sgd", stepCount: stepCount, learningRate: learningRate, buffers: buffers)
    }

    public func load(_ state: OptimizerState) throws {
        guard state.kind == "sgd" else { throw OptimizerStateError(description: "cannot load \(state.kind) state into SGD") }
        velocities = try parameters.indices.map { try state.buffer("momentum.\($0)", count: parameters[$0].count) }
        stepCount = state.stepCount
        learningRate = state.learningRate
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
