import Foundation
import JSON
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
        let folder = try ModelFolder(directory: directory)
        guard let modelType = folder.modelType, architectures[modelType] != nil else {
            throw CheckpointError("\(folder.configURL.path): model_type \(folder.config["model_type"]?.serialized() ?? "none") is not supported for sequence classification; supported: \(architectures.keys.sorted().joined(separator: ", "))")
        }
        if case let .object(labels)? = folder.config["id2label"], labels.count != 1 {
            throw CheckpointError("\(folder.configURL.path): id2label has \(labels.count) labels; a reward model has num_labels = 1")
        }
        let tokenizer = folder.tokenizerIfReadable
        let tensors = try ShardedSafeTensors(directory: directory)
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        let body: any CheckpointMapped
        switch modelType {
        case "gpt2":
            let configuration = try folder.configuration(GPTConfiguration.self)
            try check(folder, configuration, hiddenSize: configuration.width, tensors: tensors, tokenizer: tokenizer)
            body = GPTModel(configuration, generator: &generator)
        default:
            let configuration = try folder.configuration(LlamaConfiguration.self)
            try check(folder, configuration, hiddenSize: configuration.hiddenSize, tensors: tensors, tokenizer: tokenizer)
            body = LlamaModel(configuration, generator: &generator)
        }
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
            entry.write(try tensors.weights(name))
            unused.remove(name)
        }
        let pad = folder.config["pad_token_id"]?.integerValue.map(Int32.init) ?? (tokenizer?.padTokenId ?? tokenizer?.eosTokenId).map(Int32.init)
        var headGenerator = SeededGenerator(seed: seed)
        let classifier = SequenceClassifier(body: body, padTokenId: pad, generator: &headGenerator)
        classifier.tokenizer = tokenizer
        if tensors.contains(scoreName) {
            let info = try tensors.info(scoreName)
            guard info.shape == classifier.score.weight.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(scoreName)\" has shape \(info.shape), expected \(classifier.score.weight.shape) (num_labels = 1)")
            }
            classifier.score.weight.assign(Tensor(shape: info.shape, scalars: try tensors.weights(scoreName)))
            unused.remove(scoreName)
        }
        let ignored = type(of: body).ignoredCheckpointNames
        let unexpected = unused.filter { name in !ignored.contains { name.hasSuffix($0) } && !name.hasPrefix("lm_head.") }
        guard unexpected.isEmpty else {
            throw CheckpointError("\(directory.path): checkpoint tensors not used by the model: \(unexpected.sorted().prefix(10).joined(separator: ", "))")
        }
        return classifier
    }

    /// Checks config.json and the checkpoint before the body is built: the causal LM's tensors without its LM head,
    /// and `score.weight` (1, hidden) when present (a causal LM folder gets a new head).
    static func check<Configuration: CheckpointConfiguration>(_ folder: ModelFolder, _ configuration: Configuration, hiddenSize: Int,
                                                              tensors: ShardedSafeTensors, tokenizer: Tokenizer?) throws {
        let layout = configuration.checkpointLayout().replacing(["lm_head.weight"], with: [.init(scoreName, [1, hiddenSize])])
        try folder.check(configuration, layout: layout, tensors: tensors, optional: [scoreName], tokenizer: tokenizer,
                         resolve: { PretrainedModel.gpt2Name($0, in: tensors) })
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
        let base = try mapped.configurationJSON()
        let modelType = base["model_type"]?.stringValue ?? "llama"
        let object = base.setting("architectures", .array([.string(Self.architectures[modelType] ?? "LlamaForSequenceClassification")]))
            .setting("id2label", .object([.init("0", .string("LABEL_0"))]))
            .setting("label2id", .object([.init("LABEL_0", .number(JSONNumber(0)))]))
            .setting("pad_token_id", padTokenId.map { .number(JSONNumber(Int($0))) } ?? .null)
        let data = PretrainedModel.configurationData(object)
        try AtomicFile.write(data, to: directory.appendingPathComponent("config.json"))
    }
}
