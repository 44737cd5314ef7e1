import Foundation
import NeuralNetworks
import SafeTensors
import Tensors

/// A checkpoint's state file: the loop state, the optimizer's scalars and whatever else an exact resume needs,
/// as pretty-printed JSON with sorted keys under a trainer's file name.
protocol CheckpointStateFile: Codable {
    /// trainer_state.json (supervised trainers), ppo_state.json (PPO); a checkpoint is complete when it has one.
    static var fileName: String { get }
    var optimizerKind: String { get }
    var optimizerStepCount: Int { get }
    var learningRate: Float { get }
}

/// The resumable checkpoints of every trainer: `checkpoint-N/` holds the trainable tensors (as the procedure saves
/// them: a model folder, or PPO's trainable.safetensors), the optimizer's buffers (optimizer.safetensors) and the
/// procedure's state file. Each is written into `checkpoint-N.partial/` and renamed when complete, so a checkpoint
/// that exists is whole.
enum Checkpoints {
    static let optimizerFile = "optimizer.safetensors"

    /// Writes `checkpoint-<state.step>` and keeps the newest `keep` complete checkpoints (all when `keep` ≤ 0).
    static func save<Procedure: TrainingProcedure>(_ procedure: Procedure, state: Procedure.State, optimizer: AdamW,
                                                   in output: URL, keep: Int) throws -> URL {
        let final = output.appendingPathComponent("checkpoint-\(state.step)")
        let partial = output.appendingPathComponent("checkpoint-\(state.step).partial")
        let files = FileManager.default
        try? files.removeItem(at: partial)
        try files.createDirectory(at: partial, withIntermediateDirectories: true)
        try procedure.saveCheckpoint(to: partial)
        let optimizerState = optimizer.state()
        var writer = SafeTensorsWriter(metadata: ["format": "charter-optimizer", "kind": optimizerState.kind])
        for (name, values) in optimizerState.buffers.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, shape: [values.count], values: values)
        }
        try writer.write(to: partial.appendingPathComponent(optimizerFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(procedure.stateFile(state, optimizer: optimizerState))
            .write(to: partial.appendingPathComponent(Procedure.StateFile.fileName))
        try? files.removeItem(at: final)
        try files.moveItem(at: partial, to: final)
        if keep > 0 {
            for old in completed(in: output, stateFile: Procedure.StateFile.fileName).dropLast(keep) { try? files.removeItem(at: old.url) }
        }
        return final
    }

    /// Complete checkpoints in `output` (those with `stateFile`), oldest first.
    static func completed(in output: URL, stateFile: String) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), !name.hasSuffix(".partial"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = output.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(stateFile).path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest complete checkpoint of `Procedure`'s kind in `output`, if any.
    static func latest<Procedure: TrainingProcedure>(in output: URL, for _: Procedure.Type) -> URL? {
        completed(in: output, stateFile: Procedure.StateFile.fileName).last?.url
    }

    /// Restores tensors and optimizer into `procedure` and returns the loop state.
    /// - Throws: `TrainingError.resume` naming the file that does not fit this run.
    static func restore<Procedure: TrainingProcedure>(_ checkpoint: URL, into procedure: Procedure, optimizer: AdamW) throws -> Procedure.State {
        let stateURL = checkpoint.appendingPathComponent(Procedure.StateFile.fileName)
        let file: Procedure.StateFile
        do {
            file = try JSONDecoder().decode(Procedure.StateFile.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.resume("\(stateURL.path): cannot read the trainer state (\(error))")
        }
        try procedure.loadCheckpoint(from: checkpoint)
        let tensors = try SafeTensorsFile(url: checkpoint.appendingPathComponent(optimizerFile))
        var buffers: [String: [Float]] = [:]
        for name in tensors.names { buffers[name] = try tensors.floats(name) }
        do {
            try optimizer.load(OptimizerState(kind: file.optimizerKind, stepCount: file.optimizerStepCount,
                                              learningRate: file.learningRate, buffers: buffers))
        } catch {
            throw TrainingError.resume("\(checkpoint.path): optimizer state does not fit this run (\(error)); was the model or LoRA configuration changed?")
        }
        return procedure.restoreState(from: file)
    }
}
