import Foundation

/// A kind of anonymous page a scenario can run over (`kinds:` in a scenario file, `map-kind P` in
/// its steps): the scenario runs once per kind, and `map-kind` makes that kind at P. The kinds are
/// the runners of the kernel's tools/testing/selftests/mm/cow.c (6.12: run_with_base_page(),
/// run_with_thp() with THP_RUN_PMD / THP_RUN_PTE / THP_RUN_SINGLE_PTE and their *_SWAPOUT
/// variants, one per THP size), made the same way; and shared anonymous memory (shmem, small and
/// a PMD THP: cow.c's run_with_memfd() / run_with_memfd_hugetlb() side, for scenarios where the
/// page is shared, not copied). docs/design/page-kinds-research.md maps what
/// fork, the write after it, MADV_PAGEOUT, swap-in and mremap do to each on 6.1 and 6.12.
public struct PageKind: Hashable, CustomStringConvertible {
    public enum Shape: Hashable {
        /// An order-0 page (MADV_NOHUGEPAGE).
        case small
        /// A PMD-mapped THP.
        case thp
        /// A THP mapped by 512 PTEs: a PMD split by an mprotect() of one subpage (cow.c THP_RUN_PTE).
        case thpPTE
        /// A single PTE of a THP: a split THP with every other subpage MADV_DONTNEED'd
        /// (cow.c THP_RUN_SINGLE_PTE).
        case thpSingle
        /// A multi-size THP of `kB` KiB (anonymous mTHP, 6.8+), mapped by PTEs.
        case mthp(kB: Int)
        /// A page of a MAP_SHARED|MAP_ANONYMOUS mapping: shmem, in its file's page cache (MADV_NOHUGEPAGE).
        case shmem
        /// A PMD-mapped shmem THP: shmem_enabled advise, a 2 MiB-aligned shared anonymous MADV_HUGEPAGE range.
        case shmemTHP
    }

    /// shmem, not anonymous memory: shared, never copied on write, not swapped by a swap PTE.
    public var isShmem: Bool { shape == .shmem || shape == .shmemTHP }

    public let shape: Shape
    /// Paged out after it is made (MADV_PAGEOUT over the whole folio), as cow.c's *_SWAPOUT runners.
    public let swapped: Bool

    public init(_ shape: Shape, swapped: Bool = false) {
        self.shape = shape
        self.swapped = swapped
    }

    /// The mTHP sizes a name may use on x86-64: orders 2 to 8 (16 KiB to 1 MiB), below the PMD
    /// order (THP_ORDERS_ALL_ANON, include/linux/huge_mm.h: orders 0 and 1 excluded).
    public static let mthpSizes = [16, 32, 64, 128, 256, 512, 1024]

    /// The name in a scenario file and the reports: small, thp, thp-pte, thp-single, mthp-64kB,
    /// each with `-swapped` after it.
    public var description: String { shapeName + (swapped ? "-swapped" : "") }

    var shapeName: String {
        switch shape {
        case .small: return "small"
        case .thp: return "thp"
        case .thpPTE: return "thp-pte"
        case .thpSingle: return "thp-single"
        case let .mthp(kB): return "mthp-\(kB)kB"
        case .shmem: return "shmem"
        case .shmemTHP: return "shmem-thp"
        }
    }

    public init?(name: String) {
        var base = Substring(name)
        let swapped = base.hasSuffix("-swapped")
        if swapped { base = base.dropLast("-swapped".count) }
        switch base {
        case "small": self.init(.small, swapped: swapped)
        case "thp": self.init(.thp, swapped: swapped)
        case "thp-pte": self.init(.thpPTE, swapped: swapped)
        case "thp-single": self.init(.thpSingle, swapped: swapped)
        // A paged-out shmem page leaves no swap PTE (the entry is in its file's page cache, the
        // PTE is cleared): not a kind a swap PTE can be checked on.
        case "shmem" where !swapped: self.init(.shmem)
        case "shmem-thp" where !swapped: self.init(.shmemTHP)
        default:
            guard base.hasPrefix("mthp-"), base.hasSuffix("kB"), let kB = Int(base.dropFirst("mthp-".count).dropLast(2)),
                  Self.mthpSizes.contains(kB) else { return nil }
            self.init(.mthp(kB: kB), swapped: swapped)
        }
    }

    /// Every name, for error messages.
    public static var names: [String] {
        let shapes = ["small", "thp", "thp-pte", "thp-single"] + mthpSizes.map { "mthp-\($0)kB" }
        return shapes + shapes.map { $0 + "-swapped" } + ["shmem", "shmem-thp"]
    }

    /// The names for a person: "small, thp, thp-pte, thp-single, mthp-16kB ... mthp-1024kB (each
    /// also -swapped), shmem, shmem-thp".
    public static var namesHint: String {
        let mthp = mthpSizes.count > 1 ? "mthp-\(mthpSizes[0])kB ... mthp-\(mthpSizes[mthpSizes.count - 1])kB" : mthpSizes.map { "mthp-\($0)kB" }.joined()
        return "small, thp, thp-pte, thp-single, \(mthp) (each also -swapped), shmem, shmem-thp"
    }

