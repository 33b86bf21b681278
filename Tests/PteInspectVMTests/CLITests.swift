import Foundation
import XCTest
@testable import PteInspectKit

/// The CLI as a user runs it, against the module.
final class CLITests: ModuleTestCase {
    func testPteJSONHasTheDocumentedFields() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 2)
        try worker.write(base)
        let (status, stdout, stderr) = try run(Self.pteinspectBinary, ["pte", "--pid", "\(worker.pid)", "--addr", "0x" + String(base, radix: 16), "--count", "2", "--json"])
        XCTAssertEqual(status, 0, stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        let pages = try XCTUnwrap(object["pages"] as? [[String: Any]])
        XCTAssertEqual(pages.count, 1, "the untouched page is a hole")
        let page = try XCTUnwrap(pages.first)
        for key in ["addr", "raw", "present", "write", "dirty", "young", "special", "soft_dirty", "uffd_wp",
                    "pfn", "anon", "anon_exclusive", "ksm", "swapcache", "mapcount", "refcount", "index", "swap"] {
            XCTAssertNotNil(page[key], "missing \(key)")
        }
        XCTAssertEqual(page["addr"] as? String, "0x" + String(base, radix: 16))
        XCTAssertEqual(page["anon_exclusive"] as? Bool, true)
        XCTAssertEqual(page["mapcount"] as? Int, 1)
    }

    func testPteOfAMissingProcessSaysSo() throws {
        let (status, _, stderr) = try run(Self.pteinspectBinary, ["pte", "--pid", "4194311", "--addr", "0x1000"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(stderr.contains("ESRCH"), stderr)
    }

    /// The docs' worked examples (docs/examples/*.yaml), run unchanged as a user would: every
    /// expectation passes with the module; fork-cow's are all in range and all seen (no SKIP),
    /// swapin-read skips only the side of v6.11 this kernel is not on.
    func testTheDocsScenarioFilesRunUnchanged() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/examples").path
        let (status, stdout, stderr) = try run(Self.pteinspectBinary, ["scenario", "run", "--file", examples, "--backend", "module", "--format", "ktap"])
        XCTAssertEqual(status, 0, stdout + stderr)
        XCTAssertTrue(stdout.contains("\nok 1 fork-cow-example"), stdout)
        XCTAssertTrue(stdout.contains("\nok 2 swapin-read-example"), stdout)
        XCTAssertFalse(stdout.contains("not ok"), stdout)
        let forkCOW = stdout.components(separatedBy: "# Subtest: swapin-read-example").first ?? ""
        XCTAssertFalse(forkCOW.contains("# SKIP"), forkCOW)
        let swapSkips = stdout.components(separatedBy: "# Subtest: swapin-read-example").last?.components(separatedBy: "# SKIP").count ?? 0
        XCTAssertEqual(swapSkips - 1, 1, "exactly one expectation (the other side of v6.11) is skipped: \(stdout)")
    }
}
