import Foundation
import Hummingbird
import ServiceLifecycle
import TestSupport
import XCTest
@testable import Collective
@testable import WebApp

/// The voting app over real HTTP on loopback: join, write, moderate, vote, and every security check.
final class CollectiveServerTests: XCTestCase {
    var folder: URL!
    var store: CollectiveStore!
    var group: ServiceGroup!
    var task: Task<Void, any Error>!
    var client: TestHTTPClient!

    func start(_ adjust: (inout CollectiveServer.Configuration) -> Void = { _ in }) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("collect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try CollectiveStore(path: folder.appendingPathComponent("ccai.sqlite").path)
        var configuration = CollectiveServer.Configuration()
        configuration.port = 0
        adjust(&configuration)
        let server = CollectiveServer(store: store, configuration: configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        group = ServiceGroup(services: [server.application { continuation.yield($0) }])
        let group = self.group!
        task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let next = await iterator.next()
        let port = try XCTUnwrap(next)
        client = TestHTTPClient(port: port)
    }

    override func tearDown() async throws {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// Joins through the start page; returns the session cookie and the CSRF token of its forms.
    func join() throws -> (cookie: String, csrf: String) {
        let start = try client.get("/")
        XCTAssertEqual(start.status, 200)
        let nonce = try XCTUnwrap(start.cookie(CollectiveServer.joinCookie))
        XCTAssertTrue(start.body.contains("value=\"\(nonce)\""))
        let joined = try client.post("/join", [("csrf", nonce)], cookie: "\(CollectiveServer.joinCookie)=\(nonce)")
        XCTAssertEqual(joined.status, 303)
        XCTAssertEqual(joined.header("location"), "/vote")
        let setCookie = try XCTUnwrap(joined.header("set-cookie"))
        XCTAssertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie)
        let cookie = "\(CollectiveServer.sessionCookie)=\(try XCTUnwrap(joined.cookie(CollectiveServer.sessionCookie)))"
        XCTAssertEqual(try client.get("/vote", cookie: cookie).status, 200)
        let page = try client.get("/submit", cookie: cookie)
        XCTAssertEqual(page.status, 200)
        return (cookie, try csrf(in: page.body))
    }

    func csrf(in html: String) throws -> String {
        let marker = "name=\"csrf\" value=\""
        let start = try XCTUnwrap(html.range(of: marker)).upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    func moderator() throws -> (cookie: String, csrf: String) {
        let (token, participant) = try store.addParticipant(role: .moderator)
        let login = try client.get("/login?token=\(token)")
        XCTAssertEqual(login.status, 303)
        XCTAssertEqual(login.header("location"), "/moderate")
        return ("\(CollectiveServer.sessionCookie)=\(token)", participant.csrf)
    }

    func testJoinWriteModerateVoteWithEscapingAndWAL() async throws {
        try await start()
        XCTAssertEqual(try store.journalMode(), "wal")
        let alice = try join(), bob = try join()
        let attack = "<script>alert('x')</script> AI should be \"honest\" & kind"
        XCTAssertEqual(try client.post("/submit", [("text", attack), ("csrf", alice.csrf)], cookie: alice.cookie).status, 303)
        XCTAssertEqual(try store.statements(status: .pending).map(\.text), [attack])
        // Pending statements are shown to no one but the moderator.
        XCTAssertTrue(try client.get("/vote", cookie: bob.cookie).body.contains("id=\"done\""))
        let moderator = try moderator()
        let queue = try client.get("/moderate", cookie: moderator.cookie)
        XCTAssertEqual(queue.status, 200)
        XCTAssertFalse(queue.body.contains("<script>alert"))
        XCTAssertTrue(queue.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; AI should be &quot;honest&quot; &amp; kind"), queue.body)
        XCTAssertEqual(queue.header("content-security-policy"), WebPage.contentSecurityPolicy)
        let id = try XCTUnwrap(store.statements(status: .pending).first?.id)
        XCTAssertEqual(try client.post("/moderate", [("statement", "\(id)"), ("decision", "accepted"), ("csrf", moderator.csrf)],
                                       cookie: moderator.cookie).status, 303)
        // The author does not vote on their own statement; Bob does, and sees it escaped.
        XCTAssertTrue(try client.get("/vote", cookie: alice.cookie).body.contains("id=\"done\""))
        let page = try client.get("/vote", cookie: bob.cookie)
        XCTAssertTrue(page.body.contains("data-id=\"\(id)\""))
        XCTAssertFalse(page.body.contains("<script>alert"))
        XCTAssertEqual(try client.post("/vote", [("statement", "\(id)"), ("vote", "agree"), ("csrf", bob.csrf)], cookie: bob.cookie).status, 303)
        let matrix = try store.voteMatrix()
        XCTAssertEqual(matrix.statements.map(\.text), [attack])
        XCTAssertEqual(matrix.votes, [[.agree]])
        XCTAssertTrue(try client.get("/vote", cookie: bob.cookie).body.contains("1 of 1 statements voted on"))
    }

    func testEveryPostNeedsSessionOriginAndCSRF() async throws {
        try await start()
        let alice = try join()
        let id = try store.submit("Be honest.", author: nil, status: .accepted)
        let vote = [("statement", "\(id)"), ("vote", "agree")]
        XCTAssertEqual(try client.post("/vote", vote, cookie: alice.cookie).status, 403, "no CSRF token")
        XCTAssertEqual(try client.post("/vote", vote + [("csrf", String(repeating: "0", count: 64))], cookie: alice.cookie).status, 403)
        XCTAssertEqual(try client.post("/vote", vote + [("csrf", alice.csrf)], cookie: alice.cookie, origin: "http://evil.example").status, 403)
        XCTAssertEqual(try client.post("/vote", vote + [("csrf", alice.csrf)], cookie: nil).status, 401, "no session")
        XCTAssertEqual(try client.post("/vote", vote + [("csrf", alice.csrf)], cookie: "\(CollectiveServer.sessionCookie)=\(String(repeating: "a", count: 64))").status, 401)
        XCTAssertTrue(try store.voteMatrix().votes.isEmpty, "no refused request may vote")
        // A participant is not a moderator; a join without the double-submit cookie is refused.
        XCTAssertEqual(try client.get("/moderate", cookie: alice.cookie).status, 403)
        XCTAssertEqual(try client.post("/moderate", [("statement", "\(id)"), ("decision", "rejected"), ("csrf", alice.csrf)], cookie: alice.cookie).status, 403)
        XCTAssertEqual(try client.post("/join", [("csrf", "x")], cookie: nil).status, 403)
        XCTAssertEqual(try client.get("/login?token=\(String(repeating: "b", count: 64))").status, 401)
        // Votes on statements not open for voting are refused.
        let pending = try store.submit("Pending.", author: nil)
        XCTAssertEqual(try client.post("/vote", [("statement", "\(pending)"), ("vote", "agree"), ("csrf", alice.csrf)], cookie: alice.cookie).status, 404)
        XCTAssertEqual(try client.post("/vote", [("statement", "\(id)"), ("vote", "maybe"), ("csrf", alice.csrf)], cookie: alice.cookie).status, 400)
        XCTAssertEqual(try client.post("/vote", vote + [("csrf", alice.csrf)], cookie: alice.cookie).status, 303)
    }

    func testBodyStatementAndRateLimits() async throws {
        try await start {
            $0.maximumBodyBytes = 2048
            $0.maximumStatementCharacters = 50
            $0.postBurst = 5
            $0.postsPerSecond = 0.01
        }
        let alice = try join()
        let large = try client.post("/submit", [("text", String(repeating: "x", count: 4000)), ("csrf", alice.csrf)], cookie: alice.cookie)
        XCTAssertEqual(large.status, 413)
        let long = try client.post("/submit", [("text", String(repeating: "y", count: 51)), ("csrf", alice.csrf)], cookie: alice.cookie)
        XCTAssertEqual(long.status, 413)
        XCTAssertTrue(long.body.contains("at most 50 characters"))
        for index in 0..<3 {
            XCTAssertEqual(try client.post("/submit", [("text", "statement \(index)"), ("csrf", alice.csrf)], cookie: alice.cookie).status, 303)
        }
        let limited = try client.post("/submit", [("text", "one too many"), ("csrf", alice.csrf)], cookie: alice.cookie)
        XCTAssertEqual(limited.status, 429)
        XCTAssertNotNil(limited.header("retry-after"))
        XCTAssertEqual(try store.statements().count, 3)
    }

    /// DNS rebinding: a page on another name that resolves to 127.0.0.1 sends that name as Host and is refused.
    func testLoopbackServerAnswersOnlyLoopbackHostNames() async throws {
        try await start()
        XCTAssertEqual(try client.send("GET", "/", headers: [("Host", "evil.example:\(client.port)")]).status, 421)
        XCTAssertEqual(try client.send("GET", "/", headers: [("Host", "localhost:\(client.port)")]).status, 200)
        XCTAssertEqual(try client.send("GET", "/", headers: [("Host", "[::1]:\(client.port)")]).status, 200)
        XCTAssertEqual(WebRequest.hostName("[::1]:80"), "::1")
        XCTAssertEqual(WebRequest.hostName("LocalHost:80"), "localhost")
    }

    func testInviteOnlyRefusesOpenJoin() async throws {
        try await start { $0.openJoin = false }
        XCTAssertFalse(try client.get("/").body.contains("action=\"/join\""))
        XCTAssertEqual(try client.post("/join", [("csrf", "x")], cookie: "\(CollectiveServer.joinCookie)=x").status, 403)
        let (token, _) = try store.addParticipant()
        let login = try client.get("/login?token=\(token)")
        XCTAssertEqual(login.header("location"), "/vote")
        XCTAssertEqual(try client.get("/vote", cookie: "\(CollectiveServer.sessionCookie)=\(token)").status, 200)
    }
}
