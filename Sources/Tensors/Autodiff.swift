/// Reverse-mode automatic differentiation on a tape.
///
/// Every differentiable operation that has an input requiring a gradient records a `TapeNode`: the operation
/// (with whatever it saved for its gradient) and its inputs. `backward()` orders the nodes reachable from the
/// result topologically and applies the gradient rules in reverse; all rules live in `Operation+Gradients.swift`.
final class TapeNode {
    let operation: Operation
    var inputs: [Tensor]

    init(operation: Operation, inputs: [Tensor]) {
        self.operation = operation
        self.inputs = inputs
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
        result.node = TapeNode(operation: operation(), inputs: inputs)
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
        withoutGradients {
            let order = topologicalOrder()
            var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
            // Gradients created here by accumulation belong to no one else and can be added to in place;
            // a rule may hand the same gradient object to several inputs, so others are never written.
            var owned = Set<ObjectIdentifier>()
            for tensor in order.reversed() {
                guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                owned.remove(ObjectIdentifier(tensor))
                if tensor.requiresGrad {
                    tensor.grad = tensor.grad.map { $0 + gradient } ?? gradient.detached()
                }
                guard let node = tensor.node else { continue }
                let inputGradients = node.operation.gradients(inputs: node.inputs, output: tensor,
                                                              outputGradient: gradient)
                for (input, inputGradient) in zip(node.inputs, inputGradients) {
                    guard let inputGradient, input.isTracked else { continue }
                    precondition(inputGradient.shape == input.shape,
                                 "gradient of \(node.operation) has shape \(inputGradient.shape), input \(input.shape)")
                    let key = ObjectIdentifier(input)
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
                if !retainGraph { tensor.node = nil }
            }
        }
    }

    /// Tensors reachable from this one through the tape, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: deep graphs (long sequences of layers) must not overflow the stack.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.isTracked && !visited.contains(ObjectIdentifier(input)) {
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
