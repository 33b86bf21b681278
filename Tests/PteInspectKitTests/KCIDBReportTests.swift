import Foundation
import TestResults
import XCTest
@testable import PteInspectKit

/// `pteinspect report kcidb`: KCIDB's statuses of pteinspect's verdicts, its paths and ids
/// (tools/kcidb-check validates real runs' documents with kcidb-io).
final class KCIDBReportTests: ObservedTestCase {
    func scenario(_ name: String, _ verdict: String, reason: String? = nil, steps: String = "[]") -> String {
        #"{"name": "\#(name)", "title": "t \#(name)", "verdict": "\#(verdict)", "reason": \#(reason.map { "\"\($0)\"" } ?? "null"), "steps": \#(steps)}"#
    }

    func report(_ scenarios: [String]) throws -> SavedReport {
        let text = #"{"schema": "pteinspect.scenario-report", "version": 1, "kernel": "6.12.118", "backend": "module", "scenarios": [\#(scenarios.joined(separator: ","))]}"#
        return try JSONDecoder().decode(SavedReport.self, from: Data(text.utf8))
    }

    func tests(_ document: JSONValue) throws -> [[String: Any]] {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(document.rendered().utf8)) as? [String: Any])
        return try XCTUnwrap(object["tests"] as? [[String: Any]])
    }

    func testEachVerdictHasKCIDBsStatusAndACrashCarriesTheKernelsLog() throws {
        let crashStep = #"[{"number": 3, "actor": "parent", "action": "read M", "outcome": "failed", "error": "the kernel reported a problem during this step", "fault": "CRASH", "kernel_report": ["kernel BUG at mm/memory.c:4270!", "Oops: invalid opcode"], "pages": [], "expectations": []}]"#
        let failStep = #"[{"number": 2, "actor": "parent", "action": "fork", "outcome": "ok", "pages": [], "expectations": [{"summary": "fork clears exclusivity", "verdict": "PASS", "mismatches": []}, {"summary": "the child's PTE is old", "verdict": "FAIL", "mismatches": [{"assertion": "child:P.young == 0", "expected": "0", "observed": "1"}], "citation": {"file": "mm/memory.c", "function": "copy_present_pte"}}]}]"#
        let saved = try report([
            scenario("anon-faults", "PASS"),
            scenario("kind-fork-cow[mthp-64kB]", "FAIL", steps: failStep),
            scenario("uffd-wp-marker", "CRASH", steps: crashStep),
            scenario("swapoff", "HANG"),
            scenario("ksm", "SKIP", reason: "needs KSM"),
            scenario("pfnmap", "SKIP", reason: "not run: the kernel is compromised since scenario uffd-wp-marker step 3"),
        ])
        let all = try tests(KCIDBReport().render([(report: saved, runID: "0123456789abcdef")]))
        let byPath = Dictionary(uniqueKeysWithValues: all.map { ($0["path"] as? String ?? "", $0) })
        XCTAssertEqual(byPath["pteinspect.anon-faults"]?["status"] as? String, "PASS")
        XCTAssertEqual(byPath["pteinspect.kind-fork-cow.mthp-64kB"]?["status"] as? String, "FAIL")
        XCTAssertEqual(byPath["pteinspect.uffd-wp-marker"]?["status"] as? String, "FAIL", "a CRASH is a FAIL of the tested code")
        XCTAssertEqual(byPath["pteinspect.swapoff"]?["status"] as? String, "ERROR", "a HANG did not complete")
        XCTAssertEqual(byPath["pteinspect.ksm"]?["status"] as? String, "SKIP")
        XCTAssertEqual(byPath["pteinspect.pfnmap"]?["status"] as? String, "MISS", "not run: neither the test's nor the code's state is known")
        XCTAssertEqual(byPath["pteinspect.kind-fork-cow.mthp-64kB.step2.e1"]?["status"] as? String, "PASS")
        XCTAssertEqual(byPath["pteinspect.kind-fork-cow.mthp-64kB.step2.e2"]?["status"] as? String, "FAIL")
        XCTAssertEqual(byPath["pteinspect.kind-fork-cow.mthp-64kB.step2.e2"]?["log_excerpt"] as? String,
                       "the child's PTE is old\nchild:P.young == 0: expected 0, observed 1\ncites mm/memory.c copy_present_pte")
        XCTAssertEqual(byPath["pteinspect.uffd-wp-marker"]?["log_excerpt"] as? String,
                       "step 3 (read M): the kernel reported a problem during this step\nkernel BUG at mm/memory.c:4270!\nOops: invalid opcode")
        XCTAssertTrue((byPath["pteinspect.kind-fork-cow.mthp-64kB"]?["log_excerpt"] as? String ?? "").hasPrefix("step 2 (fork): the child's PTE is old\n"))
        XCTAssertEqual(byPath["pteinspect.anon-faults"]?["id"] as? String, "pteinspect:0123456789abcdef:pteinspect.anon-faults")
        XCTAssertEqual(all.count, 8)
        XCTAssertEqual(Set(all.compactMap { $0["id"] as? String }).count, all.count, "ids are unique")
    }

    /// An XFAIL (a known kernel bug showed) is KCIDB's FAIL with a present incident of the bug's
    /// issue; a PASS on a kernel in the bug's range, an absent incident; one issue per bug.
    func testAKnownBugIsAnIssueWithAnIncidentPerExpectation() throws {
        let bug = #"{"bug": "replace_page() drops soft-dirty; fixed in 6.12.118", "kernels": ["< 6.12.118", ">= 6.13"]}"#
        let steps = #"[{"number": 4, "actor": "system", "action": "ksm-merge", "outcome": "ok", "pages": [], "expectations": [{"summary": "parent keeps soft-dirty", "verdict": "XFAIL", "reason": "the known kernel bug of 7.3.4 shows: replace_page() drops soft-dirty; fixed in 6.12.118", "mismatches": [{"assertion": "parent:B.soft_dirty == 1", "expected": "1", "observed": "0"}], "known_bug": \#(bug)}, {"summary": "child keeps soft-dirty", "verdict": "PASS", "mismatches": [], "known_bug": \#(bug)}, {"summary": "merged", "verdict": "PASS", "mismatches": []}]}]"#
        let saved = try report([scenario("ksm", "XFAIL", reason: "step 4 (system: ksm-merge): parent keeps soft-dirty", steps: steps)])
        let text = KCIDBReport().render([(report: saved, runID: "r")]).rendered()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let byPath = Dictionary(uniqueKeysWithValues: try tests(KCIDBReport().render([(report: saved, runID: "r")])).map { ($0["path"] as? String ?? "", $0) })
        XCTAssertEqual(byPath["pteinspect.ksm"]?["status"] as? String, "FAIL")
        XCTAssertEqual(byPath["pteinspect.ksm.step4.e1"]?["status"] as? String, "FAIL")
        XCTAssertEqual(byPath["pteinspect.ksm.step4.e2"]?["status"] as? String, "PASS")
        let issues = try XCTUnwrap(object["issues"] as? [[String: Any]])
        XCTAssertEqual(issues.count, 1, "one bug, one issue")
        XCTAssertEqual(issues.first?["comment"] as? String, "replace_page() drops soft-dirty; fixed in 6.12.118")
        XCTAssertEqual((issues.first?["culprit"] as? [String: Bool])?["code"], true)
        let incidents = try XCTUnwrap(object["incidents"] as? [[String: Any]])
        let present = Dictionary(uniqueKeysWithValues: incidents.map { ($0["test_id"] as? String ?? "", $0["present"] as? Bool) })
        XCTAssertEqual(present, ["pteinspect:r:pteinspect.ksm.step4.e1": true, "pteinspect:r:pteinspect.ksm.step4.e2": false,
                                 "pteinspect:r:pteinspect.ksm": true])
        XCTAssertTrue(incidents.allSatisfy { $0["issue_id"] as? String == issues.first?["id"] as? String })
    }

    func testBuildsAreTheKernelsOrTheCallersAndExcerptsFitTheSchema() throws {
        let saved = try report([scenario("anon-faults", "PASS")])
        var kcidb = KCIDBReport()
        kcidb.configName = "debug"
        let document = kcidb.render([(report: saved, runID: "r")]).rendered()
        XCTAssertTrue(document.contains(#""id":"pteinspect:linux-6.12.118-debug""#), document)
        XCTAssertTrue(document.contains(#""checkout_id":"pteinspect:linux-6.12.118""#), document)
        XCTAssertTrue(document.hasPrefix(#"{"version":{"major":5,"minor":3}"#), document)
        var theirs = KCIDBReport()
        theirs.buildID = "kernelci:build-42"
        let attached = theirs.render([(report: saved, runID: "r")]).rendered()
        XCTAssertFalse(attached.contains("\"builds\""), "the caller's CI submitted its build")
        XCTAssertTrue(attached.contains(#""build_id":"kernelci:build-42""#))
        XCTAssertEqual(KCIDBReport.path(of: "odd name[k.1]"), "pteinspect.odd_name.k_1", "path segments: letters, digits, _ and -")
        let long = String(repeating: "é", count: 20_000)
        XCTAssertLessThanOrEqual(KCIDBReport.limited(long).utf8.count, KCIDBReport.excerptLimit)
        XCTAssertNotEqual(KCIDBReport.runID(of: Data("a".utf8)), KCIDBReport.runID(of: Data("b".utf8)))
        XCTAssertEqual(KCIDBReport.runID(of: Data()).count, 16)
    }
}
