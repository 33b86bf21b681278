/// One field on which the module and the pagemap files disagree.
public struct Disagreement: Equatable, CustomStringConvertible {
    public let address: UInt64
    public let field: String
    public let module: String
    public let pagemap: String

    public var description: String {
        "0x\(String(address, radix: 16)) \(field): module says \(module), pagemap says \(pagemap)"
    }
}

/// Compares what both sources report for the same pages. Only fields that both can see and that
/// cannot change between the two reads of a quiet target are compared: present/swapped, PFN,
/// swap type/offset, soft-dirty (pagemap also sets it for a VMA with VM_SOFTDIRTY), uffd-wp,
/// PageAnon, PageKsm, zero page, mapcount, mapcount == 1, and PG_anon_exclusive where kpageflags
/// shows it. LRU, dirty, young and friends move on their own and are not compared.
///
/// pagemap cannot see into VM_PFNMAP VMAs at all: walk_page_test() (mm/pagewalk.c, 6.1) hands
/// the whole VMA to pagemap_pte_hole(), so even a COWed anon page there reads as a hole. Pages in
/// such VMAs are left out of the comparison (`pagemapBlind` says which).
public enum CrossCheck {
    /// Whether pagemap reports holes for every address of this VMA.
    public static func pagemapBlind(_ vma: VmaRecord?) -> Bool {
        vma?.flags.contains(.pfnmap) ?? false
    }

    /// `quirks`: known kernel bugs in the pagemap files (PagemapQuirks); a field a quirk makes
    /// meaningless is not compared, and `PagemapQuirks.notes` says so to the user.
    public static func compare(module entries: [PageTableEntry], pagemap: [PagemapEntry], vmas: [VmaRecord],
                               pageSize: UInt64, quirks: PagemapQuirks = .current) -> [Disagreement] {
        var out: [Disagreement] = []
        let byAddress = Dictionary(pagemap.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        let moduleAddresses = Set(entries.map(\.address))
        for entry in entries {
            let note = { (field: String, module: String, pagemap: String) in
                out.append(Disagreement(address: entry.address, field: field, module: module, pagemap: pagemap))
            }
            let vma = vmas.first { $0.contains(entry.address) }
            if pagemapBlind(vma) { continue }
            guard let other = byAddress[entry.address] else {
                note("mapped", "an entry (\(entry.kind.name))", "nothing")
                continue
            }
            check(entry.isPresent, other.isPresent, "present", note)
            if entry.isPresent, let pfn = other.pfn { check(entry.pfn, pfn, "pfn", note) }
            if let swap = entry.swap, entry.kind == .swap {
                check(UInt64(swap.type), other.swapType, "swap_type", note)
                check(swap.offset, other.swapOffset, "swap_offset", note)
            }
            let vmaSoftDirty = vma?.flags.contains(.softdirty) ?? false
            if !vmaSoftDirty { check(entry.flags.contains(.softDirty), other.softDirty, "soft_dirty", note) }
            check(entry.flags.contains(.uffdWP), other.uffdWP, "uffd_wp", note)
            guard entry.isPresent, let page = entry.page, other.pageFlags != nil else { continue }
            check(page.flags.contains(.anon), other.flag(.anon), "anon", note)
            if !quirks.ksmOnEveryAnonPage { check(page.flags.contains(.ksm), other.flag(.ksm), "ksm", note) }
            check(entry.flags.contains(.zeroPage), other.flag(.zeroPage), "zero_page", note)
            // (a CONFIG_NO_PAGE_MAPCOUNT kernel keeps none for a large folio's page: /proc/kpagecount
            // shows folio_average_page_mapcount() there, nothing to compare)
            if let mapcount = page.pageMapcount {
                if let count = other.mapcount { check(UInt64(max(0, mapcount)), count, "mapcount", note) }
                if entry.normalPage == .page { check(mapcount == 1, other.exclusivelyMapped, "exclusively_mapped", note) }
            }
            if let exclusive = other.anonExclusive(ignoringKsm: quirks.ksmOnEveryAnonPage), !page.flags.contains(.large) || page.flags.contains(.head) {
                check(page.flags.contains(.anonExclusive), exclusive, "anon_exclusive", note)
            }
        }
        // Pages pagemap reports that the module does not (outside a PMD entry's range).
        let pmdRanges = entries.filter { $0.level == .pmd }.map { $0.address..<($0.address + 512 * pageSize) }
        for other in pagemap where !moduleAddresses.contains(other.address) && !pmdRanges.contains(where: { $0.contains(other.address) }) {
            out.append(Disagreement(address: other.address, field: "mapped", module: "nothing", pagemap: other.isPresent ? "present" : "swapped"))
        }
        return out
    }

    private static func check<T: Equatable>(_ module: T?, _ pagemap: T?, _ field: String, _ note: (String, String, String) -> Void) {
        guard let module, let pagemap, module != pagemap else { return }
        note(field, "\(module)", "\(pagemap)")
    }
}
