import Foundation
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// An observer that returns what the test scripted, and sees only the fields it is told to.
final class FakeObserver: PageObserver {
    let backend = Backend.pagemap
    var visible: Set<PageField>
    /// Observation for every page, as a function of how many observations were made so far.
    var script: (Int) -> PageObservation
    private(set) var calls = 0

    init(visible: Set<PageField>, script: @escaping (Int) -> PageObservation) {
        self.visible = visible
        self.script = script
    }

    func canSee(_ field: PageField) -> Bool { visible.contains(field) }

    func observe(pid: Int32, address: UInt64, name: (Int32?, UInt64) -> String) throws -> PageObservation {
        defer { calls += 1 }
        return script(calls)
    }
}

final class ScenarioEngineTests: ObservedTestCase {
    let p = PageRef("parent", "P"), c = PageRef("child", "P")
    let cite = Citation("mm/memory.c", "do_wp_page", "test")
    let always = KernelRange(basis: "test")

    func context(_ current: [PageRef: PageObservation], history: [String: [PageRef: PageObservation]] = [:],
                 visible: Set<PageField>? = nil, outcome: StepOutcome = .succeeded(""), kernel: KernelVersion? = KernelVersion(6, 1)) -> EvaluationContext {
        EvaluationContext(current: current, history: history, locations: [p: "parent@0x1000", c: "child@0x1000"], outcome: outcome,
                          canSee: { visible?.contains($0) ?? true }, backend: .pagemap, kernel: kernel)
    }

    func testAnExpectationThatShouldFailFails() {
        let result = context([p: PageObservation([.write: .bool(false), .pfn: .hex(0x10)])])
            .evaluate(Expectation("writable", kernels: always, cite: cite, [p.has(.write, true), p.has(.pfn, 0x10)]))
        XCTAssertEqual(result.verdict, .fail)
        XCTAssertEqual(result.mismatches, [Mismatch(assertion: "parent:P.pte.write == 1", expected: "1", observed: "0")])
    }

    /// every-page: each page of the mapping in turn, compared with the same page of the other
    /// mapping; the first failing page is named, with how many fail (issue 29: a property of a
    /// whole large folio, seen on all of its pages).
    func testAnEveryPageExpectationNamesTheFirstPageThatFails() {
        func pages(_ exclusive: [Bool], pfn: UInt64) -> [PageObservation] {
            exclusive.enumerated().map { PageObservation([.anonExclusive: .bool($1), .pfn: .hex(pfn + UInt64($0))]) }
        }
        let expectation = Expectation("every page exclusive, the same page as the child's", kernels: always, cite: cite,
                                      [p.has(.anonExclusive, true), p.same(.pfn, as: c)], everyPage: 4)
        var passing = context([p: PageObservation([.anonExclusive: .bool(true)])])
        passing.ranges = [p: pages([true, true, true, true], pfn: 0x100), c: pages([true, true, true, true], pfn: 0x100)]
        XCTAssertEqual(passing.evaluate(expectation).verdict, .pass)

        var failing = passing
        failing.ranges = [p: pages([true, false, true, false], pfn: 0x100), c: pages([true, true, true, true], pfn: 0x100)]
        let result = failing.evaluate(expectation)
        XCTAssertEqual(result.verdict, .fail, "the watched page alone passes: the others are what fails")
        XCTAssertEqual(result.mismatches, [Mismatch(assertion: "child:P+1, parent:P+1 (page 2 of 4): parent:P.PageAnonExclusive == 1",
                                                    expected: "1", observed: "0 (2 of 4 pages fail)")])

        var moved = passing
        moved.ranges = [p: pages([true, true, true, true], pfn: 0x100), c: pages([true, true, true, true], pfn: 0x200)]
        XCTAssertEqual(moved.evaluate(expectation).mismatches.first?.expected, "0x200", "page +0 compared with the child's +0")

        var short = passing
        short.ranges = [p: pages([true, true], pfn: 0x100), c: pages([true, true, true, true], pfn: 0x100)]
        XCTAssertEqual(short.evaluate(expectation).mismatches.first?.observed, "parent:P was not observed at this step",
                       "a page the range did not cover is not a pass")
    }

