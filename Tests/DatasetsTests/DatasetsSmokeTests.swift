import XCTest

final class DatasetsSmokeTests: XCTestCase {
    func testModuleBuilds() throws { XCTAssertTrue(true) }
}
