import Foundation
import TestResults
import XCTest
@testable import PteInspectKit

/// The bit x operation matrix derived from a report (EntryMatrix): rows from the steps'
/// operations, a read or write qualified by its page's state before, cells from the fields each
/// expectation reads, the worst verdict shown, a cell nobody checks a gap.
final class EntryMatrixTests: ObservedTestCase {
    private func step(_ number: Int, _ operation: String, touches: String, swapped: Bool, expectations: String) -> String {
        """
        {"number": \(number), "actor": "parent", "action": "x", "verb": "\(operation.split(separator: " ")[0])", "operation": "\(operation)",
         "touches": ["\(touches)"], "label": null, "outcome": "ok", "error": null,
         "pages": [{"page": "parent:P", "location": "parent@0x7f0000001000",
                    "fields": {"mapped": true, "present": \(!swapped), "swapped": \(swapped), "pte.write": true, "pte_marker": null}, "changed": []}],
         "expectations": [\(expectations)]}
        """
    }

    private func expectation(_ verdict: String, fields: [String]) -> String {
        """
        {"summary": "s", "verdict": "\(verdict)", "reason": null, "assertions": [], "fields": [\(fields.map { "\"\($0)\"" }.joined(separator: ", "))],
         "kernels": {"from": null, "below": null, "basis": ""},
         "citation": {"file": "mm/memory.c", "function": "f", "detail": null, "document": null}, "mismatches": []}
        """
    }

    private func load(_ steps: [String]) throws -> SavedReport {
        let text = """
            {"schema": "pteinspect.scenario-report", "version": 1, "kernel": "6.12.118", "backend": "module",
             "summary": {"pass": 1, "fail": 0, "skip": 0},
             "scenarios": [{"name": "s", "title": "t", "verdict": "PASS", "reason": null, "documents": [], "steps": [\(steps.joined(separator: ","))]}]}
            """
        let path = NSTemporaryDirectory() + "pteinspect-matrix-\(UUID().uuidString).json"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SavedReport.load(path)
    }

    func testRowsCellsAndGaps() throws {
        let report = try load([
            step(1, "map", touches: "parent:P", swapped: false, expectations: expectation("PASS", fields: ["pte.write"])),
            step(2, "write", touches: "parent:P", swapped: false, expectations: expectation("PASS", fields: ["pte.write", "pte.dirty", "present"])),
            step(3, "madvise pageout", touches: "parent:P", swapped: true,
                 expectations: expectation("PASS", fields: ["swap.exclusive"]) + "," + expectation("FAIL", fields: ["swap.exclusive", "soft_dirty"])),
            step(4, "read", touches: "parent:P", swapped: false, expectations: expectation("SKIP", fields: ["PageAnonExclusive"])),
        ])
        let matrix = EntryMatrix(report)
        // map is no operation on an entry; the write's page was mapped and writable before it; the read's was swapped
        XCTAssertEqual(matrix.rows.map(\.operation), ["madvise pageout", "read: swap-in", "write: present"])
        let pageout = matrix.rows[0]
        XCTAssertEqual(pageout.cells[.swapExclusive], EntryMatrix.Cell(pass: 1, fail: 1))
        XCTAssertEqual(pageout.cells[.swapExclusive]?.label, "FAIL 1")
        XCTAssertEqual(pageout.cells[.softDirty]?.label, "FAIL 1")
        XCTAssertNil(pageout.cells[.write], "nothing read the write bit after the pageout: a gap")
        XCTAssertEqual(matrix.rows[1].cells[.anonExclusive]?.label, "SKIP 1")
        XCTAssertEqual(matrix.rows[2].cells[.write]?.label, "PASS 1")
        XCTAssertNil(matrix.rows[2].cells[.present], "present is not a column")
        let text = matrix.render()
        XCTAssertTrue(text.contains("3 operations x 12 bits: 5 cells checked, 31 not"), text)
    }
}
