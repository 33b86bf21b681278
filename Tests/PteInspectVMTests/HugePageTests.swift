import Foundation
import XCTest
@testable import PteInspectKit

/// PMD-mapped THPs are reported once, at level pmd (module: emit_leaf_pmd()). Expected states:
/// ../shared/semantics.md scenario 13 (6.1, observed), mm/huge_memory.c as cited per test.
final class HugePageTests: ModuleTestCase {
    private func requireTHP() throws {
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        guard mode.contains("[always]") || mode.contains("[madvise]") else {
            throw XCTSkip("THP is off on this kernel (/sys/kernel/mm/transparent_hugepage/enabled: \(mode.trimmingCharacters(in: .whitespacesAndNewlines))); set it to madvise or always")
        }
    }

    private func vmstat(_ key: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/vmstat", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
            return Int(line.split(separator: " ")[1]) ?? 0
        }
        return 0
    }

    /// First write in a suitable range: __do_huge_pmd_anonymous_page() maps the whole THP with
    /// one PMD, maybe_pmd_mkwrite(pmd_mkdirty(entry)); page_add_new_anon_rmap() marks the head
    /// exclusive.
    func testWriteFaultMapsAPMDTHP() throws {
        try requireTHP()
        let worker = try makeWorker()
        let base = try worker.mapTHP()
        let fallbacks = vmstat("thp_fault_fallback")
        try worker.write(base + 5 * pageSize)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + (2 << 20))
        if vmstat("thp_fault_fallback") > fallbacks {
            throw XCTSkip("the kernel could not allocate a 2 MiB page (thp_fault_fallback rose): memory too fragmented")
        }
        XCTAssertEqual(entries.count, 1, "one PMD entry, not 512 PTEs")
        let entry = try XCTUnwrap(entries.first)
        XCTAssertEqual(entry.level, .pmd)
        XCTAssertEqual(entry.address, base)
        XCTAssertTrue(entry.flags.isSuperset(of: [.present, .huge, .write, .dirty, .young]), entry.json.rendered())
        let page = try XCTUnwrap(entry.page)
        XCTAssertTrue(page.flags.isSuperset(of: [.anon, .anonExclusive, .large, .head]), entry.json.rendered())
        XCTAssertEqual(page.mapcount, 1)
        XCTAssertEqual(page.index, base >> 12)
        // A range that starts inside the THP still reports it, at its aligned address.
        let inner = try client.entries(pid: worker.pid, start: base + 8 * pageSize, end: base + 9 * pageSize)
        XCTAssertEqual(inner.map(\.address), [base])
    }

    /// First read: do_huge_pmd_anonymous_page() maps the huge zero page (use_zero_page=1),
    /// read-only; it is not an anon page.
    func testReadFaultMapsTheHugeZeroPage() throws {
        try requireTHP()
        let useZero = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/use_zero_page", encoding: .utf8)) ?? "1"
        guard useZero.hasPrefix("1") else { throw XCTSkip("transparent_hugepage/use_zero_page is 0") }
        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try worker.read(base)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + (2 << 20))
        let entry = try XCTUnwrap(entries.first)
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entry.level, .pmd, entry.json.rendered())
        XCTAssertTrue(entry.flags.contains(.zeroPage), entry.json.rendered())
        XCTAssertFalse(entry.flags.contains(.write))
        XCTAssertEqual(entry.page?.flags.contains(.anon), false)
    }
}
