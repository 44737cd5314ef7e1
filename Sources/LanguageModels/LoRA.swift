import Foundation
import NeuralNetworks
import Tensors

/// LoRA fine-tuning (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): the base weights are
/// frozen and each targeted linear layer learns a low-rank update W + (alpha / r)·B·A.
///
/// Adapters are saved and loaded in PEFT's layout, so `PeftModel.from_pretrained` reads what Charter trains and
/// Charter reads adapters trained with PEFT:
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let model = try PretrainedModel.load(directory: base)
/// try LoRA.apply(LoRAConfiguration(rank: 16, alpha: 32, targetModules: .names(["q_proj", "v_proj"])), to: model, generator: &generator)
/// let optimizer = AdamW(parameters: model.trainableParameters())   // only A and B
/// …
/// try LoRA.save(model, configuration: configuration, to: adapterFolder)
/// ```
public enum LoRA {
    /// Attaches a fresh adapter to every module that `configuration.targetModules` selects and freezes every other
    /// parameter of `model`.
    ///
    /// A and B are initialised as PEFT does (`init_lora_weights`); with the default B = 0 the adapted model starts
    /// exactly equal to the base. A and B require gradients and dropout on the adapters' input is on (training) until
    /// `setTraining(_:false)` — unless `configuration.inferenceMode`, which freezes them as PEFT does.
    /// - Parameters:
    ///   - generator: draws A (module by module, in model order) and seeds each module's dropout.
    /// - Returns: the Hugging Face names of the adapted modules, e.g. `model.layers.0.self_attn.q_proj`.
    /// - Throws: `LoRAError` for a configuration Charter does not support, a target that matches nothing, or a
    ///   model that already has adapters.
    @discardableResult
    public static func apply(_ configuration: LoRAConfiguration, to model: any CausalLanguageModel,
                             generator: inout SeededGenerator) throws -> [String] {
        try configuration.validate()
        guard adapters(in: model).isEmpty else {
            throw LoRAError("\(type(of: model)) already has LoRA adapters; merge them (LoRA.merge) before applying new ones")
        }
        let selected = try selectedTargets(of: model, configuration)
        if let taken = selected.first(where: { $0.layers.contains { $0.adapter != nil } }) {
            throw LoRAError("\(taken.name) already has an adapter of another kind; remove it before applying LoRA")
        }
        model.setTrainable(false)
        for target in selected {
            let (a, b) = initialWeights(configuration, inputSize: target.inputSize, outputSize: target.outputSize, generator: &generator)
            attach(a: a, b: b, to: target, configuration: configuration, generator: SeededGenerator(seed: generator.next()),
                   trainable: !configuration.inferenceMode)
        }
        return selected.map(\.name)
    }

    /// A (r, in) and B (out, r) as PEFT initialises them.
    static func initialWeights(_ configuration: LoRAConfiguration, inputSize: Int, outputSize: Int,
                               generator: inout SeededGenerator) -> (Tensor, Tensor) {
        let rank = configuration.rank
        // nn.Linear's init, kaiming-uniform with a = √5: gain √(2 / (1 + 5)), bound = gain · √(3 / fan_in) = 1/√fan_in.
        func linearInit(_ shape: Shape) -> Tensor {
            let bound = 1 / Float(shape[1]).squareRoot()
            return .randomUniform(shape, lower: -bound, upper: bound, generator: &generator)
        }
        switch configuration.initialWeights {
        case .kaimingUniform:
            return (linearInit([rank, inputSize]), .zeros([outputSize, rank]))
        case .gaussian:
            return (.randomNormal([rank, inputSize], standardDeviation: 1 / Float(rank), generator: &generator), .zeros([outputSize, rank]))
        case .random:
            let a = linearInit([rank, inputSize])
            return (a, linearInit([outputSize, rank]))
        }
    }

    /// Puts adapters with A (r, in) and B (out, r) on the layers of `target` (B's rows split between them).
    static func attach(a: Tensor, b: Tensor, to target: LoRATarget, configuration: LoRAConfiguration,
                       generator: SeededGenerator, trainable: Bool = true) {
        a.requiresGrad = trainable
        let input = LowRankInput(a: a, dropoutRate: configuration.dropout, groupSize: target.layers.count, generator: generator)
        input.isTraining = trainable
        var row = 0
        for (index, layer) in target.layers.enumerated() {
            let rows = withoutGradients { b.slice(axis: 0, row..<(row + layer.outputSize)).detached().copied() }
            row += layer.outputSize
            rows.requiresGrad = trainable
            layer.adapter = LowRankAdapter(b: rows, input: input, ownsA: index == 0, scaling: configuration.scaling)
        }
    }

    /// Folds every adapter into its base weight (W ← W + scaling·B·A) and removes it: the model then computes what
    /// the adapted model computed, up to float rounding, at the base model's cost. Base parameters stay frozen.
    public static func merge(_ model: any CausalLanguageModel) {
        let layers = targets(of: model).flatMap(\.layers).filter { $0.adapter is LowRankAdapter }
        // Every delta first: layers of a fused module share A.
        let deltas = layers.map { ($0.adapter as? LowRankAdapter)?.weightDelta() }
        for (layer, delta) in zip(layers, deltas) {
            if let delta { withoutGradients { layer.weight.assign(layer.weight + delta) } }
            layer.adapter = nil
        }
    }

    /// Removes every adapter without merging it: the model is the base model again (still frozen).
    public static func remove(from model: any CausalLanguageModel) {
        for layer in targets(of: model).flatMap(\.layers) where layer.adapter is LowRankAdapter { layer.adapter = nil }
    }

    /// Turns the adapters off so `model` computes the base model's outputs — the frozen reference of DPO without a
    /// second copy of the weights. `enable` turns them back on.
    public static func disable(_ model: any CausalLanguageModel) { setEnabled(model, false) }

    public static func enable(_ model: any CausalLanguageModel) { setEnabled(model, true) }

    /// Runs `body` with the adapters off, then restores them.
    public static func withAdaptersDisabled<R>(_ model: any CausalLanguageModel, _ body: () throws -> R) rethrows -> R {
        let states = adapters(in: model).map { ($0, $0.isEnabled) }
        setEnabled(model, false)
        defer { for (adapter, enabled) in states { adapter.isEnabled = enabled } }
        return try body()
    }

    /// Dropout on the adapters' input is applied only in training.
    public static func setTraining(_ model: any CausalLanguageModel, _ training: Bool) {
        for adapter in adapters(in: model) { adapter.input.isTraining = training }
    }

    /// The adapters attached to `model`, in model order.
    public static func adapters(in model: any CausalLanguageModel) -> [LowRankAdapter] {
        targets(of: model).flatMap(\.adapters)
    }

    /// Hugging Face names of the modules that carry an adapter.
    public static func adaptedModuleNames(of model: any CausalLanguageModel) -> [String] {
        targets(of: model).filter { !$0.adapters.isEmpty }.map(\.name)
    }

    private static func setEnabled(_ model: any CausalLanguageModel, _ enabled: Bool) {
        for adapter in adapters(in: model) { adapter.isEnabled = enabled }
    }
}

/// A LoRA configuration or adapter folder that cannot be used; the message says what, where and what to do.
public struct LoRAError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public var errorDescription: String? { description }
    init(_ description: String) { self.description = description }
}
