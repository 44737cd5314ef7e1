/// Reverse-mode automatic differentiation on a tape.
///
/// Every differentiable operation that has an input requiring a gradient records a `TapeNode`: the operation
/// (with whatever it saved for its gradient), where each input's gradient goes, and only the input values its
/// gradient rule reads (PyTorch's saved tensors). `backward()` orders the nodes reachable from the result
/// topologically and applies the gradient rules in reverse; all rules live in `Operation+Gradients.swift`.
///
/// A node points at its inputs' nodes, not at the input tensors, so an intermediate result that no rule reads —
/// the input of a frozen weight's product (LoRA's base layers), either side of a sum, a permutation's source — is
/// freed as soon as the forward pass stops using it.
final class TapeNode {
    let operation: Operation
    /// What each input's rule sees: its shape, whether it takes a gradient, and its value when the rule reads it.
    private(set) var inputs: RecordedInputs
    /// Per input, where its gradient goes (nil for a constant).
    private(set) var edges: [TapeEdge?]
    /// The tensor this node computed, while it exists (to cut it off from the tape once the node is used).
    weak var output: Tensor?
    /// Set once `backward()` has used the node without `retainGraph`: it no longer leads anywhere.
    private(set) var isReleased = false

    init(operation: Operation, inputs: [Tensor], output: Tensor) {
        self.operation = operation
        let tracked = inputs.map(\.isTracked)
        self.inputs = RecordedInputs(shapes: inputs.map(\.shape), tracked: tracked,
                                     values: inputs.indices.map { operation.readsInput($0, tracked: tracked) ? inputs[$0] : nil },
                                     output: operation.readsOutput(tracked: tracked) ? output.detached() : nil)
        edges = inputs.map { input in
            if let node = input.node { return .node(node) }
            return input.requiresGrad ? .leaf(input) : nil
        }
        self.output = output
    }

    /// Drops what the node kept, after `backward()` used it (its output tensor no longer counts as tracked).
    func release() {
        isReleased = true
        edges = []
        inputs = RecordedInputs(shapes: [], tracked: [], values: [], output: nil)
        output?.node = nil
    }
}

/// A vertex of the tape: the node that computed an intermediate result, or a leaf tensor that requires a gradient.
enum TapeEdge {
    case node(TapeNode)
    case leaf(Tensor)

    var identifier: ObjectIdentifier {
        switch self {
        case .node(let node): ObjectIdentifier(node)
        case .leaf(let tensor): ObjectIdentifier(tensor)
        }
    }

    /// Whether gradients still flow into it (a released node's inputs are no longer reachable).
    var isTracked: Bool {
        switch self {
        case .node(let node): !node.isReleased
        case .leaf(let tensor): tensor.isTracked
        }
    }
}

/// The inputs of a recorded operation as its gradient rule sees them: every input's shape and whether it takes a
/// gradient, and the values (and output) that the rule reads (`Operation.readsInput`, `readsOutput`).
struct RecordedInputs {
    let shapes: [Shape]
    let tracked: [Bool]
    let values: [Tensor?]
    let savedOutput: Tensor?

    init(shapes: [Shape], tracked: [Bool], values: [Tensor?], output: Tensor?) {
        self.shapes = shapes
        self.tracked = tracked
        self.values = values
        savedOutput = output
    }

    var count: Int { shapes.count }

    /// The value of input `index`, which the rule must have declared it reads.
    subscript(index: Int) -> Tensor {
        guard let value = values[index] else { preconditionFailure("gradient rule reads input \(index), which its operation did not keep") }
        return value
    }

    /// The operation's output, which the rule must have declared it reads.
    var output: Tensor {
        guard let savedOutput else { preconditionFailure("gradient rule reads the output, which its operation did not keep") }
        return savedOutput
    }
}

/// Whether operations are being recorded on the tape.
public enum GradientMode {
    /// Recording is on unless inside `withoutGradients`. Charter's kernels are single-caller, so this is a
    /// plain global rather than task-local state.
    nonisolated(unsafe) static var isEnabled = true
}

/// Runs `body` without recording anything on the tape (inference, evaluation, optimizer updates).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = false
    defer { GradientMode.isEnabled = previous }
    return try body()
}

extension Tensor {
    /// True when this tensor takes part in gradient computation.
    var isTracked: Bool { requiresGrad || node != nil }

    /// Attaches a tape node to `result` when recording is on and any input is tracked.
    @discardableResult
    func record(_ operation: @autoclosure () -> Operation, inputs: [Tensor]) -> Tensor {
        Tensor.record(self, operation(), inputs: inputs)
    }

