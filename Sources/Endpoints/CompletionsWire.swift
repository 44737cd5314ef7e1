import LanguageModels

// OpenAI `/v1/completions` on the wire, field names exactly as the API spells them. The same types are encoded by
// the client and decoded by the server; fields that some servers omit are optional.

/// The body of `POST /v1/completions`.
struct CompletionsRequestBody: Codable, Equatable, Sendable {
    var model: String?
    var prompt: StringOrList
    var maxTokens: Int?
    var temperature: Float?
    var topP: Float?
    /// vLLM / llama.cpp extensions.
    var topK: Int?
    var minP: Float?
    var stop: StringOrList?
    var seed: UInt64?
    var n: Int?
    /// Return the log-probs of the sampled tokens and this many alternatives per position (0...20).
    var logprobs: Int?
    /// Return the prompt before the completion (with its log-probs when `logprobs` is set).
    var echo: Bool?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, stop, seed, n, logprobs, echo, stream
        case maxTokens = "max_tokens", topP = "top_p", topK = "top_k", minP = "min_p"
    }
}

/// Log-probs in the completions API's column layout: one entry per token in every list.
struct CompletionLogprobs: Codable, Equatable, Sendable {
    var tokens: [String]
    /// `null` where the server has no log-prob (the first prompt token under `echo`).
    var tokenLogprobs: [Float?]
    /// Per position, the most likely tokens and their log-probs (`null` where there are none).
    var topLogprobs: [[String: Float]?]?
    /// Each token's character offset from the start of the prompt.
    var textOffset: [Int]?

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
}

/// Token counts of one call.
struct Usage: Codable, Equatable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
}

/// The response of `/v1/completions`, and (with `object` "text_completion" and text deltas) each streamed chunk.
struct CompletionsResponseBody: Codable, Equatable, Sendable {
    var id: String?
    var object: String?
    var created: Int?
    var model: String?
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Codable, Equatable, Sendable {
        var index: Int
        var text: String
        var logprobs: CompletionLogprobs?
        /// "stop" or "length"; `null` on streamed chunks before the last.
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
        }

        init(index: Int, text: String, logprobs: CompletionLogprobs?, finishReason: String?) {
            self.index = index
            self.text = text
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index) ?? 0
            text = try container.decode(String.self, forKey: .text)
            logprobs = try container.decodeIfPresent(CompletionLogprobs.self, forKey: .logprobs)
            finishReason = try container.decodeIfPresent(String.self, forKey: .finishReason)
        }

        // OpenAI writes absent values as explicit nulls.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }
}
