import PteInspectKit
import TestResults
import XCTest

final class TerminalStyleTests: ObservedTestCase {
    func testAutoFollowsTheTerminalAndNoColor() {
        XCTAssertTrue(TerminalStyle(.auto, isTerminal: true, environment: [:]).enabled)
        XCTAssertFalse(TerminalStyle(.auto, isTerminal: false, environment: [:]).enabled, "a pipe or a file gets no escapes")
        XCTAssertFalse(TerminalStyle(.auto, isTerminal: true, environment: ["NO_COLOR": "1"]).enabled)
        XCTAssertTrue(TerminalStyle(.auto, isTerminal: true, environment: ["NO_COLOR": ""]).enabled, "an empty NO_COLOR is unset (no-color.org)")
        XCTAssertTrue(TerminalStyle(.always, isTerminal: false, environment: ["NO_COLOR": "1"]).enabled, "the flag wins")
        XCTAssertFalse(TerminalStyle(.never, isTerminal: true, environment: [:]).enabled)
    }

    func testVerdictsAndChangeMarksAreColouredAndNothingElseMoves() {
        let style = TerminalStyle(enabled: true)
        let text = """
            -- step 2  parent: write P  => ok
               PAGE     ADDR           STATE    PFN
               parent:P 0x7f0000000000 present* 0x1234*
               PASS  the write maps a new page
               FAIL  the PTE is writable
            => fork-cow: SKIPPED is not a verdict, SKIP is
            """
        let coloured = style.apply(text)
        let plain = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        XCTAssertEqual(plain, text, "only escape sequences were added")
        XCTAssertTrue(coloured.contains("present\u{1B}[1;36m*\u{1B}[0m 0x1234\u{1B}[1;36m*\u{1B}[0m"), coloured)
        XCTAssertTrue(coloured.contains("   \u{1B}[32mPASS\u{1B}[0m  the write"), coloured)
        XCTAssertTrue(coloured.contains("   \u{1B}[31mFAIL\u{1B}[0m  the PTE"), coloured)
        XCTAssertTrue(coloured.contains("SKIPPED is not a verdict, \u{1B}[33mSKIP\u{1B}[0m is"), coloured)
        XCTAssertEqual(TerminalStyle(enabled: false).apply(text), text)
    }

    func testTheMachineFormatsAreNeverColoured() {
        var output = ""
        let reporter = RunReporter(format: .ktap, style: TerminalStyle(enabled: true)) { output += $0 }
        reporter.begin(planned: 1, kernel: "k", backend: "fake", notes: [])
        let scenario = Scenario(name: "only", title: "t", summary: "", watch: [], steps: [])
        reporter.started(scenario)
        reporter.ended(ScenarioResult(scenario: scenario, backend: .pagemap, steps: []))
        XCTAssertFalse(output.contains("\u{1B}"), output)
    }

    func testAScenarioHeaderSaysWhereALongRunIs() {
        XCTAssertEqual(TimelineReport.progress(number: 3, of: 21, elapsed: 65.4), "3/21, 1:05")
        let scenario = Scenario(name: "fork-cow", title: "COW after fork", summary: "", watch: [], steps: [])
        XCTAssertEqual(TimelineReport.scenarioHeader(scenario, progress: "3/21, 1:05"), "\n== fork-cow: COW after fork   [3/21, 1:05]\n")
        var output = ""
        let reporter = RunReporter(format: .human) { output += $0 }
        reporter.begin(planned: 2, kernel: "k", backend: "fake", notes: [])
        reporter.started(scenario)
        reporter.ended(ScenarioResult(scenario: scenario, backend: .pagemap, steps: []))
        XCTAssertTrue(output.contains("== fork-cow: COW after fork   [1/2, 0:00]\n"), output)
    }
}