    @discardableResult
    static func record(_ result: Tensor, _ operation: @autoclosure () -> Operation, inputs: [Tensor]) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.isTracked }) else { return result }
        result.node = TapeNode(operation: operation(), inputs: inputs, output: result)
        return result
    }

    /// Computes the gradient of this tensor with respect to every leaf that requires one, and adds it to
    /// their `grad`.
    ///
    /// - Parameters:
    ///   - seed: the gradient of the final objective with respect to this tensor; defaults to 1 for a
    ///     one-element tensor.
    ///   - retainGraph: keep the tape so `backward` can run again; by default it is released as it is used,
    ///     which frees the activations saved for the gradient.
    public func backward(_ seed: Tensor? = nil, retainGraph: Bool = false) {
        let seed = seed ?? {
            precondition(count == 1, "backward() without a seed needs a one-element tensor, shape is \(shape)")
            return Tensor(shape: shape, scalars: [1])
        }()
        precondition(seed.shape == shape, "backward seed shape \(seed.shape) differs from \(shape)")
        let start: TapeEdge
        if let node { start = .node(node) } else if requiresGrad { start = .leaf(self) } else { return }
        withoutGradients {
            let order = Self.topologicalOrder(from: start)
            var gradients: [ObjectIdentifier: Tensor] = [start.identifier: seed]
            // Gradients created here by accumulation belong to no one else and can be added to in place;
            // a rule may hand the same gradient object to several inputs, so others are never written.
            var owned = Set<ObjectIdentifier>()
            for vertex in order.reversed() {
                guard let gradient = gradients.removeValue(forKey: vertex.identifier) else { continue }
                owned.remove(vertex.identifier)
                guard case .node(let node) = vertex else {
                    if case .leaf(let tensor) = vertex, tensor.requiresGrad {
                        tensor.grad = tensor.grad.map { $0 + gradient } ?? gradient.detached()
                    }
                    continue
                }
                let inputGradients = node.operation.gradients(inputs: node.inputs, outputGradient: gradient)
                for (index, inputGradient) in inputGradients.enumerated() {
                    guard let inputGradient, let input = node.edges[index], input.isTracked else { continue }
                    precondition(inputGradient.shape == node.inputs.shapes[index],
                                 "gradient of \(node.operation) has shape \(inputGradient.shape), input \(node.inputs.shapes[index])")
                    let key = input.identifier
                    if let existing = gradients[key] {
                        if owned.contains(key) {
                            existing.addInPlace(inputGradient)
                        } else {
                            gradients[key] = existing + inputGradient
                            owned.insert(key)
                        }
                    } else {
                        gradients[key] = inputGradient
                    }
                }
                if !retainGraph { node.release() }
            }
        }
    }

    /// Vertices reachable from `start` through the tape, each after all of its inputs.
    private static func topologicalOrder(from start: TapeEdge) -> [TapeEdge] {
        var order: [TapeEdge] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: deep graphs (long sequences of layers) must not overflow the stack.
        var stack: [(TapeEdge, Bool)] = [(start, false)]
        while let (vertex, expanded) = stack.popLast() {
            if expanded { order.append(vertex); continue }
            guard visited.insert(vertex.identifier).inserted else { continue }
            stack.append((vertex, true))
            guard case .node(let node) = vertex else { continue }
            for case let input? in node.edges where input.isTracked && !visited.contains(input.identifier) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// Adds `other` (same shape) into this tensor's elements, copying shared storage first. Not recorded.
    public func addInPlace(_ other: Tensor) {
        precondition(other.shape == shape, "addInPlace: \(other.shape) into \(shape)")
        let source = other.storage.pointer
        withUnsafeMutableBufferPointer { destination in
            for i in 0..<destination.count { destination[i] += source[i] }
        }
    }
}

extension Tensor {
    /// Bytes of the distinct buffers that the tape behind this tensor keeps for the backward pass: the inputs and
    /// outputs its rules read and the tensors operations saved, except the buffers of `excluded` (a model's
    /// weights, which exist anyway). For tests and profiling: it walks the whole tape.
    func tapeBytes(excluding excluded: [Tensor] = []) -> Int {
        guard let node else { return 0 }
        var nodes: [TapeNode] = [node], seenNodes: Set<ObjectIdentifier> = [ObjectIdentifier(node)]
        var buffers = Set(excluded.map { ObjectIdentifier($0.storage) }), bytes = 0
        while let node = nodes.popLast() {
            for tensor in node.inputs.values.compactMap({ $0 }) + [node.inputs.savedOutput].compactMap({ $0 }) + node.operation.savedTensors
            where buffers.insert(ObjectIdentifier(tensor.storage)).inserted {
                bytes += tensor.storage.count * MemoryLayout<Float>.stride
            }
            for case .node(let input)? in node.edges where seenNodes.insert(ObjectIdentifier(input)).inserted { nodes.append(input) }
        }
        return bytes
    }
}
