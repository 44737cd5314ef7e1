import Foundation
import Runtime
import SafeTensors
import Tensors
import Tokenizers

/// Reading and writing transformers sequence-classification folders: config.json with
/// `architectures: ["LlamaForSequenceClassification"]` (or Mistral/Qwen2/GPT2…), `num_labels` 1 (as `id2label`) and
/// `pad_token_id`; weights with the base model's names (`model.…` / `transformer.…`) plus `score.weight` (1, hidden),
/// and no LM head.
extension SequenceClassifier {
    static let architectures = ["llama": "LlamaForSequenceClassification", "mistral": "MistralForSequenceClassification",
                                "qwen2": "Qwen2ForSequenceClassification", "gpt2": "GPT2ForSequenceClassification"]
    static let scoreName = "score.weight"

    /// Loads a sequence-classification folder, or a causal LM folder with a new head (N(0, 0.02), from `seed`) — the
    /// starting point of reward-model training, as `AutoModelForSequenceClassification.from_pretrained` does.
    /// `pad_token_id` comes from config.json, else from the tokenizer (pad, then eos, as TRL sets it).
    /// - Throws: `CheckpointError` naming the file and field or tensor.
    public static func load(directory: URL, seed: UInt64 = 42) throws -> SequenceClassifier {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError("\(configURL.path): cannot read config.json as a JSON object (is \(directory.path) a Hugging Face model folder?)")
        }
        guard let modelType = object["model_type"] as? String, architectures[modelType] != nil else {
            throw CheckpointError("\(configURL.path): model_type \"\(object["model_type"] ?? "none")\" is not supported for sequence classification; supported: \(architectures.keys.sorted().joined(separator: ", "))")
        }
        if let labels = object["id2label"] as? [String: Any], labels.count != 1 {
            throw CheckpointError("\(configURL.path): id2label has \(labels.count) labels; a reward model has num_labels = 1")
        }
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        let body: any CheckpointMapped
        do {
            switch modelType {
            case "gpt2": body = GPTModel(try JSONDecoder().decode(GPTConfiguration.self, from: data), generator: &generator)
            default: body = LlamaModel(try JSONDecoder().decode(LlamaConfiguration.self, from: data), generator: &generator)
            }
        } catch let error as DecodingError {
            throw CheckpointError("\(configURL.path): \(PretrainedModel.describe(error))")
        }
        let tensors = try ShardedSafeTensors(directory: directory)
        var unused = Set(tensors.names)
        for entry in body.checkpointEntries() {
            // GPT-2 checkpoints saved from the bare model have no "transformer." prefix.
            let candidates = [entry.name, entry.name.hasPrefix("transformer.") ? String(entry.name.dropFirst("transformer.".count)) : entry.name]
            guard let name = candidates.first(where: tensors.contains) else {
                if entry.name == "lm_head.weight" { continue }  // sequence classifiers have no LM head
                throw CheckpointError("\(directory.path): checkpoint has no tensor \"\(entry.name)\"")
            }
            let info = try tensors.info(name)
            guard info.shape == entry.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(name)\" has shape \(info.shape), config.json implies \(entry.shape)")
            }
            entry.write(try tensors.floats(name))
            unused.remove(name)
        }
        let tokenizer = try? Tokenizer(directory: directory)
        let pad = (object["pad_token_id"] as? Int).map(Int32.init) ?? (tokenizer?.padTokenId ?? tokenizer?.eosTokenId).map(Int32.init)
        var headGenerator = SeededGenerator(seed: seed)
        let classifier = SequenceClassifier(body: body, padTokenId: pad, generator: &headGenerator)
        classifier.tokenizer = tokenizer
        if tensors.contains(scoreName) {
            let info = try tensors.info(scoreName)
            guard info.shape == classifier.score.weight.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(scoreName)\" has shape \(info.shape), expected \(classifier.score.weight.shape) (num_labels = 1)")
            }
            classifier.score.weight.assign(Tensor(shape: info.shape, scalars: try tensors.floats(scoreName)))
            unused.remove(scoreName)
        }
        let ignored = type(of: body).ignoredCheckpointNames
        let unexpected = unused.filter { name in !ignored.contains { name.hasSuffix($0) } && !name.hasPrefix("lm_head.") }
        guard unexpected.isEmpty else {
            throw CheckpointError("\(directory.path): checkpoint tensors not used by the model: \(unexpected.sorted().prefix(10).joined(separator: ", "))")
        }
        return classifier
    }

    /// Writes a folder that `AutoModelForSequenceClassification.from_pretrained` loads and that scores identically.
    public func save(to directory: URL) throws {
        guard let mapped = body as? any CheckpointMapped else {
            throw CheckpointError("\(type(of: body)) has no Hugging Face checkpoint layout")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = ShardedSafeTensorsWriter()
        for entry in mapped.checkpointEntries() where entry.name != "lm_head.weight" {
            try writer.add(entry.name, shape: entry.shape, values: entry.read(), as: .float32)
        }
        try writer.add(Self.scoreName, shape: score.weight.shape, values: score.weight.scalars, as: .float32)
        try writer.write(to: directory)
        var object = try JSONSerialization.jsonObject(with: mapped.configurationJSON()) as? [String: Any] ?? [:]
        let modelType = object["model_type"] as? String ?? "llama"
        object["architectures"] = [Self.architectures[modelType] ?? "LlamaForSequenceClassification"]
        object["id2label"] = ["0": "LABEL_0"]
        object["label2id"] = ["LABEL_0": 0]
        object["pad_token_id"] = padTokenId.map { Int($0) } ?? NSNull()
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: directory.appendingPathComponent("config.json"))
    }
}
