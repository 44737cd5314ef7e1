import Foundation
import XCTest
@testable import Quickstart

final class QuickstartConfigurationTests: XCTestCase {
    func testOverridesReplaceNumbersBooleansAndNestedFields() throws {
        let changed = try QuickstartConfiguration.full.overriding([
            ("helpfulOnlySteps", "12"), ("dpoBeta", "0.25"), ("ablation", "false"), ("corpus.benignPerIntent", "7"),
        ])
        XCTAssertEqual(changed.helpfulOnlySteps, 12)
        XCTAssertEqual(changed.dpoBeta, 0.25)
        XCTAssertFalse(changed.ablation)
        XCTAssertEqual(changed.corpus.benignPerIntent, 7)
        var expected = QuickstartConfiguration.full
        expected.helpfulOnlySteps = 12
        expected.dpoBeta = 0.25
        expected.ablation = false
        expected.corpus.benignPerIntent = 7
        XCTAssertEqual(changed, expected)
        XCTAssertEqual(try QuickstartConfiguration.reduced.overriding([]), .reduced)
    }

    func testBadOverridesNameTheField() {
        func message(_ overrides: [(key: String, value: String)]) -> String {
            do {
                _ = try QuickstartConfiguration.full.overriding(overrides)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message([("helpfulOnlyStep", "3")]).contains("no such field 'helpfulOnlyStep'"), message([("helpfulOnlyStep", "3")]))
        XCTAssertTrue(message([("corpus.nothing", "3")]).contains("corpus.nothing"))
        XCTAssertTrue(message([("helpfulOnlySteps", "many")]).contains("helpfulOnlySteps=many"))
        XCTAssertTrue(message([("corpus", "3")]).contains("only numbers and booleans"))
        XCTAssertTrue(message([("helpfulOnlySteps", "2.5")]).contains("do not fit"), message([("helpfulOnlySteps", "2.5")]))
    }
}
