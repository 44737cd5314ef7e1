import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WebApp

/// `charter constitution collect serve`: the browser app where participants write statements and vote on each
/// other's, one statement at a time in their own random order.
///
/// Security: it binds loopback unless told otherwise; a participant is their token (a 256-bit secret, stored hashed,
/// carried in an HttpOnly SameSite=Strict cookie); every POST must come from this origin and carry the session's CSRF
/// token; every piece of participant text is HTML-escaped and the Content-Security-Policy runs only /app.js; forms
/// are bounded (`maximumBodyBytes`, `maximumStatementCharacters`) and POSTs rate-limited per participant, joins per
/// server.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
public struct CollectiveServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// The question participants answer, shown on every page.
        public var topic = "What principles should an AI assistant follow?"
        /// Whether anyone who opens the start page may join; false: only invite links (`collect invite`) admit.
        public var openJoin = true
        public var maximumBodyBytes = 16 * 1024
        public var maximumStatementCharacters = 500
        /// Each participant's POSTs (votes, statements, moderation): a burst, then this many a second.
        public var postBurst = 60
        public var postsPerSecond = 2.0
        /// Joins, for the whole server.
        public var joinBurst = 30
        public var joinsPerSecond = 0.5
        public init() {}
    }

    static let sessionCookie = "charter_ccai"
    static let joinCookie = "charter_ccai_join"

    public let store: CollectiveStore
    public let configuration: Configuration
    let posts: RateLimiter
    let joins: RateLimiter

    public init(store: CollectiveStore, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
        posts = RateLimiter(capacity: configuration.postBurst, perSecond: configuration.postsPerSecond)
        joins = RateLimiter(capacity: configuration.joinBurst, perSecond: configuration.joinsPerSecond)
    }

    /// Serves until SIGINT or SIGTERM.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onListening: onListening).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        WebServer.application(router: router(), host: configuration.host, port: configuration.port, label: "charter.collect",
                              onListening: onListening)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/") { request, _ in self.handle(request) { try self.startPage(request) } }
        router.post("/join") { request, _ in await self.handleAsync(request) { try await self.join(request) } }
        router.get("/login") { request, _ in self.handle(request) { try self.login(request) } }
        router.get("/vote") { request, _ in self.handle(request) { try self.votePage(self.session(request)) } }
        router.post("/vote") { request, _ in await self.handleAsync(request) { try await self.postVote(request) } }
        router.get("/submit") { request, _ in self.handle(request) { try self.submitPage(self.session(request), request: request) } }
        router.post("/submit") { request, _ in await self.handleAsync(request) { try await self.postStatement(request) } }
        router.get("/moderate") { request, _ in self.handle(request) { try self.moderatePage(self.session(request, role: .moderator)) } }
        router.post("/moderate") { request, _ in await self.handleAsync(request) { try await self.postModeration(request) } }
        router.get("/app.js") { _, _ in WebResponse.make(status: .ok, contentType: "text/javascript; charset=utf-8", body: Self.script) }
        router.get("/app.css") { _, _ in WebResponse.make(status: .ok, contentType: "text/css; charset=utf-8", body: Self.style) }
        return router
    }

    // MARK: Plumbing

    /// Runs a page handler after the Host check, turning every error into an error page (``WebResponse/guarded``).
    func handle(_ request: Request, _ body: () throws -> Response) -> Response {
        WebResponse.guarded(request, host: configuration.host, body)
    }

    func handleAsync(_ request: Request, _ body: () async throws -> Response) async -> Response {
        await WebResponse.guarded(request, host: configuration.host, body)
    }

    /// The participant behind the session cookie, with at least `role`.
    /// - Throws: ``WebError`` 401 without a valid token, 403 for a participant on a moderator page.
    func session(_ request: Request, role: CollectiveStore.Role = .participant) throws -> CollectiveStore.Participant {
        guard let token = WebRequest.cookie(Self.sessionCookie, in: request), let participant = try store.participant(token: token) else {
            throw WebError(.unauthorized, configuration.openJoin
                ? "you have not joined yet (or your session ended); join from the start page"
                : "this conversation is by invitation; open the link you were sent")
        }
        if role == .moderator && participant.role != .moderator {
            throw WebError(.forbidden, "moderation needs the moderator link that `charter constitution collect serve` printed")
        }
        return participant
    }

    /// A POST's form after the same-origin, session, rate and CSRF checks.
    func postedForm(_ request: Request, role: CollectiveStore.Role = .participant) async throws
        -> (participant: CollectiveStore.Participant, form: [String: String]) {
        try WebRequest.checkSameOrigin(request)
        let participant = try session(request, role: role)
        guard posts.allow("p\(participant.id)") else {
            throw WebError(.tooManyRequests, "too many requests; wait a moment", retryAfter: posts.retryAfter("p\(participant.id)"))
        }
        let form = try await WebRequest.form(request, limit: configuration.maximumBodyBytes)
        try WebRequest.checkCSRF(form, expected: participant.csrf)
        return (participant, form)
    }

    func statementID(_ form: [String: String]) throws -> Int64 {
        guard let text = form["statement"], let id = Int64(text) else { throw WebError(.badRequest, "the form names no statement") }
        return id
    }

    // MARK: Actions

    func join(_ request: Request) async throws -> Response {
        try WebRequest.checkSameOrigin(request)
        guard configuration.openJoin else { throw WebError(.forbidden, "this conversation is by invitation; open the link you were sent") }
        guard joins.allow("join") else {
            throw WebError(.tooManyRequests, "many people are joining at once; try again shortly", retryAfter: joins.retryAfter("join"))
        }
        let form = try await WebRequest.form(request, limit: configuration.maximumBodyBytes)
        // A double-submit token: the start page set it as a cookie and in the form; another site can do neither.
        guard let cookie = WebRequest.cookie(Self.joinCookie, in: request) else {
            throw WebError(.forbidden, "the form's security token is missing or stale; reload the page and try again")
        }
        try WebRequest.checkCSRF(form, expected: cookie)
        let (token, _) = try store.addParticipant()
        return WebResponse.redirect(to: "/vote", headers: [.setCookie: WebRequest.setCookie(Self.sessionCookie, token)])
    }

    /// An invite or moderator link: the token becomes the session cookie, then the address bar loses it.
    func login(_ request: Request) throws -> Response {
        guard let token = request.uri.queryParameters["token"].map(String.init), let participant = try store.participant(token: token) else {
            throw WebError(.unauthorized, "this link is not valid; ask the organiser for a new one")
        }
        return WebResponse.redirect(to: participant.role == .moderator ? "/moderate" : "/vote",
                                    headers: [.setCookie: WebRequest.setCookie(Self.sessionCookie, token)])
    }

    func postVote(_ request: Request) async throws -> Response {
        let (participant, form) = try await postedForm(request)
        guard let vote = form["vote"].flatMap(Vote.init(name:)) else {
            throw WebError(.badRequest, "the vote must be agree, disagree or pass")
        }
        guard try store.vote(participant: participant.id, statement: statementID(form), vote) else {
            throw WebError(.notFound, "that statement is not open for voting")
        }
        return WebResponse.redirect(to: "/vote")
    }

    func postStatement(_ request: Request) async throws -> Response {
        let (participant, form) = try await postedForm(request)
        let text = (form["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw WebError(.badRequest, "the statement is empty") }
        guard text.count <= configuration.maximumStatementCharacters else {
            throw WebError(.contentTooLarge, "a statement has at most \(configuration.maximumStatementCharacters) characters (this one has \(text.count))")
        }
        try store.submit(text, author: participant.id, status: participant.role == .moderator ? .accepted : .pending)
        return WebResponse.redirect(to: "/submit?sent=1")
    }

    func postModeration(_ request: Request) async throws -> Response {
        let (_, form) = try await postedForm(request, role: .moderator)
        guard let decision = form["decision"], let status = CollectiveStore.Status(rawValue: decision), status != .pending else {
            throw WebError(.badRequest, "the decision must be accepted or rejected")
        }
        guard try store.moderate(statementID(form), status) else { throw WebError(.notFound, "there is no such statement") }
        return WebResponse.redirect(to: "/moderate")
    }
}
