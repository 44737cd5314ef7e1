import Foundation
import JSON
import XCTest

@testable import Tokenizers

/// Locates and loads the fixtures written by `Fixtures/make_fixtures.py`.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// `<repo>/../shared/data`, where shared datasets live outside the repository.
    static let sharedData = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    static let tokenizerNames = ["gpt2", "llama3", "qwen2", "sentencepiece", "metaspace"]

    static func tokenizerURL(_ name: String) -> URL {
        directory.appendingPathComponent(name).appendingPathComponent("tokenizer.json")
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(url: tokenizerURL(name))
    }

    nonisolated(unsafe) private static var cachedExpected: JSONValue?

    /// expected.json, parsed with the library's own JSON reader (Foundation's drops U+FEFF inside strings).
    static func expected() throws -> JSONValue {
        if let cached = cachedExpected { return cached }
        let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        let value = try JSONValue.parse(data, source: "expected.json")
        cachedExpected = value
        return value
    }

    static func node(_ key: String) throws -> JSONNode {
        JSONNode(try expected(), path: "")[key]
    }

    static func strings(_ node: JSONNode) throws -> [String] { try node.array().map { try $0.string() } }
    static func ints(_ node: JSONNode) throws -> [Int] { try node.array().map { try $0.nonNegativeInt() } }

    static func texts() throws -> [String] {
        try strings(node("texts"))
    }

    struct Case {
        let ids: [Int]
        let idsWithoutSpecialTokens: [Int]
        let decoded: String
        let decodedSkippingSpecial: String
    }

    /// Expected results for `texts`; a missing `decoded` means HF decodes back to the text itself.
    static func cases(_ name: String, group: String = "tokenizers") throws -> [Case] {
        let allTexts = try texts()
        return try node(group)[name].array().enumerated().map { index, entry in
            let ids = try ints(entry["ids"])
            let decoded = try entry["decoded"].optionalString() ?? allTexts[index]
            return Case(
                ids: ids, idsWithoutSpecialTokens: entry["ids_no_special"].isNull ? ids : try ints(entry["ids_no_special"]),
                decoded: decoded, decodedSkippingSpecial: try entry["decoded_skip"].optionalString() ?? decoded)
        }
    }

    /// Reads a gzipped JSON-lines file with the system `gzip` (the Gzip target is separate work).
    static func gunzipLines(_ url: URL) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// Byte-exact string comparison with a readable failure (XCTAssertEqual on Strings uses canonical equivalence).
func assertBytesEqual(_ actual: String, _ expected: String, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Array(actual.utf8), Array(expected.utf8),
                   "\(message()) — got \(actual.debugDescription), expected \(expected.debugDescription)",
                   file: file, line: line)
}
