import HTTPTypes

/// A request the server refuses, rendered as OpenAI's `{"error": {…}}` with a 4xx/5xx status.
struct ServerError: Error, Equatable {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var param: String?
    var code: String?

    static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> ServerError {
        ServerError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static let unauthorized = ServerError(
        status: .unauthorized, message: "missing or invalid bearer token (send 'Authorization: Bearer <key>')",
        type: "invalid_request_error", param: nil, code: "invalid_api_key")

    static func bodyTooLarge(limit: Int) -> ServerError {
        ServerError(status: .contentTooLarge, message: "request body exceeds \(limit) bytes (--max-body-bytes)",
                    type: "invalid_request_error", param: nil, code: "request_too_large")
    }

    static func modelNotFound(_ requested: String, served: String) -> ServerError {
        ServerError(status: .notFound, message: "the model '\(requested)' does not exist; this server serves '\(served)'",
                    type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    static func modelFailed(_ error: any Error) -> ServerError {
        ServerError(status: .internalServerError, message: "the model failed: \(error)", type: "server_error",
                    param: nil, code: nil)
    }

    /// A JSON decoding failure, naming the field (`messages[1].content`) and what was wrong with it.
    static func malformed(_ error: DecodingError) -> ServerError {
        let (field, detail) = OpenAIClient.describe(error)
        if field == "(body)" { return .badRequest("the request body is not valid JSON: \(detail)") }
        return .badRequest("'\(field)' \(detail)", param: field)
    }

    var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: code)) }
}
