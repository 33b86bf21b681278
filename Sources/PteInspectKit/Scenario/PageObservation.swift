/// What one backend saw of one page after one step. A field missing from `values` is one this
/// backend cannot see; `.absent` means it does not apply (e.g. no struct page behind a swap entry).
public struct PageObservation: Equatable {
    public var values: [PageField: FieldValue]

    public init(_ values: [PageField: FieldValue] = [:]) { self.values = values }

    public subscript(field: PageField) -> FieldValue? { values[field] }
}

extension PageObservation {
    /// From the module: the entry that maps `address` (a PMD record covers 2 MiB: the values are
    /// those of the 4 KiB page inside it), the VMA containing it, and the rmap hits, already
    /// named by the caller. `dataRead`: the entry was read with READ_DATA, so `data` is seen (the
    /// first 4 bytes of an anonymous page, absent elsewhere; of a PMD record, its first page only).
    public init(module entry: PageTableEntry?, at address: UInt64, vma: VmaRecord?, rmap: [String]?, pageShift: UInt64 = 12,
                dataRead: Bool = false) {
        var v: [PageField: FieldValue] = [:]
        let sub = entry.map { (address - $0.address) >> pageShift } ?? 0
        v[.virtualPage] = .hex(address >> pageShift)
        Self.addEntry(entry, sub: sub, to: &v)
        Self.addPage(entry?.page, sub: sub, to: &v)
        v[.linearIndex] = entry?.linearIndex.map { .hex($0 + sub) } ?? vma.map { .hex($0.linearIndex(of: address, pageShift: pageShift)) } ?? .absent
        v[.anonLinearIndex] = vma.map { .hex($0.anonLinearIndex(of: address, pageShift: pageShift)) } ?? .absent
        if let isLinear = entry?.indexIsLinear, entry?.page?.flags.contains(.ksm) == false {
            v[.indexIsLinear] = .bool(isLinear)
        } else {
            v[.indexIsLinear] = .absent
        }
        Self.addVma(vma, to: &v)
        // pte_to_pagemap_entry(): `if (pte_soft_dirty(pte))` / `if (pte_swp_soft_dirty(pte))` for
        // the entry, then `if (vma->vm_flags & VM_SOFTDIRTY) flags |= PM_SOFT_DIRTY;` for any
        // address of the VMA (fs/proc/task_mmu.c, 6.1.192 L1419 and L1455, 6.12.118 L1725 and
        // L1764, 7.3.4 L2041 and L2086)
        if let vma {
            v[.pagemapSoftDirty] = .bool(entry?.flags.contains(.softDirty) == true || vma.flags.contains(.softdirty))
        } else {
            v[.pagemapSoftDirty] = .absent
        }
        v[.rmap] = rmap.map { .set($0) } ?? .absent
        if dataRead {
            v[.data] = sub == 0 ? entry?.data.map { .hex(UInt64($0)) } ?? .absent : .absent
        }
        self.init(v)
    }

    /// The entry's own fields: level, PFN (of the 4 KiB page `sub` pages into it), its bits, the
    /// swap entry or marker, vm_normal_page()'s decision.
    private static func addEntry(_ entry: PageTableEntry?, sub: UInt64, to v: inout [PageField: FieldValue]) {
        v[.mapped] = .bool(entry != nil)
        v[.present] = .bool(entry?.isPresent ?? false)
        v[.swapped] = .bool(entry?.kind == .swap)
        v[.level] = entry.map { .text($0.level.name) } ?? .absent
        v[.pfn] = entry?.pfn.map { .hex($0 + sub) } ?? .absent
        let flags = entry?.flags ?? []
        let present = entry?.isPresent ?? false
        for (field, flag) in [(PageField.write, EntryFlags.write), (.dirty, .dirty), (.young, .young), (.special, .special)] {
            v[field] = present ? .bool(flags.contains(flag)) : .absent
        }
        v[.softDirty] = entry == nil ? .absent : .bool(flags.contains(.softDirty))
        v[.uffdWP] = entry == nil ? .absent : .bool(flags.contains(.uffdWP))
        v[.protnone] = present ? entry.flatMap { x86Protnone($0.raw) }.map { .bool($0) } ?? .absent : .absent
        v[.swapExclusive] = entry?.swap.map { .bool($0.exclusive) } ?? .absent
        v[.swapSlot] = entry?.kind == .swap ? entry?.swap.map { .text(PageObservation.slot(type: UInt64($0.type), offset: $0.offset)) } ?? .absent : .absent
        v[.pteMarker] = entry?.marker.map { .set($0.names) } ?? .absent
        v[.zeroPage] = present ? .bool(flags.contains(.zeroPage)) : .absent
        v[.normalPage] = entry?.normalPage.map { decision in decision.returnsPage.map { .bool($0) } ?? .text(decision.name) } ?? .absent
        v[.pfnLinear] = entry?.pfnLinear.map { .bool($0) } ?? .absent
    }

