import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WebApp

/// `charter annotate serve`: the browser app where invited annotators compare two responses to a conversation,
/// one task at a time from their own queue, and where the organiser watches agreement on a dashboard.
///
/// Security, as in the collective-constitution app (both stand on ``WebApp``): loopback by default with a Host check;
/// an annotator is their invite token (256 bits, stored hashed, carried in an HttpOnly SameSite=Strict cookie); every
/// POST must come from this origin and carry the session's CSRF token; all model text is HTML-escaped under a
/// Content-Security-Policy that runs only /app.js; form bodies and rationales are bounded (413) and POSTs
/// rate-limited per annotator (429).
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
public struct AnnotationServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Distinct annotators each regular task goes to (k-way overlap).
        public var overlap = 1
        /// Every this-many-th task in a queue is a gold question (0: none).
        public var goldEvery = 10
        /// The share of assignments of critiqued tasks that show the AI critiques (0: never, 1: always).
        public var assistShare = 0.0
        public var maximumBodyBytes = 32 * 1024
        public var maximumRationaleCharacters = 4000
        /// Each annotator's POSTs: a burst, then this many a second.
        public var postBurst = 60
        public var postsPerSecond = 2.0
        public init() {}
    }

    static let sessionCookie = "charter_annotate"

    public let store: AnnotationStore
    public let configuration: Configuration
    let posts: RateLimiter

    public init(store: AnnotationStore, configuration: Configuration) {
        precondition(configuration.overlap >= 1 && configuration.goldEvery >= 0 && (0...1).contains(configuration.assistShare),
                     "overlap must be ≥ 1, goldEvery ≥ 0 and assistShare in [0, 1]")
        self.store = store
        self.configuration = configuration
        posts = RateLimiter(capacity: configuration.postBurst, perSecond: configuration.postsPerSecond)
    }

    /// Serves until SIGINT or SIGTERM.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onListening: onListening).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        WebServer.application(router: router(), host: configuration.host, port: configuration.port, label: "charter.annotate",
                              onListening: onListening)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/") { request, _ in self.handle(request) { try self.startPage(request) } }
        router.get("/login") { request, _ in self.handle(request) { try self.login(request) } }
        router.get("/label") { request, _ in self.handle(request) { try self.labelPage(self.session(request)) } }
        router.post("/label") { request, _ in await self.handleAsync(request) { try await self.postLabel(request) } }
        router.get("/admin") { request, _ in self.handle(request) { try self.dashboardPage(self.session(request, role: .admin)) } }
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

    /// The annotator behind the session cookie, with at least `role`.
    /// - Throws: ``WebError`` 401 without a valid token, 403 for an annotator on the dashboard.
    func session(_ request: Request, role: AnnotationStore.Role = .annotator) throws -> AnnotationStore.Annotator {
        guard let token = WebRequest.cookie(Self.sessionCookie, in: request), let annotator = try store.annotator(token: token) else {
            throw WebError(.unauthorized, "labelling is by invitation; open the link you were sent (`charter annotate invite NAME` makes one)")
        }
        if role == .admin && annotator.role != .admin {
            throw WebError(.forbidden, "the dashboard needs the admin link that `charter annotate serve` printed")
        }
        return annotator
    }

    // MARK: Actions

    /// An invite or admin link: the token becomes the session cookie, then the address bar loses it.
    func login(_ request: Request) throws -> Response {
        guard let token = request.uri.queryParameters["token"].map(String.init), let annotator = try store.annotator(token: token) else {
            throw WebError(.unauthorized, "this link is not valid; ask the organiser for a new one")
        }
        return WebResponse.redirect(to: annotator.role == .admin ? "/admin" : "/label",
                                    headers: [.setCookie: WebRequest.setCookie(Self.sessionCookie, token)])
    }

    /// A judgement, after the same-origin, session, rate and CSRF checks; the page's A/B answer is turned into the
    /// stored first/second orientation with the assignment's recorded sides.
    func postLabel(_ request: Request) async throws -> Response {
        try WebRequest.checkSameOrigin(request)
        let annotator = try session(request)
        guard posts.allow("a\(annotator.id)") else {
            throw WebError(.tooManyRequests, "too many requests; wait a moment", retryAfter: posts.retryAfter("a\(annotator.id)"))
        }
        let form = try await WebRequest.form(request, limit: configuration.maximumBodyBytes)
        try WebRequest.checkCSRF(form, expected: annotator.csrf)
        guard let taskID = form["task"], !taskID.isEmpty else { throw WebError(.badRequest, "the form names no task") }
        let judgement = try Self.judgement(form, taskID: taskID, swapped: AnnotationStore.swapped(annotator: annotator.id, task: taskID),
                                           maximumRationale: configuration.maximumRationaleCharacters)
        guard try store.record(judgement, annotator: annotator.id) else {
            throw WebError(.conflict, "that task is not open in your queue (already answered?); the next one is at /label")
        }
        return WebResponse.redirect(to: "/label")
    }

    /// The page's form as a judgement. Choices name the page's sides: a2 A much better, a1 A better, tie, b1 B
    /// better, b2 B much better, bad both bad.
    /// - Throws: ``WebError`` 400 for a missing or unknown choice or rating, 413 for a long rationale.
    static func judgement(_ form: [String: String], taskID: String, swapped: Bool, maximumRationale: Int) throws -> Judgement {
        let rationale = (form["rationale"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard rationale.count <= maximumRationale else {
            throw WebError(.contentTooLarge, "a rationale has at most \(maximumRationale) characters (this one has \(rationale.count))")
        }
        func rating(_ name: String) throws -> Int? {
            guard let text = form[name], !text.isEmpty else { return nil }
            guard let value = Int(text), (1...5).contains(value) else { throw WebError(.badRequest, "rating \(name) must be 1 to 5 (got \"\(text)\")") }
            return value
        }
        let left = Judgement.Ratings(helpful: try rating("helpful-a"), harmless: try rating("harmless-a"), honest: try rating("honest-a"))
        let right = Judgement.Ratings(helpful: try rating("helpful-b"), harmless: try rating("harmless-b"), honest: try rating("honest-b"))
        let reasons = Judgement.Reason.allCases.filter { form["reason-\($0.rawValue)"] != nil }
        let ratings = swapped ? (right, left) : (left, right)
        if form["action"] == "skip" {
            return Judgement(taskID: taskID, verdict: .skip, reasons: reasons, ratings: ratings, rationale: rationale)
        }
        let shown: [String: Int] = ["a2": 2, "a1": 1, "tie": 0, "b1": -1, "b2": -2]
        switch form["choice"] {
        case "bad"?:
            return Judgement(taskID: taskID, verdict: .bothBad, reasons: reasons, ratings: ratings, rationale: rationale)
        case let choice? where shown[choice] != nil:
            let strength = (shown[choice] ?? 0) * (swapped ? -1 : 1)
            return Judgement(taskID: taskID, verdict: strength == 0 ? .tie : .prefer, strength: strength, reasons: reasons,
                             ratings: ratings, rationale: rationale)
        default:
            throw WebError(.badRequest, "choose A much better, A better, tie, B better, B much better or both bad (keys 1–5, 0), or skip (S)")
        }
    }
}
