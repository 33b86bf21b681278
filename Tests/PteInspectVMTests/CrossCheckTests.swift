import Foundation
import XCTest
@testable import PteInspectKit

/// The module and /proc/PID/pagemap + kpageflags + kpagecount must agree on every field both can
/// see, for every kind of page the other tests create.
final class CrossCheckTests: ModuleTestCase {
    private func assertAgree(_ pid: Int32, _ start: UInt64, _ end: UInt64, allowEmpty: Bool = false,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        // pagemap is read between two module reads: a shared library page's mapcount is the number
        // of processes mapping it, which another process starting or exiting in between changes
        // (seen on the 6.1 debug kernel, where the window is long: 6 vs 7 on libc's pages). A
        // disagreement counts only if pagemap disagrees with both module reads.
        let entries = try client.entries(pid: pid, start: start, end: end)
        let pagemap = try PagemapReader(pid: pid).entries(start: start, end: end)
        let again = try client.entries(pid: pid, start: start, end: end)
        let vmas = try client.vmas(pid: pid, start: start, end: end)
        if !allowEmpty { XCTAssertFalse(entries.isEmpty, file: file, line: line) }
        let after = Set(CrossCheck.compare(module: again, pagemap: pagemap, vmas: vmas, pageSize: pageSize).map(\.description))
        let disagreements = CrossCheck.compare(module: entries, pagemap: pagemap, vmas: vmas, pageSize: pageSize)
            .filter { after.contains($0.description) }
        XCTAssertEqual(disagreements, [], disagreements.map(\.description).joined(separator: "\n"), file: file, line: line)
    }

    func testAnonZeroForkedAndMovedPagesAgree() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 8)
        try worker.fill(base, pages: 4)
        try worker.read(base + 5 * pageSize)
        try assertAgree(worker.pid, base, base + 8 * pageSize)
        let child = try worker.fork()
        try assertAgree(worker.pid, base, base + 8 * pageSize)
        try assertAgree(child, base, base + 8 * pageSize)
        try worker.write(base)      // the parent copies page 0
        try assertAgree(worker.pid, base, base + 8 * pageSize)
        try assertAgree(child, base, base + 8 * pageSize)
        let moved = try worker.mremap(base, pages: 8)
        try assertAgree(worker.pid, moved, moved + 8 * pageSize)
        try worker.release(child: child)
    }

    /// Protocol 2's runs on a real kernel: 4,096 populated pages come as far fewer records, and the
    /// entries the client expands them to agree with pagemap page by page (PFN, flags, mapcount),
    /// half of them swapped out as well (runs of swap entries: the offset advances, raw by a step).
    func testRunsExpandToWhatPagemapSees() throws {
        let worker = try makeWorker()
        let pages = 4096
        let base = try worker.map(pages: pages)
        try worker.fill(base, pages: UInt64(pages))
        var records = 0, entries = 0
        try client.forEachRecord(pid: worker.pid, start: base, end: base + UInt64(pages) * pageSize) { record in
            records += 1
            entries += record.count
        }
        XCTAssertEqual(entries, pages)
        XCTAssertLessThan(records, pages, "populated anonymous memory with consecutive PFNs makes runs")
        try assertAgree(worker.pid, base, base + UInt64(pages) * pageSize)
        if !ScenarioEnvironment.probe(module: nil).swapDevices.isEmpty {
            try worker.madvise(base, pages: Int(pages / 2), .pageout)
            let swapped = try client.entries(pid: worker.pid, start: base, end: base + UInt64(pages) * pageSize).filter { $0.kind == .swap }
            XCTAssertGreaterThan(swapped.count, 0)
            try assertAgree(worker.pid, base, base + UInt64(pages) * pageSize)
        }
    }

    /// pagemap shows a VM_PFNMAP VMA as holes, COWed anon pages included (walk_page_test(),
    /// mm/pagewalk.c): only the module can see it.
    func testPagemapIsBlindToPfnMappings() throws {
        let worker = try makeWorker()
        let pfnmap = try worker.mapFixture(pages: 4)
        try worker.write(pfnmap + pageSize)
        XCTAssertEqual(try client.entries(pid: worker.pid, start: pfnmap, end: pfnmap + 4 * pageSize).count, 4)
        XCTAssertEqual(try PagemapReader(pid: worker.pid).entries(start: pfnmap, end: pfnmap + 4 * pageSize).count, 0)
    }

    func testTHPAgrees() throws {
        let worker = try makeWorker()
        let huge = try worker.mapTHP()
        try worker.write(huge)
        try assertAgree(worker.pid, huge, huge + (2 << 20))
    }

    /// The KPF_KSM quirk (PagemapQuirks): the probe's answer must be what the two sources say of
    /// one fresh anonymous page, which the module calls not KSM. The bug came with dee3d0bef2b0
    /// (v6.10), so no older kernel may have it; on Debian's 6.12.117 it is there (the fix is not).
    func testKpageflagsKsmQuirkIsWhatTheKernelDoes() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let module = try XCTUnwrap(client.entries(pid: worker.pid, start: base, end: base + pageSize).first?.page)
        let pagemap = try XCTUnwrap(PagemapReader(pid: worker.pid).entries(start: base, end: base + pageSize).first)
        XCTAssertFalse(module.flags.contains(.ksm))
        XCTAssertEqual(PagemapQuirks.current.ksmOnEveryAnonPage, pagemap.flag(.ksm) == true)
        if !(try kernelIsAtLeast(6, 10)) { XCTAssertFalse(PagemapQuirks.current.ksmOnEveryAnonPage) }
    }

    /// Everything the worker maps, libraries and stack included.
    func testWholeAddressSpaceAgrees() throws {
        let worker = try makeWorker()
        for vma in try client.vmas(pid: worker.pid) where !vma.flags.contains(.io) {
            try assertAgree(worker.pid, vma.start, vma.end, allowEmpty: true)
        }
    }
}
