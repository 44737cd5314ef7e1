import Foundation
import JSON
import Runtime
import XCTest

@testable import Tokenizers

/// Truncated, corrupted and mistyped tokenizer.json files must throw `TokenizerError`, never crash.
final class RobustnessTests: XCTestCase {
    func testTruncatedFilesThrow() throws {
        var generator = SplitMix64(seed: 42)
        for name in ["gpt2", "llama3", "sentencepiece"] {
            let data = try Data(contentsOf: Fixtures.tokenizerURL(name))
            // The last non-whitespace byte closes the document; any shorter prefix is invalid JSON.
            let lastByte = data.lastIndex { ![0x20, 0x0A, 0x0D, 0x09].contains($0) } ?? data.count
            var offsets = (0..<50).map { _ in Int.random(in: 0..<lastByte, using: &generator) }
            offsets += [0, 1, lastByte - 1]
            for offset in offsets {
                XCTAssertThrowsError(try Tokenizer(data: data.prefix(offset)), "\(name) truncated at \(offset)") { error in
                    XCTAssertTrue(error is TokenizerError, "\(error)")
                }
            }
        }
    }

    func testCorruptedBytesNeverCrash() throws {
        var generator = SplitMix64(seed: 7)
        let original = try Data(contentsOf: Fixtures.tokenizerURL("llama3"))
        for _ in 0..<60 {
            var data = original
            for _ in 0..<3 {
                let offset = Int.random(in: 0..<data.count, using: &generator)
                data[offset] = UInt8.random(in: 0...255, using: &generator)
            }
            // Either a loaded tokenizer that still encodes, or a TokenizerError.
            do {
                let tokenizer = try Tokenizer(data: data)
                _ = tokenizer.decode(tokenizer.encode("Hello, world! 日本語 <|eot_id|>"))
            } catch {
                XCTAssertTrue(error is TokenizerError, "\(error)")
            }
        }
    }

    /// Every field the loader reads, replaced by a value of another JSON type, must be reported by path.
    func testMistypedFieldsThrowWithTheirPath() throws {
        // Fields HF writes that do not affect ids; a wrong type there is ignored.
        let ignored: Set<String> = ["version", "trim_offsets", "type_id", "tokens", "pair", "str_rep"]
        for name in Fixtures.tokenizerNames {
            let root = try JSONValue.parse(try Data(contentsOf: Fixtures.tokenizerURL(name)), source: name)
            var flips = 0
            for path in RobustnessTests.paths(in: root, limitPerArray: 3) where !ignored.contains(path.last?.key ?? "") {
                for replacement in RobustnessTests.replacements(for: RobustnessTests.value(at: path, in: root)) {
                    let mutated = RobustnessTests.replacing(path, in: root, with: replacement)
                    flips += 1
                    XCTAssertThrowsError(
                        try Tokenizer(data: Data(mutated.serialized().utf8)),
                        "\(name): \(RobustnessTests.describe(path)) = \(replacement.serialized().prefix(40)) was accepted"
                    ) { error in
                        guard let error = error as? TokenizerError else { return XCTFail("\(error)") }
                        XCTAssertFalse(error.description.isEmpty)
                    }
                }
            }
            XCTAssertGreaterThan(flips, 50)
        }
    }

    func testErrorsNameTheJSONPath() throws {
        var root = try JSONValue.parse(try Data(contentsOf: Fixtures.tokenizerURL("llama3")), source: "llama3")
        let path: [PathStep] = [.key("pre_tokenizer"), .key("pretokenizers"), .index(1), .key("type")]
        root = RobustnessTests.replacing(path, in: root, with: .string("Foo"))
        XCTAssertThrowsError(try Tokenizer(data: Data(root.serialized().utf8))) { error in
            guard case let TokenizerError.unsupported(errorPath, value, supported) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, "pre_tokenizer.pretokenizers[1].type")
            XCTAssertEqual(value, "Foo")
            XCTAssertTrue(supported.contains("ByteLevel"))
            XCTAssertTrue("\(error)".contains("pre_tokenizer.pretokenizers[1].type = \"Foo\""))
        }
    }

    func testUnsupportedModelAndMissingFiles() throws {
        let wordPiece = #"{"model": {"type": "WordPiece", "vocab": {}}}"#
        XCTAssertThrowsError(try Tokenizer(data: Data(wordPiece.utf8))) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupported(path: "model.type", value: "WordPiece", supported: ["BPE"]))
        }
        XCTAssertThrowsError(try Tokenizer(data: Data("[]".utf8)))
        XCTAssertThrowsError(try Tokenizer(data: Data(#"{"model": null}"#.utf8)))
        XCTAssertThrowsError(try Tokenizer(url: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))) { error in
            guard case TokenizerError.unreadableFile = error else { return XCTFail("\(error)") }
        }
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try Tokenizer(data: Data(deep.utf8)))
        let badMerge = #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#
        XCTAssertThrowsError(try Tokenizer(data: Data(badMerge.utf8))) { error in
            guard case let TokenizerError.invalidValue(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "model.merges[0]")
        }
    }

    // MARK: - JSON tree helpers

    enum PathStep {
        case key(String)
        case index(Int)
        var key: String? { if case let .key(key) = self { return key } else { return nil } }
    }

    static func describe(_ path: [PathStep]) -> String {
        path.map { step -> String in
            switch step {
            case let .key(key): return ".\(key)"
            case let .index(index): return "[\(index)]"
            }
        }.joined()
    }

    /// Paths to every value (at most `limitPerArray` elements of each array/large object).
    static func paths(in value: JSONValue, prefix: [PathStep] = [], limitPerArray: Int) -> [[PathStep]] {
        var result: [[PathStep]] = prefix.isEmpty ? [] : [prefix]
        switch value {
        case let .array(items):
            for (index, item) in items.prefix(limitPerArray).enumerated() {
                result += paths(in: item, prefix: prefix + [.index(index)], limitPerArray: limitPerArray)
            }
        case let .object(members):
            let isVocabulary = prefix.last?.key == "vocab"
            for member in isVocabulary ? Array(members.prefix(limitPerArray)) : members {
                result += paths(in: member.value, prefix: prefix + [.key(member.key)], limitPerArray: limitPerArray)
            }
        default:
            break
        }
        return result
    }

    static func value(at path: [PathStep], in root: JSONValue) -> JSONValue {
        path.reduce(root) { current, step in
            switch (current, step) {
            case let (.array(items), .index(index)): return items[index]
            case let (.object(members), .key(key)): return members.first { $0.key == key }?.value ?? .null
            default: return .null
            }
        }
    }

    /// Values of a different, non-null JSON type (null is legal for many optional fields).
    static func replacements(for value: JSONValue) -> [JSONValue] {
        switch value {
        case .string: return [.number(3), .array([])]
        case .number: return [.string("7"), .bool(true)]
        case .bool: return [.string("true"), .number(1)]
        case .array: return [.string("x"), .object([])]
        case .object: return [.array([]), .number(0)]
        case .null: return []
        }
    }

    static func replacing(_ path: [PathStep], in root: JSONValue, with replacement: JSONValue) -> JSONValue {
        guard let step = path.first else { return replacement }
        let rest = Array(path.dropFirst())
        switch (root, step) {
        case (.array(var items), .index(let index)):
            items[index] = replacing(rest, in: items[index], with: replacement)
            return .array(items)
        case (.object(var members), .key(let key)):
            if let position = members.firstIndex(where: { $0.key == key }) {
                members[position].value = replacing(rest, in: members[position].value, with: replacement)
            }
            return .object(members)
        default:
            return root
        }
    }
}