    /// x86-64's pte_protnone()/pmd_protnone() of a raw entry: `(pte_flags(pte) & (_PAGE_PROTNONE |
    /// _PAGE_PRESENT)) == _PAGE_PROTNONE`, _PAGE_PRESENT bit 0, _PAGE_PROTNONE bit 8 (=
    /// _PAGE_BIT_GLOBAL) (arch/x86/include/asm/pgtable.h and pgtable_types.h, the same in 6.1,
    /// 6.12 and 7.3). nil on another architecture: the field is then absent.
    static func x86Protnone(_ raw: UInt64) -> Bool? {
        #if arch(x86_64)
        return raw & 0x101 == 0x100
        #else
        return nil
        #endif
    }

    /// The struct page (and folio) behind a present entry; all absent where there is none.
    private static func addPage(_ page: PageState?, sub: UInt64, to v: inout [PageField: FieldValue]) {
        guard let page else {
            for field in [PageField.anon, .anonExclusive, .ksm, .swapCache, .large, .mapcount, .mappedOnce, .refcount, .folioMapcount,
                          .folioOrder, .index, .pageAnonVma] {
                v[field] = .absent
            }
            return
        }
        let isKsm = page.flags.contains(.ksm)
        v[.anon] = .bool(page.flags.contains(.anon))
        // For KSM pages too: write_protect_page() clears it when merging (never exclusive).
        v[.anonExclusive] = page.flags.contains(.anon) ? .bool(page.flags.contains(.anonExclusive)) : .absent
        v[.ksm] = .bool(isKsm)
        v[.swapCache] = .bool(page.flags.contains(.swapCache))
        v[.large] = .bool(page.flags.contains(.large))
        v[.mapcount] = page.pageMapcount.map { .number(UInt64(max($0, 0))) } ?? .absent
        v[.mappedOnce] = page.pageMapcount.map { .bool($0 == 1) } ?? .absent
        v[.refcount] = .number(UInt64(max(page.refcount, 0)))
        v[.folioMapcount] = page.folioMapcount.map { .number(UInt64(max($0, 0))) } ?? .absent
        v[.folioOrder] = page.folioOrder.map { .number(UInt64($0)) } ?? .absent
        v[.index] = isKsm ? .absent : page.index.map { .hex($0 + sub) } ?? .absent
        v[.pageAnonVma] = page.mappingKind == .anon ? page.mappingID.map { .hex($0) } ?? .absent : .absent
    }

    /// The VMA containing the page: vm_pgoff, anon_vma, its root and chain, the flags.
    private static func addVma(_ vma: VmaRecord?, to v: inout [PageField: FieldValue]) {
        v[.vmaExists] = .bool(vma != nil)
        v[.vmaPgoff] = vma.map { .hex($0.pgoff) } ?? .absent
        v[.vmaAnonPgoff] = vma.map { .hex($0.anonIndexBase) } ?? .absent
        v[.vmaAnonVma] = vma?.anonVma.map { .hex($0) } ?? .absent
        v[.vmaAnonVmaRoot] = vma?.anonVmaRoot.map { .hex($0) } ?? .absent
        v[.vmaChain] = vma.map { .set($0.anonVmaChain.map { "0x" + String($0, radix: 16) }) } ?? .absent
        for flag in VmaFlag.allCases {
            v[.vmaFlag(flag)] = vma.map { .bool($0.flags.contains(flag)) } ?? .absent
        }
    }

