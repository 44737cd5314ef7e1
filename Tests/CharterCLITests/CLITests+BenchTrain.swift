import Foundation
import XCTest

extension CLITests {
    /// `charter bench train --data` refuses a text file too short for one batch window, naming the file, and a file
    /// that does not exist; it trains nothing in either case.
    func testBenchTrainDataNamesAFileItCannotUse() throws {
        let short = try write(["only a few characters"], to: "short.txt")
        let (status, _, errors) = try charter(["bench", "train", "--data", short, "--steps", "1", "--warmup", "0"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("short.txt: 21 characters"), errors)
        let (missing, _, message) = try charter(["bench", "train", "--data", folder.appendingPathComponent("absent.txt").path])
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(message.contains("absent.txt: cannot read the file"), message)
    }
}
