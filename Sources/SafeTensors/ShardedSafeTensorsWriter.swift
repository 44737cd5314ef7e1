import Foundation
import JSON
import Runtime

/// Writes a checkpoint directory the way transformers' `save_pretrained` does: one `model.safetensors` when
/// everything fits in one shard, else `model-0000i-of-0000n.safetensors` shards plus `model.safetensors.index.json`.
///
/// Tensors are assigned to shards greedily in sorted name order; a tensor larger than the limit gets a shard
/// of its own. Each file is written atomically; the index is written last so a reader never sees an index
/// pointing at shards that are not there yet.
public struct ShardedSafeTensorsWriter {
    /// Largest shard, in tensor-data bytes (transformers' `max_shard_size`, default 5 GB there).
    public var maximumShardSize: Int
    /// The tensors to write (and the `__metadata__` each shard carries).
    public var tensors: SafeTensorsWriter

    /// Creates an empty writer.
    /// - Parameters:
    ///   - maximumShardSize: Bytes of tensor data per shard before starting a new one.
    ///   - metadata: Header metadata written into every shard.
    public init(maximumShardSize: Int = 5_000_000_000, metadata: [String: String] = ["format": "pt"]) {
        precondition(maximumShardSize > 0, "maximumShardSize must be positive, got \(maximumShardSize)")
        self.maximumShardSize = maximumShardSize
        self.tensors = SafeTensorsWriter(metadata: metadata)
    }

    /// Adds a tensor of `Float` values (see ``SafeTensorsWriter/add(_:shape:values:as:)``).
    public mutating func add(_ name: String, shape: [Int], values: [Float], as dtype: SafeTensorsDType = .float32) throws {
        try tensors.add(name, shape: shape, values: values, as: dtype)
    }

    /// Tensor names grouped into shards, in order.
    func plan() -> [[String]] {
        var shards: [[String]] = []
        var current: [String] = []
        var currentSize = 0
        for name in tensors.names {
            let size = tensors.tensors[name]?.bytes.count ?? 0
            if !current.isEmpty && currentSize + size > maximumShardSize {
                shards.append(current)
                current = []
                currentSize = 0
            }
            current.append(name)
            currentSize += size
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }
        return shards
    }

    /// Writes the checkpoint into `directory` (created if needed).
    /// - Returns: The files written, shards first, then the index if any.
    /// - Throws: ``SafeTensorsError/writeFailed(file:reason:)``.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SafeTensorsError.writeFailed(file: directory.path, reason: error.localizedDescription)
        }
        let shards = plan()
        if shards.count == 1 {
            let url = directory.appendingPathComponent(ShardedSafeTensors.singleFileName)
            try tensors.write(to: url)
            return [url]
        }
        var written: [URL] = []
        var weightMap: [String: String] = [:]
        for (index, names) in shards.enumerated() {
            let fileName = String(format: "model-%05d-of-%05d.safetensors", index + 1, shards.count)
            var shard = SafeTensorsWriter(metadata: tensors.metadata)
            for name in names {
                guard let tensor = tensors.tensors[name] else { continue }
                try shard.add(name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.bytes)
                weightMap[name] = fileName
            }
            let url = directory.appendingPathComponent(fileName)
            try shard.write(to: url)
            written.append(url)
        }
        let indexURL = directory.appendingPathComponent(ShardedSafeTensors.indexFileName)
        let parameterCount = tensors.tensors.values.reduce(0) { $0 + $1.bytes.count / $1.dtype.size }
        let index = Self.indexJSON(totalParameters: parameterCount, totalSize: tensors.dataByteCount, weightMap: weightMap)
        try AtomicFile.writeSafeTensors(to: indexURL) { try $0.write(contentsOf: Data(index.utf8)) }
        written.append(indexURL)
        return written
    }

    /// The index text, formatted like Python's `json.dumps(index, indent=2, sort_keys=True) + "\n"`.
    static func indexJSON(totalParameters: Int, totalSize: Int, weightMap: [String: String]) -> String {
        let entries = weightMap.keys.sorted().map { name in
            "    \(JSONValue.quoted(name)): \(JSONValue.quoted(weightMap[name] ?? ""))"
        }
        return "{\n  \"metadata\": {\n    \"total_parameters\": \(totalParameters),\n    \"total_size\": \(totalSize)\n  },\n  \"weight_map\": {\n"
            + entries.joined(separator: ",\n") + "\n  }\n}\n"
    }
}
