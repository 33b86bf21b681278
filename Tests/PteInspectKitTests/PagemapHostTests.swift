import Foundation
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// The pagemap backend on the machine's own kernel: no module needed, so these run on the host.
final class PagemapHostTests: ObservedTestCase {
    private let pageSize = SystemPage.size

    private func makeWorker() throws -> WorkerProcess {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binary = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("pteinspect").path
        let worker = try WorkerProcess(executable: binary)
        addTeardownBlock { worker.stop() }
        return worker
    }

    private func requirePageFlags() throws {
        guard getuid() == 0, access("/proc/kpageflags", R_OK) == 0 else {
            throw XCTSkip("PFNs and /proc/kpageflags need root (CAP_SYS_ADMIN); run the tests as root")
        }
    }

    /// A written page: present, anon, mapped once; on kernels with PG_anon_exclusive (5.19+)
    /// kpageflags bit 34 shows it (fs/proc/page.c stable_page_flags(): PG_mappedtodisk).
    /// A read page: the zero page.
    func testWrittenAndReadPages() throws {
        try requirePageFlags()
        let worker = try makeWorker()
        let base = try worker.map(pages: 3)
        try worker.write(base)
        try worker.read(base + pageSize)
        let entries = try PagemapReader(pid: worker.pid).entries(start: base, end: base + 3 * pageSize)
        XCTAssertEqual(entries.map(\.address), [base, base + pageSize], "the untouched page is not listed")
        let written = entries[0]
        XCTAssertTrue(written.isPresent)
        XCTAssertNotNil(written.pfn)
        XCTAssertEqual(written.flag(.anon), true)
        XCTAssertTrue(written.exclusivelyMapped)
        XCTAssertEqual(written.mapcount, 1)
        XCTAssertEqual(written.anonExclusive, true)
        let read = entries[1]
        XCTAssertEqual(read.flag(.zeroPage), true)
        XCTAssertEqual(read.flag(.anon), false)
        XCTAssertNil(read.anonExclusive)
    }

    /// After fork the page is mapped twice and no longer exclusive (page_try_dup_anon_rmap()).
    func testForkedPage() throws {
        try requirePageFlags()
        let worker = try makeWorker()
        let base = try worker.map(pages: 1)
        try worker.write(base)
        let child = try worker.fork()
        let parent = try XCTUnwrap(try PagemapReader(pid: worker.pid).entries(start: base, end: base + pageSize).first)
        let copy = try XCTUnwrap(try PagemapReader(pid: child).entries(start: base, end: base + pageSize).first)
        XCTAssertEqual(parent.pfn, copy.pfn)
        XCTAssertEqual(parent.mapcount, 2)
        XCTAssertFalse(parent.exclusivelyMapped)
        XCTAssertEqual(parent.anonExclusive, false)
        try worker.release(child: child)
    }

    func testDecodesSwapWords() {
        let word: UInt64 = (1 << 62) | (0x4000 << 5) | 1 | (1 << 55)
        let entry = PagemapEntry(address: 0x1000, word: word, pageFlags: nil, mapcount: nil)
        XCTAssertTrue(entry.isSwapped)
        XCTAssertFalse(entry.isPresent)
        XCTAssertEqual(entry.swapType, 1)
        XCTAssertEqual(entry.swapOffset, 0x4000)
        XCTAssertTrue(entry.softDirty)
        XCTAssertNil(entry.pfn)
        XCTAssertNil(entry.anonExclusive)
    }

    func testCrossCheckReportsEveryDifferingField() throws {
        let module = try Bytes.decodeEntry(Bytes.presentAnonEntry(address: 0x7f00_0000_0000))
        let flags = PagemapEntry.KPF.anon.mask  // not mappedtodisk: disagrees on anon_exclusive
        let pagemap = PagemapEntry(address: 0x7f00_0000_0000, word: (1 << 63) | (1 << 56) | 0x6007, pageFlags: flags, mapcount: 1)
        let result = CrossCheck.compare(module: [module], pagemap: [pagemap], vmas: [], pageSize: 4096)
        XCTAssertEqual(Set(result.map(\.field)), ["pfn", "anon_exclusive", "soft_dirty"])
        let clean = PagemapEntry(address: 0x7f00_0000_0000, word: (1 << 63) | (1 << 56) | (1 << 55) | 0x6006,
                                 pageFlags: flags | PagemapEntry.KPF.mappedToDisk.mask, mapcount: 1)
        XCTAssertEqual(CrossCheck.compare(module: [module], pagemap: [clean], vmas: [], pageSize: 4096), [])
        let extra = PagemapEntry(address: 0x7f00_0000_1000, word: 1 << 63, pageFlags: nil, mapcount: nil)
        XCTAssertEqual(CrossCheck.compare(module: [module], pagemap: [clean, extra], vmas: [], pageSize: 4096).map(\.field), ["mapped"])
    }
}
