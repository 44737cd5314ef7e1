import Foundation
import GRDB
import XCTest
@testable import Collective
@testable import WebApp

final class CollectiveStoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testTokensAreStoredHashedAndVotesPersistAcrossReopening() throws {
        let path = folder.appendingPathComponent("ccai.sqlite").path
        var store: CollectiveStore? = try CollectiveStore(path: path)
        let (token, participant) = try store!.addParticipant()
        XCTAssertEqual(try store!.participant(token: token), participant)
        XCTAssertNil(try store!.participant(token: AccessToken.generate()))
        XCTAssertNil(try store!.participant(token: "' OR 1=1 --"))
        let statements = try (0..<5).map { try store!.submit("statement \($0)", author: nil, status: .accepted) }
        XCTAssertTrue(try store!.vote(participant: participant.id, statement: statements[0], .disagree))
        XCTAssertTrue(try store!.vote(participant: participant.id, statement: statements[0], .agree), "a vote can be changed")
        store = nil
        let reopened = try CollectiveStore(path: path)
        XCTAssertEqual(try reopened.journalMode(), "wal")
        XCTAssertEqual(try reopened.voteMatrix().votes, [[.agree, nil, nil, nil, nil]])
        let stored = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT token_hash FROM participant") }
        XCTAssertEqual(stored, [AccessToken.hash(token)])
        XCTAssertFalse(stored.contains(token))
    }

    func testEachParticipantHasTheirOwnStableRandomOrder() throws {
        let store = try CollectiveStore(path: folder.appendingPathComponent("order.sqlite").path)
        for index in 0..<20 { try store.submit("statement \(index)", author: nil, status: .accepted) }
        var firsts: Set<Int64> = []
        for _ in 0..<8 {
            let (_, participant) = try store.addParticipant()
            let first = try XCTUnwrap(store.nextStatement(for: participant.id).statement)
            XCTAssertEqual(try store.nextStatement(for: participant.id).statement, first, "a reload shows the same statement")
            firsts.insert(first.id)
            var seen: Set<Int64> = []
            while let next = try store.nextStatement(for: participant.id).statement {
                XCTAssertTrue(seen.insert(next.id).inserted)
                XCTAssertTrue(try store.vote(participant: participant.id, statement: next.id, .pass))
            }
            XCTAssertEqual(seen.count, 20)
            XCTAssertEqual(try store.nextStatement(for: participant.id).voted, 20)
        }
        XCTAssertGreaterThan(firsts.count, 3, "eight participants should not all start on the same statement")
    }

    func testRateLimiterRefillsAndAccessTokensCompare() {
        final class Clock: @unchecked Sendable { var now = 0.0 }
        let clock = Clock()
        let limiter = RateLimiter(capacity: 2, perSecond: 1, clock: { clock.now })
        XCTAssertTrue(limiter.allow("a"))
        XCTAssertTrue(limiter.allow("a"))
        XCTAssertFalse(limiter.allow("a"))
        XCTAssertTrue(limiter.allow("b"), "keys have their own buckets")
        XCTAssertEqual(limiter.retryAfter("a"), 1)
        clock.now = 1.01
        XCTAssertTrue(limiter.allow("a"))
        XCTAssertFalse(limiter.allow("a"))
        let token = AccessToken.generate()
        XCTAssertTrue(AccessToken.isWellFormed(token))
        XCTAssertNotEqual(token, AccessToken.generate())
        XCTAssertTrue(AccessToken.equal(token, token))
        XCTAssertFalse(AccessToken.equal(String(token.dropLast()), token))
        XCTAssertFalse(AccessToken.equal(token + "0", token))
        XCTAssertEqual(try WebRequest.parseForm("a=1+2&b=%3Cscript%3E&a=ignored&c"), ["a": "1 2", "b": "<script>", "c": ""])
    }
}
