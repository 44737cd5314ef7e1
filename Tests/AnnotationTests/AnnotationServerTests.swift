import Foundation
import Hummingbird
import ServiceLifecycle
import TestSupport
import XCTest
@testable import Annotation
@testable import WebApp

/// The labelling app over real HTTP on loopback: invite links, the comparison page, judgements in the stored
/// orientation, the dashboard, and every security check.
final class AnnotationServerTests: XCTestCase {
    var scratch: Scratch!
    var store: AnnotationStore!
    var group: ServiceGroup!
    var task: Task<Void, any Error>!
    var client: TestHTTPClient!

    static let attack = "<script>alert('x')</script> \"quoted\" & more"

    func start(_ adjust: (inout AnnotationServer.Configuration) -> Void = { _ in }) async throws {
        scratch = try Scratch()
        store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", lines: (0..<4).map {
            "{\"prompt\": \"question \($0)\", \"chosen\": \"answer \($0) \\u003cb\\u003e\", \"rejected\": \"\(Self.attack.replacingOccurrences(of: "\"", with: "\\\"")) \($0)\"}"
        }))
        var configuration = AnnotationServer.Configuration()
        configuration.port = 0
        adjust(&configuration)
        let server = AnnotationServer(store: store, configuration: configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        group = ServiceGroup(services: [server.application { continuation.yield($0) }])
        let group = self.group!
        task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let next = await iterator.next()
        client = TestHTTPClient(port: try XCTUnwrap(next))
    }

    override func tearDown() async throws {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        scratch = nil
    }

    /// Logs in with an invite link; returns the cookie and the current page's CSRF token and task id.
    func login(_ name: String, role: AnnotationStore.Role = .annotator) throws -> (cookie: String, csrf: String, id: Int64) {
        let (token, annotator) = try store.invite(name, role: role)
        let login = try client.get("/login?token=\(token)")
        XCTAssertEqual(login.status, 303)
        XCTAssertEqual(login.header("location"), role == .admin ? "/admin" : "/label")
        let setCookie = try XCTUnwrap(login.header("set-cookie"))
        XCTAssertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie)
        return ("\(AnnotationServer.sessionCookie)=\(token)", annotator.csrf, annotator.id)
    }

    func field(_ name: String, in html: String) throws -> String {
        let marker = "name=\"\(name)\" value=\""
        let start = try XCTUnwrap(html.range(of: marker), "no \(name) in the page").upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    func testLabelPageEscapesAndJudgementsAreStoredInTaskOrientation() async throws {
        try await start()
        XCTAssertEqual(try client.get("/label").status, 401)
        let ann = try login("ann")
        var seenSwapped = Set<Bool>()
        for round in 0..<4 {
            let page = try client.get("/label", cookie: ann.cookie)
            XCTAssertEqual(page.status, 200)
            XCTAssertEqual(page.header("content-security-policy"), WebPage.contentSecurityPolicy)
            XCTAssertFalse(page.body.contains("<script>alert"), "model text must be escaped")
            XCTAssertTrue(page.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;quoted&quot; &amp; more"))
            XCTAssertTrue(page.body.contains("\(round) done, \(4 - round) left"), page.body)
            XCTAssertEqual(try field("csrf", in: page.body), ann.csrf)
            let taskID = try field("task", in: page.body)
            let swapped = AnnotationStore.swapped(annotator: ann.id, task: taskID)
            seenSwapped.insert(swapped)
            // Response A is the first (chosen) response unless the sides were swapped.
            let a = try XCTUnwrap(page.body.range(of: "id=\"response-a\"")), b = try XCTUnwrap(page.body.range(of: "id=\"response-b\""))
            let answerAt = try XCTUnwrap(page.body.range(of: "answer "))
            XCTAssertEqual(answerAt.lowerBound > b.lowerBound, swapped)
            XCTAssertLessThan(a.lowerBound, b.lowerBound)
            let posted = try client.post("/label", [("csrf", ann.csrf), ("task", taskID), ("choice", "a2"), ("helpful-a", "5"),
                                                    ("harmless-b", "2"), ("reason-harmful", "1"), ("rationale", Self.attack), ("action", "submit")],
                                         cookie: ann.cookie)
            XCTAssertEqual(posted.status, 303)
            XCTAssertEqual(posted.header("location"), "/label")
            let stored = try XCTUnwrap(store.judgements().last)
            XCTAssertEqual(stored.judgement.taskID, taskID)
            XCTAssertEqual(stored.swapped, swapped)
            XCTAssertEqual(stored.judgement.strength, swapped ? -2 : 2, "A much better, in first/second orientation")
            XCTAssertEqual(stored.judgement.ratings.first.helpful, swapped ? nil : 5)
            XCTAssertEqual(stored.judgement.ratings.second.helpful, swapped ? 5 : nil)
            XCTAssertEqual(stored.judgement.ratings.first.harmless, swapped ? 2 : nil)
            XCTAssertEqual(stored.judgement.reasons, [.harmful])
            XCTAssertEqual(stored.judgement.rationale, Self.attack)
        }
        XCTAssertEqual(seenSwapped.count, 2, "four tasks should show both orders (coin flips of this annotator)")
        XCTAssertTrue(try client.get("/label", cookie: ann.cookie).body.contains("id=\"done\""))
        XCTAssertEqual(try client.get("/app.js").status, 200)
    }

    func testEveryPostNeedsSessionOriginAndCSRF() async throws {
        try await start()
        let ann = try login("ann")
        let taskID = try field("task", in: client.get("/label", cookie: ann.cookie).body)
        let form = [("task", taskID), ("choice", "tie"), ("action", "submit")]
        XCTAssertEqual(try client.post("/label", form, cookie: ann.cookie).status, 403, "no CSRF token")
        XCTAssertEqual(try client.post("/label", form + [("csrf", String(repeating: "0", count: 64))], cookie: ann.cookie).status, 403)
        XCTAssertEqual(try client.post("/label", form + [("csrf", ann.csrf)], cookie: ann.cookie, origin: "http://evil.example").status, 403)
        XCTAssertEqual(try client.post("/label", form + [("csrf", ann.csrf)], cookie: nil).status, 401, "no session")
        XCTAssertEqual(try client.post("/label", form + [("csrf", ann.csrf)],
                                       cookie: "\(AnnotationServer.sessionCookie)=\(String(repeating: "a", count: 64))").status, 401)
        XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "maybe"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 400)
        XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "a1"), ("helpful-a", "9"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 400)
        XCTAssertTrue(try store.judgements().isEmpty, "no refused request may record a judgement")
        // Another annotator's task is not in this queue.
        let bo = try login("bo")
        let other = try store.taskIDs(limit: 4).first { $0 != taskID } ?? ""
        XCTAssertEqual(try client.post("/label", [("task", other), ("choice", "tie"), ("csrf", bo.csrf)], cookie: bo.cookie).status, 409)
        XCTAssertEqual(try client.post("/label", form + [("csrf", ann.csrf)], cookie: ann.cookie).status, 303)
        XCTAssertEqual(try client.post("/label", form + [("csrf", ann.csrf)], cookie: ann.cookie).status, 409, "answered already")
        // Skip needs no choice and is stored as a skip.
        let next = try field("task", in: client.get("/label", cookie: ann.cookie).body)
        XCTAssertEqual(try client.post("/label", [("task", next), ("action", "skip"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 303)
        XCTAssertEqual(try store.judgements().map(\.judgement.verdict), [.tie, .skip])
        // The dashboard is the admin's.
        XCTAssertEqual(try client.get("/admin", cookie: ann.cookie).status, 403)
        XCTAssertEqual(try client.get("/login?token=\(String(repeating: "b", count: 64))").status, 401)
    }

    func testBodyRationaleAndRateLimits() async throws {
        try await start {
            $0.maximumBodyBytes = 2048
            $0.maximumRationaleCharacters = 50
            $0.postBurst = 4
            $0.postsPerSecond = 0.01
        }
        let ann = try login("ann")
        let taskID = try field("task", in: client.get("/label", cookie: ann.cookie).body)
        let large = try client.post("/label", [("task", taskID), ("choice", "tie"), ("rationale", String(repeating: "x", count: 4000)), ("csrf", ann.csrf)], cookie: ann.cookie)
        XCTAssertEqual(large.status, 413)
        let long = try client.post("/label", [("task", taskID), ("choice", "tie"), ("rationale", String(repeating: "y", count: 51)), ("csrf", ann.csrf)], cookie: ann.cookie)
        XCTAssertEqual(long.status, 413)
        XCTAssertTrue(long.body.contains("at most 50 characters"))
        XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "b1"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 303)
        XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "b1"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 409)
        let limited = try client.post("/label", [("task", taskID), ("choice", "b1"), ("csrf", ann.csrf)], cookie: ann.cookie)
        XCTAssertEqual(limited.status, 429)
        XCTAssertNotNil(limited.header("retry-after"))
        XCTAssertEqual(try store.judgements().count, 1)
    }

    func testAssistedPagesShowTheCritiquesEscaped() async throws {
        try await start { $0.assistShare = 1 }
        for id in try store.taskIDs(limit: 4) {
            try store.saveCritiques(taskID: id, principleID: "be-honest", model: "m", first: "first <b>critique</b>", second: "second critique")
        }
        let ann = try login("ann")
        let page = try client.get("/label", cookie: ann.cookie)
        let taskID = try field("task", in: page.body)
        let swapped = AnnotationStore.swapped(annotator: ann.id, task: taskID)
        let a = try XCTUnwrap(page.body.range(of: "id=\"critique-a\""))
        let first = try XCTUnwrap(page.body.range(of: "first &lt;b&gt;critique&lt;/b&gt;"))
        XCTAssertEqual(first.lowerBound > a.lowerBound && page.body.range(of: "id=\"critique-b\"").map { first.lowerBound < $0.lowerBound } == true, !swapped,
                       "the first response's critique sits under the first response")
        XCTAssertTrue(page.body.contains("principle be-honest"))
        XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "tie"), ("csrf", ann.csrf)], cookie: ann.cookie).status, 303)
        XCTAssertEqual(try store.judgements().map(\.assisted), [true])
        let admin = try login("organiser", role: .admin)
        XCTAssertTrue(try client.get("/admin", cookie: admin.cookie).body.contains("id=\"assistance\""))
    }

    func testDashboardAndLoopbackHost() async throws {
        try await start { $0.overlap = 2 }
        for name in ["ann", "bo"] {
            let annotator = try login(name)
            for _ in 0..<4 {
                let taskID = try field("task", in: client.get("/label", cookie: annotator.cookie).body)
                XCTAssertEqual(try client.post("/label", [("task", taskID), ("choice", "a1"), ("csrf", annotator.csrf)], cookie: annotator.cookie).status, 303)
            }
        }
        let admin = try login("organiser", role: .admin)
        let dashboard = try client.get("/admin", cookie: admin.cookie)
        XCTAssertEqual(dashboard.status, 200)
        XCTAssertTrue(dashboard.body.contains("Krippendorff"))
        XCTAssertTrue(dashboard.body.contains("<td>ann · bo</td><td>4</td>"), dashboard.body)
        XCTAssertTrue(dashboard.body.contains("<td>8</td><td>0</td>"), "8 labels, 0 skips")
        XCTAssertEqual(try client.send("GET", "/label", headers: [("Host", "evil.example:\(client.port)")]).status, 421)
    }
}
