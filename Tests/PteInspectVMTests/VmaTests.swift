import Glibc
import XCTest
@testable import PteInspectKit

/// VMAs, anon_vma identities and what the page records say about them. Expected values:
/// ../shared/semantics.md (rules 1, 6, 8; scenarios 1-3), with the source cited per test.
final class VmaTests: ModuleTestCase {
    private func vma(_ pid: Int32, at address: UInt64, file: StaticString = #filePath, line: UInt = #line) throws -> VmaRecord {
        try XCTUnwrap(try client.vma(pid: pid, containing: address), "no VMA at 0x\(String(address, radix: 16))", file: file, line: line)
    }

    /// mmap: vm_pgoff = addr >> PAGE_SHIFT for private anon (mm/mmap.c do_mmap), no anon_vma
    /// until the first write fault (anon_vma_prepare() in do_anonymous_page()); then the page's
    /// mapping is that anon_vma, its own root, alone on the chain, and index == linear.
    func testFreshAnonVmaGetsItsAnonVmaOnFirstWrite() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 4)
        let fresh = try vma(worker.pid, at: base)
        XCTAssertEqual(fresh.start, base)
        XCTAssertEqual(fresh.end, base + 4 * pageSize)
        XCTAssertEqual(fresh.pgoff, base >> 12)
        XCTAssertTrue(fresh.flags.isSuperset(of: VmaFlags(.read).union(VmaFlags(.write)).union(VmaFlags(.nohugepage))), "\(fresh.flags.names)")
        XCTAssertFalse(fresh.flags.contains(.shared))
        XCTAssertFalse(fresh.flags.contains(.exec))
        XCTAssertNil(fresh.anonVma)
        XCTAssertEqual(fresh.anonVmaChain, [])
        XCTAssertNil(fresh.name)

        try worker.write(base + pageSize)
        let faulted = try vma(worker.pid, at: base)
        let anonVma = try XCTUnwrap(faulted.anonVma)
        XCTAssertEqual(faulted.anonVmaRoot, anonVma, "a first anon_vma is its own root")
        XCTAssertEqual(faulted.anonVmaChain, [anonVma])
        XCTAssertEqual(faulted.id, fresh.id, "the same VMA")

        let entry = try entry(pid: worker.pid, at: base + pageSize)
        XCTAssertEqual(entry.normalPage, .page, "vm_normal_page() returns an ordinary anon page")
        XCTAssertEqual(entry.pfnLinear, false)
        XCTAssertEqual(entry.linearIndex, (base + pageSize) >> 12)
        XCTAssertEqual(entry.indexIsLinear, true)
        XCTAssertEqual(entry.page?.mappingKind, .anon)
        XCTAssertEqual(entry.page?.mappingID, anonVma, "folio->mapping is the VMA's anon_vma")
    }

    /// The zero page: special PTE, vm_normal_page() NULL because is_zero_pfn() (mm/memory.c
    /// vm_normal_page(), 6.1); not anon; a read fault does not prepare an anon_vma.
    func testZeroPageIsNotANormalPage() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.read(base)
        let entry = try entry(pid: worker.pid, at: base)
        XCTAssertEqual(entry.normalPage, .zeroPage)
        XCTAssertNil(entry.indexIsLinear)
        XCTAssertNil(try vma(worker.pid, at: base).anonVma)
    }

    /// mlock: do_mlock() sets VM_LOCKED and populates the range; in a private writable VMA
    /// populate_vma_page_range() faults with FOLL_WRITE, so every page is a fresh exclusive anon
    /// page, writable and dirty. mlock2(MLOCK_ONFAULT) sets VM_LOCKONFAULT and populates nothing.
    /// munlock clears VM_LOCKED and leaves the pages mapped (mm/mlock.c do_mlock(), mm/gup.c
    /// populate_vma_page_range(), 6.1 and 6.12).
    func testMlockPopulatesExclusivePagesAndOnfaultPopulatesNothing() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 4)
        try worker.send(WorkerCommand(Mlock(at: Address(base), pages: 2, mode: .populate)))
        try worker.send(WorkerCommand(Mlock(at: Address(base + 2 * pageSize), pages: 2, mode: .onfault)))
        XCTAssertTrue(try vma(worker.pid, at: base).flags.contains(.locked))
        XCTAssertTrue(try vma(worker.pid, at: base + 2 * pageSize).flags.contains(.locked))
        let locked = try client.entries(pid: worker.pid, start: base, end: base + 4 * pageSize)
        XCTAssertEqual(locked.map(\.address), [base, base + pageSize], "mlock populated its 2 pages, onfault none")
        for entry in locked {
            XCTAssertTrue(entry.flags.isSuperset(of: [.present, .write, .dirty]), "a write fault, not the zero page: \(entry.json.rendered())")
            XCTAssertFalse(entry.flags.contains(.zeroPage))
            XCTAssertEqual(entry.page?.flags.isSuperset(of: [.anon, .anonExclusive]), true, "\(entry.json.rendered())")
            XCTAssertEqual(entry.page?.mapcount, 1)
        }

        try worker.send(WorkerCommand(Munlock(at: Address(base), pages: 4)))
        XCTAssertFalse(try vma(worker.pid, at: base).flags.contains(.locked))
        let unlocked = try client.entries(pid: worker.pid, start: base, end: base + 4 * pageSize)
        XCTAssertEqual(unlocked.map(\.pfn), locked.map(\.pfn), "munlock leaves the pages where they are")
    }

    /// mprotect of the middle page splits the VMA in three (mm/mprotect.c mprotect_fixup ->
    /// split_vma): each part keeps the linear vm_pgoff of its start and the same anon_vma.
    func testMprotectSplitsTheVma() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 3)
        try worker.fill(base, pages: 3)
        let before = try vma(worker.pid, at: base)
        try worker.mprotect(base + pageSize, pages: 1, .read)
        let parts = try client.vmas(pid: worker.pid, start: base, end: base + 3 * pageSize)
        XCTAssertEqual(parts.map(\.start), [base, base + pageSize, base + 2 * pageSize])
        XCTAssertEqual(parts.map(\.pgoff), [base >> 12, (base >> 12) + 1, (base >> 12) + 2])
        XCTAssertEqual(parts.map { $0.flags.contains(.write) }, [true, false, true])
        XCTAssertEqual(Set(parts.compactMap(\.anonVma)), [try XCTUnwrap(before.anonVma)])
        for (i, part) in parts.enumerated() {
            let entry = try entry(pid: worker.pid, at: base + UInt64(i) * pageSize)
            XCTAssertEqual(entry.indexIsLinear, true, "page \(i)")
            XCTAssertEqual(entry.linearIndex, part.linearIndex(of: base + UInt64(i) * pageSize))
        }
    }

    /// mremap of an exclusive anon page (seeds 000, 003): no copy, no rmap update. The new VMA
    /// keeps the old linear vm_pgoff (move_vma: new_pgoff = vm_pgoff + offset) and the same
    /// anon_vma (copy_vma -> anon_vma_clone); move_ptes() moves the PTE and sets soft-dirty;
    /// folio->index is unchanged and still equals linear_page_index() at the new address
    /// (mm/mremap.c, 6.1).
    func testMremapKeepsIndexAndAnonVma() throws {
        let worker = try makeWorker()
        let old = try worker.map(pages: 2)
        try worker.write(old)
        let before = try entry(pid: worker.pid, at: old)
        let oldVma = try vma(worker.pid, at: old)

        let new = try worker.mremap(old, pages: 2)
        XCTAssertNotEqual(new, old)
        XCTAssertNil(try client.vma(pid: worker.pid, containing: old), "nothing left at the old address")
        let newVma = try vma(worker.pid, at: new)
        XCTAssertEqual(newVma.pgoff, old >> 12, "vm_pgoff is the old linear offset, not new >> PAGE_SHIFT")
        XCTAssertEqual(newVma.anonVma, oldVma.anonVma)
        let after = try entry(pid: worker.pid, at: new)
        XCTAssertEqual(after.pfn, before.pfn, "no copy")
        XCTAssertEqual(after.page?.index, before.page?.index, "folio->index untouched")
        XCTAssertEqual(after.page?.index, old >> 12)
        XCTAssertEqual(after.indexIsLinear, true)
        XCTAssertEqual(after.page?.mappingID, oldVma.anonVma)
        XCTAssertEqual(after.page?.flags.contains(.anonExclusive), true)
        XCTAssertTrue(after.flags.isSuperset(of: [.write, .dirty, .softDirty]), after.json.rendered())
    }

    /// fork (seed 003): the child's VMA gets its own anon_vma C whose root is the parent's A
    /// (anon_vma_fork(), mm/rmap.c), and its chain links both C and A, so the shared page (mapped
    /// through A) is found from the child too.
    func testForkChainsTheChildToTheParentsAnonVma() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let parentVma = try vma(worker.pid, at: base)
        let parentAnonVma = try XCTUnwrap(parentVma.anonVma)
        let child = try worker.fork()
        let childVma = try vma(child, at: base)
        let childAnonVma = try XCTUnwrap(childVma.anonVma)
        XCTAssertNotEqual(childAnonVma, parentAnonVma)
        XCTAssertEqual(childVma.anonVmaRoot, parentAnonVma)
        XCTAssertEqual(Set(childVma.anonVmaChain), [childAnonVma, parentAnonVma])
        XCTAssertEqual(childVma.pgoff, parentVma.pgoff)
        XCTAssertEqual(try vma(worker.pid, at: base).anonVmaChain, [parentAnonVma], "the parent's chain is unchanged")
        let shared = try entry(pid: child, at: base)
        XCTAssertEqual(shared.page?.mappingID, parentAnonVma, "the page stays in the parent's anon_vma")
        try worker.release(child: child)
    }

    /// Names as /proc/PID/maps shows them (fs/proc/task_mmu.c show_map_vma()).
    func testNamesMatchProcMaps() throws {
        let worker = try makeWorker()
        let vmas = try client.vmas(pid: worker.pid)
        let maps = try readProcFile("/proc/\(worker.pid)/maps")
        var expected: [UInt64: String] = [:]
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let range = fields.first?.split(separator: "-").first, let start = UInt64(range, radix: 16) else { continue }
            // [vsyscall] is the gate area (get_gate_vma(), arch/x86/entry/vsyscall/vsyscall_64.c),
            // which /proc/PID/maps appends but which is not in the mm's VMA tree.
            if line.hasSuffix("[vsyscall]") { continue }
            expected[start] = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : ""
        }
        XCTAssertEqual(vmas.count, expected.count, "one record per line of /proc/PID/maps:\n\(maps)\n\(VmaTable.render(vmas))")
        for vma in vmas {
            XCTAssertEqual(vma.name ?? "", expected[vma.start], "VMA at 0x\(String(vma.start, radix: 16))")
        }
        XCTAssertTrue(vmas.contains { $0.name == "[stack]" })
        XCTAssertTrue(vmas.contains { $0.name?.hasSuffix("/pteinspect") == true })
    }

    func testGetVmasRefusals() {
        assertRefused([], errno: EINVAL, message: "missing PTEINSPECT_A_PID", command: Command.getVmas)
        assertRefused([.u32(Attr.pid, 4_194_311)], errno: ESRCH, message: "no such process", command: Command.getVmas)
        assertRefused([.u32(Attr.pid, UInt32(getpid())), .u64(Attr.start, 0x1001)], errno: EINVAL, message: "start is not page aligned", command: Command.getVmas)
        assertRefused([.u32(Attr.pid, 2)], errno: EINVAL, message: "kernel thread", command: Command.getVmas)
    }
}
