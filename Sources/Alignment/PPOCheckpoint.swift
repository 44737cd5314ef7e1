import Foundation
import NeuralNetworks
import SafeTensors
import Tensors

/// PPO's resumable checkpoints: `checkpoint-N/` holds every trainable tensor (policy or its adapters, critic, value
/// head) by name, the optimizer's buffers and ppo_state.json (iteration, episode, random generator, KL controller,
/// optimizer scalars). Written into `checkpoint-N.partial/` and renamed when complete, so a checkpoint that exists
/// is whole.
enum PPOCheckpoint {
    /// Everything besides tensors that an exact resume needs.
    struct State: Codable {
        var iteration: Int
        var episode: Int
        var generator: SeededGenerator
        var klController: PPOKLController
    }

    struct StateFile: Codable {
        var state: State
        var optimizerKind: String
        var optimizerStepCount: Int
        var learningRate: Float
    }

    static let tensorsFile = "trainable.safetensors", optimizerFile = "optimizer.safetensors", stateFile = "ppo_state.json"

    /// The trainable tensors by checkpoint name: "policy.…", "critic.…", "value_head.…".
    static func namedTrainables(_ trainer: PPOTrainer) -> [(String, Tensor)] {
        var result = trainer.policy.model.namedParameters().filter { $0.tensor.requiresGrad }.map { ("policy." + $0.name, $0.tensor) }
        if let trunk = trainer.critic.trunk {
            result += trunk.model.namedParameters().filter { $0.tensor.requiresGrad }.map { ("critic." + $0.name, $0.tensor) }
        }
        result += trainer.critic.head.namedParameters().map { ("value_head." + $0.name, $0.tensor) }
        return result
    }

    static func save(state: State, trainer: PPOTrainer, optimizer: AdamW, in output: URL, keep: Int) throws -> URL {
        let final = output.appendingPathComponent("checkpoint-\(state.iteration)")
        let partial = output.appendingPathComponent("checkpoint-\(state.iteration).partial")
        let files = FileManager.default
        try? files.removeItem(at: partial)
        try files.createDirectory(at: partial, withIntermediateDirectories: true)
        var tensors = SafeTensorsWriter(metadata: ["format": "charter-ppo"])
        for (name, tensor) in namedTrainables(trainer) { try tensors.add(name, shape: tensor.shape, values: tensor.scalars) }
        try tensors.write(to: partial.appendingPathComponent(tensorsFile))
        let optimizerState = optimizer.state()
        var writer = SafeTensorsWriter(metadata: ["format": "charter-optimizer", "kind": optimizerState.kind])
        for (name, values) in optimizerState.buffers.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, shape: [values.count], values: values)
        }
        try writer.write(to: partial.appendingPathComponent(optimizerFile))
        let file = StateFile(state: state, optimizerKind: optimizerState.kind, optimizerStepCount: optimizerState.stepCount,
                             learningRate: optimizerState.learningRate)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(file).write(to: partial.appendingPathComponent(stateFile))
        try? files.removeItem(at: final)
        try files.moveItem(at: partial, to: final)
        if keep > 0 {
            for old in completed(in: output).dropLast(keep) { try? files.removeItem(at: old.url) }
        }
        return final
    }

    /// Complete checkpoints in `output`, oldest first.
    static func completed(in output: URL) -> [(iteration: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let iteration = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = output.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(stateFile).path) else { return nil }
            return (iteration, url)
        }.sorted { $0.0 < $1.0 }
    }

    static func latest(in output: URL) throws -> URL? { completed(in: output).last?.url }

    /// Restores tensors and optimizer into `trainer` and returns the loop state.
    /// - Throws: `TrainingError.resume` naming the file and tensor that does not fit this run.
    static func restore(_ checkpoint: URL, trainer: PPOTrainer, optimizer: AdamW) throws -> State {
        let stateURL = checkpoint.appendingPathComponent(stateFile)
        let file: StateFile
        do {
            file = try JSONDecoder().decode(StateFile.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.resume("\(stateURL.path): cannot read the PPO state (\(error))")
        }
        let tensorsURL = checkpoint.appendingPathComponent(tensorsFile)
        let tensors = try SafeTensorsFile(url: tensorsURL)
        for (name, tensor) in namedTrainables(trainer) {
            guard tensors.contains(name) else {
                throw TrainingError.resume("\(tensorsURL.path): no tensor \(name); was the model, LoRA or critic configuration changed?")
            }
            let values = try tensors.floats(name)
            guard values.count == tensor.count else {
                throw TrainingError.resume("\(tensorsURL.path): \(name) has \(values.count) values, the run's tensor \(tensor.shape)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
        let optimizerTensors = try SafeTensorsFile(url: checkpoint.appendingPathComponent(optimizerFile))
        var buffers: [String: [Float]] = [:]
        for name in optimizerTensors.names { buffers[name] = try optimizerTensors.floats(name) }
        do {
            try optimizer.load(OptimizerState(kind: file.optimizerKind, stepCount: file.optimizerStepCount,
                                              learningRate: file.learningRate, buffers: buffers))
        } catch {
            throw TrainingError.resume("\(checkpoint.path): optimizer state does not fit this run (\(error))")
        }
        return file.state
    }
}
