import XCTest

final class SafeTensorsSmokeTests: XCTestCase {
    func testModuleBuilds() throws { XCTAssertTrue(true) }
}
