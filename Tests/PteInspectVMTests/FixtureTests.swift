import Foundation
import Glibc
import XCTest
@testable import PteInspectKit

/// The /dev/pteinspect fixtures: a VM_PFNMAP mapping (seed 002) and page pins. Expected states:
/// ../shared/semantics.md scenarios 11 and 12 (6.1, observed), with the source cited per test.
final class FixtureTests: ModuleTestCase {
    /// Seed 002: remap_pfn_range() on a private mapping sets VM_IO|VM_PFNMAP|VM_DONTEXPAND and
    /// vm_pgoff = the first PFN (mm/memory.c remap_pfn_range_internal()); it fills special PTEs
    /// at once (remap_pte_range(): pte_mkspecial(pfn_pte(pfn, prot))), read-only because a
    /// private mapping's vm_page_prot has no RW; vm_normal_page() returns NULL for them.
    func testPrivatePfnMapping() throws {
        let worker = try makeWorker()
        let base = try worker.mapFixture(pages: 4)
        let vma = try XCTUnwrap(try client.vma(pid: worker.pid, containing: base))
        XCTAssertTrue(vma.flags.isSuperset(of: VmaFlags(.pfnmap).union(VmaFlags(.io)).union(VmaFlags(.dontexpand))), "\(vma.flags.names)")
        XCTAssertNil(vma.anonVma)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + 4 * pageSize)
        XCTAssertEqual(entries.count, 4, "populated by remap_pfn_range, without a fault")
        for (i, entry) in entries.enumerated() {
            XCTAssertEqual(entry.pfn, vma.pgoff + UInt64(i), "vm_pgoff is the first PFN; page \(i)")
            XCTAssertTrue(entry.flags.contains(.special), entry.json.rendered())
            XCTAssertFalse(entry.flags.contains(.write))
            XCTAssertEqual(entry.normalPage, .specialPfnmap)
            XCTAssertEqual(entry.pfnLinear, true, "the linearity rule of remap_pfn_range() holds (seeds/002)")
            XCTAssertEqual(entry.page?.mapcount, 0, "a raw PFN mapping does not count as a mapping of the page")
            // The page is in no mapping, so its ->index word is no index (it can hold a stale
            // kernel pointer, as the fuzzer found on the 6.12 debug kernel): not reported.
            XCTAssertEqual(entry.page?.mappingKind, MappingKind.none)
            XCTAssertNil(entry.page?.index, entry.json.rendered())
        }
    }

    /// A write COWs the special PTE into an ordinary anon page: do_wp_page() gets NULL from
    /// vm_normal_page() and calls wp_page_copy(); the new page's index is linear_page_index(),
    /// i.e. vm_pgoff + offset = the original PFN (semantics.md scenario 12 step 3), up to 7.2. From
    /// 7.3 (93c0c8dc87f6, "mm/rmap: use anon pgoff to track MAP_PRIVATE file-backed anon
    /// folios") it is linear_anon_page_index(): the VMA's anonymous page offset (vm_start >>
    /// PAGE_SHIFT at mmap, mm/vma.c L2877-2878) + offset, and vm_pgoff stays the PFN.
    func testWriteCopiesIntoAnAnonPage() throws {
        let worker = try makeWorker()
        let base = try worker.mapFixture(pages: 4)
        let vma = try XCTUnwrap(try client.vma(pid: worker.pid, containing: base))
        let pgoff = vma.pgoff
        try worker.write(base + 2 * pageSize)
        let copy = try entry(pid: worker.pid, at: base + 2 * pageSize)
        XCTAssertFalse(copy.flags.contains(.special))
        XCTAssertTrue(copy.flags.isSuperset(of: [.write, .dirty]))
        XCTAssertEqual(copy.normalPage, .page, "vm_normal_page() returns the COWed page")
        XCTAssertNotEqual(copy.pfn, pgoff + 2)
        XCTAssertEqual(copy.pfnLinear, false)
        let page = try XCTUnwrap(copy.page)
        XCTAssertTrue(page.flags.isSuperset(of: [.anon, .anonExclusive]))
        if let anonPgoff = vma.anonPgoff {
            XCTAssertEqual(anonPgoff, base >> 12, "a never-faulted VMA's anon pgoff is vm_start >> PAGE_SHIFT")
            XCTAssertEqual(page.index, anonPgoff + 2, "index = linear_anon_page_index(), not the PFN")
            XCTAssertEqual(copy.indexIsLinear, false, "linear_page_index() is still vm_pgoff-based: the PFN")
        } else {
            XCTAssertEqual(page.index, pgoff + 2, "index = linear = the original PFN")
            XCTAssertEqual(copy.indexIsLinear, true)
        }
        XCTAssertNotNil(try client.vma(pid: worker.pid, containing: base)?.anonVma, "the COW prepared an anon_vma")
        XCTAssertEqual(try entry(pid: worker.pid, at: base + pageSize).normalPage, .specialPfnmap, "the other pages stay raw")
    }

    /// MAP_SHARED: not a COW mapping, so vm_pgoff stays the file offset (0) and the PTEs are
    /// writable (semantics.md scenario 12 step 6).
    func testSharedPfnMapping() throws {
        let worker = try makeWorker()
        let base = try worker.mapFixture(pages: 2, shared: true)
        let vma = try XCTUnwrap(try client.vma(pid: worker.pid, containing: base))
        XCTAssertEqual(vma.pgoff, 0)
        XCTAssertTrue(vma.flags.contains(.shared))
        let entry = try entry(pid: worker.pid, at: base)
        XCTAssertTrue(entry.flags.isSuperset(of: [.special, .write]), entry.json.rendered())
        XCTAssertEqual(entry.normalPage, .specialPfnmap)
    }

    /// A pinned exclusive page across fork: page_try_dup_anon_rmap() refuses to share a page
    /// that may be pinned (page_needs_cow_for_dma()), so copy_present_page() gives the child its
    /// own copy at fork time and the parent's page stays exclusive and writable (include/linux/
    /// rmap.h, mm/memory.c, 6.1; semantics.md scenario 11 step 2).
    func testPinnedPageIsCopiedForTheChildAtFork() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        try worker.pin(base, pages: 1, write: true, longterm: true)
        let pinned = try entry(pid: worker.pid, at: base)
        XCTAssertGreaterThanOrEqual(pinned.page?.refcount ?? 0, 1025, "FOLL_PIN adds GUP_PIN_COUNTING_BIAS (1024)")
        let child = try worker.fork()
        let parent = try entry(pid: worker.pid, at: base)
        let copy = try entry(pid: child, at: base)
        XCTAssertEqual(parent.pfn, pinned.pfn)
        XCTAssertTrue(parent.flags.contains(.write), "the parent's PTE is not write-protected")
        XCTAssertEqual(parent.page?.flags.contains(.anonExclusive), true)
        XCTAssertEqual(parent.page?.mapcount, 1)
        XCTAssertNotEqual(copy.pfn, parent.pfn, "the child got its own copy")
        XCTAssertEqual(copy.page?.flags.contains(.anonExclusive), true)
        XCTAssertEqual(copy.page?.mapcount, 1)
        try worker.unpin(base, pages: 1)
        XCTAssertLessThan(try entry(pid: worker.pid, at: base).page?.refcount ?? 0, 1024, "unpinned")
        try worker.release(child: child)
    }

    func testFixtureRefusals() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        XCTAssertThrowsError(try worker.mapFixture(pages: 65), "more than PTEINSPECT_FIXTURE_MAX_PAGES")
        XCTAssertThrowsError(try worker.unpin(base, pages: 1), "no such pin") { error in
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
        let pfnmap = try worker.mapFixture(pages: 1)
        XCTAssertThrowsError(try worker.pin(pfnmap, pages: 1), "GUP refuses VM_PFNMAP (check_vma_flags)") { error in
            XCTAssertTrue("\(error)".contains("Bad address"), "\(error)")
        }
        XCTAssertThrowsError(try worker.pin(base + 1, pages: 1), "unaligned")
        XCTAssertThrowsError(try worker.pin(base, pages: 513), "more than PTEINSPECT_PIN_MAX_PAGES")
    }

    /// The device is root-only, and refuses a process without CAP_SYS_ADMIN even if the file
    /// mode let it in.
    func testNonRootCannotOpenTheDevice() throws {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { throw XCTSkip("setpriv (util-linux) not installed") }
        let (status, stdout, _) = try run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                                     "--bounding-set=-all", "/bin/sh", "-c", "exec 3<>/dev/pteinspect && echo opened"])
        XCTAssertNotEqual(status, 0)
        XCTAssertFalse(stdout.contains("opened"))
    }
}
