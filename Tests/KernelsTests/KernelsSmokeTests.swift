import XCTest

final class KernelsSmokeTests: XCTestCase {
    func testModuleBuilds() throws { XCTAssertTrue(true) }
}
