import Foundation
import JSON

/// A checkpoint directory as transformers saves it: either one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"metadata": {"total_size": …}, "weight_map": {tensor: shard file}}`).
///
/// Opening validates that every shard named by the index exists and contains the tensors mapped to it,
/// so a partial download fails up front with the tensor and shard at fault.
public final class ShardedSafeTensors: @unchecked Sendable {
    /// Name of the index file transformers writes for sharded checkpoints.
    public static let indexFileName = "model.safetensors.index.json"
    /// Name of the single-file checkpoint.
    public static let singleFileName = "model.safetensors"

    /// The checkpoint directory.
    public let directory: URL
    /// The open shard files, in shard-name order.
    public let files: [SafeTensorsFile]
    /// `metadata.total_size` from the index (total tensor bytes), or nil for a single file.
    public let totalSize: Int?
    /// Tensor name → the file holding it.
    private let owners: [String: SafeTensorsFile]

    /// Opens the checkpoint in `directory`.
    /// - Throws: ``SafeTensorsError/invalidIndex(file:reason:)``, ``SafeTensorsError/missingShard(index:tensor:shard:)``,
    ///   ``SafeTensorsError/tensorMissingFromShard(index:tensor:shard:)``, or any error of ``SafeTensorsFile/init(url:)``.
    public init(directory: URL) throws {
        self.directory = directory
        let indexURL = directory.appendingPathComponent(Self.indexFileName)
        let singleURL = directory.appendingPathComponent(Self.singleFileName)
        let manager = FileManager.default
        if manager.fileExists(atPath: indexURL.path) {
            let index = try Self.readIndex(indexURL)
            var opened: [String: SafeTensorsFile] = [:]
            for shard in Set(index.weightMap.values).sorted() {
                let shardURL = directory.appendingPathComponent(shard)
                guard manager.fileExists(atPath: shardURL.path) else {
                    let tensor = index.weightMap.first { $0.value == shard }?.key ?? ""
                    throw SafeTensorsError.missingShard(index: indexURL.path, tensor: tensor, shard: shard)
                }
                opened[shard] = try SafeTensorsFile(url: shardURL)
            }
            var owners: [String: SafeTensorsFile] = [:]
            for (tensor, shard) in index.weightMap {
                guard let file = opened[shard], file.contains(tensor) else {
                    throw SafeTensorsError.tensorMissingFromShard(index: indexURL.path, tensor: tensor, shard: shard)
                }
                owners[tensor] = file
            }
            files = opened.keys.sorted().compactMap { opened[$0] }
            self.owners = owners
            totalSize = index.totalSize
        } else if manager.fileExists(atPath: singleURL.path) {
            let file = try SafeTensorsFile(url: singleURL)
            files = [file]
            owners = Dictionary(uniqueKeysWithValues: file.names.map { ($0, file) })
            totalSize = nil
        } else {
            throw SafeTensorsError.unreadable(
                file: directory.path,
                reason: "neither \(Self.indexFileName) nor \(Self.singleFileName) exists; is this a safetensors checkpoint directory?")
        }
    }

    /// All tensor names, sorted.
    public var names: [String] { owners.keys.sorted() }

    /// Whether the checkpoint contains `name`.
    public func contains(_ name: String) -> Bool { owners[name] != nil }

    /// The shard holding tensor `name`.
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` naming the checkpoint directory.
    public func file(containing name: String) throws -> SafeTensorsFile {
        guard let file = owners[name] else { throw SafeTensorsError.tensorNotFound(file: directory.path, tensor: name) }
        return file
    }

    /// The dtype and shape of tensor `name`.
    public func info(_ name: String) throws -> TensorInfo { try file(containing: name).info(name) }

    /// Tensor `name` converted to `Float` (see ``SafeTensorsFile/floats(_:)``).
    public func floats(_ name: String) throws -> [Float] { try file(containing: name).floats(name) }

    /// Model weight `name` converted to `Float`; integer and BOOL tensors are refused (see ``SafeTensorsFile/weights(_:)``).
    public func weights(_ name: String) throws -> [Float] { try file(containing: name).weights(name) }

    /// Tensor `name` as `Float`s without copying where possible (see ``SafeTensorsFile/withFloats(_:_:)``).
    public func withFloats<Result>(_ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> Result) throws -> Result {
        try file(containing: name).withFloats(name, body)
    }

    /// The parsed index: tensor → shard file name, and the declared total size.
    struct Index {
        var weightMap: [String: String]
        var totalSize: Int?
    }

    /// Reads and validates an index file; shard names must be plain file names inside the directory.
    static func readIndex(_ url: URL) throws -> Index {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError.unreadable(file: path, reason: error.localizedDescription)
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(data, maximumDepth: JSONValue.headerMaximumDepth)
        } catch let error as JSONSyntaxError {
            throw SafeTensorsError.invalidIndex(file: path, reason: "byte \(error.offset): \(error.reason)")
        }
        guard case let .object(members) = json else {
            throw SafeTensorsError.invalidIndex(file: path, reason: "must be a JSON object, found \(json.headerTypeName)")
        }
        guard let weightMapValue = members.first(where: { $0.key == "weight_map" })?.value,
            case let .object(entries) = weightMapValue
        else { throw SafeTensorsError.invalidIndex(file: path, reason: "missing \"weight_map\" object") }
        var weightMap: [String: String] = [:]
        for entry in entries {
            let tensor = entry.key, value = entry.value
            guard case let .string(shard) = value else {
                throw SafeTensorsError.invalidIndex(file: path, reason: "weight_map[\"\(tensor)\"] must be a file name, found \(value.headerTypeName)")
            }
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw SafeTensorsError.invalidIndex(file: path, reason: "weight_map[\"\(tensor)\"] = \"\(shard)\" is not a plain file name")
            }
            weightMap[tensor] = shard
        }
        var totalSize: Int?
        if case let .object(metadata)? = members.first(where: { $0.key == "metadata" })?.value,
            let size = metadata.first(where: { $0.key == "total_size" })?.value
        {
            // transformers writes an integer; some tools write a float with a zero fraction.
            if let integer = size.nonNegativeInteger {
                totalSize = integer
            } else if let value = size.doubleValue, value >= 0, value == value.rounded(),
                value < 9e15
            {
                totalSize = Int(value)
            } else {
                throw SafeTensorsError.invalidIndex(file: path, reason: "metadata.total_size must be a non-negative integer, found \(size.headerTypeName)")
            }
        }
        return Index(weightMap: weightMap, totalSize: totalSize)
    }
}
