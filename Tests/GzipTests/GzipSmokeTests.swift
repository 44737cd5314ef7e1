import XCTest

final class GzipSmokeTests: XCTestCase {
    func testModuleBuilds() throws { XCTAssertTrue(true) }
}
