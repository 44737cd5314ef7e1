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
    @OptionGroup var destination: ModelOutputOptions

    func run() throws {
        let output = try destination.folder()
        let checkpoint = try GGUFCheckpoint(url: URL(fileURLWithPath: file))
        let model = try checkpoint.loadModel()
        try checkpoint.convert(to: output, model: model, dtype: destination.safeTensorsType)
        note("converted \(file) (\(checkpoint.modelType), \(checkpoint.file.tensors.count) tensors) to \(destination.output)")
    }
}
