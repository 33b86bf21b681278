import Foundation
import Glibc
import XCTest
@testable import PteInspectKit

/// A helper blocked in the real kernel, on purpose: the step is a HANG that says where the
/// helper waits, its processes are killed, and the next scenario still runs.
final class HangTests: ModuleTestCase {
    func testAHelperBlockedInTheKernelIsAHangAndTheSuiteGoesOn() throws {
        let environment = ScenarioEnvironment.probe(module: try client.info())
        if let problem = environment.userfaultfdProblem { throw XCTSkip("needs userfaultfd: \(problem)") }
        let runner = ScenarioRunner(observer: try ModuleObserver(client: client), environment: environment, executable: Self.pteinspectBinary)
        runner.stepTimeout = 5
        runner.kernelLog = KernelLog()
        let p = PageRef("parent", "P")
        let started = Date()
        let blocked = runner.run(Scenario(name: "blocked", title: "a fault nobody resolves", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .uffdOpen(move: false)),
            Step("parent", .uffdRegister(Loc("P"), pages: 1, modes: .missing)),
            // The worker has no fault-handling thread: the read waits in handle_userfault()
            // (fs/userfaultfd.c) until somebody resolves the fault, i.e. forever.
            Step("parent", .read(Loc("P"))),
        ]))
        XCTAssertEqual(blocked.verdict, .hang, blocked.reason ?? "")
        XCTAssertEqual(blocked.steps.last?.error, "step 4 (parent: read P) did not complete within 5 s")
        let place = blocked.steps.last?.kernelReport.first ?? ""
        XCTAssertTrue(place.contains("handle_userfault"), "the helper's wait channel or stack names where it waits: \(place)")
        XCTAssertFalse(blocked.steps.last?.kernelReport.contains { $0.contains("did not exit") } ?? true,
                       "a task waiting in handle_userfault() dies of SIGKILL")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        XCTAssertEqual(runner.hangs, 1)

        let anon = try XCTUnwrap(try ScenarioCatalog.named("anon-faults"))
        let next = runner.run(anon)
        XCTAssertEqual(next.verdict, .pass, "the suite goes on after a hang: \(next.reason ?? "")")
    }
}
