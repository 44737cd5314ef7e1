import Foundation
import Settings
import XCTest

/// A settings type like the trainers' configurations: defaults set once, nested flat keys, optionals, lists.
private struct Inner: KeyedSettings, Equatable {
    var learningRate: Float = 5e-5
    var batchSize = 8
    static var fields: [SettingsField<Self>] {
        [.init("learning_rate", \.learningRate, where: .positive), .init("per_device_train_batch_size", \.batchSize, where: .atLeast(1))]
    }
}

private struct Outer: KeyedSettings, Equatable {
    var training = Inner()
    var beta: Float = 0.1
    var maximumLength: Int? = 1024
    var rpoAlpha: Float? = nil
    var lossTypes = ["sigmoid"]
    var mode = "keep_start"

    init() { training.learningRate = 1e-6 }  // a trainer's own default for a shared key

    static var fields: [SettingsField<Self>] {
        [.flattened(\.training), .init("beta", \.beta, where: .positive), .init("max_length", \.maximumLength, where: .atLeast(1)),
         .init("rpo_alpha", \.rpoAlpha, omitsNil: true), .init("loss_type", oneOrMany: \.lossTypes, writesSingleAsScalar: true),
         .init("truncation_mode", \.mode, where: .oneOf(["keep_start", "keep_end"]))]
    }
}

final class KeyedSettingsTests: XCTestCase {
    private func decode(_ json: String) throws -> Outer { try JSONDecoder().decode(Outer.self, from: Data(json.utf8)) }

