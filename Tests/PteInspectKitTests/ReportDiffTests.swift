import Foundation
import TestResults
import XCTest
@testable import PteInspectKit

/// `report diff` and `report table` on two small reports in the JSON schema (docs/scenario-report.md).
final class ReportDiffTests: ObservedTestCase {
    /// A one-scenario report: a write, then a read-in whose PTE write bit and verdicts vary.
    private func report(kernel: String, pfns: (String, String), readInWrite: Bool, readOnlyVerdict: String, writableVerdict: String,
                        anonVma: String) -> String {
        """
        {"schema": "pteinspect.scenario-report", "version": 1, "kernel": "\(kernel)", "backend": "module",
         "summary": {"pass": 1, "fail": 0, "skip": 0},
         "scenarios": [{"name": "pageout-exclusive", "title": "t", "verdict": "PASS", "reason": null, "documents": [],
           "steps": [
             {"number": 1, "actor": "parent", "action": "write P", "label": null, "outcome": "ok", "error": null,
              "pages": [{"page": "parent:P", "location": "parent@0x7f0000001000",
                         "fields": {"pfn": "\(pfns.0)", "pte.write": true, "page.anon_vma": "\(anonVma)", "vma.anon_vma": "\(anonVma)",
                                    "rmap": ["parent@0x7f0000001000"]},
                         "changed": []}],
              "expectations": []},
             {"number": 2, "actor": "parent", "action": "read P", "label": "read-in", "outcome": "ok", "error": null,
              "pages": [{"page": "parent:P", "location": "parent@0x7f0000001000",
                         "fields": {"pfn": "\(pfns.1)", "pte.write": \(readInWrite), "page.anon_vma": "\(anonVma)", "vma.anon_vma": "\(anonVma)",
                                    "rmap": ["parent@0x7f0000001000"]},
                         "changed": []}],
              "expectations": [
                {"summary": "read-only", "verdict": "\(readOnlyVerdict)", "reason": \(readOnlyVerdict == "SKIP" ? "\"holds for kernels < 6.11\"" : "null"),
                 "assertions": [], "fields": [], "kernels": {"from": null, "below": null, "basis": ""},
                 "citation": {"file": "mm/memory.c", "function": "do_swap_page", "detail": null, "document": null}, "mismatches": []},
                {"summary": "writable", "verdict": "\(writableVerdict)", "reason": \(writableVerdict == "SKIP" ? "\"holds for kernels >= 6.11\"" : "null"),
                 "assertions": [], "fields": [], "kernels": {"from": null, "below": null, "basis": ""},
                 "citation": {"file": "mm/memory.c", "function": "do_swap_page", "detail": null, "document": null}, "mismatches": []}]}
           ]}]}
        """
    }

    private func load(_ text: String) throws -> SavedReport {
        let path = NSTemporaryDirectory() + "pteinspect-report-\(UUID().uuidString).json"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SavedReport.load(path)
    }

    func testIdentitiesCompareByWhichEqualWhich() throws {
        // Different PFNs and anon_vma hashes, the same pattern (a new page at read-in): no field differs but the write bit.
        let a = try load(report(kernel: "6.1.0-57-amd64", pfns: ("0x1000", "0x2000"), readInWrite: false, readOnlyVerdict: "PASS",
                                writableVerdict: "SKIP", anonVma: "0xaaaa"))
        let b = try load(report(kernel: "6.12.117+deb12-amd64", pfns: ("0x5000", "0x6000"), readInWrite: true, readOnlyVerdict: "SKIP",
                                writableVerdict: "PASS", anonVma: "0xbbbb"))
        let diff = ReportDiff(old: a, new: b)
        XCTAssertFalse(diff.isEmpty)
        let steps = try XCTUnwrap(diff.scenarios.first).steps
        XCTAssertEqual(steps.map(\.number), [2])
        XCTAssertEqual(steps[0].fields, [ReportDiff.FieldChange(page: "parent:P", field: "pte.write", old: "0", new: "1")])
        XCTAssertEqual(steps[0].verdicts.map { "\($0.expectation): \($0.old)->\($0.new)" }, ["read-only: PASS->SKIP", "writable: SKIP->PASS"])
        XCTAssertEqual(steps[0].verdicts.first?.detail, "holds for kernels < 6.11")
        XCTAssertTrue(diff.render().contains("parent:P pte.write: 0 -> 1"))
    }

