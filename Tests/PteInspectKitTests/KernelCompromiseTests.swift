import TestResults
import XCTest
@testable import PteInspectKit

/// A compromised kernel ends the run after the scenario that showed it: every scenario left is
/// reported as not run with the reason, in every format (KernelCompromise, ScenarioSuite).
final class KernelCompromiseTests: ObservedTestCase {
    func scenario(_ name: String) -> Scenario {
        Scenario(name: name, title: name, summary: "", actors: ["parent"], watch: [], steps: [Step("parent", .map("P", pages: 1))])
    }

    func faulted(_ name: String, step: Int = 1, fault: StepFault, report: [String], leftBehind: [String] = [], error: String = "the kernel reported a problem during this step") -> ScenarioResult {
        var result = StepResult(number: step, step: Step("parent", .write(Loc("P"))), outcome: .failed(errno: nil, message: "x"),
                                pages: [], changed: [:], expectations: [], error: error)
        result.fault = fault
        result.kernelReport = report + leftBehind
        result.leftBehind = leftBehind
        return ScenarioResult(scenario: scenario(name), backend: .module, steps: [result])
    }

    func testTheKernelsOwnSignals() {
        let stall = faulted("a", step: 2, fault: .crash, report: ["[  99.1] rcu: INFO: rcu_preempt self-detected stall on CPU", "[  99.1] rcu: 1-....: (21 ticks)"])
        XCTAssertEqual(KernelCompromise.detect(in: stall)?.description,
                       "the kernel is compromised since scenario a step 2 (an RCU stall): [  99.1] rcu: INFO: rcu_preempt self-detected stall on CPU")
        XCTAssertEqual(KernelCompromise.detect(in: faulted("b", fault: .crash, report: ["watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [pteinspect:77]"]))?.signal, "a CPU lockup")
        XCTAssertEqual(KernelCompromise.detect(in: faulted("c", fault: .hang, report: ["INFO: task pteinspect:91 blocked for more than 120 seconds."]))?.signal, "a hung task")
        // A BUG whose task died cleanly leaves a kernel that still answers: the run goes on ...
        let bug = ["kernel BUG at mm/memory.c:4261!", "Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN"]
        XCTAssertNil(KernelCompromise.detect(in: faulted("d", fault: .crash, report: bug)))
        // ... one that left a task it cannot kill does not (a lock held by a dead task).
        XCTAssertEqual(KernelCompromise.detect(in: faulted("e", fault: .crash, report: bug, leftBehind: ["parent: pid 80 did not exit"]))?.signal,
                       "a BUG/Oops with a task that cannot be killed")
        XCTAssertNil(KernelCompromise.detect(in: faulted("f", fault: .crash, report: bug, error: "the kernel reported a problem during this step: x (the helper had not answered after 1 s)")),
                     "a BUG in a helper's fault always leaves it unanswered; only one that cannot be killed wedges the kernel")
        XCTAssertEqual(KernelCompromise.detect(in: faulted("g", step: 0, fault: .hang, report: [], error: "could not start the actors: timed out"))?.signal,
                       "a scenario could not start its helpers")
        XCTAssertNil(KernelCompromise.detect(in: faulted("h", fault: .crash, report: ["WARNING: CPU: 0 PID: 1 at mm/rmap.c:100 x"])))
        XCTAssertEqual(KernelCompromise.lockdepWentOff(during: "i", before: true, after: false)?.signal, "lockdep switched itself off after a report")
        XCTAssertNil(KernelCompromise.lockdepWentOff(during: "i", before: nil, after: nil))
        XCTAssertNil(KernelCompromise.lockdepWentOff(during: "i", before: false, after: false), "off before the scenario: not its doing")
    }

