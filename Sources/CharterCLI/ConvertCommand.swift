import ArgumentParser
import Foundation
import LanguageModels
import SafeTensors
import Tensors

/// `charter convert`: a GGUF file to the Hugging Face folder it came from.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a GGUF model file (llama, mistral, qwen2, gpt2) to a Hugging Face folder transformers loads.",
        discussion: """
            Weights are dequantised (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, bit-exact to ggml), \
            Llama's q/k rows un-permuted and GPT-2's Conv1D weights transposed back, as transformers' \
            from_pretrained(dir, gguf_file=...) does. The folder gets config.json, model.safetensors, tokenizer.json, \
            tokenizer_config.json (with tokenizer.chat_template) and generation_config.json. \
            Example: charter convert SmolLM2-135M-Instruct.Q4_1.gguf --output smollm2/
            """)

    @Argument(help: "The GGUF file.") var file: String
    @Option(help: "The folder to write (created; must not already hold a model unless --overwrite).") var output: String
    @Option(help: "Weight dtype of model.safetensors: float32, bfloat16 or float16.") var dtype = "float32"
    @Flag(help: "Replace a model already in --output.") var overwrite = false

    func validate() throws {
        guard ["float32", "bfloat16", "float16"].contains(dtype) else {
            throw ValidationError("--dtype must be float32, bfloat16 or float16 (got \(dtype))")
        }
    }

    func run() throws {
        let destination = URL(fileURLWithPath: output)
        if !overwrite && FileManager.default.fileExists(atPath: destination.appendingPathComponent("config.json").path) {
            throw CommandError("\(output) already holds a model (config.json); choose another --output or pass --overwrite")
        }
        let checkpoint = try GGUFCheckpoint(url: URL(fileURLWithPath: file))
        let model = try checkpoint.loadModel()
        let dtype: SafeTensorsDType = self.dtype == "bfloat16" ? .bfloat16 : self.dtype == "float16" ? .float16 : .float32
        try checkpoint.convert(to: destination, model: model, dtype: dtype)
        note("converted \(file) (\(checkpoint.modelType), \(checkpoint.file.tensors.count) tensors) to \(output)")
    }
}