    func testAbsentKeysKeepTheDefaultsInitSet() throws {
        XCTAssertEqual(try decode("{}"), Outer())
        XCTAssertEqual(try decode("{}").training.learningRate, 1e-6, "the outer type's default for a flattened key survives")
        let decoded = try decode(#"{"beta": 0.5, "learning_rate": 0.001}"#)
        XCTAssertEqual(decoded.beta, 0.5)
        XCTAssertEqual(decoded.training.learningRate, 0.001)
        XCTAssertEqual(decoded.training.batchSize, 8)
    }

    func testNullClearsOptionalsAndKeepsOtherDefaults() throws {
        let decoded = try decode(#"{"max_length": null, "beta": null, "rpo_alpha": 0.5}"#)
        XCTAssertNil(decoded.maximumLength)
        XCTAssertEqual(decoded.beta, 0.1)
        XCTAssertEqual(decoded.rpoAlpha, 0.5)
    }

    func testOneOrManyAcceptsAScalarOrAList() throws {
        XCTAssertEqual(try decode(#"{"loss_type": "ipo"}"#).lossTypes, ["ipo"])
        XCTAssertEqual(try decode(#"{"loss_type": ["sigmoid", "sft"]}"#).lossTypes, ["sigmoid", "sft"])
        XCTAssertThrowsError(try decode(#"{"loss_type": 3}"#)) { error in
            XCTAssertEqual(error as? SettingsError, SettingsError(key: "loss_type", message: "must be a string (got 3.0)"))
        }
    }

    func testWrongTypesNameTheKeyAndWhatWasFound() {
        XCTAssertThrowsError(try decode(#"{"per_device_train_batch_size": "x"}"#)) { error in
            XCTAssertEqual(error as? SettingsError,
                           SettingsError(key: "per_device_train_batch_size", message: "must be a whole number (got \"x\")"))
        }
        XCTAssertThrowsError(try decode(#"{"per_device_train_batch_size": 1.5}"#)) { error in
            XCTAssertEqual(error as? SettingsError,
                           SettingsError(key: "per_device_train_batch_size", message: "must be a whole number (got 1.5)"))
        }
        XCTAssertThrowsError(try decode(#"{"beta": [1]}"#)) { error in
            XCTAssertEqual(error as? SettingsError, SettingsError(key: "beta", message: "must be a number (got a list)"))
        }
    }

    func testHugeValuesAreCutInErrorMessages() {
        // The fuzz harness's 10 MB `max_length` string used to be echoed whole on stderr.
        let huge = String(repeating: "a", count: 100_000)
        XCTAssertThrowsError(try decode(#"{"per_device_train_batch_size": "\#(huge)"}"#)) { error in
            let text = "\(error)"
            XCTAssertLessThan(text.count, 250, text)
            XCTAssertTrue(text.hasPrefix("per_device_train_batch_size: must be a whole number (got \"aaaa"), text)
            XCTAssertTrue(text.hasSuffix("…\" (100000 characters))"), text)
        }
        XCTAssertEqual(SettingsError.quoted("a\u{1}b"), #""a\u{1}b""#)
    }

    func testRangeChecksNameKeyAndValue() throws {
        XCTAssertNoThrow(try decode(#"{"beta": 0.3}"#).checkRanges())
        XCTAssertThrowsError(try decode(#"{"beta": -1}"#).checkRanges()) { error in
            XCTAssertEqual(error as? SettingsError, SettingsError(key: "beta", message: "must be a positive number (got -1.0)"))
        }
        XCTAssertThrowsError(try decode(#"{"per_device_train_batch_size": 0}"#).checkRanges()) { error in
            XCTAssertEqual(error as? SettingsError,
                           SettingsError(key: "per_device_train_batch_size", message: "must be at least 1 (got 0)"))
        }
        XCTAssertThrowsError(try decode(#"{"max_length": -1}"#).checkRanges()) { error in
            XCTAssertEqual(error as? SettingsError, SettingsError(key: "max_length", message: "must be at least 1 (got -1)"))
        }
        XCTAssertThrowsError(try decode(#"{"truncation_mode": "middle"}"#).checkRanges()) { error in
            XCTAssertEqual(error as? SettingsError,
                           SettingsError(key: "truncation_mode", message: "must be one of keep_start, keep_end (got \"middle\")"))
        }
    }

    func testBoundedCountsSayWhichBoundIsCrossed() {
        let check = SettingsCheck<Int>.from(1, to: 1024)
        XCTAssertNil(check.problem(1))
        XCTAssertNil(check.problem(1024))
        XCTAssertEqual(check.problem(0), "must be at least 1")
        XCTAssertEqual(check.problem(1025), "must be at most 1024")
    }

    /// A settings value nested under a key (a stage's `sampling:`) names its keys under that key, as do fields that
    /// read themselves with `decodeIfPresent`.
    func testNestedAndCustomFieldsNameTheFullKey() throws {
        struct Stage: KeyedSettings {
            var training = Inner()
            var mode = "a"
            static var fields: [SettingsField<Self>] {
                [.init("training", \.training),
                 SettingsField(keys: ["mode"], read: { stage, container in
                     if let mode = try SettingsField<Self>.decodeIfPresent(String.self, forKey: SettingsKey("mode"), in: container) { stage.mode = mode }
                 }, write: { _, _ in })]
            }
        }
        XCTAssertThrowsError(try JSONDecoder().decode(Stage.self, from: Data(#"{"training": {"per_device_train_batch_size": 1.5}}"#.utf8))) {
            XCTAssertEqual($0 as? SettingsError,
                           SettingsError(key: "training.per_device_train_batch_size", message: "must be a whole number (got 1.5)"))
        }
        XCTAssertThrowsError(try JSONDecoder().decode(Stage.self, from: Data(#"{"mode": 3}"#.utf8))) {
            XCTAssertEqual($0 as? SettingsError, SettingsError(key: "mode", message: "must be a string (got 3.0)"))
        }
        XCTAssertEqual(try JSONDecoder().decode(Stage.self, from: Data(#"{"mode": null}"#.utf8)).mode, "a", "null keeps the default")
    }

    func testEncodingWritesEveryKeyOnceAndRoundTrips() throws {
        var value = Outer()
        value.maximumLength = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        XCTAssertEqual(text, #"{"beta":0.1,"learning_rate":1e-06,"loss_type":"sigmoid","max_length":null,"per_device_train_batch_size":8,"truncation_mode":"keep_start"}"#)
        XCTAssertEqual(try decode(text), value)
        XCTAssertEqual(Outer.keys, ["learning_rate", "per_device_train_batch_size", "beta", "max_length", "rpo_alpha", "loss_type", "truncation_mode"])
    }
}
