import Foundation
import Runtime
import SafeTensors

/// A trained probe: which layer and positions it reads, its linear scorer, and its calibrated trigger threshold.
/// Saved as `probe.json` (this, without the numbers) and `probe.safetensors` (`mean`, `scale`, `weight`, `bias`, and
/// the unit `direction` in raw hidden-state space).
public struct Probe: Sendable {
    public static let descriptionName = "probe.json"
    public static let weightsName = "probe.safetensors"

    /// How the probe was trained.
    public enum Method: String, Codable, CaseIterable, Sendable {
        case logistic
        case differenceOfMeans = "difference-of-means"
    }

    /// One layer and method of the sweep, measured on the held-out split.
    public struct SweepEntry: Codable, Equatable, Sendable {
        public var layer: Int
        public var method: Method
        public var metrics: ProbeMetrics
    }

    /// Everything but the weights: probe.json.
    public struct Description: Codable, Sendable {
        public var model: ModelIdentity
        /// Hidden-state index read (0 = embeddings, i = output of block i).
        public var layer: Int
        public var position: ActivationPosition
        /// "prompt" (trained on whole texts) or "response" (trained on response tokens).
        public var scope: String
        public var method: Method
        /// "standardised": features are (x − mean) / scale with the training rows' statistics; "none": raw.
        public var normalisation: String
        public var penalty: Double
        /// p ≥ threshold triggers; chosen so that at most `targetFalsePositiveRate` of held-out negative examples do
        /// (each-token: an example's highest token score).
        public var threshold: Double
        public var targetFalsePositiveRate: Double
        /// Held-out metrics of the chosen layer and method (per row), and the per-example rates at the threshold.
        public var metrics: ProbeMetrics
        public var truePositiveRate: Double
        public var falsePositiveRate: Double
        public var trainingRows: Int
        public var heldOutRows: Int
        public var sweep: [SweepEntry]

        enum CodingKeys: String, CodingKey {
            case model, layer, position, scope, method, normalisation, penalty, threshold
            case targetFalsePositiveRate = "target_false_positive_rate", metrics
            case truePositiveRate = "true_positive_rate", falsePositiveRate = "false_positive_rate"
            case trainingRows = "training_rows", heldOutRows = "held_out_rows", sweep
        }
    }

    public var description: Description
    public var scorer: LinearProbe

    public init(description: Description, scorer: LinearProbe) {
        precondition(scorer.hiddenSize == description.model.hiddenSize, "scorer of \(scorer.hiddenSize) for hidden size \(description.model.hiddenSize)")
        (self.description, self.scorer) = (description, scorer)
    }

    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        let size = scorer.hiddenSize
        try writer.add("mean", shape: [size], values: scorer.mean)
        try writer.add("scale", shape: [size], values: scorer.scale)
        try writer.add("weight", shape: [size], values: scorer.weight)
        try writer.add("bias", shape: [1], values: [scorer.bias])
        try writer.add("direction", shape: [size], values: scorer.direction)
        try writer.write(to: folder.appendingPathComponent(Self.weightsName))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(description), to: folder.appendingPathComponent(Self.descriptionName))
    }

    /// Reads a probe folder.
    /// - Throws: ``ProbeError/badFile(file:reason:)`` when a file is missing or its tensors do not match probe.json.
    public static func load(from folder: URL) throws -> Probe {
        let url = folder.appendingPathComponent(descriptionName)
        guard let data = try? Data(contentsOf: url) else {
            throw ProbeError.badFile(file: url.path, reason: "not found; train a probe with charter probe train ACTIVATIONS --output \(folder.path)")
        }
        let description: Description
        do {
            description = try JSONDecoder().decode(Description.self, from: data)
        } catch {
            throw ProbeError.badFile(file: url.path, reason: "not a probe description (\(error))")
        }
        let weightsURL = folder.appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(url: weightsURL)
        let size = description.model.hiddenSize
        var tensors: [String: [Float]] = [:]
        for (name, count) in [("mean", size), ("scale", size), ("weight", size), ("bias", 1)] {
            guard file.contains(name) else { throw ProbeError.badFile(file: weightsURL.path, reason: "has no tensor \"\(name)\"") }
            let values = try file.floats(name)
            guard values.count == count else {
                throw ProbeError.badFile(file: weightsURL.path,
                                         reason: "tensor \"\(name)\" has \(values.count) values, but probe.json's hidden size is \(size)")
            }
            tensors[name] = values
        }
        return Probe(description: description, scorer: LinearProbe(mean: tensors["mean"] ?? [], scale: tensors["scale"] ?? [],
                                                                   weight: tensors["weight"] ?? [], bias: tensors["bias"]?[0] ?? 0))
    }

    /// Throws unless this probe can read `model`'s hidden states.
    public func check(model: ModelIdentity, folder: URL) throws {
        let file = folder.appendingPathComponent(Self.descriptionName).path
        try description.model.check(against: model, file: file)
        guard (0...model.layerCount).contains(description.layer) else {
            throw ProbeError.layerOutOfRange(layer: description.layer, available: "0...\(model.layerCount)")
        }
    }

    /// The probability of one example's rows (rows × hiddenSize values) as the probe's position reads them: the last
    /// row, the mean row, or (each-token) the highest row score.
    public func score(rows: UnsafeBufferPointer<Float>, count: Int) -> Double {
        let size = scorer.hiddenSize
        precondition(rows.count == count * size && count > 0, "\(rows.count) values for \(count) rows of \(size)")
        switch description.position {
        case .last:
            return scorer.probability(UnsafeBufferPointer(rebasing: rows[((count - 1) * size)...]))
        case .mean:
            var mean = [Float](repeating: 0, count: size)
            for row in 0..<count { for j in 0..<size { mean[j] += rows[row * size + j] / Float(count) } }
            return scorer.probability(mean)
        case .eachToken:
            return (0..<count).map { scorer.probability(UnsafeBufferPointer(rebasing: rows[($0 * size)..<(($0 + 1) * size)])) }.max() ?? 0
        }
    }
}