    /// Words an expectation's `kinds:` may use for several kinds at once.
    public static let groups: [String: (PageKind) -> Bool] = [
        "swapped": { $0.swapped },
        "resident": { !$0.swapped },
        "large": { $0.shape != .small && $0.shape != .shmem },
        "pte-mapped-large": {
            switch $0.shape {
            case .thpPTE, .thpSingle, .mthp: return true
            case .small, .thp, .shmem, .shmemTHP: return false
            }
        },
        "mthp": { if case .mthp = $0.shape { return !$0.swapped }; return false },
        "mthp-swapped": { if case .mthp = $0.shape { return $0.swapped }; return false },
        "anonymous": { !$0.isShmem },
        "shmem": { $0.isShmem },
    ]

    /// Pages the folio spans: what `map-kind` maps.
    public var pages: Int {
        switch shape {
        case .small, .shmem: return 1
        case .thp, .thpPTE, .thpSingle, .shmemTHP: return 512
        case let .mthp(kB): return kB * 1024 / Int(SystemPage.size)
        }
    }

    /// log2 of `pages` for the large kinds: the folio order the kernel must report.
    public var order: Int { pages.trailingZeroBitCount }

    /// The sysfs file that enables this mTHP size (`hugepages-<size>kB/enabled`, 6.8+).
    public var mthpControl: String? {
        guard case let .mthp(kB) = shape else { return nil }
        return "/sys/kernel/mm/transparent_hugepage/hugepages-\(kB)kB/enabled"
    }

    static let pmdControl = "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled"

    /// khugepaged's pause between scans. khugepaged collapses what a scenario made into a new THP
    /// at a new PFN while the scenario watches it: the 512 order-0 copies a child of a pinned THP
    /// gets at fork (kind-pin-fork[thp] saw the child's P PMD-mapped at a new PFN), and a
    /// thp-single range with one present PTE and 511 none (khugepaged/max_ptes_none is 511 by
    /// default; kind-ksm[thp-single] saw P move to 2 MiB-aligned PFNs 0x10600 and 0x10800
    /// before ksmd ran). Every range made with MADV_HUGEPAGE holds it off: a day's sleep
    /// (mm/khugepaged.c scan_sleep_millisecs_store() wakes khugepaged once, then khugepaged_wait_work()
    /// sleeps that long), the old value written back when the scenario ends.
    static let khugepagedSleep = "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs"
    static let khugepagedHoldMillis = "86400000"
    /// How long khugepaged sleeps inside a pass after it failed to allocate a huge page; 0 while
    /// held (PageKindMaking.holdKhugepaged says why).
    static let khugepagedAllocSleep = "/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs"

    /// Whether making this kind maps a MADV_HUGEPAGE range khugepaged could collapse.
    var holdsKhugepaged: Bool { shape != .small && shape != .shmem }

    /// shmem's THP setting (mm/shmem.c shmem_enabled_store(); 2.6.38's "huge=" for the internal mount).
    static let shmemControl = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
    /// 6.11+: anonymous shmem's per-size setting; PMD size defaults to "inherit" (the top-level one).
    static let shmemPMDControl = "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/shmem_enabled"

    /// The counter that says a folio of this kind went to swap whole, not split first: for a PMD
    /// THP /proc/vmstat thp_swpout, for an mTHP hugepages-NkB/stats/swpout (6.10+), both counted
    /// by count_swpout_vm_event() (mm/page_io.c, 6.1 and 6.12; on 6.12 not for a folio that is all zeros,
    /// which swap_writepage() records in the zeromap without I/O, nor for one zswap stores); nil for a small page.
    var swapOutCounter: (path: String, key: String?, name: String)? {
        switch shape {
        case .small, .shmem, .shmemTHP: return nil
        case .thp, .thpPTE, .thpSingle: return ("/proc/vmstat", "thp_swpout", "thp_swpout")
        case let .mthp(kB):
            return ("/sys/kernel/mm/transparent_hugepage/hugepages-\(kB)kB/stats/swpout", nil, "hugepages-\(kB)kB/stats/swpout")
        }
    }

    /// The counter's value now (nil: this kernel has no such counter).
    func swapOutCount() -> UInt64? {
        guard let counter = swapOutCounter, let text = try? String(contentsOfFile: counter.path, encoding: .utf8) else { return nil }
        guard let key = counter.key else { return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == key { return UInt64(words[1]) }
        }
        return nil
    }

    /// How the page-out went, for the step's outcome: whole, or split first (the kind's pages
    /// then went out as small pages: on 6.1 and 6.12 MADV_PAGEOUT splits a large folio it does not
    /// map whole, and reclaim splits one it finds no contiguous swap space for).
    func swapOutNote(before: UInt64?, after: UInt64?) -> String? {
        guard let counter = swapOutCounter else { return nil }
        guard let before, let after else { return "this kernel has no \(counter.name): whether the folio went out whole is not known" }
        return after > before ? "swapped out whole (\(counter.name) +\(after - before))"
            : "split before swap-out (\(counter.name) +0): its pages went out as small pages"
    }

