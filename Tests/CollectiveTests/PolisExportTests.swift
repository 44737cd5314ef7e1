import Foundation
import XCTest
@testable import Collective

final class PolisExportTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("polis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func write(comments: String, votes: String) throws {
        try comments.write(to: folder.appendingPathComponent("comments.csv"), atomically: true, encoding: .utf8)
        try votes.write(to: folder.appendingPathComponent("participants-votes.csv"), atomically: true, encoding: .utf8)
    }

    let header = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"

    func testQuotedFieldsBlanksAndRejectedStatements() throws {
        try write(
            comments: header + "1,d,10,0,1,0,1,\"Be kind, \"\"always\"\"\nand honest\"\r\n2,d,11,1,0,0,-1,spam\n3,d,12,1,0,1,0,Unmoderated\n",
            votes: "participant,group-id,n-comments,n-votes,n-agree,n-disagree,10,11,12\n0,,1,2,1,1,1,,-1\n1,0,0,1,0,0,0,1,\n")
        let matrix = try PolisExport.read(from: folder)
        XCTAssertEqual(matrix.statements.map(\.id), ["10", "12"])
        XCTAssertEqual(matrix.statements[0].text, "Be kind, \"always\"\nand honest")
        XCTAssertEqual(matrix.statements[0].authorID, "0")
        XCTAssertEqual(matrix.participants, ["0", "1"])
        XCTAssertEqual(matrix.votes, [[.agree, .disagree], [.pass, nil]])
    }

    func testWriteThenReadRoundTrips() throws {
        let (matrix, _) = OpinionAnalysisTests.planted(groupSize: 4)
        var edited = matrix
        edited.statements[1].text = "with, a comma and \"quotes\"\nand a newline"
        try PolisExport.write(edited, to: folder)
        let read = try PolisExport.read(from: folder)
        XCTAssertEqual(read.statements, edited.statements.map { Statement(id: $0.id, authorID: nil, text: $0.text) })
        XCTAssertEqual(read.participants, edited.participants)
        XCTAssertEqual(read.votes, edited.votes)
    }

    func assertError(comments: String, votes: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try write(comments: comments, votes: votes)
        XCTAssertThrowsError(try PolisExport.read(from: folder), file: file, line: line) { error in
            XCTAssertTrue("\(error)".hasSuffix(expected), "\(error)", file: file, line: line)
        }
    }

    func testBadLinesAreNamedByFileAndLine() throws {
        let goodVotes = "participant,group-id,n-comments,n-votes,n-agree,n-disagree,1\n0,,0,1,1,0,1\n"
        try assertError(comments: header + "1,d,1,0,1,0,1,ok\n2,d,2,0,x,0,1,bad\n", votes: goodVotes,
                        "comments.csv:3: agrees is \"x\", not a whole number")
        try assertError(comments: header + "1,d,1,0,1,0,1,ok\n1,d,1,0,1,0,1,again\n", votes: goodVotes,
                        "comments.csv:3: comment-id 1 appears twice")
        try assertError(comments: header + "1,d,1,0,1,0,2,ok\n", votes: goodVotes,
                        "comments.csv:2: moderated is \"2\"; expected 1 (accepted), 0 (unmoderated) or -1 (rejected)")
        try assertError(comments: header + "1,d,1,0,1,0,1,\"never closed\n", votes: goodVotes,
                        "comments.csv:2: a quoted field is never closed (a \" is missing)")
        try assertError(comments: "comment-id,comment-body\n1,x\n", votes: goodVotes,
                        "comments.csv: no column author-id, agrees, disagrees, moderated in the header (comment-id,comment-body)")
        let comments = header + "1,d,1,0,1,0,1,ok\n"
        try assertError(comments: comments, votes: "participant,group-id,n-comments,n-votes,n-agree,n-disagree,1\n0,,0,1,1,0,1\n1,,0,1,1,0,2\n",
                        "participants-votes.csv:3: comment 1: \"2\" is not a vote; expected 1 (agree), -1 (disagree), 0 (pass) or blank")
        try assertError(comments: comments, votes: "participant,group-id,n-comments,n-votes,n-agree,n-disagree,1\n0,,0,1,1,0\n",
                        "participants-votes.csv:2: 6 fields, but the header has 7")
        try assertError(comments: comments, votes: "participant,group-id,n-comments,n-votes,n-agree,n-disagree,1,9\n0,,0,1,1,0,1,\n",
                        "participants-votes.csv:1: column \"9\" names a comment that comments.csv does not have")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("participants-votes.csv"))
        XCTAssertThrowsError(try PolisExport.read(from: folder)) { error in
            XCTAssertTrue("\(error)".contains("participants-votes.csv: cannot read the file"), "\(error)")
        }
    }
}
