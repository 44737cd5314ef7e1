import XCTest
@testable import Runtime

final class ProgressLineTests: XCTestCase {
    /// Collects what a progress line draws.
    final class Screen: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [String] = []
        func write(_ text: String) { lock.withLock { parts.append(text) } }
        var text: String { lock.withLock { parts.joined() } }
        /// The plain lines written so far (a log's view).
        var lines: [String] { text.split(separator: "\n").map(String.init) }
    }

    /// A clock moved by hand.
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var seconds = 1000.0
        var now: TimeInterval { lock.withLock { seconds } }
        func advance(_ by: TimeInterval) { lock.withLock { seconds += by } }
    }

    private func line(label: String = "step", total: Int, startingAt: Int = 0, unit: String = "it", interactive: Bool,
                      interval: TimeInterval = 0, clock: Clock = Clock(), screen: Screen) -> ProgressLine {
        ProgressLine(label: label, total: total, startingAt: startingAt, unit: unit, enabled: true, interval: interval,
                     interactive: interactive, clock: { clock.now }) { screen.write($0) }
    }

    func testOneDurationFormat() {
        XCTAssertEqual(ProgressLine.duration(0), "0s")
        XCTAssertEqual(ProgressLine.duration(45.4), "45s")
        XCTAssertEqual(ProgressLine.duration(59.6), "1m0s")
        XCTAssertEqual(ProgressLine.duration(185), "3m5s")
        XCTAssertEqual(ProgressLine.duration(7800), "2h10m")
        XCTAssertEqual(ProgressLine.duration(.infinity), "?")
    }

    func testRatesBelowOneASecondShowTheTimePerUnit() {
        XCTAssertEqual(ProgressLine.rate(1.3, unit: "items"), "1.30 items/s")
        XCTAssertEqual(ProgressLine.rate(1 / 2.54, unit: "items"), "2.5s/item")
        XCTAssertEqual(ProgressLine.rate(1 / 9.96, unit: "items"), "10s/item")
        XCTAssertEqual(ProgressLine.rate(1 / 41, unit: "items"), "41s/item")
        XCTAssertEqual(ProgressLine.rate(1 / 185, unit: "it"), "3m5s/it")
    }

    /// Before the first unit there is no unit rate and no ETA (never `0.00 items/s`); tokens/s shows the work inside
    /// the item; after it, the unit rate and an ETA; at the end, the time taken.
    func testTextBeforeAndAfterTheFirstUnit() {
        func text(shown: Int = 0, done: Int = 0, remaining: Int = 96, elapsed: TimeInterval,
                  part: (name: String, tokens: Int)? = nil, tokenRate: Double? = nil) -> String {
            ProgressLine.text(label: "critique", shown: shown, total: 96, unit: "items", done: done, remaining: remaining, elapsed: elapsed,
                              part: part, tokenRate: tokenRate, details: ["0 retries", "0 failed"])
        }
        XCTAssertEqual(text(elapsed: 0.2), "critique 0/96 · 0 retries · 0 failed")
        XCTAssertEqual(text(elapsed: 35), "critique 0/96 · 35s elapsed · 0 retries · 0 failed")
        XCTAssertEqual(text(elapsed: 35, part: ("item 1", 1)), "critique 0/96 · item 1: 1 token · 0 retries · 0 failed")
        XCTAssertEqual(text(elapsed: 35, part: ("item 1", 112), tokenRate: 41.27),
                       "critique 0/96 · item 1: 112 tokens, 41.3 tok/s · 0 retries · 0 failed")
        XCTAssertEqual(text(shown: 3, done: 3, remaining: 93, elapsed: 123, part: ("item 4", 112), tokenRate: 41.27),
                       "critique 3/96 · 41s/item · item 4: 112 tokens, 41.3 tok/s · ETA 1h3m · 0 retries · 0 failed")
        XCTAssertEqual(text(shown: 40, done: 13, remaining: 60, elapsed: 10),
                       "critique 40/96 · 1.30 items/s · ETA 46s · 0 retries · 0 failed")
        XCTAssertEqual(text(shown: 96, done: 96, remaining: 0, elapsed: 185),
                       "critique 96/96 · 1.9s/item · done in 3m5s · 0 retries · 0 failed")
    }

    func testBarFillsInProportion() {
        XCTAssertEqual(ProgressLine.bar(0, of: 4, width: 4), "····")
        XCTAssertEqual(ProgressLine.bar(2, of: 4, width: 4), "██··")
        XCTAssertEqual(ProgressLine.bar(9, of: 4, width: 4), "████")
        XCTAssertEqual(ProgressLine.bar(0, of: 0, width: 4), "████")
    }

    /// A redrawn line fits on one row of the terminal (a wrapped line cannot be redrawn in place): the bar goes first,
    /// then the text is cut.
    func testARedrawnLineFitsTheTerminalWidth() {
        XCTAssertEqual(ProgressLine.fit(bar: "██··", text: "step 1/2 · ETA 1s", columns: nil), "██·· step 1/2 · ETA 1s")
        XCTAssertEqual(ProgressLine.fit(bar: "██··", text: "step 1/2 · ETA 1s", columns: 23), "██·· step 1/2 · ETA 1s")
        XCTAssertEqual(ProgressLine.fit(bar: "██··", text: "step 1/2 · ETA 1s", columns: 22), "step 1/2 · ETA 1s")
        XCTAssertEqual(ProgressLine.fit(bar: "██··", text: "step 1/2 · ETA 1s", columns: 18), "step 1/2 · ETA 1s")
        XCTAssertEqual(ProgressLine.fit(bar: "██··", text: "step 1/2 · ETA 1s", columns: 17), "step 1/2 · ETA …")
        let screen = Screen()
        let progress = ProgressLine(label: "critique", total: 4, startingAt: 0, unit: "items", enabled: true, interval: 0, interactive: true,
                                    clock: { 0 }, columns: { 12 }) { screen.write($0) }
        progress.update(1)
        XCTAssertEqual(screen.text, "\rcritique 1…\u{1B}[K")
    }

    func testLogIntervalComesFromTheEnvironmentSetting() {
        XCTAssertEqual(ProgressLine.logInterval(nil), 30)
        XCTAssertEqual(ProgressLine.logInterval("5"), 5)
        XCTAssertEqual(ProgressLine.logInterval("0"), 0)
        XCTAssertEqual(ProgressLine.logInterval("-1"), 30)
        XCTAssertEqual(ProgressLine.logInterval("often"), 30)
    }

    /// In a log: a plain line at the first update, then one per interval (updates in between only recorded, a refresh
    /// draws without an update), the final state at once, and nothing after it.
    func testALogGetsALineEveryIntervalAndTheFinalState() {
        let screen = Screen(), clock = Clock()
        let progress = line(total: 100, interactive: false, interval: 30, clock: clock, screen: screen)
        progress.update(1, details: ["loss 0.5000"])
        XCTAssertEqual(screen.lines, ["step 1/100 · loss 0.5000"], "no rate or ETA at no time elapsed")
        for step in 2...10 {
            clock.advance(2.5)
            progress.update(step, details: ["loss 0.5000"])
        }
        XCTAssertEqual(screen.lines.count, 1, "updates within 30 s are not drawn: \(screen.text)")
        clock.advance(10)  // 32.5 s after the first line
        progress.update(11, details: ["loss 0.2500"])
        XCTAssertEqual(screen.lines.count, 2, screen.text)
        XCTAssertEqual(screen.lines[1], "step 11/100 · 3.0s/it · ETA 4m23s · loss 0.2500")
        clock.advance(29)
        progress.refresh()
        XCTAssertEqual(screen.lines.count, 2, "a refresh within the interval draws nothing")
        clock.advance(1)
        progress.refresh()
        XCTAssertEqual(screen.lines.count, 3, "a refresh draws once the interval passed, without an update: \(screen.text)")
        XCTAssertEqual(screen.lines[2], "step 11/100 · 5.7s/it · ETA 8m26s · loss 0.2500")
        clock.advance(1.5)
        progress.update(100, details: ["loss 0.1000"])
        XCTAssertEqual(screen.lines.count, 4, "the final state is drawn at once")
        XCTAssertEqual(screen.lines[3], "step 100/100 · 1.56 it/s · done in 1m4s · loss 0.1000")
        progress.finish()
        clock.advance(100)
        progress.refresh()
        XCTAssertEqual(screen.lines.count, 4, screen.text)
        XCTAssertFalse(screen.text.contains("\r") || screen.text.contains("\u{1B}"), screen.text)
    }

    /// On a terminal: one line redrawn in place (carriage return, clear to the end), at most once per interval, ended once.
    func testATerminalGetsOneLineRedrawnAtMostFourTimesASecond() {
        let screen = Screen(), clock = Clock()
        let progress = line(total: 2, interactive: true, interval: ProgressLine.terminalInterval, clock: clock, screen: screen)
        XCTAssertEqual(ProgressLine.terminalInterval, 0.25)
        progress.began("step 1")
        progress.generated(5, by: "step 1")
        clock.advance(0.1)
        progress.generated(5, by: "step 1")
        XCTAssertEqual(screen.text.components(separatedBy: "\r").count - 1, 1, "the second drawing within 0.25 s is skipped: \(screen.text)")
        clock.advance(0.2)
        progress.generated(5, by: "step 1")
        XCTAssertTrue(screen.text.hasSuffix("\r" + String(repeating: "·", count: 24) + " step 0/2 · step 1: 15 tokens, 50.0 tok/s\u{1B}[K"),
                      screen.text)
        progress.ended("step 1")
        clock.advance(0.3)
        progress.update(1)
        progress.note("saved checkpoint-1")
        clock.advance(1)
        progress.update(2)
        progress.finish()
        let text = screen.text
        XCTAssertTrue(text.contains("\r████████████············ step 1/2 · "), text)
        XCTAssertTrue(text.contains("\r\u{1B}[Ksaved checkpoint-1\n"), text)
        XCTAssertTrue(text.contains("\r████████████████████████ step 2/2 · "), text)
        XCTAssertTrue(text.hasSuffix("\u{1B}[K\n"), text)
        XCTAssertEqual(text.filter { $0 == "\n" }.count, 2, text)
    }

    /// The same updates give the same text on a terminal and in a log.
    func testBothRenderingsShowTheSameText() {
        let terminal = Screen(), log = Screen()
        let clocks = (Clock(), Clock())
        let lines = [line(label: "critique", total: 3, unit: "items", interactive: true, clock: clocks.0, screen: terminal),
                     line(label: "critique", total: 3, unit: "items", interactive: false, clock: clocks.1, screen: log)]
        for (progress, clock) in zip(lines, [clocks.0, clocks.1]) {
            progress.began("item 1")
            clock.advance(2)
            progress.generated(20, by: "item 1")
            clock.advance(2)
            progress.ended("item 1")
            progress.update(1, details: ["0 failed"])
            progress.finish()
        }
        let drawn = terminal.text.components(separatedBy: "\r").dropFirst().map {
            String($0.dropFirst(25).prefix { $0 != "\u{1B}" })
        }
        XCTAssertEqual(drawn, log.lines)
        XCTAssertEqual(log.lines, ["critique 0/3 · item 1: 20 tokens, 10.0 tok/s", "critique 1/3 · 4.0s/item · ETA 8s · 0 failed"])
    }

    /// Tokens/s over the last 10 s, measured from when a part began after a pause (not across it); the part's tokens
    /// count from its beginning, and a part that ended is no longer shown.
    func testTokenRateSlidesAndRestartsAfterAPause() {
        let screen = Screen(), clock = Clock()
        let progress = line(label: "critique", total: 5, unit: "items", interactive: false, clock: clock, screen: screen)
        progress.began("item 1")
        clock.advance(5)  // reading the prompt: part of the first rate
        progress.generated(1, by: "item 1")
        XCTAssertEqual(screen.lines.last, "critique 0/5 · item 1: 1 token, 0.2 tok/s")
        for _ in 0..<20 {
            clock.advance(1)
            progress.generated(10, by: "item 1")
        }
        XCTAssertEqual(screen.lines.last, "critique 0/5 · item 1: 201 tokens, 10.0 tok/s", "the window covers the last 10 s only")
        progress.ended("item 1")
        progress.update(1)
        XCTAssertEqual(screen.lines.last, "critique 1/5 · 25s/item · ETA 1m40s")
        clock.advance(60)  // nothing generating
        progress.began("item 2")
        clock.advance(1)
        progress.generated(30, by: "item 2")
        XCTAssertEqual(screen.lines.last, "critique 1/5 · 1m26s/item · item 2: 30 tokens, 30.0 tok/s · ETA 5m44s")
    }

    func testRateWindowKeepsTheLastSpan() {
        var window = RateWindow(span: 10)
        XCTAssertNil(window.rate(at: 0))
        window.restart(at: 0)
        XCTAssertNil(window.rate(at: 0.05), "no rate over less than a tenth of a second")
        for second in 1...30 { window.add(second <= 20 ? 5 : 1, at: Double(second)) }
        XCTAssertEqual(window.count, 110)
        XCTAssertEqual(window.rate(at: 30) ?? -1, 1, accuracy: 1e-9)
        XCTAssertEqual(window.rate(at: 40) ?? -1, 0, accuracy: 1e-9, "a count that stopped moving falls to 0")
    }

    /// The listener bound around `work` follows it across an actor and receives what generation reports there.
    func testGeneratingShowsTokensReportedInsideTheWork() async {
        actor Model {
            func generate(_ count: Int, clock: Clock) -> Int {
                for _ in 0..<count {
                    clock.advance(0.5)
                    TokenProgress.generated(1)
                }
                return count
            }
        }
        let screen = Screen(), clock = Clock(), model = Model()
        let progress = line(label: "critique", total: 2, unit: "items", interactive: false, clock: clock, screen: screen)
        clock.advance(2)
        let count = await progress.generating("item 2") { await model.generate(7, clock: clock) }
        XCTAssertEqual(count, 7)
        XCTAssertEqual(screen.lines.last, "critique 0/2 · item 2: 7 tokens, 2.0 tok/s")
        XCTAssertEqual(screen.lines.count, 7, "a line per token at interval 0: \(screen.text)")
        TokenProgress.generated(5)  // outside any part: nobody listens
        XCTAssertEqual(screen.lines.count, 7)
        clock.advance(0.5)
        progress.update(1)
        XCTAssertEqual(screen.lines.last, "critique 1/2 · 6.0s/item · ETA 6s")
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

        let disabled = ProgressLine(label: "x", total: 1, startingAt: 0, unit: "items", enabled: false, interval: 0,
                                    interactive: false, clock: { 0 }) { screen.write($0) }
        ProgressDisplay.isEnabled = true
        disabled.update(1)
        disabled.finish()
        XCTAssertEqual(screen.text, "done\n")
    }
}
