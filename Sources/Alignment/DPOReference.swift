import LanguageModels
import Tensors

/// Where DPO's and KTO's reference log-probabilities come from.
public enum DPOReference {
    /// A separate frozen model: a `--ref-model` folder, or a frozen copy of the initial policy.
    case model(any CausalLanguageModel)
    /// The policy with its LoRA adapters turned off — the base model, without a second copy of the weights.
    case adaptersDisabled
    /// The policy itself, read once before training (only with `precompute_ref_log_probs`).
    case initialPolicy
    /// None: every loss term is reference-free (SimPO, SFT).
    case referenceFree
}

extension DPOReference {
    /// `forward` run on the reference without a tape: the frozen model, the policy with its LoRA adapters off, or —
    /// before the first step only — the initial policy itself. nil when there is no reference.
    /// - Parameter beforeTraining: whether the policy still holds its initial weights (the precompute pass); reading
    ///   `.initialPolicy` later would read the trained policy, a programmer error.
    func read<Value>(policy: any CausalLanguageModel, beforeTraining: Bool = false,
                     _ forward: (any CausalLanguageModel) -> Value) -> Value? {
        withoutGradients { () -> Value? in
            switch self {
            case .model(let model): return forward(model)
            case .adaptersDisabled: return LoRA.withAdaptersDisabled(policy) { forward(policy) }
            case .initialPolicy:
                precondition(beforeTraining, "the initial policy's reference log-probabilities must be precomputed before training")
                return forward(policy)
            case .referenceFree: return nil
            }
        }
    }

    /// TRL's `precompute_ref_log_probs` pass (DPO and KTO): the reference read once over `items` before training, in
    /// consecutive batches of `batchSize` in the data's order (TRL's `DataLoader(shuffle=False)`), each item's values
    /// kept in it by `store`. Without a reference the items come back unchanged.
    /// - Parameters:
    ///   - values: the reference values of one batch of items, one per item, computed with the model given.
    ///   - store: writes an item's values into it.
    func precompute<Item, Value>(_ items: [Item], batchSize: Int, policy: any CausalLanguageModel,
                                 values: ([Item], any CausalLanguageModel) -> [Value],
                                 store: (inout Item, Value) -> Void) -> [Item] {
        precondition(batchSize > 0, "precompute batch size \(batchSize)")
        var result = items
        for start in stride(from: 0, to: items.count, by: batchSize) {
            let range = start..<min(start + batchSize, items.count)
            guard let batch = read(policy: policy, beforeTraining: true, { values(Array(items[range]), $0) }) else { return items }
            precondition(batch.count == range.count, "\(batch.count) reference values for \(range.count) items")
            for (index, value) in zip(range, batch) { store(&result[index], value) }
        }
        return result
    }
}
