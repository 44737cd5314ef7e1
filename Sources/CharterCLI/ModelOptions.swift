import ArgumentParser
import Datasets
import Foundation
import JSON
import LanguageModels
import Tensors
import Tokenizers

/// `--model DIR` and friends, shared by every command that runs a local model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json, safetensors weights, tokenizer.json), a PEFT adapter folder whose base_model_name_or_path is one, or a GGUF file (FILE.gguf: llama, mistral, qwen2 or gpt2; F16/BF16/Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K matrices of llama-family files stay quantized, other weights are dequantised to float32).")
    var model: String

    @Option(help: "A PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) applied to --model.")
    var lora: String?

    @Option(help: "Kernel threads (default: CHARTER_THREADS or every core).")
    var threads: Int?

    /// The base model folder and the adapter, if any (`--model` may be an adapter folder).
    func folders() throws -> AdaptedModelFolder {
        try AdaptedModelFolder(model: URL(fileURLWithPath: model), lora: lora.map { URL(fileURLWithPath: $0) })
    }

    /// Loads the model (with the adapter applied) and its tokenizer, float32 unless `precision` says otherwise.
    func load(precision: WeightPrecision = .float32) throws -> (any CausalLanguageModel, Tokenizer) {
        if let threads { ComputeThreads.count = threads }
        return try folders().load(precision: precision)
    }

    /// Throws unless `ids` leaves room in `network`'s context for at least one generated token.
    /// - Parameter item: names the prompt in the error ("the prompt", "prompts.jsonl:3").
    func checkPrompt(_ ids: [Int32], of network: any CausalLanguageModel, item: String) throws {
        if let limit = network.maximumSequenceLength, ids.count >= limit {
            throw CommandError("\(item) has \(ids.count) tokens, which leaves no room to generate in the model's context of \(limit) "
                               + "tokens (n_positions or max_position_embeddings in config.json); shorten it to at most \(limit - 1) tokens")
        }
    }

    /// End-of-sequence ids: generation_config.json's and the tokenizer's eos token.
    func endOfSequenceTokens(_ tokenizer: Tokenizer) throws -> [Int32] {
        GenerationDefaults.endOfSequenceTokens(directory: try folders().files, tokenizer: tokenizer)
    }
}

/// `--dtype`, for the commands that only run a model forward (generation, log-probabilities, serving).
struct PrecisionOptions: ParsableArguments {
    @Option(help: "How the weights are held: stored (as the checkpoint stores them: a llama-family GGUF file's F16/BF16/Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K matrices stay quantized), f32, or f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1 (the matrices of a llama-family model quantized at load, with ggml's block formats).")
    var dtype = "stored"

    var precision: WeightPrecision {
        get throws { try WeightPrecision(name: dtype) }
    }
}

/// `--kv-cache`, for the commands that generate (generate, chat, serve, bench generate).
struct KVCacheOptions: ParsableArguments {
    @Option(name: .customLong("kv-cache"),
            help: "How the KV cache stores keys and values: f32, or f16 (half floats, as llama.cpp stores them by default: half the cache's memory and of the bytes each decoding step reads; keys and values rounded to nearest even, so outputs can differ slightly from f32).")
    var kvCache = "f32"

    var kvCachePrecision: SequenceBuffer.Precision {
        get throws {
            guard let precision = SequenceBuffer.Precision(rawValue: kvCache) else {
                throw ValidationError("--kv-cache \(kvCache): give f32 or f16")
            }
            return precision
        }
    }
}

/// Sampling flags shared by `generate` and `chat`.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Most new tokens per prompt.") var maxNewTokens = 128
    @Option(help: "0 = greedy; higher = more random.") var temperature: Float = 0
    @Option(help: "Sample only among the k most likely tokens (0 = off).") var topK = 0
    @Option(help: "Nucleus sampling: smallest set of tokens with this total probability (1 = off).") var topP: Float = 1
    @Option(help: "Drop tokens less likely than this fraction of the most likely one (0 = off).") var minP: Float = 0
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(help: "Stop when this text appears (repeatable); the text is cut before it.") var stop: [String] = []

    func configuration(endOfSequence: [Int32]) -> GenerationConfiguration {
        GenerationConfiguration(sampling: SamplingOptions(maximumTokens: maxNewTokens, temperature: temperature, topP: topP, topK: topK,
                                                          minP: minP, stop: stop, seed: seed),
                                endOfSequenceTokens: endOfSequence)
    }
}

/// A user-facing failure of a command (bad input file, bad flag combination).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a `.jsonl` or `.jsonl.gz` file of JSON objects through Datasets' one JSONL reader (errors name file:line).
func readJSONLines(_ path: String, _ body: (_ line: Int, _ object: JSONValue) throws -> Void) throws {
    let reader = try JSONLReader(url: URL(fileURLWithPath: path))
    while let (line, members) = try reader.next() { try body(line, .object(members)) }
}

/// Prints one JSON object per line (keys sorted, so output is stable).
func printJSONLine(_ object: JSONValue) {
    FileHandle.standardOutput.write(Data((object.sortingKeys.serialized(.compactLines) + "\n").utf8))
}
