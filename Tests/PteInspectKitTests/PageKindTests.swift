import Foundation
import TestResults
import XCTest
@testable import PteInspectKit

/// Page kinds as a scenario axis (PageKind.swift, `kinds:` in docs/scenario-format.md): a file
/// over kinds is one scenario per kind, read with that kind; its mistakes are errors with a place.
final class PageKindTests: ObservedTestCase {
    func kindsFile(kinds: String = "[small, thp, mthp-64kB-swapped]", steps: String? = nil) -> String {
        """
        name: k
        title: a test over kinds
        summary: what it shows
        kinds: \(kinds)
        watch: [parent:P]
        kernels:
          all: {basis: "always"}
        steps:
        \(steps ?? """
          - parent: map-kind P
            expect:
              - summary: every kind
                kernels: all
                cite: {file: mm/memory.c, function: f}
                check: [parent:P.PageAnon == 1]
              - summary: only the swapped ones
                kinds: [swapped]
                kernels: all
                cite: {file: mm/memory.c, function: f}
                check: [parent:P.swapped == 1]
              - summary: only thp
                kinds: [thp]
                kernels: all
                cite: {file: mm/memory.c, function: f}
                check: [parent:P.level == pmd]
        """)
        """
    }

    func assertError(_ text: String, line: Int, column: Int, _ says: String, file: StaticString = #filePath, at: UInt = #line) {
        XCTAssertThrowsError(try ScenarioFile.parse(text, file: "k.yaml"), file: file, line: at) { error in
            guard let error = error as? ScenarioFileError else { return XCTFail("not a ScenarioFileError: \(error)", file: file, line: at) }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: at)
            XCTAssertEqual(error.column, column, "\(error)", file: file, line: at)
            XCTAssertTrue(error.description.contains(says), "\(error)", file: file, line: at)
            print("message shown: \(error)")
        }
    }

    func testNamesReadBack() {
        for name in PageKind.names { XCTAssertEqual(PageKind(name: name)?.description, name) }
        XCTAssertNil(PageKind(name: "mthp-48kB"), "not a power-of-two size")
        XCTAssertNil(PageKind(name: "mthp-2048kB"), "the PMD size is 'thp'")
        XCTAssertEqual(PageKind(name: "mthp-64kB")?.pages, 16)
        XCTAssertEqual(PageKind(name: "mthp-64kB")?.order, 4)
        // shmem: small and PMD THP; a paged-out shmem page leaves no swap PTE, so no -swapped kind
        XCTAssertEqual(PageKind(name: "shmem-thp")?.pages, 512)
        XCTAssertEqual(PageKind(name: "shmem")?.isShmem, true)
        XCTAssertNil(PageKind(name: "shmem-swapped"))
        XCTAssertNil(PageKind(name: "shmem-thp-swapped"))
        XCTAssertEqual(PageKind.groups["large"]?(PageKind(.shmemTHP)), true)
        XCTAssertEqual(PageKind.groups["large"]?(PageKind(.shmem)), false)
        XCTAssertEqual(PageKind.groups["anonymous"]?(PageKind(.shmem)), false)
        XCTAssertEqual(PageKind.groups["pte-mapped-large"]?(PageKind(.shmemTHP)), false)
        XCTAssertNotNil(PageKind(.shmem).notMade(PageObservation([.present: .bool(true), .anon: .bool(true), .large: .bool(false)])),
                        "an anonymous page is not the shmem kind")
        XCTAssertNil(PageKind(.shmemTHP).notMade(PageObservation([.present: .bool(true), .anon: .bool(false), .level: .text("pmd"), .folioOrder: .number(9)])))
        XCTAssertEqual(PageKind(name: "thp-single-swapped"), PageKind(.thpSingle, swapped: true))
    }

    func testAFileOverKindsIsOneScenarioPerKindWithItsExpectations() throws {
        let runs = try ScenarioFile.parse(kindsFile(), file: "k.yaml")
        XCTAssertEqual(runs.map(\.name), ["k[small]", "k[thp]", "k[mthp-64kB-swapped]"])
        XCTAssertEqual(Set(runs.map(\.baseName)), ["k"])
        XCTAssertEqual(runs.map { $0.steps[0].expectations.map(\.summary) }, [
            ["every kind"], ["every kind", "only thp"], ["every kind", "only the swapped ones"],
        ])
        let mapKind = try XCTUnwrap(runs[2].steps[0].action.verb as? MapKind, "\(runs[2].steps[0].action)")
        XCTAssertEqual(mapKind.symbol, "P")
        XCTAssertEqual(mapKind.kind, PageKind(.mthp(kB: 64), swapped: true))
    }

    /// A page past the end of the smallest kind is an error in that kind's reading: P+1 does not
    /// exist in a small page, so the expectation must be restricted to the large kinds.
    func testAPagePastTheEndOfOneKindIsAnError() throws {
        let steps = """
          - parent: map-kind P
          - parent: write P+1
        """
        assertError(kindsFile(kinds: "[thp, small]", steps: steps), line: 10, column: 13, "P+1 is past the end of 'P' (1 page")
        XCTAssertEqual(try ScenarioFile.parse(kindsFile(kinds: "[thp, mthp-16kB]", steps: steps), file: "k.yaml").count, 2)
    }

    func testKindMistakesAreErrorsWithTheirPlace() {
        assertError(kindsFile(kinds: "[small, thp-ptes]"), line: 4, column: 16, "unknown page kind 'thp-ptes' (did you mean 'thp-pte'?)")
        assertError(kindsFile(kinds: "[]"), line: 4, column: 8, "kinds must name at least one page kind")
        let noMapKind = """
          - parent: map P 1
        """
        assertError(kindsFile(steps: noMapKind), line: 1, column: 1, "makes each kind with a 'map-kind NAME' step")
        let notListed = """
          - parent: map-kind P
            expect:
              - summary: s
                kinds: [thp-pte]
                kernels: all
                cite: {file: f, function: g}
                check: [parent:P.PageAnon == 1]
        """
        assertError(kindsFile(steps: notListed), line: 12, column: 17, "kind 'thp-pte' is not in the scenario's kinds:")
        let unknownGroup = notListed.replacingOccurrences(of: "[thp-pte]", with: "[swaped]")
        assertError(kindsFile(steps: unknownGroup), line: 12, column: 17, "did you mean 'swapped'?")
        // map-kind and an expectation's kinds: need the scenario's list
        let plain = """
        name: p
        title: t
        summary: s
        kernels:
          all: {basis: "always"}
        steps:
          - parent: map-kind P
        """
        assertError(plain, line: 7, column: 13, "the scenario needs a 'kinds:' list")
    }

    /// The settings a kind changes are put back: a THP sysfs file reads "always inherit madvise
    /// [never]" and accepts only the bracketed word.
    /// khugepaged's hold waits for it to sleep between scans: its innermost shown frame is
    /// khugepaged() (the 6.12 debug kernel's stack, as read in the guest) or
    /// khugepaged_wait_work(), never a scan's.
    func testKhugepagedSleepsBetweenScansOnlyInItsOwnWait() {
        let sleeping = "[<0>] khugepaged+0x414/0x11d0\n[<0>] kthread+0x283/0x350\n[<0>] ret_from_fork+0x2f/0x70\n[<0>] ret_from_fork_asm+0x1a/0x30\n"
        XCTAssertEqual(ScenarioRunner.betweenScans(stack: sleeping), true)
        XCTAssertEqual(ScenarioRunner.betweenScans(stack: "[<0>] khugepaged_wait_work+0x9c/0x1a0\n[<0>] khugepaged+0x3e/0x90\n"), true)
        let draining = "[<0>] __flush_work+0x1d5/0x3a0\n[<0>] __lru_add_drain_all+0x1b4/0x2c0\n[<0>] khugepaged+0x6a/0x11d0\n[<0>] kthread+0x283/0x350\n"
        XCTAssertEqual(ScenarioRunner.betweenScans(stack: draining), false, "inside khugepaged_do_scan(): a scan, not the wait")
        XCTAssertEqual(ScenarioRunner.betweenScans(stack: "[<0>] rwsem_down_read_slowpath+0x2b1/0x6f0\n[<0>] khugepaged_scan_mm_slot+0x1c0/0x950\n"), false)
        XCTAssertNil(ScenarioRunner.betweenScans(stack: ""))
    }

    /// A task that runs is never "between scans", whatever its (empty) stack says: the x86
    /// unwinder does not walk a task running on another CPU, and a pass begun before the hold
    /// collapsed a range it then split (kind-ksm[thp-pte] on the 6.12 debug kernel).
    func testARunningTaskIsInsideAPass() throws {
        XCTAssertEqual(ScenarioRunner.taskState(getpid()), "R", "this test runs")
        XCTAssertEqual(ScenarioRunner.sleepsBetweenScans(getpid()), false)
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["5"]
        try sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        var state: Character?
        for _ in 0..<200 where state != "S" {
            state = ScenarioRunner.taskState(sleeper.processIdentifier)
            usleep(10_000)
        }
        XCTAssertEqual(state, "S", "sleep(1) sleeps interruptibly")
        // a sleeping task that is not khugepaged in its wait: its stack says where it sleeps
        if let stack = try? String(contentsOfFile: "/proc/\(sleeper.processIdentifier)/stack", encoding: .utf8), !stack.isEmpty {
            XCTAssertEqual(ScenarioRunner.sleepsBetweenScans(sleeper.processIdentifier), false, stack)
        }
    }

    func testAChoiceFileIsRestoredToItsBracketedValue() {
        XCTAssertEqual(ScenarioRunner.currentChoice("always inherit madvise [never]\n"), "never")
        XCTAssertEqual(ScenarioRunner.currentChoice("[always] madvise never"), "always")
        XCTAssertEqual(ScenarioRunner.currentChoice("1\n"), "1")
    }

    func testTheKindTableHasARowPerKindAndAColumnPerScenario() throws {
        let runs = try ScenarioFile.parse(kindsFile(), file: "k.yaml")
        let results = runs.enumerated().map { i, run in
            ScenarioResult(scenario: run, backend: .module, steps: [], skipReason: i == 2 ? "no mTHP here" : nil)
        }
        let table = TimelineReport.kindTable(results)
        print(table)
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.first, ["Scenarios", "x", "page", "kinds"])
        XCTAssertEqual(lines.dropFirst().map(\.first), ["KIND", "small", "thp", "mthp-64kB-swapped"])
        XCTAssertEqual(lines.last?.last, "SKIP")
        XCTAssertEqual(TimelineReport.kindTable([]), "")
    }

    /// A swapped kind's step says whether its folio went out whole or split first, by the
    /// kernel's own counters (count_swpout_vm_event(), mm/page_io.c).
    func testTheSwapOutSaysWholeOrSplit() throws {
        let thp = try XCTUnwrap(PageKind(name: "thp-pte-swapped"))
        XCTAssertEqual(thp.swapOutCounter?.name, "thp_swpout")
        XCTAssertEqual(thp.swapOutNote(before: 3, after: 4), "swapped out whole (thp_swpout +1)")
        XCTAssertEqual(thp.swapOutNote(before: 3, after: 3), "split before swap-out (thp_swpout +0): its pages went out as small pages")
        let mthp = try XCTUnwrap(PageKind(name: "mthp-64kB-swapped"))
        XCTAssertEqual(mthp.swapOutCounter?.path, "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/swpout")
        XCTAssertEqual(mthp.swapOutNote(before: nil, after: nil),
                       "this kernel has no hugepages-64kB/stats/swpout: whether the folio went out whole is not known")
        XCTAssertNil(PageKind(name: "small-swapped")?.swapOutNote(before: 1, after: 2), "a small page has nothing to split")
    }

    /// khugepaged is held off for every kind made with MADV_HUGEPAGE (it collapsed a pinned THP's
    /// child copies and a thp-single range into new THPs mid-scenario: two flakes on the 6.12
    /// debug kernel), and the runner finds khugepaged to wait for its wake-up scan to end.
    func testKhugepagedIsHeldOffForEveryHugePageKind() throws {
        let holds = Dictionary(uniqueKeysWithValues: PageKind.names.compactMap { PageKind(name: $0) }.map { ($0.description, $0.holdsKhugepaged) })
        XCTAssertEqual(holds["small"], false)
        XCTAssertEqual(holds["shmem"], false)
        for name in ["thp", "thp-pte", "thp-single", "mthp-64kB", "shmem-thp", "thp-swapped", "thp-single-swapped"] where holds[name] != nil {
            XCTAssertEqual(holds[name], true, name)
        }
        XCTAssertEqual(PageKind.khugepagedSleep, "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs")
        XCTAssertGreaterThanOrEqual(Int(PageKind.khugepagedHoldMillis) ?? 0, 3_600_000, "longer than any scenario")
        XCTAssertEqual(ScenarioRunner.kernelThread(named: "kthreadd"), 2)
        XCTAssertNotNil(ScenarioRunner.voluntarySwitches(1))
        XCTAssertNil(ScenarioRunner.kernelThread(named: "no-such-thread-here"))
    }
}
