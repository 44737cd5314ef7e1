import XCTest

@testable import JSON

/// The one escaper: its output is compared with Python's `json.dumps(…, ensure_ascii=False)` (the commands are in
/// each test), which writes strings exactly as Rust's `serde_json` — the writer of HF tokenizer.json and safetensors.
final class JSONSerializationTests: XCTestCase {
    func testControlCharactersUseShortEscapesLikePythonAndSerde() {
        // python3 -c 'import json; print(json.dumps("\b\f\x01\x1f\x7f\n\r\t\"\\/", ensure_ascii=False))'
        // → "\b\f\u0001\u001f<DEL>\n\r\t\"\\/"
        let text = "\u{08}\u{0C}\u{01}\u{1F}\u{7F}\n\r\t\"\\/"
        let expected = #""\b\f\u0001\u001f"# + "\u{7F}" + #"\n\r\t\"\\/""#
        XCTAssertEqual(JSONValue.quoted(text), expected)
        XCTAssertEqual(JSONValue.quoted(text, style: .python), expected)
        XCTAssertEqual(JSONValue.quoted(text, style: .jsonLines), expected)
        XCTAssertEqual(try JSONParser.parse(expected), .string(text))
    }

    func testEscapesInsideGraphemeClustersKeepEveryScalarOnce() {
        // "\r\n" and a quote followed by a combining accent are single Characters: the runs between escapes are cut
        // at scalar boundaries, so nothing is repeated or dropped.
        // python3 -c 'import json; print(json.dumps("a\r\nb\"\u0301c", ensure_ascii=False))' → "a\r\nb\"́c"
        let text = "a\r\nb\"\u{301}c"
        XCTAssertEqual(JSONValue.quoted(text), #""a\r\nb\""# + "\u{301}c\"")
        XCTAssertEqual(try JSONParser.parse(JSONValue.quoted(text)), .string(text))
    }

    func testLineSeparatorsAreEscapedOnlyInJSONLines() {
        // Python's ensure_ascii=False writes U+2028 raw; str.splitlines() would then split a JSONL record in two.
        let text = "a\u{2028}b\u{2029}c"
        XCTAssertEqual(JSONValue.quoted(text, style: .python), "\"a\u{2028}b\u{2029}c\"")
        XCTAssertEqual(JSONValue.quoted(text, style: .compact), "\"a\u{2028}b\u{2029}c\"")
        XCTAssertEqual(JSONValue.quoted(text, style: .jsonLines), #""a\u2028b\u2029c""#)
        XCTAssertEqual(try JSONParser.parse(JSONValue.quoted(text, style: .jsonLines)), .string(text))
    }

    func testNonASCIIAndAstralScalarsAreWrittenAsUTF8() throws {
        // python3 -c 'import json; print(json.dumps("é 日本 😀", ensure_ascii=False))' → "é 日本 😀"
        XCTAssertEqual(JSONValue.quoted("é 日本 😀"), "\"é 日本 😀\"")
        // A surrogate pair escape reads as the one astral scalar, and is written back as its UTF-8.
        let parsed = try JSONParser.parse(#""\ud83d\ude00 \u00e9""#)
        XCTAssertEqual(parsed, .string("😀 é"))
        XCTAssertEqual(parsed.serialized(), "\"😀 é\"")
        XCTAssertEqual(Array(parsed.serialized().utf8), [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x20, 0xC3, 0xA9, 0x22])
    }

    func testStylesSpaceLikePythonOrCompactly() {
        // python3 -c 'import json; print(json.dumps({"a": [1, "x"], "b": None}, ensure_ascii=False))'
        let value = JSONValue.object([JSONValue.Member("a", .array([.number(1), .string("x")])), JSONValue.Member("b", .null)])
        XCTAssertEqual(value.serialized(.python), #"{"a": [1, "x"], "b": null}"#)
        XCTAssertEqual(value.serialized(.jsonLines), #"{"a": [1, "x"], "b": null}"#)
        // ... separators=(",", ":") → {"a":[1,"x"],"b":null}
        XCTAssertEqual(value.serialized(), #"{"a":[1,"x"],"b":null}"#)
        XCTAssertEqual(JSONValue.array([]).serialized(.python), "[]")
        XCTAssertEqual(JSONValue.object([]).serialized(.python), "{}")
    }

    /// A Float inside a dictionary keeps its shortest form (it was widened to 0.05000000074505806 when the
    /// dictionary's value reached the converter as an Optional) and slashes are not escaped.
    func testFloatsInFoundationDictionariesKeepTheirShortestForm() throws {
        let value = try JSONValue(foundation: ["lora_dropout": Float(0.05), "list": [Float(0.1)], "output_dir": "runs/sft"] as [String: Any])
        XCTAssertEqual(value.serialized(), #"{"list":[0.1],"lora_dropout":0.05,"output_dir":"runs/sft"}"#)
    }

    func testNumbersFromDoubles() {
        XCTAssertEqual(JSONValue.numeric(3).serialized(), "3")
        XCTAssertEqual(JSONValue.numeric(-0.75).serialized(), "-0.75")
        XCTAssertEqual(JSONValue.numeric(1e20).serialized(), "1e+20")
        XCTAssertEqual(JSONNumber(42).text, "42")
        XCTAssertEqual(JSONValue.number("12345678901234567890").serialized(), "12345678901234567890")
    }

    func testIndentedStyleMatchesPythonIndentTwoWithSortedKeys() {
        // python3 -c 'import json; v = {"architectures": ["LlamaForCausalLM"], "b": {}, "c": [],
        //   "d": {"x": [1, 2.5, {"y": None}]}, "e": True, "é": "\u2028"}
        //   print(repr(json.dumps(v, ensure_ascii=False, indent=2, sort_keys=True)))'
        let expected = "{\n  \"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": {\n"
            + "    \"x\": [\n      1,\n      2.5,\n      {\n        \"y\": null\n      }\n    ]\n  },\n  \"e\": true,\n"
            + "  \"é\": \"\u{2028}\"\n}"
        let value = JSONValue(sortingKeys: [
            "é": "\u{2028}", "e": true, "d": ["x": [1, 2.5, ["y": nil]]], "c": [], "b": [:], "architectures": ["LlamaForCausalLM"],
        ])
        XCTAssertEqual(value.serialized(.indented), expected)
    }

    func testSortingKeysReachesEveryDepthAndNonFiniteNumbersBecomeNull() {
        let value: JSONValue = ["b": ["z": 1, "a": 2], "a": [["d": 0, "c": 0]]]
        XCTAssertEqual(value.sortingKeys.serialized(), #"{"a":[{"c":0,"d":0}],"b":{"a":2,"z":1}}"#)
        XCTAssertEqual(JSONValue.numeric(Double.nan), .null)
        XCTAssertEqual(JSONValue.numeric(-Double.infinity), .null)
        XCTAssertEqual(JSONValue.float(-.infinity), .null)
        // Float's shortest form, not the Double widening's -2.302585124969482.
        XCTAssertEqual(JSONValue.float(Float(-2.3025851)).serialized(), "-2.3025851")
    }
}
