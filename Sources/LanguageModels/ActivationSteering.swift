import Foundation
import Tensors

/// Activation steering: an edit of the residual stream along one direction at chosen hidden states, applied while the
/// model runs — activation addition (Turner et al. 2023; Arditi et al. 2024 add the refusal direction to induce
/// refusal) or directional ablation (Arditi et al. 2024 remove it at every layer to suppress refusal).
///
/// Layers use transformers' hidden-state convention, as probes do: 0 is the embeddings, i ≥ 1 the output of block i
/// (for the last block, before the final norm). The edit applies to every position fed in a forward pass, of the rows
/// `rows` selects.
public struct ActivationSteering: Equatable, Sendable {
    public enum Operation: Equatable, Sendable {
        /// x + α·d (α < 0 moves away from the direction).
        case add(Float)
        /// x − (x·d)·d: the direction's component removed.
        case ablate
    }

    /// The unit direction.
    public let direction: [Float]
    public let layers: Set<Int>
    public let operation: Operation
    /// Per batch row, whether it is steered; nil: every row.
    public var rows: [Bool]?

    /// - Throws: `SteeringError` for an empty, zero or non-finite direction, no layers, or a non-finite α.
    public init(direction: [Float], layers: Set<Int>, operation: Operation, rows: [Bool]? = nil) throws {
        guard !direction.isEmpty, direction.allSatisfy(\.isFinite) else {
            throw SteeringError("the steering direction must be a non-empty vector of finite numbers")
        }
        let norm = direction.reduce(Double(0)) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm > 0 else { throw SteeringError("the steering direction is the zero vector") }
        guard !layers.isEmpty, layers.allSatisfy({ $0 >= 0 }) else {
            throw SteeringError("give at least one layer (hidden-state index ≥ 0) to steer at")
        }
        if case .add(let alpha) = operation, !alpha.isFinite { throw SteeringError("the steering strength α must be finite, got \(alpha)") }
        self.direction = direction.map { Float(Double($0) / norm) }
        self.layers = layers
        self.operation = operation
        self.rows = rows
    }

    /// Whether `layer` (a hidden-state index) is edited.
    public func steers(_ layer: Int) -> Bool { layers.contains(layer) && (rows?.contains(true) ?? true) }

    /// The model's hidden size must be the direction's and every layer one of its hidden states 0…`layerCount`.
    /// - Throws: `SteeringError` naming the mismatch.
    public func check(hiddenSize: Int, layerCount: Int) throws {
        guard direction.count == hiddenSize else {
            throw SteeringError("the steering direction has \(direction.count) values but the model's hidden size is \(hiddenSize)")
        }
        if let bad = layers.sorted().first(where: { $0 > layerCount }) {
            throw SteeringError("layer \(bad) does not exist: the model has hidden states 0…\(layerCount)")
        }
    }

    /// `x` (B, T, C) edited at `layer` when it is steered; `x` itself otherwise. Not differentiable (generation).
    public func apply(_ x: Tensor, layer: Int) -> Tensor {
        guard steers(layer) else { return x }
        let (batch, time, size) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(size == direction.count, "steering a hidden size of \(size) with a direction of \(direction.count)")
        precondition(rows.map { $0.count == batch } ?? true, "steering rows for \(rows?.count ?? 0) sequences, batch of \(batch)")
        var values = x.scalars
        for b in 0..<batch where rows?[b] ?? true {
            for t in 0..<time {
                let start = (b * time + t) * size
                let coefficient: Float
                switch operation {
                case .add(let alpha): coefficient = alpha
                case .ablate:
                    var projection: Float = 0
                    for j in 0..<size { projection += values[start + j] * direction[j] }
                    coefficient = -projection
                }
                for j in 0..<size { values[start + j] += coefficient * direction[j] }
            }
        }
        return Tensor(shape: x.shape, scalars: values)
    }
}

/// An unusable steering setting (the message says which and why).
public struct SteeringError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
