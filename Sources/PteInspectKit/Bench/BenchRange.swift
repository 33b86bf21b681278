import Foundation
import Glibc

/// A range the benchmark's readers read: [start, end) of a helper process.
public struct BenchRange {
    public let start: UInt64
    public let end: UInt64
    public let description: String
}

/// The kinds of range the benchmark reads (issue 16): every reader over each.
public enum BenchRangeKind: String, CaseIterable {
    /// Populated 4 KiB anonymous pages (MADV_NOHUGEPAGE): one module entry per page.
    case small = "4k"
    /// The same size, MADV_HUGEPAGE, 2 MiB aligned: one module entry per PMD-mapped THP, 512
    /// pagemap pages.
    case thp
    /// 4 KiB pages, every other 2 MiB of them swapped out with MADV_PAGEOUT: present and swap
    /// entries interleaved. Sized so that the half fits the free swap.
    case halfSwapped = "half-swapped"
    /// The whole user address space (128 TiB) of a helper process that mapped nothing of its
    /// own: its binary, libraries, heap and stack, holes everywhere else.
    case sparse

    public struct Skip: Error { public let reason: String }

    /// Whether the module's entries and the pagemap readers' pages should be equal in number.
    public var moduleRecordsEqualPages: Bool { self == .small || self == .halfSwapped }

    static let huge: UInt64 = 2 << 20
    /// x86-64's 4-level user address space; the module clamps END to TASK_SIZE_MAX.
    static let userSpaceEnd: UInt64 = 1 << 47

    /// Maps, fills and arranges the range in `worker`.
    public func prepare(_ worker: WorkerProcess, mib: Int) throws -> BenchRange {
        let pageSize = SystemPage.size
        let pagesPerHuge = Self.huge / pageSize
        switch self {
        case .small:
            let pages = UInt64(mib) << 20 / pageSize
            let base = try worker.map(pages: Int(pages))
            try worker.fill(base, pages: pages)
            return BenchRange(start: base, end: base + pages * pageSize, description: "\(mib) MiB, \(pages) populated 4 KiB anonymous pages")
        case .thp:
            let setting = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
            guard setting.contains("[always]") || setting.contains("[madvise]") else {
                throw Skip(reason: "transparent hugepages are off (/sys/kernel/mm/transparent_hugepage/enabled: \(setting.trimmingCharacters(in: .whitespacesAndNewlines)))")
            }
            let pages = UInt64(mib) << 20 / pageSize
            // one 2 MiB more than needed, so that a 2 MiB-aligned range of `mib` fits inside
            let base = try worker.map(pages: Int(pages + pagesPerHuge))
            let start = (base + Self.huge - 1) & ~(Self.huge - 1)
            try worker.madvise(start, pages: Int(pages), .hugepage)
            try worker.fill(start, pages: pages)
            let end = start + pages * pageSize
            let client = try PteInspectClient()
            var pmds = 0
            try client.forEachEntry(pid: worker.pid, start: start, end: end) { if $0.level == .pmd { pmds += 1 } }
            let chunks = Int(pages / pagesPerHuge)
            guard pmds > 0 else { throw Skip(reason: "no THP formed in \(chunks) MADV_HUGEPAGE 2 MiB chunks (memory too fragmented?)") }
            return BenchRange(start: start, end: end, description: "\(mib) MiB with MADV_HUGEPAGE: \(pmds) of \(chunks) 2 MiB chunks PMD-mapped")
        case .halfSwapped:
            let free = Self.freeSwapKiB()
            guard free > 0 else { throw Skip(reason: "no swap (tools/vm-guest sets up zram; outside it: swapon a device)") }
            // half the range goes to swap: size it so that half fits, in 64 MiB steps, at most `mib`
            let fitting = min(UInt64(mib), (free * 2 / 1024) / 64 * 64)
            guard fitting >= 64 else { throw Skip(reason: "only \(free) KiB of swap free; the range's half would not fit") }
            let pages = fitting << 20 / pageSize
            let base = try worker.map(pages: Int(pages))
            try worker.fill(base, pages: pages)
            var block: UInt64 = 0
            while block * pagesPerHuge < pages {
                if block % 2 == 1 {
                    let count = min(pagesPerHuge, pages - block * pagesPerHuge)
                    try worker.madvise(base + block * Self.huge, pages: Int(count), .pageout)
                }
                block += 1
            }
            let client = try PteInspectClient()
            var swapped = 0
            try client.forEachEntry(pid: worker.pid, start: base, end: base + pages * pageSize) { if $0.kind == .swap { swapped += 1 } }
            let asked = Int(pages / pagesPerHuge / 2 * pagesPerHuge)
            let shortfall = swapped < asked * 9 / 10
                ? " (MADV_PAGEOUT was asked for \(asked): the rest stayed present, and the range is not half swapped)" : ""
            return BenchRange(start: base, end: base + pages * pageSize,
                              description: "\(fitting) MiB of 4 KiB pages, every other 2 MiB paged out: \(swapped) of \(pages) pages swapped\(shortfall)")
        case .sparse:
            let maps = (try? String(contentsOfFile: "/proc/\(worker.pid)/maps", encoding: .utf8)) ?? ""
            return BenchRange(start: 0, end: Self.userSpaceEnd,
                              description: "the whole 128 TiB user address space of a helper process (\(maps.split(separator: "\n").count) VMAs)")
        }
    }

    /// Free swap, KiB (/proc/meminfo SwapFree).
    static func freeSwapKiB() -> UInt64 {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("SwapFree:") {
            return line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
        }
        return 0
    }
}
