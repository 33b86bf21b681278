import Foundation
import Glibc
import XCTest
@testable import PteInspectKit

/// The reverse map as the kernel walks it (rmap_walk_anon()/rmap_walk_file(), mm/rmap.c, 6.1).
/// Expected results: ../shared/semantics.md section 3 ("rmap walk finds"), scenarios 2-4, and the
/// background documents named per test.
final class RmapTests: ModuleTestCase {
    private func hits(_ pid: Int32, _ address: UInt64) throws -> [RmapHit] {
        try client.rmap(pid: pid, address: address)
    }

    /// Writes one byte into another process through /proc/PID/mem (FOLL_FORCE, as a debugger).
    private func poke(_ pid: Int32, _ address: UInt64) throws {
        let fd = open("/proc/\(pid)/mem", O_RDWR)
        guard fd >= 0 else { throw SystemCallError("open(/proc/\(pid)/mem)") }
        defer { close(fd) }
        var byte: UInt8 = 0x77
        guard pwrite(fd, &byte, 1, off_t(Int64(bitPattern: address))) == 1 else {
            throw SystemCallError("pwrite(/proc/\(pid)/mem)")
        }
    }

    func testExclusivePageIsFoundOnlyWhereItIsMapped() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 2)
        try worker.write(base + pageSize)
        let result = try hits(worker.pid, base + pageSize + 17)
        XCTAssertEqual(result.count, 1)
        let hit = try XCTUnwrap(result.first)
        XCTAssertEqual(hit.pid, worker.pid)
        XCTAssertEqual(hit.address, base + pageSize)
        XCTAssertTrue(hit.mapped)
        XCTAssertEqual(hit.mappingKind, .anon)
        XCTAssertEqual(hit.mappingID, try client.vma(pid: worker.pid, containing: base)?.anonVma)
        XCTAssertEqual(hit.folioPfn, try entry(pid: worker.pid, at: base + pageSize).pfn)
    }

    /// After fork both processes map the page; the child VMA is in the parent's anon_vma tree
    /// (anon_vma_fork() -> anon_vma_clone()), so rmap finds both, from either side.
    func testForkedPageIsFoundInParentAndChild() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let child = try worker.fork()
        for side in [worker.pid, child] {
            let result = try hits(side, base)
            XCTAssertEqual(Set(result.map(\.pid)), [worker.pid, child], "from pid \(side)")
            XCTAssertTrue(result.allSatisfy { $0.address == base && $0.mapped }, "\(result.map(\.json))")
        }
        try worker.release(child: child)
    }

    /// The child copies the page (a forced write through /proc/PID/mem COWs it, mm/gup.c): rmap
    /// still visits the child's VMA (it stays in the parent's anon_vma tree) but the page is no
    /// longer mapped there (semantics.md S2 rmap: candidates parent mapped=1, child mapped=0).
    func testChildCopyIsVisitedButNotMapped() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let child = try worker.fork()
        try poke(child, base)
        XCTAssertNotEqual(try entry(pid: child, at: base).pfn, try entry(pid: worker.pid, at: base).pfn, "the child copied")
        let result = try hits(worker.pid, base)
        XCTAssertEqual(result.first { $0.pid == worker.pid }?.mapped, true)
        XCTAssertEqual(result.first { $0.pid == child }?.mapped, false, "\(result.map(\.json))")
        try worker.release(child: child)
    }

    /// Seed 000/003: after mremap the page keeps its index; the new VMA keeps the old vm_pgoff,
    /// so vma_address() lands on the new address.
    func testMovedPageIsFoundAtItsNewAddress() throws {
        let worker = try makeWorker()
        let old = try worker.map(pages: 2)
        try worker.write(old + pageSize)
        let new = try worker.mremap(old, pages: 2)
        let result = try hits(worker.pid, new + pageSize)
        XCTAssertEqual(result.map(\.address), [new + pageSize])
        XCTAssertEqual(result.first?.folioIndex, (old >> 12) + 1)
        XCTAssertEqual(result.first?.vmaPgoff, old >> 12)
        XCTAssertEqual(result.first?.mapped, true)
    }

    /// Seed 000's anonmm problem: the parent moves a page it shares with its child. 6.1 makes no
    /// early copy (move_ptes() has no such test) and rmap still finds both: the child at the old
    /// address, the parent at the new one (semantics.md scenario 4).
    func testSharedPageMovedByTheParentIsFoundAtBothAddresses() throws {
        let worker = try makeWorker()
        let old = try worker.map(pages: 1)
        try worker.write(old)
        let pfn = try entry(pid: worker.pid, at: old).pfn
        let child = try worker.fork()
        let new = try worker.mremap(old, pages: 1)
        XCTAssertEqual(try entry(pid: worker.pid, at: new).pfn, pfn, "no early COW")
        for side in [(worker.pid, new), (child, old)] {
            let result = try hits(side.0, side.1)
            let found = Dictionary(uniqueKeysWithValues: result.compactMap { hit in hit.pid.map { ($0, hit) } })
            XCTAssertEqual(found[worker.pid]?.address, new, "from pid \(side.0)")
            XCTAssertEqual(found[child]?.address, old, "from pid \(side.0)")
            XCTAssertTrue(result.allSatisfy(\.mapped))
        }
        try worker.release(child: child)
    }

    /// A file page (the C library's first page, mapped by every dynamically linked process) is
    /// found through the address_space's i_mmap tree, in this worker among others.
    func testFilePageIsFoundThroughIMmap() throws {
        let worker = try makeWorker()
        let libc = try XCTUnwrap(try client.vmas(pid: worker.pid).first { $0.name?.contains("/libc.so") == true }, "no libc mapping")
        try worker.read(libc.start)
        let result = try hits(worker.pid, libc.start)
        let ours = try XCTUnwrap(result.first { $0.pid == worker.pid && $0.vmaStart == libc.start })
        XCTAssertTrue(ours.mapped)
        XCTAssertEqual(ours.address, libc.start)
        XCTAssertEqual(ours.mappingKind, .file)
        XCTAssertEqual(ours.folioIndex, libc.pgoff, "a file folio's index is its offset in the file")
        XCTAssertTrue(result.allSatisfy { $0.mappingKind == .file && $0.mappingID == ours.mappingID })
    }

    func testRmapRefusals() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 2)
        try worker.read(base)
        assertRefused([.u32(Attr.pid, UInt32(worker.pid)), .u64(Attr.start, base)], errno: ENOENT, message: "zero page", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, UInt32(worker.pid)), .u64(Attr.start, base + pageSize)], errno: ENOENT, message: "hole", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, UInt32(worker.pid)), .u64(Attr.start, pageSize)], errno: ENOENT, message: "no VMA", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, UInt32(worker.pid))], errno: EINVAL, message: "missing PTEINSPECT_A_START", command: Command.getRmap)
    }
}
