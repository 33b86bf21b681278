import Foundation
import Glibc
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

    /// The selected value of a sysfs choice ("always [madvise] never" -> "madvise").
    private func selected(_ path: String) throws -> String {
        let text = try readProcFile(path)
        guard let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") else {
            throw XCTSkip("cannot read the selected value of \(path): '\(text)'")
        }
        return String(text[text.index(after: open)..<close])
    }

    /// Writes a sysfs setting (the tests put the old value back).
    private func write(_ path: String, _ value: String) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw SystemCallError("open(\(path))") }
        defer { close(fd) }
        guard value.withCString({ Glibc.write(fd, $0, strlen($0)) }) == value.utf8.count else {
            throw SystemCallError("write(\(path), \(value))")
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

    /// Multi-size THP (anonymous large folios below PMD size, v6.8+): with only the 64 KiB size
    /// enabled, a write fault in a suitable range maps a 16-page folio with 16 PTEs
    /// (alloc_anon_folio() and do_anonymous_page(), Debian 6.12.117 mm/memory.c L4654, L4736;
    /// folio_add_new_anon_rmap(..., RMAP_EXCLUSIVE) L4831 marks every subpage exclusive). It is
    /// neither a small page nor a PMD THP: GET_PTES shows order 4 on each PTE, each page mapped
    /// once, the folio 16 times (one counter, 05c5323b2a34, v6.10). fork shares all 16 PTEs
    /// and clears PG_anon_exclusive on every subpage (copy_present_ptes() ->
    /// folio_try_dup_anon_rmap_ptes(), L981, L1012): per page 2, the folio 32.
    func testWriteFaultMapsA64KiBFolioAndForkSharesIt() throws {
        let sysfs = "/sys/kernel/mm/transparent_hugepage"
        let size64 = "\(sysfs)/hugepages-64kB/enabled", sizePMD = "\(sysfs)/hugepages-2048kB/enabled"
        guard FileManager.default.fileExists(atPath: size64), FileManager.default.fileExists(atPath: sizePMD) else {
            throw XCTSkip("this kernel has no multi-size THP (\(size64) is missing; anonymous mTHP came in v6.8)")
        }
        try requireTHP()
        let saved = (try selected(size64), try selected(sizePMD))
        try write(sizePMD, "never")
        try write(size64, "always")
        defer { try? write(size64, saved.0); try? write(sizePMD, saved.1) }

        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try worker.write(base + 5 * pageSize)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + 32 * pageSize)
        guard entries.first?.page?.folioOrder == 4 else {
            throw XCTSkip("the kernel did not allocate a 64 KiB folio here (order \(entries.first?.page?.folioOrder.map(String.init) ?? "-")): memory too fragmented?")
        }
        XCTAssertEqual(entries.map(\.address), (0..<16).map { base + UInt64($0) * pageSize }, "16 PTEs for the 64 KiB folio, nothing after it")
        let first = try XCTUnwrap(entries.first?.pfn)
        for (i, entry) in entries.enumerated() {
            let page = try XCTUnwrap(entry.page, entry.json.rendered())
            XCTAssertEqual(entry.level, .pte)
            XCTAssertEqual(entry.pfn, first + UInt64(i), "one physically contiguous folio")
            XCTAssertTrue(page.flags.isSuperset(of: [.anon, .anonExclusive, .large]), entry.json.rendered())
            XCTAssertEqual(page.flags.contains(.head), i == 0)
            XCTAssertEqual(page.folioOrder, 4)
            XCTAssertEqual(page.mapcount, 1)
            XCTAssertEqual(page.folioMapcount, 16)
            XCTAssertEqual(entry.indexIsLinear, true)
        }
        let child = try worker.fork()
        for entry in try client.entries(pid: worker.pid, start: base, end: base + 16 * pageSize) {
            let page = try XCTUnwrap(entry.page)
            XCTAssertFalse(page.flags.contains(.anonExclusive), "fork clears PG_anon_exclusive of every subpage: \(entry.json.rendered())")
            XCTAssertEqual(page.mapcount, 2)
            XCTAssertEqual(page.folioMapcount, 32)
            XCTAssertFalse(entry.flags.contains(.write), "fork write-protects the parent's PTEs")
        }
        XCTAssertEqual(try client.entries(pid: child, start: base, end: base + 16 * pageSize).compactMap(\.pfn),
                       (0..<16).map { first + UInt64($0) })
        try worker.release(child: child)
    }

    /// A PMD THP's folio: order 9, mapped once as a whole (folio_mapcount() 1, the page's 1).
    func testPMDFolioOrderAndMapcounts() throws {
        try requireTHP()
        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try worker.write(base)
        guard let entry = try client.entries(pid: worker.pid, start: base, end: base + pageSize).first, entry.level == .pmd else {
            throw XCTSkip("no PMD THP here (memory too fragmented?)")
        }
        XCTAssertEqual(entry.page?.folioOrder, 9)
        XCTAssertEqual(entry.page?.folioMapcount, 1)
        XCTAssertEqual(entry.page?.mapcount, 1)
    }

    /// A PTE-mapped THP (issue 13's page kinds: what the module must report for every subpage).
    /// mprotect() of one subpage splits the PMD, not the folio: __split_huge_pmd_locked() maps the
    /// 512 pages with PTEs and copies the head's PG_anon_exclusive to every subpage (6.1.192
    /// mm/huge_memory.c L2206, L2248: SetPageAnonExclusive(page + i); 6.12.118 L2850-2861:
    /// folio_add_anon_rmap_ptes(..., RMAP_EXCLUSIVE)). Fork then clears it on every subpage
    /// (copy_present_pte(), 6.1 mm/memory.c L948; copy_present_ptes() -> 6.12 rmap.h L425-430), and
    /// a write copies just that 4 KiB page (wp_page_copy() allocates order 0; 6.12 mm/memory.c
    /// L3361). Every value is read per subpage, never the head's for all: PFN, PG_anon_exclusive,
    /// the page's and the folio's mapcount, the folio order.
    func testASplitTHPReportsEverySubpage() throws {
        try requireTHP()
        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try worker.fill(base, pages: 512)
        guard try client.entries(pid: worker.pid, start: base, end: base + pageSize).first?.level == .pmd else {
            throw XCTSkip("no PMD THP here (memory too fragmented?)")
        }
        try worker.mprotect(base + 3 * pageSize, pages: 1, .read)   // splits the PMD, keeps the folio
        let split = try client.entries(pid: worker.pid, start: base, end: base + 512 * pageSize)
        XCTAssertEqual(split.count, 512, "512 PTEs after the PMD split")
        let first = try XCTUnwrap(split.first?.pfn)
        for (i, entry) in split.enumerated() {
            let page = try XCTUnwrap(entry.page, entry.json.rendered())
            XCTAssertEqual(entry.level, .pte)
            XCTAssertEqual(entry.pfn, first + UInt64(i), "still one folio: \(entry.json.rendered())")
            XCTAssertTrue(page.flags.isSuperset(of: [.anon, .anonExclusive, .large]), "subpage \(i): \(entry.json.rendered())")
            XCTAssertEqual(page.flags.contains(.head), i == 0, "subpage \(i)")
            XCTAssertEqual(page.folioOrder, 9, "subpage \(i)")
            XCTAssertEqual(page.mapcount, 1, "subpage \(i)")
            XCTAssertEqual(page.folioMapcount, 512, "every PTE maps a page of the folio: subpage \(i)")
            XCTAssertEqual(entry.flags.contains(.write), i != 3, "only the mprotect()ed subpage is read-only: \(i)")
        }
        let child = try worker.fork()
        for (i, entry) in try client.entries(pid: worker.pid, start: base, end: base + 512 * pageSize).enumerated() {
            let page = try XCTUnwrap(entry.page)
            XCTAssertFalse(page.flags.contains(.anonExclusive), "fork clears PG_anon_exclusive of subpage \(i)")
            XCTAssertEqual(page.mapcount, 2, "subpage \(i)")
            XCTAssertEqual(page.folioMapcount, 1024, "subpage \(i)")
            XCTAssertFalse(entry.flags.contains(.write), "fork write-protects the parent's PTE of subpage \(i)")
        }
        // The child's write to subpage 7 copies that page alone, into a small exclusive page.
        let forked = try worker.forkWorker(fifoDirectory: NSTemporaryDirectory())
        defer { forked.stop() }
        try forked.write(base + 7 * pageSize)
        let copied = try XCTUnwrap(try client.entries(pid: forked.pid, start: base + 7 * pageSize, end: base + 8 * pageSize).first)
        XCTAssertNotEqual(copied.pfn, first + 7)
        XCTAssertEqual(copied.page?.folioOrder, 0, "wp_page_copy() allocates an order-0 page: \(copied.json.rendered())")
        XCTAssertEqual(copied.page?.flags.contains(.anonExclusive), true)
        let parentsSeventh = try XCTUnwrap(try client.entries(pid: worker.pid, start: base + 7 * pageSize, end: base + 8 * pageSize).first)
        XCTAssertEqual(parentsSeventh.pfn, first + 7)
        XCTAssertEqual(parentsSeventh.page?.mapcount, 2, "the idle child (worker.fork) still maps it")
        XCTAssertEqual(parentsSeventh.page?.folioMapcount, 1024 + 511, "the forked worker maps the folio's other 511 pages")
        try worker.release(child: child)
    }

    /// A swapped-out 64 KiB folio (6.12 mTHP; issue 13's "swap entries of a swapped large folio"):
    /// MADV_PAGEOUT leaves 16 swap PTEs, each with the exclusive bit of its own subpage
    /// (try_to_unmap_one(), 6.12.118 mm/rmap.c L1944). When the folio went to swap whole (zram is
    /// a non-rotational block device, so a large swap allocation can succeed: mm/swapfile.c L1110;
    /// the hugepages-64kB/stats/swpout counter says it did, mm/page_io.c L299), the entries are
    /// folio->swap + i: consecutive offsets in one swap type. When it was split first
    /// (stats/swpout_fallback, mm/vmscan.c L1283) only the bits are checked.
    func testASwapped64KiBFolioLeavesSixteenExclusiveSwapEntries() throws {
        let sysfs = "/sys/kernel/mm/transparent_hugepage"
        let size64 = "\(sysfs)/hugepages-64kB", sizePMD = "\(sysfs)/hugepages-2048kB/enabled"
        guard FileManager.default.fileExists(atPath: size64 + "/stats/swpout"), FileManager.default.fileExists(atPath: sizePMD) else {
            throw XCTSkip("this kernel has no multi-size THP swap-out statistics (\(size64)/stats/swpout is missing; anonymous mTHP came in v6.8)")
        }
        try requireTHP()
        let swaps = (try? String(contentsOfFile: "/proc/swaps", encoding: .utf8)) ?? ""
        guard swaps.split(separator: "\n").count > 1 else { throw XCTSkip("no swap device (tools/vm-guest sets up zram)") }
        func stat(_ name: String) -> Int { Int((try? readProcFile("\(size64)/stats/\(name)"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0 }
        let saved = (try selected(size64 + "/enabled"), try selected(sizePMD))
        try write(sizePMD, "never")
        try write(size64 + "/enabled", "always")
        defer { try? write(size64 + "/enabled", saved.0); try? write(sizePMD, saved.1) }

        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try worker.fill(base, pages: 16)
        guard try client.entries(pid: worker.pid, start: base, end: base + pageSize).first?.page?.folioOrder == 4 else {
            throw XCTSkip("the kernel did not allocate a 64 KiB folio here (memory too fragmented?)")
        }
        let (whole, fallback) = (stat("swpout"), stat("swpout_fallback"))
        try worker.madvise(base, pages: 16, .pageout)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + 16 * pageSize)
        XCTAssertEqual(entries.count, 16)
        let swapped = entries.compactMap(\.swap)
        guard swapped.count == 16 else {
            throw XCTSkip("MADV_PAGEOUT left \(16 - swapped.count) of the 16 pages in memory (reclaim did not take them all)")
        }
        for (i, swap) in swapped.enumerated() {
            XCTAssertTrue(swap.exclusive, "swap PTE \(i) remembers its subpage's PG_anon_exclusive")
            XCTAssertEqual(entries[i].kind, .swap)
        }
        if stat("swpout") > whole {
            print("HugePageTests: the 64 KiB folio went to swap whole (hugepages-64kB/stats/swpout \(whole) -> \(stat("swpout")))")
            let first = swapped[0]
            for (i, swap) in swapped.enumerated() {
                XCTAssertEqual(swap.type, first.type)
                XCTAssertEqual(swap.offset, first.offset + UInt64(i), "the folio went to swap whole: entry \(i) is folio->swap + \(i)")
            }
        } else {
            print("HugePageTests: the 64 KiB folio was split before swap-out (swpout_fallback \(fallback) -> \(stat("swpout_fallback")))")
            XCTAssertGreaterThan(stat("swpout_fallback"), fallback, "neither swpout nor swpout_fallback of hugepages-64kB counted this folio")
        }
    }
}
