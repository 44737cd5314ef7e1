import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP exchanges over one `URLSession`: the system's HTTP stack (libcurl and its TLS on Linux), so `https://`
/// works without building a TLS library of our own.
///
/// Each exchange is an event stream — the response head, then the body as it arrives — so callers can read a
/// response incrementally (server-sent events) or collect it up to a size limit. Cancelling the reading task
/// cancels the transfer. The session's own timeouts are only a backstop: callers bound attempts themselves.
final class HTTPTransport: @unchecked Sendable {
    /// What arrives for one request, in order: one `.head`, then any number of `.body` chunks.
    enum Event: Sendable {
        case head(status: Int, headers: [String: String])
        case body(Data)
    }

    /// A whole response; header names are lowercased.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        /// The value of header `name` (any case).
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// The response body passed `limit` bytes; the transfer was cancelled.
    struct BodyTooLarge: Error { var limit: Int }

    /// The transport was used after `shutdown()`.
    struct ShutDown: Error, CustomStringConvertible {
        var description: String { "the HTTP client was shut down" }
    }

    private let session: URLSession
    private let router = TransferRouter()
    private let lock = NSLock()
    private var isShutDown = false

    /// - Parameter maximumConnectionsPerHost: connections kept per host (libcurl queues requests beyond it).
    init(maximumConnectionsPerHost: Int) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(1, maximumConnectionsPerHost)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.urlCredentialStorage = nil
        // Backstops only (callers time attempts themselves); the defaults (60 s) would cut long generations short.
        configuration.timeoutIntervalForRequest = 7 * 24 * 3600
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        session = URLSession(configuration: configuration, delegate: router, delegateQueue: nil)
    }

    deinit {
        if !isShutDown { session.invalidateAndCancel() }
    }

    /// Cancels transfers in flight and releases the session; later requests throw `ShutDown`. Idempotent.
    func shutdown() {
        lock.lock()
        defer { lock.unlock() }
        guard !isShutDown else { return }
        isShutDown = true
        session.invalidateAndCancel()
        // An invalidated session may drop the completions of the tasks it cancels; end their streams here.
        router.finishAll(throwing: URLError(.cancelled))
    }

    /// Starts `request`; the stream yields the head, then body chunks, and ends when the response is complete.
    /// Ending the iteration early (or cancelling the reading task) cancels the transfer.
    /// - Throws: `ShutDown` after `shutdown()`; the stream throws the transfer's `URLError`, if any.
    func events(for request: URLRequest) throws -> AsyncThrowingStream<Event, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Event.self)
        lock.lock()
        guard !isShutDown else {
            lock.unlock()
            throw ShutDown()
        }
        let task = session.dataTask(with: request)
        lock.unlock()
        router.register(task.taskIdentifier, continuation)
        continuation.onTermination = { [weak task] termination in
            if case .cancelled = termination { task?.cancel() }
        }
        task.resume()
        return stream
    }

    /// Sends `request` and collects the whole response.
    /// - Throws: `BodyTooLarge` past `limit` bytes, the transfer's `URLError`, or `CancellationError`.
    func send(_ request: URLRequest, limit: Int) async throws -> Response {
        var response: Response?
        for try await event in try events(for: request) {
            switch event {
            case .head(let status, let headers):
                response = Response(status: status, headers: headers, body: Data())
            case .body(let chunk):
                guard response != nil else { continue }
                if (response?.body.count ?? 0) + chunk.count > limit { throw BodyTooLarge(limit: limit) }
                response?.body.append(chunk)
            }
        }
        // The stream ends quietly when the reading task is cancelled.
        try Task.checkCancellation()
        guard let response else { throw URLError(.badServerResponse) }
        return response
    }
}

/// The session's delegate: hands each task's events to the stream of the request that started it.
private final class TransferRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var streams: [Int: AsyncThrowingStream<HTTPTransport.Event, any Error>.Continuation] = [:]

    func register(_ task: Int, _ continuation: AsyncThrowingStream<HTTPTransport.Event, any Error>.Continuation) {
        lock.lock()
        streams[task] = continuation
        lock.unlock()
    }

    func finishAll(throwing error: any Error) {
        lock.lock()
        let all = streams.values
        streams.removeAll()
        lock.unlock()
        for continuation in all { continuation.finish(throwing: error) }
    }

    private func stream(_ task: Int, remove: Bool = false) -> AsyncThrowingStream<HTTPTransport.Event, any Error>.Continuation? {
        lock.lock()
        defer { lock.unlock() }
        return remove ? streams.removeValue(forKey: task) : streams[task]
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse {
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                headers[String(describing: name).lowercased()] = String(describing: value)
            }
            stream(dataTask.taskIdentifier)?.yield(.head(status: http.statusCode, headers: headers))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        stream(dataTask.taskIdentifier)?.yield(.body(data))
    }

    /// A 401 with `WWW-Authenticate` is a response to return, not a challenge to answer.
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        completionHandler(.performDefaultHandling, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let continuation = stream(task.taskIdentifier, remove: true) else { return }
        if let error { continuation.finish(throwing: error) } else { continuation.finish() }
    }
}