    func testAMatchingExpectationPasses() {
        let result = context([p: PageObservation([.write: .bool(true), .pfn: .hex(0x10)])])
            .evaluate(Expectation("writable", kernels: always, cite: cite, [p.has(.write, true), p.has(.pfn, 16)]))
        XCTAssertEqual(result.verdict, .pass)
    }

    func testAFieldTheBackendCannotSeeIsASkipWithTheReason() {
        let result = context([p: PageObservation([.pfn: .hex(1)])], visible: [.pfn])
            .evaluate(Expectation("refcount", kernels: always, cite: cite, [p.has(.refcount, 1), p.has(.pfn, 1)]))
        XCTAssertEqual(result.verdict, .skip)
        XCTAssertTrue(result.reason?.contains("refcount") ?? false, result.reason ?? "")
        XCTAssertTrue(result.reason?.contains("pagemap backend") ?? false, result.reason ?? "")
    }

    func testAFieldReadThroughAComparisonCountsAsNeeded() {
        let expectation = Expectation("same anon_vma", kernels: always, cite: cite, [p.same(.pageAnonVma, as: p, .vmaAnonVma)])
        XCTAssertEqual(expectation.fields, [.pageAnonVma, .vmaAnonVma])
        XCTAssertEqual(context([p: PageObservation([.pageAnonVma: .hex(5)])], visible: [.pageAnonVma]).evaluate(expectation).verdict, .skip)
    }

