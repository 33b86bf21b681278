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
        var rng = SplitMix64(seed: seed)
        let page = Int(SystemPage.size)
        var regions: [Region] = []
        var children: [pid_t] = []
        var ops = 0
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + seconds
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        func touch(_ region: Region, pages: Int) {
            if region.readOnly {
                for i in 0..<min(pages, region.pages) { _ = region.base.load(fromByteOffset: i * page, as: UInt8.self) }
                return
            }
            for i in 0..<min(pages, region.pages) { region.base.storeBytes(of: UInt8(truncatingIfNeeded: ops), toByteOffset: i * page, as: UInt8.self) }
        }
        while true {
            clock_gettime(CLOCK_MONOTONIC, &now)
            if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 > deadline { break }
            ops += 1
            // reap exited children without waiting
            children.removeAll { waitpid($0, nil, WNOHANG) != 0 }
            switch rng.next() % 14 {
            case 0, 1:
                guard regions.count < 24 else { fallthrough }
                let pages = 1 + pick(64)
                if let base = mmap(nil, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED {
                    let region = Region(base: base, pages: pages, huge: false)
                    touch(region, pages: pick(pages + 1))
                    regions.append(region)
                }
            case 2:
                guard !regions.isEmpty else { continue }
                let region = regions.remove(at: pick(regions.count))
                munmap(region.base, region.pages * page)
            case 3, 4:
                guard !regions.isEmpty else { continue }
                let region = regions[pick(regions.count)]
                touch(region, pages: region.huge ? 1 : region.pages)
            case 5:
                guard !regions.isEmpty else { continue }
                let i = pick(regions.count)
                let region = regions[i]
                guard !region.huge else { continue }
                let pages = max(1, region.pages + pick(9) - 4)
                if let moved = pti_mremap_grow(region.base, region.pages * page, pages * page), moved != MAP_FAILED {
                    regions[i] = Region(base: moved, pages: pages, huge: false, readOnly: region.readOnly)
                }
            case 6:
                guard !regions.isEmpty else { continue }
                let i = pick(regions.count)
                let region = regions[i]
                let first = pick(region.pages), count = 1 + pick(region.pages - first)
                if mprotect(region.base + first * page, count * page, PROT_READ) == 0 { regions[i].readOnly = true }
            case 7:
                guard children.count < 4 else { continue }
                let pid = fork()
                if pid == 0 {
                    // the child writes to what it inherited (COW), then leaves
                    for region in regions.prefix(3) where region.pages > 0 && !region.readOnly {
                        region.base.storeBytes(of: 1, as: UInt8.self)
                    }
                    _exit(0)
                }
                if pid > 0 { children.append(pid) }
            case 8, 9:
                guard !regions.isEmpty else { continue }
                let region = regions[pick(regions.count)]
                let advice = [MADV_PAGEOUT, MADV_DONTNEED, MADV_COLD, MADV_WILLNEED, MADV_PAGEOUT][pick(5)]
                madvise(region.base, region.pages * page, advice)
            case 10:
                guard regions.count < 24 else { continue }
                let huge = 2 << 20
                guard let base = mmap(nil, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else { continue }
                let aligned = (UInt(bitPattern: base) + UInt(huge) - 1) & ~UInt(huge - 1)
                guard let start = UnsafeMutableRawPointer(bitPattern: aligned) else { continue }
                madvise(start, huge, MADV_HUGEPAGE)
                start.storeBytes(of: 1, as: UInt8.self)
                regions.append(Region(base: base, pages: 2 * huge / page, huge: true))
            case 11:
                guard let region = regions.first(where: \.huge) else { continue }
                madvise(region.base, region.pages * page, 25)   // MADV_COLLAPSE (6.1); EINVAL elsewhere
            case 12:
                guard let region = regions.first(where: \.huge) else { continue }
                let offset = (256 + pick(256)) * page   // inside the aligned 2 MiB: splits the PMD
                mprotect(region.base + offset, page, PROT_READ)
                mprotect(region.base + offset, page, PROT_READ | PROT_WRITE)
            default:
                usleep(UInt32(pick(2000)))
            }
        }
        for child in children { _ = waitpid(child, nil, 0) }
        for region in regions { munmap(region.base, region.pages * page) }
        return ops
    }
}
