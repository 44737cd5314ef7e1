import Foundation

/// Why a call to an OpenAI-compatible endpoint failed; each message names the endpoint and what to do.
public enum EndpointError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The configuration cannot work (empty url list, bad numbers).
    case invalidConfiguration(String)
    /// `api_key_env` names a variable that is not set.
    case missingAPIKey(variable: String)
    /// The server answered with a status that retrying cannot fix (4xx other than 408/429), or with a retryable
    /// status on the last attempt.
    case http(endpoint: String, status: Int, message: String)
    /// The body is not JSON, or lacks a field, or a field has the wrong type.
    case invalidResponse(endpoint: String, field: String, detail: String)
    /// The server answered a scoring request without prompt log-probs.
    case echoScoringUnsupported(endpoint: String)
    /// No complete response within `timeout_s`.
    case timeout(endpoint: String, seconds: Double)
    /// Connecting failed, or the connection closed before the response was complete.
    case connection(endpoint: String, detail: String)
    /// Every attempt failed; `last` is the final attempt's error.
    indirect case retriesExhausted(attempts: Int, last: EndpointError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "endpoint configuration: \(message)"
        case .missingAPIKey(let variable):
            return "api_key_env names \(variable), but that environment variable is not set: export \(variable)=<token>"
        case .http(let endpoint, let status, let message):
            return "endpoint \(endpoint) answered HTTP \(status): \(message)"
        case .invalidResponse(let endpoint, let field, let detail):
            return "endpoint \(endpoint) sent an invalid response: field '\(field)' \(detail)"
        case .echoScoringUnsupported(let endpoint):
            return "endpoint \(endpoint) does not support echo scoring (no prompt log-probs with echo: true, max_tokens: 0, "
                + "logprobs: 0); score with a server that does (vLLM, charter serve) or locally"
        case .timeout(let endpoint, let seconds):
            return "endpoint \(endpoint) did not answer within \(seconds) s (timeout_s); raise timeout_s or lower max_tokens"
        case .connection(let endpoint, let detail):
            return "endpoint \(endpoint): connection failed (\(detail)); is the server running at that address?"
        case .retriesExhausted(let attempts, let last):
            return "gave up after \(attempts) attempts: \(last)"
        }
    }

    public var errorDescription: String? { description }

    /// Whether another attempt may succeed.
    var isRetryable: Bool {
        switch self {
        case .timeout, .connection: return true
        case .http(_, let status, _): return status == 408 || status == 429 || status >= 500
        default: return false
        }
    }
}
