import Foundation
import NeuralNetworks
import SafeTensors
import Tensors

/// Resumable checkpoints: `checkpoint-N/` holds the model (as the objective saves it), the optimizer's buffers
/// (optimizer.safetensors) and the trainer state (trainer_state.json: step, random generator, optimizer
/// scalars). Each is written into `checkpoint-N.partial/` and renamed when complete, so a checkpoint that
/// exists is whole.
enum Checkpoints {
    struct StateFile: Codable {
        var step: Int
        var generator: SeededGenerator
        var optimizerKind: String
        var optimizerStepCount: Int
        var learningRate: Float
        var counters: [String: Double]
    }

    static func save(step: Int, state: TrainerState, objective: TrainingObjective, optimizer: AdamW,
                     in output: URL, keep: Int) throws -> URL {
        let final = output.appendingPathComponent("checkpoint-\(step)")
        let partial = output.appendingPathComponent("checkpoint-\(step).partial")
        let files = FileManager.default
        try? files.removeItem(at: partial)
        try files.createDirectory(at: partial, withIntermediateDirectories: true)
        try objective.saveModel(to: partial)
        let optimizerState = optimizer.state()
        var writer = SafeTensorsWriter(metadata: ["format": "charter-optimizer", "kind": optimizerState.kind])
        for (name, values) in optimizerState.buffers.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, shape: [values.count], values: values)
        }
        try writer.write(to: partial.appendingPathComponent("optimizer.safetensors"))
        let file = StateFile(step: step, generator: state.generator, optimizerKind: optimizerState.kind,
                             optimizerStepCount: optimizerState.stepCount, learningRate: optimizerState.learningRate,
                             counters: objective.counters)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(file).write(to: partial.appendingPathComponent("trainer_state.json"))
        try? files.removeItem(at: final)
        try files.moveItem(at: partial, to: final)
        if keep > 0 {
            for old in try completed(in: output).dropLast(keep) { try? files.removeItem(at: old.url) }
        }
        return final
    }

    /// Complete checkpoints in `output`, oldest first.
    static func completed(in output: URL) throws -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), !name.hasSuffix(".partial"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = output.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("trainer_state.json").path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }

    static func latest(in output: URL) throws -> URL? { try completed(in: output).last?.url }

    static func restore(_ checkpoint: URL, objective: TrainingObjective, optimizer: AdamW) throws -> TrainerState {
        let stateURL = checkpoint.appendingPathComponent("trainer_state.json")
        let file: StateFile
        do {
            file = try JSONDecoder().decode(StateFile.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.resume("\(stateURL.path): cannot read trainer state (\(error))")
        }
        try objective.loadModel(from: checkpoint)
        let tensors = try SafeTensorsFile(url: checkpoint.appendingPathComponent("optimizer.safetensors"))
        var buffers: [String: [Float]] = [:]
        for name in tensors.names { buffers[name] = try tensors.floats(name) }
        do {
            try optimizer.load(OptimizerState(kind: file.optimizerKind, stepCount: file.optimizerStepCount,
                                              learningRate: file.learningRate, buffers: buffers))
        } catch {
            throw TrainingError.resume("\(checkpoint.path): optimizer state does not fit this run (\(error)); was the model or LoRA configuration changed?")
        }
        objective.counters = file.counters
        return TrainerState(step: file.step, generator: file.generator)
    }
}
