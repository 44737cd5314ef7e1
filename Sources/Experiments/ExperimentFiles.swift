import Datasets
import Foundation
import JSON
import LanguageModels
import SafeTensors
import Tensors

/// The small files experiments write and read besides results: prompt and corpus JSON Lines, and the training
/// metrics (`metrics.jsonl`) of a trained model folder.
public enum ExperimentFiles {
    /// Writes one JSON object per line (keys sorted), replacing `url` atomically (Datasets' one JSONL writer).
    public static func writeJSONL(_ objects: [[String: String]], to url: URL) throws {
        try writeJSONL(objects.map { JSONValue(sortingKeys: $0.mapValues(JSONValue.string)) }, to: url)
    }

    /// Writes one JSON value per line, replacing `url` atomically.
    public static func writeJSONL(_ values: [JSONValue], to url: URL) throws {
        let writer = try JSONLWriter(url: url, compressed: false)
        for value in values { try writer.write(value) }
        try writer.finish()
    }

    /// A model folder's metrics.jsonl as numbers by key (eval lines included; non-numeric values dropped); empty when
    /// the folder has none.
    public static func metrics(_ folder: URL) -> [[String: Double]] {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard case let .object(members)? = try? JSONParser.parse(String(line)) else { return nil }
            return Dictionary(members.compactMap { member in member.value.doubleValue.map { (member.key, $0) } },
                              uniquingKeysWith: { first, _ in first })
        }
    }
}

extension ExperimentFiles {
    /// Puts a PPO checkpoint's policy (`trainable.safetensors`, tensors named "policy.<parameter>") into `model`, the
    /// model the run started from.
    /// - Throws: `ExperimentError` naming the file and tensor when the checkpoint does not fit the model.
    public static func assignPPOPolicy(from checkpoint: URL, to model: any CausalLanguageModel) throws {
        let url = checkpoint.appendingPathComponent("trainable.safetensors")
        let tensors = try SafeTensorsFile(url: url)
        for (name, tensor) in model.namedParameters() {
            guard tensors.contains("policy." + name) else {
                throw ExperimentError("\(url.path): no tensor policy.\(name); not a checkpoint of this policy")
            }
            let values = try tensors.floats("policy." + name)
            guard values.count == tensor.count else {
                throw ExperimentError("\(url.path): policy.\(name) has \(values.count) values, the model's tensor \(tensor.shape)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
    }

    /// A run's `checkpoint-N` folders by step (N), in step order.
    public static func checkpoints(in output: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, output.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }
}
