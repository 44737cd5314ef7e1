import XCTest

@testable import JSON

/// The parser: exact numbers, key order, duplicate keys, the depth bound, offsets in errors, hostile input.
final class JSONParserTests: XCTestCase {
    func expectFailure(_ text: String, maximumDepth: Int = JSONParser.defaultMaximumDepth, offset: Int, _ reason: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONParser.parse(text, maximumDepth: maximumDepth), text, file: file, line: line) { error in
            guard let error = error as? JSONSyntaxError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.offset, offset, "\(error)", file: file, line: line)
            XCTAssertEqual(error.reason, reason, file: file, line: line)
        }
    }

    func testObjectsKeepKeyOrder() throws {
        let value = try JSONParser.parse(#"{"zeta": 1, "alpha": 2, "mid": {"b": true, "a": null}}"#)
        XCTAssertEqual(value.keys, ["zeta", "alpha", "mid"])
        XCTAssertEqual(value["mid"]?.keys, ["b", "a"])
        XCTAssertEqual(value.serialized(), #"{"zeta":1,"alpha":2,"mid":{"b":true,"a":null}}"#)
    }

    func testNumbersAreKeptExactly() throws {
        let text = #"[12345678901234567890, -0, 1.50, 1e400, 2E-3, 9007199254740993, -12]"#
        let value = try JSONParser.parse(text)
        guard case let .array(numbers) = value else { return XCTFail("\(value)") }
        XCTAssertEqual(numbers.map { $0.serialized() }, ["12345678901234567890", "-0", "1.50", "1e400", "2E-3", "9007199254740993", "-12"])
        // 2^53 + 1 is not a Double, but the integer reads exactly; too-large integers read as nil, not rounded.
        XCTAssertEqual(numbers[5].integerValue, 9_007_199_254_740_993)
        XCTAssertEqual(numbers[6].integerValue, -12)
        XCTAssertNil(numbers[0].integerValue)
        XCTAssertNil(numbers[2].integerValue)
        XCTAssertEqual(numbers[2].doubleValue, 1.5)
        XCTAssertEqual(numbers[3].doubleValue, .infinity)
        XCTAssertNotEqual(JSONValue.number("1"), JSONValue.number("1.0"))
    }

    func testRoundTripPreservesEveryByte() throws {
        let text = #"{"id":12345678901234567890,"text":"caf\u00e9 e\u0301 😀 \"q\" \\ \/","list":[true,false,null,[],{}],"x":-1.25e-7}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value["text"]?.stringValue, "café e\u{301} 😀 \"q\" \\ /")
        let written = value.serialized()
        let expected = #"{"id":12345678901234567890,"text":"caf"# + "\u{E9} e\u{301}" + #" 😀 \"q\" \\ /","list":[true,false,null,[],{}],"x":-1.25e-7}"#
        XCTAssertTrue(written.utf8.elementsEqual(expected.utf8), written)
        XCTAssertEqual(try JSONParser.parse(written), value)
        XCTAssertEqual(try JSONParser.parse(value.serialized(.python)), value)
        XCTAssertEqual(try JSONParser.parse(Array(written.utf8)), value)
    }

    func testStringsCompareByBytesNotCanonicalEquivalence() throws {
        // Precomposed and decomposed "é" are different keys (tokenizer vocabularies hold both), so not duplicates.
        let value = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        XCTAssertEqual(value.keys.count, 2)
        XCTAssertEqual(value["e\u{301}"], .number(2))
        XCTAssertNotEqual(JSONValue.string("\u{E9}"), JSONValue.string("e\u{301}"))
        XCTAssertEqual(Set([JSONValue.string("\u{E9}"), .string("e\u{301}")]).count, 2)
    }

    func testDuplicateKeysAreRejectedByName() throws {
        expectFailure(#"{"a": 1, "b": 2, "a": 3}"#, offset: 17, #"duplicate key "a""#)
        // Large objects switch from scanning to a hash set; duplicates are still found.
        let many = (0..<100).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        XCTAssertEqual(try JSONParser.parse("{\(many)}").keys.count, 100)
        expectFailure("{\(many), \"k42\": 0}", offset: many.utf8.count + 3, #"duplicate key "k42""#)
        // The same key in different objects is fine.
        XCTAssertNoThrow(try JSONParser.parse(#"[{"a": 1}, {"a": 2}]"#))
    }

    func testNestingIsBoundedByTheExplicitDepth() throws {
        XCTAssertNoThrow(try JSONParser.parse("[[[1]]]", maximumDepth: 3))
        XCTAssertNoThrow(try JSONParser.parse(#"{"a":{"b":[]}}"#, maximumDepth: 3))
        expectFailure("[[[[1]]]]", maximumDepth: 3, offset: 3, "nesting deeper than 3 levels")
        expectFailure(#"{"a":{"b":{"c":{}}}}"#, maximumDepth: 3, offset: 15, "nesting deeper than 3 levels")
        // The default bound stops hostile input long before the stack runs out.
        let hostile = String(repeating: "[", count: 100_000)
        expectFailure(hostile, offset: JSONParser.defaultMaximumDepth, "nesting deeper than 512 levels")
    }

    func testErrorsNameOffsetLineAndColumn() throws {
        XCTAssertThrowsError(try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": tru\n}")) { error in
            guard let error = error as? JSONSyntaxError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.offset, 19)
            XCTAssertEqual(error.line, 3)
            XCTAssertEqual(error.column, 8)
            XCTAssertEqual(error.reason, "invalid literal (expected true)")
            XCTAssertEqual("\(error)", "line 3, column 8 (byte 19): invalid literal (expected true)")
        }
        expectFailure(#"{"text": "a\q"}"#, offset: 11, #"invalid escape '\q'"#)
        expectFailure(#"{"text" "a"}"#, offset: 8, #"expected ':' after key "text""#)
        expectFailure(#"{"a": 1} x"#, offset: 9, "unexpected text after the JSON value")
        expectFailure(#"{"a": 01}"#, offset: 7, "expected ',' or '}' in object")
        expectFailure("[1 2]", offset: 3, "expected ',' or ']' in list")
        expectFailure("{1: 2}", offset: 1, "expected a quoted key")
        expectFailure("-", offset: 1, "invalid number")
        expectFailure("1.", offset: 2, "invalid number (digits expected after '.')")
        expectFailure("1e+", offset: 3, "invalid number (digits expected in exponent)")
        expectFailure("\"a\u{1}\"", offset: 2, "unescaped control character in string")
        expectFailure(#""\ud800""#, offset: 7, #"unpaired surrogate \ud800"#)
        expectFailure(#""\udc00""#, offset: 7, #"unpaired surrogate \udc00"#)
        expectFailure(#""\ud800\u0041""#, offset: 13, "invalid surrogate pair")
        expectFailure(#""\u12G4""#, offset: 5, #"invalid \u escape (4 hex digits expected)"#)
        expectFailure("@", offset: 0, "unexpected '@'")
        expectFailure("", offset: 0, "unexpected end of JSON")
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC3, 0x28, 0x22])) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.reason, "string is not valid UTF-8")
            XCTAssertEqual((error as? JSONSyntaxError)?.offset, 1)
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22])) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.reason, "string is not valid UTF-8")
        }
    }

    func testTruncatedInputAlwaysFailsWithAnOffsetInside() throws {
        let text = #"{"id": 12, "messages": [{"role": "user", "content": "h\u00e9llo \ud83d\ude00"}], "ok": true, "x": -1.5e3}"#
        XCTAssertNoThrow(try JSONParser.parse(text))
        let bytes = Array(text.utf8)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try JSONParser.parse(bytes[0..<length]), "prefix of \(length) bytes") { error in
                guard let error = error as? JSONSyntaxError else { return XCTFail("\(error)") }
                XCTAssertLessThanOrEqual(error.offset, length)
            }
        }
        XCTAssertEqual(try JSONParser.parse(text + " \n\t\r "), try JSONParser.parse(text))
    }

    func testGarbageNeverCrashes() throws {
        // SplitMix64, seeded: the same bytes every run.
        var state: UInt64 = 2026
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet = Array(#"{}[]":,\ -+.0123456789eEtruefalsnl/bu"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
        var parsed = 0
        for _ in 0..<3000 {
            let count = Int(next() % 40)
            let bytes = (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            do {
                let value = try JSONParser.parse(bytes)
                XCTAssertEqual(try JSONParser.parse(value.serialized()), value)
                parsed += 1
            } catch let error as JSONSyntaxError {
                XCTAssertTrue((0...bytes.count).contains(error.offset), "\(error) in \(bytes)")
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }

    func testParsePrefixLeavesTheRestToTheCaller() throws {
        let text = Array(#"  {"a": [1]}   x"#.utf8)
        let (value, end) = try text.withUnsafeBytes { try JSONParser.parsePrefix($0) }
        XCTAssertEqual(value, .object([JSONValue.Member("a", .array([.number(1)]))]))
        XCTAssertEqual(end, 12)
    }
}
