import XCTest
@testable import Runtime

final class ProgressLineTests: XCTestCase {
    /// Collects what a progress line draws.
    final class Screen: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [String] = []
        func write(_ text: String) { lock.withLock { parts.append(text) } }
        var text: String { lock.withLock { parts.joined() } }
    }

    private func line(total: Int, startingAt: Int = 0, interactive: Bool, interval: TimeInterval = 0, screen: Screen) -> ProgressLine {
        ProgressLine(label: "step", total: total, startingAt: startingAt, unit: "it", enabled: true, minimumInterval: interval,
                     interactive: interactive) { screen.write($0) }
    }

    func testOneDurationFormat() {
        XCTAssertEqual(ProgressLine.duration(0), "0s")
        XCTAssertEqual(ProgressLine.duration(45.4), "45s")
        XCTAssertEqual(ProgressLine.duration(59.6), "1m0s")
        XCTAssertEqual(ProgressLine.duration(185), "3m5s")
        XCTAssertEqual(ProgressLine.duration(7800), "2h10m")
        XCTAssertEqual(ProgressLine.duration(.infinity), "?")
    }

    func testTextOrdersCountRateEtaThenDetails() {
        XCTAssertEqual(ProgressLine.text(label: "critique", shown: 40, total: 100, rate: 1.3, unit: "items", remaining: 60,
                                         details: ["2 retries", "0 failed"]),
                       "critique 40/100 · 1.30 items/s · ETA 46s · 2 retries · 0 failed")
        XCTAssertEqual(ProgressLine.text(label: "step", shown: 0, total: 10, rate: 0, unit: "it", remaining: 10, details: []),
                       "step 0/10 · 0.00 it/s · ETA ?")
    }

    func testBarFillsInProportion() {
        XCTAssertEqual(ProgressLine.bar(0, of: 4, width: 4), "····")
        XCTAssertEqual(ProgressLine.bar(2, of: 4, width: 4), "██··")
        XCTAssertEqual(ProgressLine.bar(9, of: 4, width: 4), "████")
        XCTAssertEqual(ProgressLine.bar(0, of: 0, width: 4), "████")
    }

    func testPlainLinesWhenNotATerminal() {
        let screen = Screen()
        let progress = line(total: 4, startingAt: 2, interactive: false, screen: screen)
        progress.update(3, details: ["loss 0.5000"])
        progress.update(4, details: ["loss 0.2500"])
        progress.finish()
        let lines = screen.text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 3, screen.text)
        XCTAssertTrue(lines[0].hasPrefix("step 3/4 · ") && lines[0].hasSuffix(" · loss 0.5000"), screen.text)
        XCTAssertTrue(lines[1].hasPrefix("step 4/4 · ") && lines[1].contains("ETA 0s"), screen.text)
        XCTAssertEqual(lines[2], "")
        XCTAssertFalse(screen.text.contains("\r"))
    }

    func testRedrawsInPlaceOnATerminalAndEndsTheLineOnce() {
        let screen = Screen()
        let progress = line(total: 2, interactive: true, screen: screen)
        progress.update(1)
        progress.note("saved checkpoint-1")
        progress.update(2)
        progress.finish()
        let text = screen.text
        XCTAssertTrue(text.hasPrefix("\r████████████············ step 1/2 · "), text)
        XCTAssertTrue(text.contains("\r\u{1B}[Ksaved checkpoint-1\n"), text)
        XCTAssertTrue(text.contains("\r████████████████████████ step 2/2 · "), text)
        XCTAssertTrue(text.hasSuffix("\u{1B}[K\n"), text)
        XCTAssertEqual(text.filter { $0 == "\n" }.count, 2, text)
    }

    func testThrottledUpdatesAreDrawnAtFinish() {
        let screen = Screen()
        let progress = line(total: 10, interactive: false, interval: 3600, screen: screen)
        progress.update(1)
        progress.update(2, shown: 1, details: ["1 failed"])
        XCTAssertEqual(screen.text.split(separator: "\n").count, 1)
        progress.finish()
        let lines = screen.text.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, screen.text)
        XCTAssertTrue(lines[1].hasPrefix("step 1/10 · ") && lines[1].hasSuffix("1 failed"), screen.text)
    }

    func testQuietSilencesProgressButNotNotes() {
        let screen = Screen()
        ProgressDisplay.isEnabled = false
        defer { ProgressDisplay.isEnabled = true }
        let progress = line(total: 3, interactive: false, screen: screen)
        progress.update(1)
        progress.finish()
        XCTAssertEqual(screen.text, "")
        progress.note("done")
        XCTAssertEqual(screen.text, "done\n")

        let disabled = ProgressLine(label: "x", total: 1, startingAt: 0, unit: "items", enabled: false, minimumInterval: 0,
                                    interactive: false) { screen.write($0) }
        ProgressDisplay.isEnabled = true
        disabled.update(1)
        disabled.finish()
        XCTAssertEqual(screen.text, "done\n")
    }
}
