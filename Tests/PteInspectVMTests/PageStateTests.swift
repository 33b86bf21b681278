import Glibc
import XCTest
@testable import PteInspectKit

/// What the kernel holds after the simplest faults and a fork, on the real module.
/// Expected values: ../shared/semantics.md scenarios 1 and 2 (Debian 6.1.0-56, observed), and the
/// source lines cited per test.
final class PageStateTests: ModuleTestCase {
    func testInfoDescribesThisKernel() throws {
        let info = try client.info()
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        XCTAssertEqual(info.kernelRelease, release)
        XCTAssertEqual(UInt64(info.pageSize), pageSize)
        XCTAssertEqual(info.protocolVersion, PteInspectClient.protocolVersion)
        XCTAssertFalse(info.moduleVersion.isEmpty)
        // x86-64 has the swap PTE exclusive bit (6.1: __HAVE_ARCH_PTE_SWP_EXCLUSIVE; 6.3+: every
        // architecture, kmod/pteinspect_compat.h), CONFIG_HAVE_ARCH_USERFAULTFD_WP and PTE markers
        // (6.1: CONFIG_PTE_MARKER through PTE_MARKER_UFFD_WP; 6.2+: always); Debian enables THP
        // and soft-dirty. UFFDIO_MOVE from 6.8 on.
        XCTAssertTrue(info.features.isSuperset(of: [.swapExclusive, .uffdWP, .thp, .softDirty, .pmdEntries, .pteMarker]), "\(info.features.names)")
        XCTAssertEqual(info.features.contains(.uffdioMove), try kernelIsAtLeast(6, 8), "\(info.features.names)")
    }

