import XCTest

final class TokenizersSmokeTests: XCTestCase {
    func testModuleBuilds() throws { XCTAssertTrue(true) }
}
