import CPteInspect
import Glibc

/// The worker's `churn SECONDS SEED`: change its own address space as fast as it can for a while
/// (the stress test's target): mmap/munmap, writes, mremap, mprotect splits, fork (the children
/// write and exit at once), MADV_PAGEOUT/DONTNEED/COLD/WILLNEED, THPs made, collapsed
/// (MADV_COLLAPSE, 6.1+) and split. Answers "ok OPS" at the end.
enum Churn {
    struct Region {
        var base: UnsafeMutableRawPointer
        var pages: Int
        var huge: Bool
        /// Part of it was made read-only: read it, do not write it.
        var readOnly = false
    }

    /// The number of operations done (the decoder bounds `seconds` to (0, 3600]).
    static func run(seconds: Double, seed: UInt64) -> Int {
        var churner = Churner(seed: seed)
        let deadline = Deadline(seconds: seconds)
        while !deadline.passed { churner.step() }
        churner.finish()
        return churner.ops
    }
}

/// One churn run's state: the regions it holds, the children not reaped yet, the seeded choices.
/// Each step draws one operation; a seed replays the same sequence of choices.
private struct Churner {
    private static let maxRegions = 24
    private static let maxChildren = 4
    private static let hugeSize = 2 << 20

    private var rng: SplitMix64
    private var regions: [Churn.Region] = []
    private var children: [pid_t] = []
    private let page = Int(SystemPage.size)
    private(set) var ops = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func step() {
        ops += 1
        // reap exited children without waiting
        children.removeAll { waitpid($0, nil, WNOHANG) != 0 }
        switch rng.next() % 14 {
        case 0, 1: if regions.count < Self.maxRegions { mapSmall() } else { unmapOne() }
        case 2: unmapOne()
        case 3, 4: touchOne()
        case 5: moveOne()
        case 6: protectPart()
        case 7: forkWriter()
        case 8, 9: adviseOne()
        case 10: mapHuge()
        case 11: collapseHuge()
        case 12: splitHuge()
        default: usleep(UInt32(pick(2000)))
        }
    }

    /// Waits for the children and unmaps what is left.
    mutating func finish() {
        for child in children { _ = waitpid(child, nil, 0) }
        for region in regions { munmap(region.base, region.pages * page) }
        regions = []
        children = []
    }

    private mutating func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }

    /// Writes the first `pages` pages of a region (reads them where it was made read-only).
    private func touch(_ region: Churn.Region, pages: Int) {
        for i in 0..<min(pages, region.pages) {
            if region.readOnly {
                _ = region.base.load(fromByteOffset: i * page, as: UInt8.self)
            } else {
                region.base.storeBytes(of: UInt8(truncatingIfNeeded: ops), toByteOffset: i * page, as: UInt8.self)
            }
        }
    }

    private mutating func mapSmall() {
        let pages = 1 + pick(64)
        guard let base = mmap(nil, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { return }
        let region = Churn.Region(base: base, pages: pages, huge: false)
        touch(region, pages: pick(pages + 1))
        regions.append(region)
    }

    private mutating func unmapOne() {
        guard !regions.isEmpty else { return }
        let region = regions.remove(at: pick(regions.count))
        munmap(region.base, region.pages * page)
    }

    private mutating func touchOne() {
        guard !regions.isEmpty else { return }
        let region = regions[pick(regions.count)]
        touch(region, pages: region.huge ? 1 : region.pages)
    }

    /// mremap to a few pages more or less (moving when it must).
    private mutating func moveOne() {
        guard !regions.isEmpty else { return }
        let i = pick(regions.count)
        let region = regions[i]
        guard !region.huge else { return }
        let pages = max(1, region.pages + pick(9) - 4)
        if let moved = pti_mremap_grow(region.base, region.pages * page, pages * page), moved != MAP_FAILED {
            regions[i] = Churn.Region(base: moved, pages: pages, huge: false, readOnly: region.readOnly)
        }
    }

    /// mprotect part of a region read-only: splits its VMA.
    private mutating func protectPart() {
        guard !regions.isEmpty else { return }
        let i = pick(regions.count)
        let region = regions[i]
        let first = pick(region.pages), count = 1 + pick(region.pages - first)
        if mprotect(region.base + first * page, count * page, PROT_READ) == 0 { regions[i].readOnly = true }
    }

    /// A child that writes to what it inherited (COW), then leaves.
    private mutating func forkWriter() {
        guard children.count < Self.maxChildren else { return }
        let pid = fork()
        if pid == 0 {
            for region in regions.prefix(3) where region.pages > 0 && !region.readOnly {
                region.base.storeBytes(of: 1, as: UInt8.self)
            }
            _exit(0)
        }
        if pid > 0 { children.append(pid) }
    }

    private mutating func adviseOne() {
        guard !regions.isEmpty else { return }
        let region = regions[pick(regions.count)]
        let advice = [MADV_PAGEOUT, MADV_DONTNEED, MADV_COLD, MADV_WILLNEED, MADV_PAGEOUT][pick(5)]
        madvise(region.base, region.pages * page, advice)
    }

    /// 4 MiB with MADV_HUGEPAGE on its aligned 2 MiB, whose first write makes a THP.
    private mutating func mapHuge() {
        guard regions.count < Self.maxRegions else { return }
        let huge = Self.hugeSize
        guard let base = mmap(nil, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { return }
        let aligned = (UInt(bitPattern: base) + UInt(huge) - 1) & ~UInt(huge - 1)
        guard let start = UnsafeMutableRawPointer(bitPattern: aligned) else { return }
        madvise(start, huge, MADV_HUGEPAGE)
        start.storeBytes(of: 1, as: UInt8.self)
        regions.append(Churn.Region(base: base, pages: 2 * huge / page, huge: true))
    }

    private func collapseHuge() {
        guard let region = regions.first(where: \.huge) else { return }
        madvise(region.base, region.pages * page, 25)   // MADV_COLLAPSE (6.1); EINVAL elsewhere
    }

    /// mprotect one page inside the aligned 2 MiB and back: splits the PMD.
    private mutating func splitHuge() {
        guard let region = regions.first(where: \.huge) else { return }
        let offset = (256 + pick(256)) * page
        mprotect(region.base + offset, page, PROT_READ)
        mprotect(region.base + offset, page, PROT_READ | PROT_WRITE)
    }
}