    func testKernelOutsideTheRangeIsASkip() {
        let move = KernelRange(from: KernelVersion(6, 8), basis: "UFFDIO_MOVE")
        let result = context([p: PageObservation([.pfn: .hex(1)])])
            .evaluate(Expectation("moved", kernels: move, cite: cite, [p.has(.pfn, 1)]))
        XCTAssertEqual(result.verdict, .skip)
        XCTAssertTrue(result.reason?.contains(">= 6.8") ?? false, result.reason ?? "")
        XCTAssertTrue(KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 11), basis: "").contains(KernelVersion(release: "6.1.0-56-amd64")!))
        XCTAssertFalse(KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 11), basis: "").contains(KernelVersion(release: "6.18.44-fc")!))
        XCTAssertNil(KernelVersion(release: "garbage"))
        // a fix in a mainline release, backported to an older stable line: two intervals
        let backported = KernelRange(from: KernelVersion(6, 12, 117), below: KernelVersion(6, 13),
                                     also: [KernelRange(from: KernelVersion(6, 14), basis: "")], basis: "fix")
        XCTAssertEqual(backported.description, ">= 6.12.117, < 6.13 or >= 6.14")
        XCTAssertEqual([KernelVersion(6, 12, 116), KernelVersion(6, 12, 118), KernelVersion(6, 13, 5), KernelVersion(6, 14), KernelVersion(7, 3, 4)]
            .map(backported.contains), [false, true, false, true, true])
    }

    /// known-bug: on a kernel the bug is known on, the expectation is evaluated; its failure is an
    /// XFAIL that names the bug and keeps what was observed, its pass a PASS that still names the
    /// bug (KCIDB's absent incident); outside both ranges a SKIP.
    func testAKnownBugIsEvaluatedAndReportedAsTheKernelsBug() {
        let fixed = KernelRange(from: KernelVersion(6, 12, 118), below: KernelVersion(6, 13), basis: "the stable fix")
        let bug = KnownBug(kernels: [KernelRange(below: KernelVersion(6, 12, 118), basis: "before"),
                                     KernelRange(from: KernelVersion(6, 13), basis: "newer, without it")],
                           bug: "replace_page() drops soft-dirty")
        let expectation = Expectation("keeps soft-dirty", kernels: fixed, cite: cite, [p.has(.softDirty, true)], knownBug: bug)
        let lost = [p: PageObservation([.softDirty: .bool(false)])], kept = [p: PageObservation([.softDirty: .bool(true)])]
        let onFixed = context(lost, kernel: KernelVersion(6, 12, 118)).evaluate(expectation)
        XCTAssertEqual(onFixed.verdict, .fail, "in its own range a failure is a FAIL")
        let onBuggy = context(lost, kernel: KernelVersion(7, 3, 4)).evaluate(expectation)
        XCTAssertEqual(onBuggy.verdict, .xfail)
        XCTAssertFalse(onBuggy.verdict.isFailure, "an XFAIL counts as passed, as kselftest counts it")
        XCTAssertEqual(onBuggy.reason, "the known kernel bug of 7.3.4 shows: replace_page() drops soft-dirty")
        XCTAssertEqual(onBuggy.mismatches.map(\.observed), ["0"])
        XCTAssertEqual(onBuggy.knownBug, bug)
        let held = context(kept, kernel: KernelVersion(6, 1, 192)).evaluate(expectation)
        XCTAssertEqual(held.verdict, .pass, "the bug did not show: a PASS")
        XCTAssertEqual(held.knownBug, bug, "a PASS in the bug's range still names it")
        XCTAssertNil(onFixed.knownBug)
        let narrow = Expectation("keeps soft-dirty", kernels: fixed, cite: cite, [p.has(.softDirty, true)],
                                 knownBug: KnownBug(kernels: [KernelRange(from: KernelVersion(6, 13), basis: "")], bug: "b"))
        XCTAssertEqual(context(lost, kernel: KernelVersion(6, 12, 117)).evaluate(narrow).verdict, .skip, "outside both ranges")
        XCTAssertNil(context(lost, kernel: KernelVersion(6, 12, 117)).evaluate(narrow).knownBug)

        // A scenario whose only non-pass is an XFAIL: its verdict is XFAIL, its reason the step and bug,
        // in KTAP an `ok ... # XFAIL` at both levels (kselftest's convention), in JSON counted apart.
        let scenario = Scenario(name: "ksm", title: "t", summary: "", watch: [p], steps: [])
        let step = StepResult(number: 2, step: Step("parent", .write(Loc("P"))), outcome: .succeeded(""),
                              pages: [], changed: [:], expectations: [onBuggy, held], error: nil)
        let run = ScenarioResult(scenario: scenario, backend: .module, steps: [step])
        XCTAssertEqual(run.verdict, .xfail)
        XCTAssertTrue(run.reason?.hasPrefix("step 2 (") ?? false, run.reason ?? "")
        XCTAssertTrue(run.reason?.hasSuffix("keeps soft-dirty: the known kernel bug of 7.3.4 shows: replace_page() drops soft-dirty") ?? false, run.reason ?? "")
        let ktap = KTAPReport.render([run])
        XCTAssertTrue(ktap.contains("    ok 1 step 2: keeps soft-dirty # XFAIL the known kernel bug of 7.3.4 shows: replace_page() drops soft-dirty\n"), ktap)
        XCTAssertTrue(ktap.contains("    # parent:P.soft_dirty == 1: expected 1, observed 0\n"), ktap)
        XCTAssertTrue(ktap.contains("\nok 1 ksm # XFAIL step 2"), ktap)
        guard case let .object(members) = ScenarioJSONReport.render([run], kernel: "7.3.4", backend: "module"),
              case let .object(summary)? = members.first(where: { $0.0 == "summary" })?.1 else { return XCTFail("no summary") }
        XCTAssertEqual(summary.first { $0.0 == "xfail" }?.1.rendered(), "1")
        XCTAssertEqual(summary.first { $0.0 == "pass" }?.1.rendered(), "0")
    }

    func testComparisonsWithOtherPagesAndEarlierSteps() {
        let now: [PageRef: PageObservation] = [p: PageObservation([.pfn: .hex(7), .vmaChain: .set(["0xa", "0xb"])]),
                                               c: PageObservation([.pfn: .hex(9), .vmaAnonVma: .hex(0xb), .rmap: .set(["child@0x1000", "parent@0x1000"])])]
        let before: [PageRef: PageObservation] = [p: PageObservation([.pfn: .hex(7)])]
        let ctx = context(now, history: ["written": before])
        func verdict(_ assertion: Assertion) -> Verdict {
            ctx.evaluate(Expectation("x", kernels: always, cite: cite, [assertion])).verdict
        }
        XCTAssertEqual(verdict(p.same(.pfn, at: "written")), .pass)
        XCTAssertEqual(verdict(c.same(.pfn, as: p)), .fail)
        XCTAssertEqual(verdict(c.differs(.pfn, from: p)), .pass)
        XCTAssertEqual(verdict(p.differs(.pfn, at: "written")), .fail)
        XCTAssertEqual(verdict(p.chainContains(c)), .pass)
        XCTAssertEqual(verdict(c.rmapFinds([p, c])), .pass)
        XCTAssertEqual(verdict(c.rmapFinds([c])), .fail)
        XCTAssertEqual(verdict(p.same(.pfn, at: "no-such-step")), .fail)
        XCTAssertEqual(verdict(.field(p, .pfn, .oneOf([p, c], at: nil))), .pass)
    }

    func testOutcomes() {
        let eexist = Expectation("EEXIST", kernels: always, cite: cite, [.outcome(.fails(.EEXIST))])
        XCTAssertEqual(context([:], outcome: .failed(errno: EEXIST, message: "File exists")).evaluate(eexist).verdict, .pass)
        XCTAssertEqual(context([:], outcome: .failed(errno: EINVAL, message: "Invalid argument")).evaluate(eexist).verdict, .fail)
        XCTAssertEqual(context([:], outcome: .succeeded("")).evaluate(eexist).verdict, .fail)
    }

    // MARK: - The runner, with real workers and a scripted observer

    static var pteinspectBinary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("pteinspect").path
    }

    func environment() -> ScenarioEnvironment {
        ScenarioEnvironment(kernelRelease: "6.1.0-56-amd64", isRoot: true, module: nil, fixtureDevice: false, swapDevices: [],
                            thpMode: "always", ksm: false, userfaultfdProblem: nil, uffdioMove: false)
    }

    func scenario(_ expectations: [Expectation], extraStep: Step? = nil) -> Scenario {
        Scenario(name: "t", title: "test", summary: "", watch: [p, c],
                 steps: [Step("parent", .map("P", pages: 1)), Step("parent", .write(Loc("P")), label: "written", expect: expectations),
                         Step("parent", .fork(child: "child"), expect: [
                            Expectation("child sees the page", kernels: always, cite: cite, [c.has(.present, true)]),
                         ])] + (extraStep.map { [$0] } ?? []))
    }

    func testRunnerReportsFailPassAndSkip() throws {
        let observer = FakeObserver(visible: [.present, .write]) { _ in PageObservation([.present: .bool(true), .write: .bool(false)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: Self.pteinspectBinary)
        let result = runner.run(scenario([
            Expectation("writable", kernels: always, cite: cite, [p.has(.write, true)]),
            Expectation("present", kernels: always, cite: cite, [p.has(.present, true)]),
            Expectation("refcount", kernels: always, cite: cite, [p.has(.refcount, 1)]),
        ]))
        XCTAssertEqual(result.verdict, .fail)
        XCTAssertEqual(result.steps.count, 3)
        XCTAssertEqual(result.steps[1].expectations.map(\.verdict), [.fail, .pass, .skip])
        XCTAssertEqual(result.steps[2].pages.map(\.ref), [p, c], "the forked child became an actor and was observed")
        XCTAssertNotEqual(result.steps[2].outcome, .failed(errno: nil, message: ""))
    }

    func testAStepThatFailsUnexpectedlyStopsTheScenario() throws {
        let observer = FakeObserver(visible: [.present]) { _ in PageObservation([.present: .bool(true)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: Self.pteinspectBinary)
        let result = runner.run(Scenario(name: "t", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .write(Loc("P"))),   // P was never mapped
            Step("parent", .map("P", pages: 1)),
        ]))
        XCTAssertEqual(result.verdict, .fail)
        XCTAssertEqual(result.steps.count, 1)
        XCTAssertTrue(result.reason?.contains("no mapping 'P'") ?? false, result.reason ?? "")
    }

    func testAnExpectedErrnoIsNotAStepError() throws {
        let observer = FakeObserver(visible: [.present]) { _ in PageObservation([.present: .bool(true)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: Self.pteinspectBinary)
        let result = runner.run(Scenario(name: "t", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .madvise(Loc("P"), pages: 1, .mergeable)),
            // A private anonymous mapping cannot be registered for MINOR faults: EINVAL.
            Step("parent", .uffdOpen(move: false)),
            Step("parent", .uffdRegister(Loc("P"), pages: 1, modes: [.minor]), expect: [
                Expectation("EINVAL", kernels: always, cite: cite, [.outcome(.fails(.EINVAL))]),
            ]),
        ]))
        XCTAssertEqual(result.verdict, .pass, result.reason ?? "")
        XCTAssertEqual(result.steps.count, 4)
    }

    func testUnmetRequirementIsASkipWithTheReason() throws {
        let runner = ScenarioRunner(observer: FakeObserver(visible: []) { _ in PageObservation() }, environment: environment(),
                                    executable: Self.pteinspectBinary)
        let result = runner.run(try Self.builtIn("pageout-exclusive"))
        XCTAssertEqual(result.verdict, .skip)
        XCTAssertTrue(result.reason?.contains("swap") ?? false)
        XCTAssertEqual(runner.run(try Self.builtIn("pfnmap")).reason, "needs the module backend (this run uses pagemap)")
    }

    // MARK: - Reports

    func sampleResults() throws -> [ScenarioResult] {
        let observer = FakeObserver(visible: [.present, .write]) { _ in PageObservation([.present: .bool(true), .write: .bool(false)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: Self.pteinspectBinary)
        return [
            runner.run(scenario([Expectation("writable # really", kernels: always, cite: cite, [p.has(.write, true)])])),
            runner.run(scenario([Expectation("present", kernels: always, cite: cite, [p.has(.present, true)]),
                                 Expectation("ref", kernels: always, cite: cite, [p.has(.refcount, 1)])])),
            runner.run(try Self.builtIn("pageout-exclusive")),
        ]
    }

    func testKTAPIsWellFormed() throws {
        let text = KTAPReport.render(try sampleResults())
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.removeLast(), "")
        XCTAssertEqual(lines.first, "KTAP version 1")
        XCTAssertEqual(lines[1], "1..3")
        let top = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
        XCTAssertEqual(top.count, 3)
        XCTAssertTrue(top[0].hasPrefix("not ok 1 t"))
        XCTAssertEqual(top[1], "ok 2 t")
        XCTAssertTrue(top[2].hasPrefix("ok 3 pageout-exclusive # SKIP "))
        // Each subtest: version, name, plan, then exactly `plan` numbered results in order.
        var i = 2
        while i < lines.count {
            if lines[i].hasPrefix("    KTAP version 1") {
                XCTAssertTrue(lines[i + 1].hasPrefix("    # Subtest: "))
                let plan = try XCTUnwrap(Int(lines[i + 2].dropFirst("    1..".count)))
                var number = 0
                i += 3
                while lines[i].hasPrefix("    ") {
                    let line = lines[i].dropFirst(4)
                    if line.hasPrefix("ok ") || line.hasPrefix("not ok ") {
                        number += 1
                        XCTAssertTrue(line.hasPrefix("ok \(number) ") || line.hasPrefix("not ok \(number) "), String(line))
                        let description = line.split(separator: "#", maxSplits: 1).first ?? ""
                        XCTAssertFalse(description.contains("#"))
                    } else {
                        XCTAssertTrue(line.hasPrefix("# "), "a subtest line that is neither a result nor a diagnostic: \(line)")
                    }
                    i += 1
                }
                XCTAssertEqual(number, plan)
            } else {
                i += 1
            }
        }
        XCTAssertTrue(text.contains("    # parent:P.pte.write == 1: expected 1, observed 0"))
        XCTAssertTrue(text.contains("# SKIP needs refcount"))
    }

    func testJSONReportFollowsTheSchema() throws {
        let text = ScenarioJSONReport.render(try sampleResults(), kernel: "6.1.0-56-amd64", backend: "fake").rendered()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["schema"] as? String, "pteinspect.scenario-report")
        XCTAssertEqual(object["version"] as? Int, 1)
        XCTAssertEqual(object["summary"] as? [String: Int], ["pass": 1, "fail": 1, "skip": 1, "xfail": 0, "hang": 0, "crash": 0])
        XCTAssertEqual(object["complete"] as? Bool, true)
        XCTAssertEqual(object["planned"] as? Int, 3)
        let scenarios = try XCTUnwrap(object["scenarios"] as? [[String: Any]])
        XCTAssertEqual(scenarios.map { $0["verdict"] as? String }, ["FAIL", "PASS", "SKIP"])
        let steps = try XCTUnwrap(scenarios[0]["steps"] as? [[String: Any]])
        let expectation = try XCTUnwrap((steps[1]["expectations"] as? [[String: Any]])?.first)
        XCTAssertEqual((expectation["citation"] as? [String: Any])?["file"] as? String, "mm/memory.c")
        XCTAssertEqual((expectation["mismatches"] as? [[String: String]])?.first?["observed"], "0")
        let page = try XCTUnwrap((steps[1]["pages"] as? [[String: Any]])?.first)
        XCTAssertEqual((page["fields"] as? [String: Any])?["pte.write"] as? Bool, false)
    }

    func testTimelineMarksChangesAndShowsTheFailureInContext() throws {
        let results = try sampleResults()
        let text = TimelineReport.render(step: results[0].steps[1])
        XCTAssertTrue(text.contains("FAIL  writable # really"))
        XCTAssertTrue(text.contains("expected 1, observed 0"))
        XCTAssertTrue(text.contains("per mm/memory.c do_wp_page()"))
        XCTAssertTrue(TimelineReport.summary(results).contains("scenarios: 1 passed, 1 failed, 1 skipped"))
    }

    /// A failed scenario says which expectation failed, where, and why, in every summary: the
    /// result's reason and detail, the summary table's notes, KTAP's top level, the JSON report.
    func testASummaryNamesTheFailedExpectation() throws {
        let results = try sampleResults()
        XCTAssertEqual(results[0].reason, "step 2 (parent: write P): writable # really")
        let detail = try XCTUnwrap(results[0].detail)
        XCTAssertTrue(detail.hasPrefix("parent:P.pte.write == 1: expected 1, observed 0; per mm/memory.c do_wp_page()"), detail)
        XCTAssertNil(results[1].detail)
        let summary = TimelineReport.summary(results)
        XCTAssertTrue(summary.contains("[1] t: step 2 (parent: write P): writable # really\n    parent:P.pte.write == 1: expected 1, observed 0; per "), summary)
        XCTAssertFalse(summary.contains("no reason"))
        let ktap = KTAPReport.render(results).split(separator: "\n").map(String.init)
        let result = try XCTUnwrap(ktap.firstIndex { $0.hasPrefix("not ok 1 t") })
        XCTAssertEqual(ktap[result - 2], "# step 2 (parent: write P): writable no. really")
        XCTAssertTrue(ktap[result - 1].hasPrefix("# parent:P.pte.write == 1: expected 1, observed 0; per mm/memory.c"), ktap[result - 1])
        let json = ScenarioJSONReport.render(results, kernel: "k", backend: "fake").rendered()
        let saved = try JSONDecoder().decode(SavedReport.self, from: Data(json.utf8))
        XCTAssertEqual(saved.scenarios[0].detail, detail)
        let table = KernelTable.render([saved])
        XCTAssertTrue(table.contains("FAIL [1]"), table)
        XCTAssertTrue(table.contains("[1] step 2 (parent: write P): writable # really\n    parent:P.pte.write == 1: expected 1, observed 0"), table)
        let html = HTMLReport.render([saved])
        XCTAssertTrue(html.contains("<div class=\"why\">step 2 (parent: write P): writable # really<br/>parent:P.pte.write == 1"), html)
    }

    // MARK: - The catalog

    /// A built-in scenario by name (the scenarios/ files).
    static func builtIn(_ name: String) throws -> Scenario { try XCTUnwrap(try ScenarioCatalog.named(name), "no built-in scenario \(name)") }

    func testCatalogIsConsistent() throws {
        let catalog = try ScenarioCatalog.load()
        XCTAssertEqual(Set(catalog.map(\.baseName)).count, 35, "35 files")
        XCTAssertEqual(catalog.count, 27 + 14 + 5 + 7 + 12 + 4 + 4 + 7 + 2, "27 scenarios and eight over kinds: 14, 5, 7, 12, 4, 4, 7 and 2 kinds")
        XCTAssertEqual(Set(catalog.map(\.name)).count, catalog.count, "names are unique")
        for scenario in catalog {
            // The loader's own check of each action (each verb's `check`), on the loaded steps.
            var state = ScenarioFileReader.Validation(actors: Set(scenario.actors), watch: Set(scenario.watch))
            var labels = Set<String>()
            for (i, step) in scenario.steps.enumerated() {
                let at = "\(scenario.name) step \(i + 1)"
                if !step.action.isSystem { XCTAssertTrue(state.actors.contains(step.actor), "\(at): unknown actor \(step.actor)") }
                XCTAssertNoThrow(try step.action.verb.check(&state, actor: step.actor), at)
                for expectation in step.expectations {
                    XCTAssertFalse(expectation.citation.file.isEmpty || expectation.citation.function.isEmpty, "\(at): citation")
                    XCTAssertFalse(expectation.kernels.basis.isEmpty, "\(at): kernel range basis")
                    XCTAssertFalse(expectation.assertions.isEmpty, "\(at): an expectation that asserts nothing")
                    for assertion in expectation.assertions {
                        guard case let .field(ref, _, expected) = assertion else { continue }
                        XCTAssertTrue(scenario.watch.contains(ref), "\(at): \(ref) is not watched")
                        switch expected {
                        case let .same(other, _, label), let .differs(other, _, label), let .contains(other, _, label):
                            XCTAssertTrue(scenario.watch.contains(other), "\(at): \(other) is not watched")
                            if let label { XCTAssertTrue(labels.contains(label), "\(at): label \(label) is not an earlier step") }
                        case let .oneOf(others, label):
                            XCTAssertTrue(others.allSatisfy(scenario.watch.contains))
                            if let label { XCTAssertTrue(labels.contains(label), "\(at): label \(label) is not an earlier step") }
                        default: break
                        }
                    }
                }
                if let label = step.label { labels.insert(label) }
            }
            let explained = TimelineReport.explain(scenario)
            for step in scenario.steps {
                for expectation in step.expectations { XCTAssertTrue(explained.contains(expectation.citation.description)) }
            }
        }
    }

    // MARK: - A real scenario on this machine's kernel, without the module

    func testUffdioMoveRunsOnThePagemapBackendWhereTheKernelHasIt() throws {
        let environment = ScenarioEnvironment.probe(module: nil)
        guard environment.isRoot else { throw XCTSkip("needs root for PFNs in /proc/PID/pagemap") }
        guard environment.uffdioMove else {
            throw XCTSkip("this kernel (\(environment.kernelRelease)) has no UFFDIO_MOVE; the VM suite runs uffdio-move-absent instead")
        }
        let runner = ScenarioRunner(observer: PagemapObserver(), environment: environment, executable: Self.pteinspectBinary)
        let result = runner.run(try Self.builtIn("uffdio-move"))
        XCTAssertEqual(result.verdict, .pass, result.reason ?? TimelineReport.render(step: result.steps.last!))
        XCTAssertEqual(result.expectationResults.filter { $0.verdict == .pass }.count, 2)
    }
}
