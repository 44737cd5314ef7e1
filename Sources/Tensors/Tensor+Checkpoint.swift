/// Activation (gradient) checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"; TRL's and
/// transformers' `gradient_checkpointing`): a block's forward pass runs without recording, so none of its
/// intermediate activations are kept; the backward pass runs the block again on its saved input, with recording on,
/// and back-propagates through that copy. Memory per block falls to its input; compute rises by one forward pass.
extension Tensor {
    /// `body(x)`, recorded as one operation whose gradient recomputes `body`.
    ///
    /// - Parameters:
    ///   - parameters: the tensors `body` reads that may need gradients (a block's weights): their gradients are
    ///     accumulated into `grad` by the recomputation's own backward pass.
    ///   - body: called once now and once more in `backward()`; it must compute the same function both times
    ///     (a block with dropout replays its random draws — see `LlamaModel.forward`).
    public static func checkpoint(_ x: Tensor, parameters: [Tensor], _ body: @escaping (Tensor) -> Tensor) -> Tensor {
        let trained = parameters.filter(\.requiresGrad)
        guard GradientMode.isEnabled, x.isTracked || !trained.isEmpty else { return body(x) }
        let output = withoutGradients { body(x) }
        return record(output, Operation.checkpoint(Recomputation(body)), inputs: [x] + trained)
    }

    /// ∂L/∂x of a checkpointed block (the parameters' gradients go straight into their `grad`).
    static func checkpointGradients(_ recomputation: Recomputation, inputs: RecordedInputs, _ g: Tensor) -> [Tensor?] {
        let input = inputs[0].detached()
        input.requiresGrad = inputs.tracked[0]
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = true
        let output = recomputation.body(input)
        GradientMode.isEnabled = previous
        output.backward(g)
        return [inputs.tracked[0] ? (input.grad ?? Tensor.zeros(input.shape)) : nil]
            + [Tensor?](repeating: nil, count: inputs.count - 1)
    }
}

/// The function a checkpoint runs again in the backward pass.
final class Recomputation {
    let body: (Tensor) -> Tensor
    init(_ body: @escaping (Tensor) -> Tensor) { self.body = body }
}
