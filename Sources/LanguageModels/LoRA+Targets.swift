import Foundation
import NeuralNetworks

/// A module that PEFT can put an adapter on, by its Hugging Face name, and the Charter layers behind it.
struct LoRATarget {
    /// transformers' module name, e.g. `model.layers.0.self_attn.q_proj` or `transformer.h.0.attn.c_attn`.
    let name: String
    /// One layer, or query/key/value for GPT-2's fused `c_attn` (its output rows, in that order).
    let layers: [Linear]
    /// GPT-2 stores these layers as Conv1D, weight (in, out): PEFT's `fan_in_fan_out`.
    let isConv1D: Bool

    var inputSize: Int { layers[0].inputSize }
    var outputSize: Int { layers.reduce(0) { $0 + $1.outputSize } }
    /// The adapters on this module's layers (empty when it has none).
    var adapters: [LowRankAdapter] { layers.compactMap { $0.adapter as? LowRankAdapter } }
}

extension LoRA {
    /// Every module of `model` that can take an adapter, in the model's order. Mirrors `checkpointEntries()`:
    /// each name + ".weight" is a checkpoint tensor. The output head is left out (PEFT's "all-linear" skips it and
    /// Charter applies it as a plain matrix product).
    static func targets(of model: any CausalLanguageModel) -> [LoRATarget] {
        var targets: [LoRATarget] = []
        if let llama = model as? LlamaModel {
            for (index, block) in llama.blocks.enumerated() {
                let prefix = "model.layers.\(index)"
                let attention = block.attention, mlp = block.mlp
                for (name, layer) in [("self_attn.q_proj", attention.query), ("self_attn.k_proj", attention.key),
                                      ("self_attn.v_proj", attention.value), ("self_attn.o_proj", attention.output),
                                      ("mlp.gate_proj", mlp.gate), ("mlp.up_proj", mlp.up), ("mlp.down_proj", mlp.down)] {
                    targets.append(LoRATarget(name: "\(prefix).\(name)", layers: [layer], isConv1D: false))
                }
            }
        } else if let gpt = model as? GPTModel {
            for (index, block) in gpt.blocks.enumerated() {
                let prefix = "transformer.h.\(index)"
                let attention = block.attention
                targets.append(LoRATarget(name: prefix + ".attn.c_attn", layers: [attention.query, attention.key, attention.value], isConv1D: true))
                targets.append(LoRATarget(name: prefix + ".attn.c_proj", layers: [attention.output], isConv1D: true))
                targets.append(LoRATarget(name: prefix + ".mlp.c_fc", layers: [block.up], isConv1D: true))
                targets.append(LoRATarget(name: prefix + ".mlp.c_proj", layers: [block.down], isConv1D: true))
            }
        }
        return targets
    }

    /// PEFT's default `target_modules` when the config has none (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).
    static func defaultTargetModules(of model: any CausalLanguageModel) -> [String] {
        model is GPTModel ? ["c_attn"] : ["q_proj", "v_proj"]
    }

    /// The targets that `configuration` selects, with PEFT's rules: a listed name matches a module whose name equals
    /// it or ends with "." + name; a string is a regular expression that must match the whole name ("all-linear":
    /// every target). `exclude_modules` is matched the same way and wins.
    /// - Throws: `LoRAError` when a listed name (or the pattern) matches no module, naming the modules there are.
    static func selectedTargets(of model: any CausalLanguageModel, _ configuration: LoRAConfiguration) throws -> [LoRATarget] {
        let all = targets(of: model)
        guard !all.isEmpty else { throw LoRAError("\(type(of: model)) has no modules LoRA can adapt") }
        let targetModules = configuration.targetModules ?? .names(defaultTargetModules(of: model))
        let include = try matcher(targetModules)
        let exclude = try configuration.excludeModules.map(matcher)
        if case .names(let names) = targetModules {
            for name in names where !all.contains(where: { matches(name, $0.name) }) {
                throw LoRAError("target_modules entry \"\(name)\" matches no module of \(type(of: model)); "
                                + "modules that can be adapted: \(moduleNameSummary(all))")
            }
        }
        let selected = all.filter { include($0.name) && !(exclude?($0.name) ?? false) }
        guard !selected.isEmpty else {
            throw LoRAError("target_modules \(targetModules) selects no module of \(type(of: model)); "
                            + "modules that can be adapted: \(moduleNameSummary(all))")
        }
        return selected
    }

    private static func matches(_ key: String, _ name: String) -> Bool { name == key || name.hasSuffix("." + key) }

    private static func matcher(_ modules: LoRAConfiguration.TargetModules) throws -> (String) -> Bool {
        switch modules {
        case .names(let keys):
            return { name in keys.contains { matches($0, name) } }
        case .pattern(let pattern) where pattern.lowercased() == "all-linear":
            return { _ in true }
        case .pattern(let pattern):
            // Python's re.fullmatch: the whole name, even when an earlier alternative matches a prefix.
            let expression: NSRegularExpression
            do { expression = try NSRegularExpression(pattern: "\\A(?:\(pattern))\\z") } catch {
                throw LoRAError("target_modules pattern \"\(pattern)\" is not a valid regular expression: \(error)")
            }
            return { name in expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil }
        }
    }

    /// The layer-0 names with "<n>" for the layer index, e.g. `model.layers.<n>.self_attn.q_proj`.
    private static func moduleNameSummary(_ targets: [LoRATarget]) -> String {
        var seen = Set<String>(), names: [String] = []
        for target in targets {
            let generic = target.name.split(separator: ".").map { $0.allSatisfy(\.isNumber) ? "<n>" : String($0) }.joined(separator: ".")
            if seen.insert(generic).inserted { names.append(generic) }
        }
        return names.joined(separator: ", ")
    }
}