    func testAPageThatKeepsItsPfnOnOneSideOnlyIsADifference() throws {
        let a = try load(report(kernel: "a", pfns: ("0x1000", "0x1000"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "PASS", anonVma: "0xa"))
        let b = try load(report(kernel: "b", pfns: ("0x5000", "0x6000"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "PASS", anonVma: "0xb"))
        let change = try XCTUnwrap(ReportDiff(old: a, new: b).scenarios.first?.steps.first?.fields.first)
        XCTAssertEqual(change, ReportDiff.FieldChange(page: "parent:P", field: "pfn", old: "pfn#1", new: "pfn#2"))
    }

    func testTheSameRunHasNoDifference() throws {
        let text = report(kernel: "a", pfns: ("0x1000", "0x2000"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "SKIP", anonVma: "0xa")
        XCTAssertTrue(ReportDiff(old: try load(text), new: try load(text)).isEmpty)
    }

    func testTableHasAColumnPerKernelAndTheSkipReasons() throws {
        let a = try load(report(kernel: "6.1.0-57-amd64", pfns: ("0x1", "0x2"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "SKIP", anonVma: "0xa"))
        var text = report(kernel: "6.12.117+deb12-amd64", pfns: ("0x1", "0x2"), readInWrite: true, readOnlyVerdict: "SKIP", writableVerdict: "PASS", anonVma: "0xa")
        text = text.replacingOccurrences(of: "\"verdict\": \"PASS\", \"reason\": null, \"documents\"", with: "\"verdict\": \"SKIP\", \"reason\": \"needs swap\", \"documents\"")
        let table = KernelTable.render([a, try load(text)])
        XCTAssertTrue(table.contains("6.1.0-57-amd64 (module)"))
        XCTAssertTrue(table.contains("6.12.117+deb12-amd64 (module)"))
        XCTAssertTrue(table.contains("SKIP [1]"))
        XCTAssertTrue(table.contains("[1] needs swap"))
        XCTAssertTrue(table.contains("6.1.0-57-amd64: 1 passed, 0 failed, 0 skipped;"), table)
    }

    func testTheTotalsCountACrashedScenario() throws {
        let a = try load(report(kernel: "6.12.117", pfns: ("0x1", "0x2"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "SKIP", anonVma: "0xa"))
        let text = report(kernel: "broken", pfns: ("0x1", "0x2"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "SKIP", anonVma: "0xa")
            .replacingOccurrences(of: "\"verdict\": \"PASS\", \"reason\": null, \"documents\"",
                                  with: "\"verdict\": \"CRASH\", \"reason\": \"step 1: kernel BUG at mm/memory.c:4261!\", \"documents\"")
        let table = KernelTable.render([a, try load(text)])
        XCTAssertTrue(table.contains("CRASH [1]"), table)
        XCTAssertTrue(table.contains("broken: 0 passed, 0 failed, 0 skipped, 1 crashed"), table)
        XCTAssertTrue(table.contains("6.12.117: 1 passed, 0 failed, 0 skipped;"), "no hung/crashed on a healthy kernel: \(table)")
    }

    /// tools/run --kernels: each column under its label, and a kernel that left no report (it did
    /// not boot) is a column that says why, the others as they were.
    func testLabelledColumnsAndAKernelThatLeftNoReport() throws {
        let a = try load(report(kernel: "6.12.118", pfns: ("0x1", "0x2"), readInWrite: false, readOnlyVerdict: "PASS", writableVerdict: "SKIP", anonVma: "0xa"))
        let table = KernelTable.render(columns: [.report(a, label: "6.12-debug"),
                                                 .absent(label: "mm-unstable", reason: "exit status 76: the guest did not come up")])
        XCTAssertTrue(table.contains("6.12-debug (6.12.118, module)"), table)
        XCTAssertTrue(table.contains("NOT RUN [1]"), table)
        XCTAssertTrue(table.contains("[1] mm-unstable: no report: exit status 76: the guest did not come up"), table)
        XCTAssertTrue(table.contains("6.12-debug: 1 passed, 0 failed, 0 skipped; mm-unstable: no report"), table)
        let none = KernelTable.render(columns: [.absent(label: "broken", reason: "exit status 75")])
        XCTAssertTrue(none.contains("(no scenario ran)"), none)
        XCTAssertTrue(none.contains("NOT RUN [1]"), none)
    }

    func testANonReportIsRefusedWithTheFileNamed() throws {
        let path = NSTemporaryDirectory() + "pteinspect-not-a-report.json"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("{\"schema\": \"other\"}".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try SavedReport.load(path)) { XCTAssertTrue("\($0)".contains(path)) }
    }
}

extension ReportDiffTests {
    func testOutcomesLoseTheirPidsAndAddressesButNotFeatureMasks() {
        XCTAssertEqual(ReportDiff.withoutRunIdentities("ok pid 268"), "ok pid <pid>")
        XCTAssertEqual(ReportDiff.withoutRunIdentities("pread(/proc/291/mem): Input/output error [errno 5]"), "pread(/proc/<pid>/mem): Input/output error [errno 5]")
        XCTAssertEqual(ReportDiff.withoutRunIdentities("ok 0x7f01de55e000"), "ok 0x<addr>")
        XCTAssertEqual(ReportDiff.withoutRunIdentities("ok features=0x1fff ioctls=0x8000000000000003"), "ok features=0x1fff ioctls=0x8000000000000003")
    }
}
