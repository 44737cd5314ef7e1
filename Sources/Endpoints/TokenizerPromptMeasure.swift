import Foundation
import LanguageModels
import Tokenizers

/// A model folder's tokenizer, chat template and context length: ``PromptMeasuring`` for the local engine, encoding
/// exactly as `LocalLanguageModel` does (the same tokenizer.json and template choice).
public struct TokenizerPromptMeasure: PromptMeasuring {
    public let contextLength: Int?
    let tokenizer: Tokenizer
    let template: ChatTemplate?
    let modelName: String
    /// Why there is no template, reported when a conversation is measured.
    let templateProblem: String?

    public init(tokenizer: Tokenizer, template: ChatTemplate?, contextLength: Int?, modelName: String, templateProblem: String? = nil) {
        self.tokenizer = tokenizer
        self.template = template
        self.contextLength = contextLength
        self.modelName = modelName
        self.templateProblem = templateProblem
    }

    /// Reads the folder's tokenizer, its chat template (`chatTemplate` names a built-in family instead, as for
    /// `LocalLanguageModel.load`) and the context length from config.json (`max_position_embeddings`, or GPT-2's
    /// `n_positions`).
    /// - Throws: the tokenizer's or the named template's errors; config.json problems name the file.
    public static func load(directory: URL, chatTemplate: String? = nil) throws -> TokenizerPromptMeasure {
        let tokenizer = try PretrainedModel.tokenizer(at: directory)
        var template: ChatTemplate?, problem: String?
        if let chatTemplate {
            template = try ChatTemplate(named: chatTemplate, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        } else {
            do { template = try ChatTemplate(directory: directory) } catch { problem = "\(error)" }
        }
        return TokenizerPromptMeasure(tokenizer: tokenizer, template: template, contextLength: try contextLength(directory: directory),
                                      modelName: directory.lastPathComponent, templateProblem: problem)
    }

    /// The positions a model folder's config.json declares: `max_position_embeddings` (Llama family), `n_positions`
    /// (GPT-2); nil when it declares neither.
    public static func contextLength(directory: URL) throws -> Int? {
        let url = directory.appendingPathComponent("config.json")
        let data: Data
        if GGUFCheckpoint.isGGUF(directory) {
            // A .gguf file: the config.json its metadata converts to.
            data = try GGUFCheckpoint(url: directory).configurationData
        } else {
            do { data = try Data(contentsOf: url) } catch {
                throw EndpointError.invalidConfiguration("\(url.path): cannot read (\(error.localizedDescription))")
            }
        }
        do {
            if (try? JSONDecoder().decode(ModelTypeField.self, from: data))?.modelType == "gpt2" {
                return try JSONDecoder().decode(GPTConfiguration.self, from: data).contextLength
            }
            return try JSONDecoder().decode(LlamaConfiguration.self, from: data).maximumPositionEmbeddings
        } catch {
            throw EndpointError.invalidConfiguration("\(url.path): \(error)")
        }
    }

    public func tokenCount(prompt: String) throws -> Int {
        tokenizer.encode(prompt, addSpecialTokens: true).count
    }

    public func tokenCount(messages: [ChatMessage]) throws -> Int {
        guard let template else { throw LanguageModelError.noChatTemplate(model: modelName, reason: templateProblem) }
        // The template writes any BOS itself (as the engine encodes chats).
        return tokenizer.encode(try template.render(messages, addGenerationPrompt: true).text, addSpecialTokens: false).count
    }
}

/// config.json's `model_type`.
private struct ModelTypeField: Decodable {
    let modelType: String?
    enum CodingKeys: String, CodingKey { case modelType = "model_type" }
}
