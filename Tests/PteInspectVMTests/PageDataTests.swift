import Foundation
import Glibc
import XCTest
@testable import PteInspectKit
import CPteInspect

/// GET_PTES with READ_DATA (module 0.4.0): the first 4 bytes of each anonymous page and of the
/// zero page, read by the module through the kernel's mapping of the page (kmod/pteinspect_ptes.c
/// read_page_data()), never through the target's PTE.
final class PageDataTests: ModuleTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        guard try client.info().features.contains(.pageData) else {
            throw XCTSkip("this module cannot read page data (feature page_data, module 0.4.0): load the module built from this tree")
        }
    }

    private func store(_ worker: WorkerProcess, _ address: UInt64, _ value: UInt32) throws {
        try worker.send(.write(address, value: value))
    }

    /// The reason the module reads the bytes and user space does not: the child's PTEs after fork
    /// are old (copy_present_pte(): pte_mkold(), mm/memory.c, 6.1 and 6.12), and stay old however
    /// often the module reads the page; the child's own load sets the accessed bit.
    func testDataIsReadWithoutTouchingTheAccessedBit() throws {
        let worker = try makeWorker()
        let base = try worker.map(pages: 2)
        try store(worker, base, 0x5a01_2000)
        try store(worker, base + pageSize, 0x1122_3344)
        let directory = NSTemporaryDirectory() + "pteinspect-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        addTeardownBlock { rmdir(directory) }
        let child = try worker.forkWorker(fifoDirectory: directory)
        addTeardownBlock { child.stop() }

        let plain = try client.entries(pid: child.pid, start: base, end: base + 2 * pageSize)
        XCTAssertEqual(plain.map(\.data), [nil, nil], "no data unless asked for")
        XCTAssertEqual(plain.map { $0.flags.contains(.young) }, [false, false], "the child's copies of the PTEs are old")
        for _ in 0..<3 {
            let read = try client.entries(pid: child.pid, start: base, end: base + 2 * pageSize, readData: true)
            XCTAssertEqual(read.map(\.data), [0x5a01_2000, 0x1122_3344])
            XCTAssertEqual(read.map { $0.flags.contains(.young) }, [false, false], "reading the data left the accessed bit alone")
        }
        try child.read(base)
        XCTAssertTrue(try entry(pid: child.pid, at: base).flags.contains(.young), "a load by the process itself sets it")
    }

    /// The zero page (a read fault on untouched anonymous memory) reads as zeros; a page that is
    /// not anonymous (shmem, VM_PFNMAP) is not read, and neither is a swap entry.
    func testWhichPagesAreRead() throws {
        let worker = try makeWorker()
        let anon = try worker.map(pages: 1)
        try worker.read(anon)
        let zero = try XCTUnwrap(client.entries(pid: worker.pid, start: anon, end: anon + pageSize, readData: true).first)
        XCTAssertTrue(zero.flags.contains(.zeroPage))
        XCTAssertEqual(zero.data, 0, "the zero page is read: zeros")

        let shared = try worker.sendForAddress(.mapFile(name: "data-test", pages: 1, .readWrite, .shared))
        try store(worker, shared, 0x5a5a_5a5a)
        let file = try XCTUnwrap(client.entries(pid: worker.pid, start: shared, end: shared + pageSize, readData: true).first)
        XCTAssertEqual(file.page?.mappingKind, .file)
        XCTAssertNil(file.data, "a file page is not read (secretmem pages are not in the direct map)")

        if FileManager.default.fileExists(atPath: "/dev/pteinspect") {
            let fixture = try worker.mapFixture(pages: 1, shared: true)
            try worker.read(fixture)
            let pfnmap = try XCTUnwrap(client.entries(pid: worker.pid, start: fixture, end: fixture + pageSize, readData: true).first)
            XCTAssertTrue(pfnmap.flags.contains(.special))
            XCTAssertNil(pfnmap.data, "VM_PFNMAP memory is not read (it may be mapped with other cache attributes)")
        }
    }

    /// A run (struct pteinspect_entry) holds pages with equal data only: pages with distinct
    /// values are records of their own, pages with equal values form the runs they form without data.
    func testRunsHoldEqualDataOnly() throws {
        let worker = try makeWorker()
        let pages = 16
        let base = try worker.map(pages: pages)
        for i in 0..<pages { try store(worker, base + UInt64(i) * pageSize, 0x77) }
        func records(_ readData: Bool) throws -> [PageTableRecord] {
            var result: [PageTableRecord] = []
            try client.forEachRecord(pid: worker.pid, start: base, end: base + UInt64(pages) * pageSize, readData: readData) { result.append($0) }
            return result
        }
        let without = try records(false)
        let equal = try records(true)
        XCTAssertEqual(equal.map(\.count), without.map(\.count), "equal data: the same runs")
        XCTAssertTrue(equal.allSatisfy { UInt32($0.wire.has) & PTEINSPECT_HAS_DATA != 0 && $0.wire.data == 0x77 })
        for i in 0..<pages { try store(worker, base + UInt64(i) * pageSize, 0x5a00_1000 + UInt32(i)) }
        let distinct = try records(true)
        XCTAssertEqual(distinct.map(\.count), Array(repeating: 1, count: pages), "distinct data: a record per page")
        XCTAssertEqual(distinct.map(\.wire.data), (0..<pages).map { 0x5a00_1000 + UInt32($0) })
    }

    /// A PMD-mapped THP is one record: its data is its first page's.
    func testAPMDRecordCarriesItsFirstPagesData() throws {
        let worker = try makeWorker()
        let base = try worker.mapTHP()
        try store(worker, base + pageSize, 0x0bad_0001)
        try store(worker, base, 0x5a00_7000)
        let first = try XCTUnwrap(client.entries(pid: worker.pid, start: base, end: base + pageSize, readData: true).first)
        guard first.level == .pmd else { throw XCTSkip("no PMD THP here (level \(first.level.name)): THP disabled or no huge page free") }
        XCTAssertEqual(first.data, 0x5a00_7000)
        let observed = PageObservation(module: first, at: base + pageSize, vma: nil, rmap: nil, dataRead: true)
        XCTAssertEqual(observed[.data], .absent, "the record holds no data for the THP's other pages")
    }
}
