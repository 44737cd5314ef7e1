import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A refusal a handler throws; the app turns it into ``WebResponse/error(_:_:headers:)``.
public struct WebError: Error, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code): \(message)" }

    public var response: Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        return WebResponse.error(status, message, headers: headers)
    }
}

/// Reading requests safely: bounded form bodies, cookies, and the same-origin and CSRF checks every POST passes.
public enum WebRequest {
    /// An `application/x-www-form-urlencoded` body of at most `limit` bytes as name → value (the first of repeated
    /// names wins).
    /// - Throws: ``WebError`` 413 past the limit, 415 for another content type, 400 for bytes that are not UTF-8.
    public static func form(_ request: Request, limit: Int) async throws -> [String: String] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw WebError(.contentTooLarge, "the form is \(length) bytes; this server takes at most \(limit)")
        }
        let type = request.headers[.contentType] ?? ""
        guard type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw WebError(.unsupportedMediaType, "forms are posted as application/x-www-form-urlencoded (got \"\(type)\")")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw WebError(.contentTooLarge, "the form is larger than this server's limit of \(limit) bytes")
        }
        guard let text = String(bytes: buffer.readableBytesView, encoding: .utf8) else {
            throw WebError(.badRequest, "the form is not UTF-8")
        }
        return try parseForm(text)
    }

    /// Parses `a=1&b=two+words` (percent-decoding, '+' as space).
    public static func parseForm(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) throws -> String {
                guard let value = part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw WebError(.badRequest, "a form field is not valid percent-encoding")
                }
                return value
            }
            let name = try decode(parts[0])
            if fields[name] == nil { fields[name] = try parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// The value of cookie `name`, if sent.
    public static func cookie(_ name: String, in request: Request) -> String? {
        request.cookies[name]?.value
    }

    /// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Path=/.
    public static func setCookie(_ name: String, _ value: String, maxAge: Int = 30 * 24 * 3600) -> String {
        "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)"
    }

    /// Every state-changing request passes this before its body is read: an `Origin` header, when the browser sends
    /// one, names this server (the Host it was asked under).
    /// - Throws: ``WebError`` 403.
    public static func checkSameOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let host = request.head.authority ?? ""
        guard origin == "http://\(host)" || origin == "https://\(host)" else {
            throw WebError(.forbidden, "this form was posted from \(origin), not from this server (\(host))")
        }
    }

    /// A server bound to loopback answers only requests addressed to a loopback name (127.x.x.x, localhost, [::1]):
    /// a page elsewhere whose DNS name is rebound to 127.0.0.1 sends its own name as Host and is refused.
    /// - Throws: ``WebError`` 421 for another name.
    public static func checkHost(_ request: Request, boundTo address: String) throws {
        guard isLoopback(address) else { return }
        let name = hostName(request.head.authority ?? "")
        guard isLoopback(name) else {
            throw WebError(.misdirectedRequest, "this server answers only at 127.0.0.1 or localhost, not at \"\(name)\"")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The name in a Host value: `127.0.0.1:8080` → `127.0.0.1`, `[::1]:8080` → `::1`.
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<end])
        }
        return String(authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").lowercased()
    }

    /// The form's `csrf` field equals the session's token (compared in constant time).
    /// - Throws: ``WebError`` 403.
    public static func checkCSRF(_ form: [String: String], expected: String) throws {
        guard let given = form["csrf"], AccessToken.equal(given, expected) else {
            throw WebError(.forbidden, "the form's security token is missing or stale; reload the page and try again")
        }
    }
}

extension WebResponse {
    /// The page for an error a handler threw: a ``WebError``'s own status and message, else 500 naming the error.
    public static func failure(_ error: any Error) -> Response {
        if let error = error as? WebError { return error.response }
        return WebResponse.error(.internalServerError, "the server could not complete this request (\(error)); try again")
    }

    /// Runs a page handler after the Host check (``WebRequest/checkHost(_:boundTo:)``, against DNS rebinding), turning
    /// every error into an error page — the one wrapper of every app's routes.
    public static func guarded(_ request: Request, host: String, _ body: () throws -> Response) -> Response {
        do {
            try WebRequest.checkHost(request, boundTo: host)
            return try body()
        } catch {
            return failure(error)
        }
    }

    /// ``guarded(_:host:_:)`` for an asynchronous handler.
    public static func guarded(_ request: Request, host: String, _ body: () async throws -> Response) async -> Response {
        do {
            try WebRequest.checkHost(request, boundTo: host)
            return try await body()
        } catch {
            return failure(error)
        }
    }
}
