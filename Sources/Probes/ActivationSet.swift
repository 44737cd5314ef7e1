import Foundation
import Runtime
import SafeTensors

/// A folder of collected hidden states: `activations.json` (this manifest) and shards
/// `activations-00001.safetensors`, … each holding, for its rows, a `layer.L` tensor (rows, hiddenSize) per collected
/// layer, `labels` (rows; 1 positive) and `examples` (rows; the example's index in ``examples``).
public struct ActivationSet: Codable, Sendable {
    public static let manifestName = "activations.json"

    /// One labelled example of the source file.
    public struct Example: Codable, Equatable, Sendable {
        public var line: Int
        public var label: Bool
        public var group: String?
        /// "held-out" or "train" when the file said; nil lets the trainer split.
        public var split: String?
        /// Activation rows this example produced.
        public var rows: Int
    }

    public struct Shard: Codable, Equatable, Sendable {
        public var file: String
        public var rows: Int
    }

    public var model: ModelIdentity
    /// Hidden-state indices collected (0 = embeddings, i = output of block i).
    public var layers: [Int]
    public var position: ActivationPosition
    /// "prompt" when the texts had no response (the whole text was scored), "response" when responses were scored.
    public var scope: String
    public var source: String
    public var examples: [Example]
    public var shards: [Shard]

    /// Reads `folder/activations.json`.
    /// - Throws: ``ProbeError/badFile(file:reason:)`` when it is missing or malformed.
    public static func read(_ folder: URL) throws -> ActivationSet {
        let url = folder.appendingPathComponent(manifestName)
        guard let data = try? Data(contentsOf: url) else {
            throw ProbeError.badFile(file: url.path, reason: "not found; run charter probe collect --output \(folder.path) first")
        }
        do {
            return try JSONDecoder().decode(ActivationSet.self, from: data)
        } catch {
            throw ProbeError.badFile(file: url.path, reason: "not an activation manifest (\(error))")
        }
    }

    /// Every row of `layer` with its label and example index, read shard by shard.
    /// - Throws: ``ProbeError/layerOutOfRange(layer:available:)`` when `layer` was not collected.
    public func rows(layer: Int, in folder: URL) throws -> (rows: [[Float]], labels: [Bool], examples: [Int]) {
        guard layers.contains(layer) else {
            throw ProbeError.layerOutOfRange(layer: layer, available: "the collected layers \(layers.map(String.init).joined(separator: ","))")
        }
        var rows: [[Float]] = [], labels: [Bool] = [], examples: [Int] = []
        for shard in shards {
            let url = folder.appendingPathComponent(shard.file)
            let file = try SafeTensorsFile(url: url)
            let values = try file.floats("layer.\(layer)")
            guard values.count == shard.rows * model.hiddenSize else {
                throw ProbeError.badFile(file: url.path, reason: "layer.\(layer) holds \(values.count) values, not \(shard.rows) rows × \(model.hiddenSize)")
            }
            for row in 0..<shard.rows { rows.append(Array(values[(row * model.hiddenSize)..<((row + 1) * model.hiddenSize)])) }
            labels += try file.floats("labels").map { $0 != 0 }
            examples += try file.floats("examples").map { Int($0) }
        }
        return (rows, labels, examples)
    }

    func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent(Self.manifestName))
    }
}