    /// Write fault on fresh anon memory: do_anonymous_page() -> page_add_new_anon_rmap() sets
    /// PG_anon_exclusive; the PTE is built with pte_mkdirty (which on x86 also sets soft-dirty)
    /// and mkwrite (mm/memory.c do_anonymous_page, 6.1).
    func testWriteFaultMapsAnExclusiveAnonPage() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 2)
        try worker.write(base)
        let entry = try entry(pid: worker.pid, at: base)
        XCTAssertEqual(entry.kind, .present)
        XCTAssertEqual(entry.level, .pte)
        XCTAssertTrue(entry.flags.isSuperset(of: [.present, .write, .dirty, .young, .softDirty]), "\(entry.json.rendered())")
        XCTAssertFalse(entry.flags.contains(.special))
        XCTAssertFalse(entry.flags.contains(.zeroPage))
        let page = try XCTUnwrap(entry.page)
        XCTAssertTrue(page.flags.contains(.anon))
        XCTAssertTrue(page.flags.contains(.anonExclusive))
        XCTAssertFalse(page.flags.contains(.ksm))
        XCTAssertEqual(page.mapcount, 1)
        XCTAssertGreaterThanOrEqual(page.refcount, 1)
        // fresh VMA: vm_pgoff = start >> PAGE_SHIFT, so folio->index == addr >> PAGE_SHIFT
        XCTAssertEqual(page.index, base >> 12)
        XCTAssertEqual(entry.pfn, (entry.raw & 0x000f_ffff_ffff_f000) >> 12, "PFN is pte_pfn() of the raw entry")
        // The untouched second page has no entry: holes are skipped.
        XCTAssertEqual(try client.entries(pid: worker.pid, start: base + pageSize, end: base + 2 * pageSize).count, 0)
    }

    /// The soft-dirty cycle (the verb `clear-refs`): `echo 4 > /proc/self/clear_refs` clears the
    /// bit and write-protects the PTE (fs/proc/task_mmu.c clear_soft_dirty(): `ptent =
    /// pte_wrprotect(old_pte); ptent = pte_clear_soft_dirty(ptent);`, 6.1 and 6.12); the next
    /// write faults, and the exclusive page is reused writable and dirty, which on x86 sets
    /// soft-dirty again (mm/memory.c wp_page_reuse(): `maybe_mkwrite(pte_mkdirty(entry), vma)`;
    /// arch/x86 pte_mkdirty() sets _PAGE_SOFT_DIRTY).
    func testClearRefsClearsSoftDirtyUntilTheNextWrite() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        XCTAssertTrue(try entry(pid: worker.pid, at: base).flags.isSuperset(of: [.write, .softDirty]))
        try worker.send(WorkerCommand(ClearRefs()))
        let cleared = try entry(pid: worker.pid, at: base)
        XCTAssertFalse(cleared.flags.contains(.softDirty), "\(cleared.json.rendered())")
        XCTAssertFalse(cleared.flags.contains(.write), "\(cleared.json.rendered())")
        XCTAssertEqual(cleared.page?.flags.contains(.anonExclusive), true, "the page stays the process's own")
        try worker.write(base)
        let written = try entry(pid: worker.pid, at: base)
        XCTAssertTrue(written.flags.isSuperset(of: [.write, .dirty, .softDirty]), "\(written.json.rendered())")
        XCTAssertEqual(written.pfn, cleared.pfn, "reused, not copied")
    }

    /// fork: copy_present_pte() write-protects the parent's PTE of a COW mapping and
    /// page_try_dup_anon_rmap() clears PG_anon_exclusive; both map the same PFN, mapcount 2; the
    /// child's copy is pte_mkold (mm/memory.c copy_present_pte, include/linux/rmap.h, 6.1).
    func testForkWriteProtectsAndSharesThePage() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let before = try entry(pid: worker.pid, at: base)
        let child = try worker.fork()
        let parent = try entry(pid: worker.pid, at: base)
        let copy = try entry(pid: child, at: base)

        XCTAssertEqual(parent.pfn, before.pfn, "fork does not move the parent's page")
        XCTAssertEqual(copy.pfn, parent.pfn, "parent and child map the same page")
        XCTAssertFalse(parent.flags.contains(.write), "parent PTE write-protected: \(parent.json.rendered())")
        XCTAssertTrue(parent.flags.contains(.dirty))
        XCTAssertFalse(copy.flags.contains(.write))
        XCTAssertFalse(copy.flags.contains(.young), "copy_present_pte() makes the child's PTE old")
        let page = try XCTUnwrap(parent.page)
        XCTAssertTrue(page.flags.contains(.anon))
        XCTAssertFalse(page.flags.contains(.anonExclusive))
        XCTAssertEqual(page.mapcount, 2)
        XCTAssertEqual(copy.page?.mapcount, 2)
        XCTAssertEqual(copy.page?.index, page.index)
        try worker.release(child: child)
    }

    /// Read fault on fresh anon memory maps the shared zero page with a special PTE
    /// (do_anonymous_page: pte_mkspecial(pfn_pte(my_zero_pfn(addr), vma->vm_page_prot))): not
    /// anon, not writable.
    func testReadFaultMapsTheZeroPage() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.read(base)
        let entry = try entry(pid: worker.pid, at: base)
        XCTAssertTrue(entry.flags.contains(.present))
        XCTAssertTrue(entry.flags.contains(.special), "\(entry.json.rendered())")
        XCTAssertTrue(entry.flags.contains(.zeroPage))
        XCTAssertFalse(entry.flags.contains(.write))
        XCTAssertFalse(entry.flags.contains(.dirty))
        XCTAssertEqual(entry.page?.flags.contains(.anon), false)
    }

    /// A range larger than one dump batch comes back whole, in order: the cursor resumes.
    func testLargeRangeResumesAcrossBatches() throws {
        let worker = try makeWorker()
        let pages: UInt64 = 3000
        let base = try worker.map(pages: Int(pages))
        try worker.fill(base, pages: pages)
        let entries = try client.entries(pid: worker.pid, start: base, end: base + pages * pageSize)
        XCTAssertEqual(entries.count, Int(pages))
        XCTAssertEqual(entries.map(\.address), (0..<pages).map { base + $0 * pageSize })
        XCTAssertTrue(entries.allSatisfy { $0.page?.flags.contains(.anonExclusive) == true })
    }

    /// The whole user address space of a process: holes are skipped at the highest level, so this
    /// is quick, and our mapping is found among the rest.
    func testWholeAddressSpaceDump() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 4)
        try worker.write(base + pageSize)
        let started = Date()
        var count = 0
        var sawOurs = false
        var previous: UInt64 = 0
        try client.forEachEntry(pid: worker.pid, start: 0, end: 0xffff_ffff_ffff_f000) { entry in
            XCTAssertGreaterThanOrEqual(entry.address, previous, "ascending order")
            previous = entry.address
            count += 1
            if entry.address == base + pageSize { sawOurs = true }
        }
        XCTAssertTrue(sawOurs)
        XCTAssertGreaterThan(count, 1)
        print("whole address space of pid \(worker.pid): \(count) entries in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
    }
}