    func testAllScenariosAfterACompromiseAreReportedNotRun() throws {
        var text = ""
        let json = NSTemporaryDirectory() + "pteinspect-compromise-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let reporter = RunReporter(format: .ktap, jsonOut: json) { text += $0 }
        let names = ["first", "wedges", "third", "fourth"]
        reporter.begin(planned: names.count, kernel: "k", backend: "module", notes: [])
        var ran: [String] = []
        let suite = ScenarioSuite(keepGoing: false, hangsBeforeStopping: 2)
        suite.debugLocks = { nil }
        var told: KernelCompromise?
        suite.onCompromise = { told = $0 }
        let compromise = suite.run(names.map(scenario), backend: .module, reporter: reporter, run: { s in
            ran.append(s.name)
            return s.name == "wedges" ? self.faulted("wedges", step: 3, fault: .crash, report: ["rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"])
                : ScenarioResult(scenario: s, backend: .module, steps: [])
        }, hangs: { 0 })
        XCTAssertEqual(ran, ["first", "wedges"], "nothing runs after the compromise")
        XCTAssertEqual(compromise, told)
        XCTAssertEqual(compromise?.scenario, "wedges")
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("ok 3 third # SKIP not run: the kernel is compromised since scenario wedges step 3 (an RCU stall): rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"), text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("ok 4 fourth # SKIP not run: ") }, text)
        let report = try SavedReport.load(json)
        XCTAssertEqual(report.scenarios.map(\.verdict), ["PASS", "CRASH", "SKIP", "SKIP"])
        XCTAssertEqual(report.interrupted, compromise?.description)
        XCTAssertTrue(KernelTable.render([report]).contains("[2] not run: the kernel is compromised since scenario wedges step 3"), KernelTable.render([report]))

        // --keep-going: every scenario runs
        ran = []
        let going = ScenarioSuite(keepGoing: true, hangsBeforeStopping: 2)
        going.debugLocks = { nil }
        XCTAssertNil(going.run(names.map(scenario), backend: .module, reporter: RunReporter(format: .ktap) { _ in }, run: { s in
            ran.append(s.name)
            return s.name == "wedges" ? self.faulted("wedges", fault: .crash, report: ["rcu: INFO: rcu_preempt detected stalls"])
                : ScenarioResult(scenario: s, backend: .module, steps: [])
        }, hangs: { 0 }))
        XCTAssertEqual(ran, names)
    }

    /// One run per scenario (the kselftest collection, --compromise-file): the run that finds the
    /// kernel compromised records it, the next run of the same boot runs nothing and says why; a
    /// record of another boot is no record, a file that is not one is an error.
    func testACompromiseRecordedByOneRunStopsTheNextOfTheSameBoot() throws {
        let path = NSTemporaryDirectory() + "pteinspect-compromise-record-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = KernelCompromise.Record(path: path, bootID: "boot-1")
        XCTAssertNil(try record.load(), "no file: no compromise")

        let first = ScenarioSuite(keepGoing: false, hangsBeforeStopping: 2)
        first.debugLocks = { nil }
        first.onCompromise = { try? record.save($0) }
        first.run([scenario("wedges")], backend: .module, reporter: RunReporter(format: .ktap) { _ in }, run: { _ in
            self.faulted("wedges", step: 2, fault: .crash, report: ["watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [pteinspect:120]"])
        }, hangs: { 0 })
        let recorded = try XCTUnwrap(try record.load())
        XCTAssertEqual(recorded.scenario, "wedges")
        XCTAssertEqual(recorded.signal, "a CPU lockup")

        var text = ""
        var ran: [String] = []
        let next = ScenarioSuite(keepGoing: false, hangsBeforeStopping: 2)
        next.debugLocks = { nil }
        next.carried = recorded
        let reporter = RunReporter(format: .ktap) { text += $0 }
        reporter.begin(planned: 1, kernel: "k", backend: "module", notes: [])
        XCTAssertEqual(next.run([scenario("later")], backend: .module, reporter: reporter, run: { s in
            ran.append(s.name)
            return ScenarioResult(scenario: s, backend: .module, steps: [])
        }, hangs: { 0 }), recorded)
        XCTAssertEqual(ran, [])
        XCTAssertTrue(text.contains("ok 1 later # SKIP not run: the kernel is compromised since scenario wedges step 2 (a CPU lockup): watchdog: BUG: soft lockup"), text)

        let keepGoing = ScenarioSuite(keepGoing: true, hangsBeforeStopping: 2)
        keepGoing.debugLocks = { nil }
        keepGoing.carried = recorded
        keepGoing.run([scenario("later")], backend: .module, reporter: RunReporter(format: .ktap) { _ in }, run: { s in
            ran.append(s.name)
            return ScenarioResult(scenario: s, backend: .module, steps: [])
        }, hangs: { 0 })
        XCTAssertEqual(ran, ["later"], "--keep-going runs them")

        XCTAssertNil(try KernelCompromise.Record(path: path, bootID: "boot-2").load(), "another boot's record")
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try record.load()) { error in
            XCTAssertTrue("\(error)".hasPrefix("the compromise record \(path) is not a compromise record"), "\(error)")
        }
        XCTAssertFalse(KernelCompromise.Record(path: path).bootID.isEmpty, "this machine's boot id is read")
    }

    /// lockdep switched off by a report during a scenario (a CRASH) stops the run too; the
    /// lockdep state is read only after a CRASH (its read walks every lock class).
    func testLockdepSwitchedOffStopsTheRun() {
        var reads = 0
        var state = true
        let suite = ScenarioSuite(keepGoing: false, hangsBeforeStopping: 2)
        suite.debugLocks = { reads += 1; return state }
        var ran: [String] = []
        let compromise = suite.run(["a", "b", "locks", "d"].map(scenario), backend: .module, reporter: RunReporter(format: .ktap) { _ in }, run: { s in
            ran.append(s.name)
            if s.name == "locks" {
                state = false
                return self.faulted("locks", fault: .crash, report: ["WARNING: possible circular locking dependency detected"])
            }
            return ScenarioResult(scenario: s, backend: .module, steps: [])
        }, hangs: { 0 })
        XCTAssertEqual(ran, ["a", "b", "locks"])
        XCTAssertEqual(compromise?.signal, "lockdep switched itself off after a report")
        XCTAssertEqual(reads, 2, "once before the run, once after the CRASH")
    }
}