    /// The fields the module backend fills (`data` only from a module that reads it, 0.4.0).
    public static func moduleCanSee(_ field: PageField, readsData: Bool = true) -> Bool { field != .data || readsData }

    /// From /proc/PID/pagemap + /proc/kpageflags + /proc/kpagecount (nil: no entry there).
    /// `soft_dirty` is left out on purpose: pagemap also reports it for a VMA with VM_SOFTDIRTY, so
    /// it is not the PTE bit that field is; pagemap's own bit is `pagemap.soft_dirty`.
    /// `quirks`: a field a known kernel bug makes meaningless is left out (not seen).
    public init(pagemap entry: PagemapEntry?, at address: UInt64, pageShift: UInt64 = 12, quirks: PagemapQuirks = .none) {
        var v: [PageField: FieldValue] = [:]
        v[.virtualPage] = .hex(address >> pageShift)
        v[.mapped] = .bool(entry?.isMapped ?? false)
        v[.present] = .bool(entry?.isPresent ?? false)
        v[.swapped] = .bool(entry?.isSwapped ?? false)
        if let type = entry?.swapType, let offset = entry?.swapOffset {
            v[.swapSlot] = .text(PageObservation.slot(type: type, offset: offset))
        } else {
            v[.swapSlot] = .absent
        }
        v[.pfn] = entry?.pfn.map { .hex($0) } ?? .absent
        v[.uffdWP] = entry.map { .bool($0.uffdWP) } ?? .absent
        v[.pagemapSoftDirty] = entry.map { .bool($0.softDirty) } ?? .absent
        let hasPage = entry?.pageFlags != nil
        v[.zeroPage] = entry?.flag(.zeroPage).map { .bool($0) } ?? .absent
        let isZero = entry?.flag(.zeroPage) == true
        v[.anon] = hasPage && !isZero ? entry?.flag(.anon).map { .bool($0) } ?? .absent : .absent
        if !quirks.ksmOnEveryAnonPage {
            v[.ksm] = hasPage && !isZero ? entry?.flag(.ksm).map { .bool($0) } ?? .absent : .absent
        }
        v[.swapCache] = hasPage && !isZero ? entry?.flag(.swapcache).map { .bool($0) } ?? .absent : .absent
        v[.large] = hasPage && !isZero ? entry?.flag(.thp).map { .bool($0) } ?? .absent : .absent
        // kpageflags bit 34 is PG_anon_exclusive for anon pages (KSM included); THP tails do not carry it.
        if let flags = entry?.pageFlags, flags & PagemapEntry.KPF.anon.mask != 0, flags & PagemapEntry.KPF.compoundTail.mask == 0 {
            v[.anonExclusive] = .bool(flags & PagemapEntry.KPF.mappedToDisk.mask != 0)
        } else {
            v[.anonExclusive] = .absent
        }
        v[.mapcount] = hasPage && !isZero ? entry?.mapcount.map { .number($0) } ?? .absent : .absent
        v[.mappedOnce] = entry?.isPresent == true && !isZero ? .bool(entry?.exclusivelyMapped ?? false) : .absent
        self.init(v)
    }

    /// The fields the pagemap backend fills.
    public static func pagemapCanSee(_ field: PageField) -> Bool {
        switch field {
        case .virtualPage, .mapped, .present, .swapped, .swapSlot, .pfn, .uffdWP, .pagemapSoftDirty, .zeroPage, .anon, .ksm, .swapCache, .large,
             .anonExclusive, .mapcount, .mappedOnce:
            return true
        default:
            return false
        }
    }

    /// A swap slot as the reports write it: "TYPE:0xOFFSET".
    static func slot(type: UInt64, offset: UInt64) -> String { "\(type):0x" + String(offset, radix: 16) }
}