    /// What `map-kind` does, in words (the step's description).
    public var recipe: String {
        var words: String
        switch shape {
        case .small: words = "mmap 1 page, write it (a 1-page VMA holds no large folio)"
        case .thp: words = "mmap 4 MiB, MADV_HUGEPAGE on its 2 MiB-aligned middle, write its first byte (a PMD THP)"
        case .thpPTE: words = "a PMD THP (MADV_HUGEPAGE, write), then mprotect its second page r and back to rw (splits the PMD: 512 PTEs)"
        case .thpSingle: words = "a PMD THP split by mprotect, then MADV_DONTNEED of pages +1..+511 (one PTE of the THP left)"
        case let .mthp(kB): words = "hugepages-\(kB)kB/enabled = always, every other size never, a 2 MiB-aligned MADV_HUGEPAGE range, write its first byte (a \(kB) KiB folio)"
        case .shmem: words = "mmap 1 page MAP_SHARED|MAP_ANONYMOUS, write it (a shmem page)"
        case .shmemTHP: words = "shmem_enabled = advise, a 2 MiB-aligned MAP_SHARED|MAP_ANONYMOUS MADV_HUGEPAGE range, write its first byte (a PMD-mapped shmem THP)"
        }
        if pages > 1 { words += "; then each of its \(pages) pages gets its own tag" }
        if swapped { words += "; then MADV_PAGEOUT of its \(pages) page\(pages == 1 ? "" : "s")" }
        return words
    }

    /// Why this kind cannot be made on this machine, or nil: checked before the scenario runs.
    func unmet(_ environment: ScenarioEnvironment) -> String? {
        if shape == .shmemTHP {
            guard access(Self.shmemControl, W_OK) == 0 else {
                return "kind \(self): no writable \(Self.shmemControl) (CONFIG_TRANSPARENT_HUGEPAGE with shmem, root)"
            }
        } else if shape != .small && shape != .shmem, let reason = environment.unmet(.thp) {
            return "kind \(self) " + reason
        }
        if swapped, let reason = environment.unmet(.swap) { return "kind \(self) " + reason }
        if let control = mthpControl, access(control, W_OK) != 0 {
            return "kind \(self): this kernel (\(environment.kernelRelease)) has no \(control): anonymous multi-size THP came in v6.8 "
                + "(Ryan Roberts' \"mm: thp: support allocation of anonymous multi-size THP\")"
        }
        return nil
    }

    /// Why what `map-kind` made at P is not this kind, or nil (cow.c's "Did not get a THP
    /// populated" SKIP): the observation of P right after it. A kernel that would not give the
    /// kind here (THP allocation failed, the folio was split on swap-out) cannot show its
    /// semantics: the run is a SKIP with the reason, not a FAIL of the scenario's expectations.
    func notMade(_ page: PageObservation) -> String? {
        func value(_ field: PageField) -> String { page[field]?.description ?? "-" }
        if swapped {
            // What it was before the page-out is checked first (ScenarioRunner: the kind's shape).
            guard page[.swapped] == .bool(true) else {
                return "MADV_PAGEOUT did not swap P out (present \(value(.present)), swapped \(value(.swapped))): a full or slow swap device?"
            }
            return nil
        }
        guard page[.present] == .bool(true) else { return "P is not present after the write (present \(value(.present)))" }
        if isShmem, page[.anon] != .bool(false) { return "P is an anonymous page (PageAnon \(value(.anon))), not shmem" }
        switch shape {
        case .small:
            return page[.large] == .bool(false) ? nil : "P is in a large folio (order \(value(.folioOrder))), not an order-0 page"
        case .shmem:
            return page[.large] == .bool(false) ? nil : "P is in a large shmem folio (order \(value(.folioOrder))), not an order-0 page"
        case .shmemTHP:
            return page[.level] == .text("pmd") && page[.folioOrder]?.matches(.number(9)) == true ? nil
                : "the kernel did not map a PMD shmem THP at P (level \(value(.level)), order \(value(.folioOrder))): shmem THP allocation failed or is off"
        case .thp:
            return page[.level] == .text("pmd") ? nil
                : "the kernel did not map a PMD THP at P (level \(value(.level)), order \(value(.folioOrder))): THP allocation failed (fragmented memory?) or THP is off"
        case .thpPTE, .thpSingle, .mthp:
            guard page[.level] == .text("pte"), page[.folioOrder]?.matches(.number(UInt64(order))) == true else {
                return "the kernel did not give P a PTE-mapped folio of order \(order) (level \(value(.level)), order \(value(.folioOrder))): allocation failed (fragmented memory?)"
            }
            if shape == .thpSingle, page[.folioMapcount]?.matches(.number(1)) != true {
                return "P's THP is still mapped \(value(.folioMapcount)) times after MADV_DONTNEED of the other 511 pages"
            }
            return nil
        }
    }
}
