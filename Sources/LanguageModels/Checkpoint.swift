import Foundation
import JSON
import Runtime
import SafeTensors
import Tensors

/// One tensor of a Hugging Face checkpoint and how it maps onto a Charter parameter (or several).
struct CheckpointEntry {
    /// The tensor's name in the checkpoint (e.g. `model.layers.0.self_attn.q_proj.weight`).
    let name: String
    /// Its shape in the checkpoint.
    let shape: Shape
    /// Reads the values, in the checkpoint's layout, from Charter's parameters.
    let read: () -> [Float]
    /// Writes values in the checkpoint's layout into Charter's parameters.
    let write: ([Float]) -> Void

    /// A parameter stored exactly as Charter stores it.
    static func direct(_ name: String, _ tensor: Tensor) -> CheckpointEntry {
        CheckpointEntry(name: name, shape: tensor.shape, read: { tensor.scalars },
                        write: { tensor.assign(Tensor(shape: tensor.shape, scalars: $0)) })
    }

    /// A (out, in) linear weight stored transposed, as GPT-2's Conv1D stores (in, out).
    static func transposed(_ name: String, _ tensor: Tensor) -> CheckpointEntry {
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        return CheckpointEntry(name: name, shape: [columns, rows],
                               read: { withoutGradients { tensor.transposed().scalars } },
                               write: { tensor.assign(Tensor(shape: [columns, rows], scalars: $0).transposed().detached()) })
    }

    /// Several parameters concatenated along the checkpoint's last axis (GPT-2's fused `c_attn`, stored (in, 3·out)),
    /// each stored transposed when `transposed`, or along axis 0 for biases.
    static func concatenated(_ name: String, _ tensors: [Tensor], transposed: Bool) -> CheckpointEntry {
        if !transposed {
            let sizes = tensors.map(\.count)
            return CheckpointEntry(name: name, shape: [sizes.reduce(0, +)], read: { tensors.flatMap(\.scalars) }, write: { values in
                var offset = 0
                for (tensor, size) in zip(tensors, sizes) {
                    tensor.assign(Tensor(shape: tensor.shape, scalars: Array(values[offset..<(offset + size)])))
                    offset += size
                }
            })
        }
        let input = tensors[0].shape[1], outputs = tensors.map { $0.shape[0] }
        return CheckpointEntry(name: name, shape: [input, outputs.reduce(0, +)], read: {
            withoutGradients { Tensor.concatenate(tensors.map { $0.transposed() }, axis: 1).scalars }
        }, write: { values in
            let stored = Tensor(shape: [input, outputs.reduce(0, +)], scalars: values)
            var offset = 0
            for (tensor, size) in zip(tensors, outputs) {
                tensor.assign(withoutGradients { stored.slice(axis: 1, offset..<(offset + size)).transposed().detached() })
                offset += size
            }
        })
    }
}

/// A model that can be read from and written to a Hugging Face folder.
protocol CheckpointMapped: CausalLanguageModel {
    /// Every tensor of the checkpoint, in transformers' naming.
    func checkpointEntries() -> [CheckpointEntry]
    /// Names transformers may store that hold no parameter (buffers) and are skipped on load.
    static var ignoredCheckpointNames: [String] { get }
    /// config.json contents: an object, written by `PretrainedModel.configurationData(_:)`.
    func configurationJSON() throws -> JSONValue
}

/// A checkpoint folder that cannot be used.
public struct CheckpointError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public var errorDescription: String? { description }
    init(_ description: String) { self.description = description }
}

extension CheckpointMapped {
    /// Loads every parameter from `tensors`. Missing tensors are an error; tensors the model does not use are an
    /// error too (except known buffers), so nothing in a checkpoint is silently ignored.
    func load(from tensors: ShardedSafeTensors, directory: URL, aliases: [String: String] = [:]) throws {
        var unused = Set(tensors.names)
        for entry in checkpointEntries() {
            let name = tensors.contains(entry.name) ? entry.name : aliases[entry.name] ?? entry.name
            guard tensors.contains(name) else {
                throw CheckpointError("\(directory.path): checkpoint has no tensor \"\(entry.name)\" needed by this \(Self.self) configuration")
            }
            let info = try tensors.info(name)
            guard info.shape == entry.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(name)\" has shape \(info.shape), config.json implies \(entry.shape)")
            }
            entry.write(try tensors.weights(name))
            unused.remove(name)
        }
        let unexpected = unused.filter { name in !Self.ignoredCheckpointNames.contains { name.hasSuffix($0) } }
        if !unexpected.isEmpty {
            throw CheckpointError("\(directory.path): checkpoint tensors not used by the model: \(unexpected.sorted().prefix(10).joined(separator: ", "))"
                                  + (unexpected.count > 10 ? " (and \(unexpected.count - 10) more)" : "")
                                  + ". Does config.json match the weights?")
        }
    }

    /// Writes config.json and safetensors weights (sharded above `maximumShardSize` bytes) into `directory`.
    public func save(to directory: URL, dtype: SafeTensorsDType = .float32, maximumShardSize: Int = 5_000_000_000) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = ShardedSafeTensorsWriter(maximumShardSize: maximumShardSize)
        for entry in checkpointEntries() { try writer.add(entry.name, shape: entry.shape, values: entry.read(), as: dtype) }
        try writer.write(to: directory)
        try AtomicFile.write(PretrainedModel.configurationData(configurationJSON()), to: directory.appendingPathComponent("config.json"))
    }
}
