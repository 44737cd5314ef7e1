import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Reports

/// A server-rendered page of a Charter web app. Callers build `body` from literal markup and ``WebPage/escape(_:)``
/// for every piece of participant or model text; the response carries a Content-Security-Policy that allows only the
/// app's own script and style files, so even text that escaped escaping could not run a script.
public struct WebPage: Sendable {
    public var title: String
    public var body: String

    public init(title: String, body: String) {
        self.title = title
        self.body = body
    }

    /// Text as HTML (the report toolkit's escaper: & < > " ').
    public static func escape(_ text: String) -> String { HTMLPage.escape(text) }

    /// The policy every page and script carries: nothing but this origin's own files, no framing, forms post here only.
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    public var html: String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title><link rel="stylesheet" href="/app.css"><script src="/app.js" defer></script></head>
        <body><main>
        \(body)
        </main></body></html>
        """
    }

    /// The page as a response with the security headers.
    public func response(status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        WebResponse.make(status: status, contentType: "text/html; charset=utf-8", body: html, headers: extra)
    }
}

/// Responses with the headers every app response carries.
public enum WebResponse {
    public static func make(status: HTTPResponse.Status, contentType: String, body: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: contentType,
            .contentSecurityPolicy: WebPage.contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            .cacheControl: "no-store",
            // same-origin, not no-referrer: with no-referrer browsers post `Origin: null`, which the same-origin check refuses.
            HTTPField.Name("Referrer-Policy")!: "same-origin",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// 303 See Other to `location` (after a POST, so reloading does not post again).
    public static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    /// A short page saying what went wrong and what to do.
    public static func error(_ status: HTTPResponse.Status, _ message: String, headers extra: HTTPFields = [:]) -> Response {
        WebPage(title: "\(status.code) \(status.reasonPhrase)",
                body: "<h1>\(status.code) \(WebPage.escape(status.reasonPhrase))</h1><p class=\"error\">\(WebPage.escape(message))</p><p><a href=\"/\">Start page</a></p>")
            .response(status: status, headers: extra)
    }
}
