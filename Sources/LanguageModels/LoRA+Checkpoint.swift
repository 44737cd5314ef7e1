import Foundation
import Runtime
import NeuralNetworks
import SafeTensors
import Tensors

/// Adapter folders in PEFT's layout: `adapter_config.json` + `adapter_model.safetensors` holding, per adapted module,
/// `base_model.model.<module>.lora_A.weight` (r, in) and `….lora_B.weight` (out, r) — the names
/// `PeftModel.save_pretrained` writes (no adapter name), float32.
extension LoRA {
    public static let configurationFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"

    static func tensorName(_ module: String, _ matrix: String) -> String { "base_model.model.\(module).\(matrix).weight" }

    /// Writes `model`'s adapters to `directory` so that `PeftModel.from_pretrained(base, directory)` computes the
    /// same outputs.
    ///
    /// The written config is `configuration` with `target_modules` resolved when it was nil, `fan_in_fan_out` set for
    /// the architecture (true for GPT-2's Conv1D) and `inference_mode` true, as PEFT writes them.
    /// - Throws: `LoRAError` when the model has no adapters or `configuration` does not describe them (rank, scaling,
    ///   or a different set of modules); file errors.
    public static func save(_ model: any CausalLanguageModel, configuration: LoRAConfiguration, to directory: URL) throws {
        let adapted = targets(of: model).filter { !$0.adapters.isEmpty }
        guard !adapted.isEmpty else { throw LoRAError("\(type(of: model)) has no LoRA adapters to save") }
        var configuration = configuration
        configuration.targetModules = configuration.targetModules ?? .names(defaultTargetModules(of: model))
        configuration.fanInFanOut = model is GPTModel
        configuration.inferenceMode = true
        try configuration.validate()
        let selected = try selectedTargets(of: model, configuration).map(\.name)
        guard selected == adapted.map(\.name) else {
            throw LoRAError("the configuration's target_modules select \(selected.count) modules but the model has adapters on "
                            + "\(adapted.count) (first difference: \(Set(selected).symmetricDifference(adapted.map(\.name)).sorted().first ?? "?")); "
                            + "save with the configuration the adapters were applied with")
        }
        var writer = SafeTensorsWriter()
        for target in adapted {
            let adapters = target.adapters
            guard adapters.count == target.layers.count, adapters.allSatisfy({ $0.loraA === adapters[0].loraA }) else {
                throw LoRAError("\(target.name): its layers do not share one adapter; it cannot be saved as one PEFT module")
            }
            guard adapters[0].rank == configuration.rank, adapters.allSatisfy({ $0.scaling == configuration.scaling }) else {
                throw LoRAError("\(target.name): adapter has r = \(adapters[0].rank), scaling \(adapters[0].scaling); the configuration "
                                + "says r = \(configuration.rank), scaling \(configuration.scaling)")
            }
            let a = adapters[0].loraA
            try writer.add(tensorName(target.name, "lora_A"), shape: a.shape, values: a.scalars)
            try writer.add(tensorName(target.name, "lora_B"), shape: [target.outputSize, configuration.rank],
                           values: adapters.flatMap { $0.loraB.scalars })
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writer.write(to: directory.appendingPathComponent(weightsFileName))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(encoder.encode(configuration), to: directory.appendingPathComponent(configurationFileName))
    }

    /// Reads the configuration of the adapter folder `directory`.
    /// - Throws: `LoRAError` naming the file and field.
    public static func loadConfiguration(from directory: URL) throws -> LoRAConfiguration {
        let url = directory.appendingPathComponent(configurationFileName)
        guard let data = try? Data(contentsOf: url) else {
            throw LoRAError("\(url.path): cannot read \(configurationFileName) (is \(directory.path) a PEFT adapter folder?)")
        }
        do {
            let configuration = try JSONDecoder().decode(LoRAConfiguration.self, from: data)
            try configuration.validate()
            return configuration
        } catch let error as DecodingError {
            throw LoRAError("\(url.path): \(PretrainedModel.describe(error))")
        } catch let error as LoRAError {
            throw LoRAError("\(url.path): \(error.description)")
        }
    }

    /// Attaches the adapter saved in `directory` (by PEFT or by `save`) to `model`, which must be its base model.
    ///
    /// As `PeftModel.from_pretrained`, the adapter is loaded for inference unless `trainable`: A and B then require
    /// gradients and dropout is on. Base parameters are frozen either way.
    /// - Returns: the adapter's configuration.
    /// - Throws: `LoRAError` naming the file and tensor when a tensor is missing, has the wrong shape, or is not a
    ///   LoRA matrix of a targeted module; nothing is attached then.
    @discardableResult
    public static func load(from directory: URL, into model: any CausalLanguageModel, trainable: Bool = false) throws -> LoRAConfiguration {
        let configuration = try loadConfiguration(from: directory)
        guard adapters(in: model).isEmpty else {
            throw LoRAError("\(type(of: model)) already has LoRA adapters; merge or remove them before loading \(directory.path)")
        }
        let configurationPath = directory.appendingPathComponent(configurationFileName).path
        let selected: [LoRATarget]
        do { selected = try selectedTargets(of: model, configuration) } catch let error as LoRAError {
            throw LoRAError("\(configurationPath): \(error.description)")
        }
        let url = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw LoRAError("\(directory.path): no \(weightsFileName) (adapters saved as .bin by old PEFT versions are not supported; "
                            + "re-save with safe_serialization=True)")
        }
        let file = try SafeTensorsFile(url: url)
        var unused = Set(file.names)
        var weights: [(LoRATarget, Tensor, Tensor)] = []
        for target in selected {
            var matrices: [Tensor] = []
            for (matrix, shape) in [("lora_A", [configuration.rank, target.inputSize]), ("lora_B", [target.outputSize, configuration.rank])] {
                let name = tensorName(target.name, matrix)
                guard file.contains(name) else {
                    throw LoRAError("\(url.path): no tensor \"\(name)\", which \(configurationPath) targets (r = \(configuration.rank))")
                }
                let info = try file.info(name)
                guard info.shape == shape else {
                    throw LoRAError("\(url.path): tensor \"\(name)\" has shape \(info.shape), expected \(shape) "
                                    + "(r = \(configuration.rank) from \(configurationFileName), module \(target.inputSize) → \(target.outputSize))")
                }
                matrices.append(Tensor(shape: shape, scalars: try file.weights(name)))
                unused.remove(name)
            }
            weights.append((target, matrices[0], matrices[1]))
        }
        if let unexpected = unused.sorted().first {
            throw LoRAError("\(url.path): tensor \"\(unexpected)\" is not a LoRA matrix of a module that \(configurationFileName) targets"
                            + (unused.count > 1 ? " (and \(unused.count - 1) more)" : "")
                            + "; Charter loads only lora_A/lora_B of the target_modules (no modules_to_save, biases or DoRA)")
        }
        model.setTrainable(false)
        var generator = SeededGenerator(seed: 0)
        for (target, a, b) in weights {
            attach(a: a, b: b, to: target, configuration: configuration, generator: SeededGenerator(seed: generator.next()), trainable: trainable)
        }
        return configuration
    }
}
