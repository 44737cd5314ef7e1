import LanguageModels

// OpenAI `/v1/chat/completions` on the wire, field names exactly as the API spells them.

/// The body of `POST /v1/chat/completions`.
struct ChatCompletionsRequestBody: Codable, Equatable, Sendable {
    var model: String?
    var messages: [Message]
    var maxTokens: Int?
    /// The newer name of `max_tokens`; wins when both are given.
    var maxCompletionTokens: Int?
    var temperature: Float?
    var topP: Float?
    var topK: Int?
    var minP: Float?
    var stop: StringOrList?
    var seed: UInt64?
    var n: Int?
    var logprobs: Bool?
    /// Alternatives per position (0...20); needs `logprobs: true`.
    var topLogprobs: Int?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, stop, seed, n, logprobs, stream
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p", topK = "top_k"
        case minP = "min_p", topLogprobs = "top_logprobs"
    }

    /// A message; `content` may arrive as a string or as a list of `{"type": "text", "text": …}` parts.
    struct Message: Codable, Equatable, Sendable {
        var role: String
        var content: String

        enum CodingKeys: String, CodingKey { case role, content }
        struct Part: Codable { var type: String; var text: String? }

        init(role: String, content: String) {
            self.role = role
            self.content = content
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decode(String.self, forKey: .role)
            if let text = try? container.decode(String.self, forKey: .content) {
                content = text
            } else {
                let parts = try container.decode([Part].self, forKey: .content)
                guard parts.allSatisfy({ $0.type == "text" && $0.text != nil }) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .content, in: container, debugDescription: "only text content parts are supported")
                }
                content = parts.compactMap(\.text).joined()
            }
        }
    }
}

/// Chat log-probs: one entry per generated token.
struct ChatLogprobs: Codable, Equatable, Sendable {
    var content: [Entry]?

    struct Entry: Codable, Equatable, Sendable {
        var token: String
        var logprob: Float
        /// The token's UTF-8 bytes (tokens can split a character).
        var bytes: [Int]?
        var topLogprobs: [Alternative]?

        enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
    }

    struct Alternative: Codable, Equatable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [Int]?
    }
}

/// The response of `/v1/chat/completions`.
struct ChatCompletionsResponseBody: Codable, Equatable, Sendable {
    var id: String?
    var object: String?
    var created: Int?
    var model: String?
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Codable, Equatable, Sendable {
        var index: Int
        var message: ChatCompletionsRequestBody.Message
        var logprobs: ChatLogprobs?
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }

        init(index: Int, message: ChatCompletionsRequestBody.Message, logprobs: ChatLogprobs?, finishReason: String?) {
            self.index = index
            self.message = message
            self.logprobs = logprobs
            self.finishReason = finishReason
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index) ?? 0
            message = try container.decode(ChatCompletionsRequestBody.Message.self, forKey: .message)
            logprobs = try container.decodeIfPresent(ChatLogprobs.self, forKey: .logprobs)
            finishReason = try container.decodeIfPresent(String.self, forKey: .finishReason)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }
}

/// One streamed chunk of `/v1/chat/completions` (`object` "chat.completion.chunk").
struct ChatCompletionsChunk: Codable, Equatable, Sendable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]

    struct Choice: Codable, Equatable, Sendable {
        var index: Int
        var delta: Delta
        var logprobs: ChatLogprobs?
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    /// The first chunk carries the role, later ones the new text.
    struct Delta: Codable, Equatable, Sendable {
        var role: String?
        var content: String?
    }
}

/// `GET /v1/models`.
struct ModelList: Codable, Equatable, Sendable {
    var object = "list"
    var data: [Model]

    struct Model: Codable, Equatable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }
}

/// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`.
struct ErrorBody: Codable, Equatable, Sendable {
    var error: Detail

    struct Detail: Codable, Equatable, Sendable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }
}
