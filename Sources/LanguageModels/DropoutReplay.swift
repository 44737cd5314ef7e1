import NeuralNetworks
import Tensors

/// The random state of the LoRA dropout inside a module, captured before a checkpointed block runs, so that the
/// block's recomputation in the backward pass draws the same masks as its forward pass (as PyTorch's checkpoint
/// restores the RNG state) and the gradient is the gradient of the loss that was computed.
struct DropoutReplay {
    private let inputs: [LowRankInput]
    private let states: [SeededGenerator]

    /// Captures the dropout generators of every adapter under `module` as they are now.
    init(_ module: Module) {
        var found: [LowRankInput] = []
        Self.collect(module, into: &found)
        inputs = found
        states = found.map(\.generator)
    }

    /// Runs `body` with the generators as they were captured, then puts them back where they are now (so the next
    /// training step continues the sequence the forward passes drew from).
    func replaying<R>(_ body: () -> R) -> R {
        guard !inputs.isEmpty else { return body() }
        let current = inputs.map(\.generator)
        for (input, state) in zip(inputs, states) { input.generator = state }
        defer { for (input, state) in zip(inputs, current) { input.generator = state } }
        return body()
    }

    private static func collect(_ value: Any, into found: inout [LowRankInput]) {
        if let linear = value as? Linear {
            if let input = (linear.adapter as? LowRankAdapter)?.input, !found.contains(where: { $0 === input }) { found.append(input) }
            return
        }
        for child in Mirror(reflecting: value).children {
            switch child.value {
            case let module as Module: collect(module, into: &found)
            case let modules as [Module]: for module in modules { collect(module, into: &found) }
            default: break
            }
        }
    }
}
