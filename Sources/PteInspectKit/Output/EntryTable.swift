/// Renders rows as a fixed-width table.
public enum TextTable {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                cell + String(repeating: " ", count: max(0, widths[min(i, widths.count - 1)] - cell.count))
            }.joined(separator: " ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

/// Renders entries as a fixed-width table, one row per entry: the entry's bits as 1/0 columns
/// (P W D A S SD UW = present write dirty young special soft-dirty uffd-wp), then the swap fields
/// or the PFN, vm_normal_page()'s decision (NORMAL), then the struct page (AX =
/// PageAnonExclusive, SC = swapcache, MAP/FMAP = the page's and the folio's mapcount, ORD =
/// folio order, IDX=LIN = index equals linear_page_index). "-" = not applicable.
public struct EntryTable {
    public static let header = [
        "ADDR", "LVL", "KIND", "RAW", "P", "W", "D", "A", "S", "SD", "UW", "PFN/SWAP", "NORMAL",
        "ANON", "AX", "KSM", "SC", "MAP", "FMAP", "ORD", "REF", "INDEX", "IDX=LIN",
    ]

    public static func row(_ entry: PageTableEntry) -> [String] {
        let bit: (EntryFlags) -> String = { entry.flags.contains($0) ? "1" : "0" }
        let pageBit: (PageFlags) -> String = { flag in entry.page.map { $0.flags.contains(flag) ? "1" : "0" } ?? "-" }
        var location = entry.pfn.map { "pfn 0x" + String($0, radix: 16) } ?? "-"
        if let swap = entry.swap {
            location = "swp \(swap.type):0x\(String(swap.offset, radix: 16)) X\(swap.exclusive ? 1 : 0)"
        }
        var kind = entry.kind.name
        if entry.flags.contains(.zeroPage) { kind += "(zero)" }
        return [
            "0x" + String(entry.address, radix: 16), entry.level.name, kind,
            String(entry.raw, radix: 16), bit(.present), bit(.write), bit(.dirty), bit(.young),
            bit(.special), bit(.softDirty), bit(.uffdWP), location,
            entry.normalPage.map { $0 == .page ? "page" : "NULL:" + $0.name } ?? "-",
            pageBit(.anon), pageBit(.anonExclusive), pageBit(.ksm), pageBit(.swapCache),
            entry.page?.pageMapcount.map { String($0) } ?? "-",
            entry.page?.folioMapcount.map(String.init) ?? "-",
            entry.page?.folioOrder.map(String.init) ?? "-",
            entry.page.map { String($0.refcount) } ?? "-",
            entry.page?.index.map { "0x" + String($0, radix: 16) } ?? "-",
            entry.indexIsLinear.map { $0 ? "1" : "0" } ?? "-",
        ]
    }

    /// `withData`: a last column DATA, the page's first 4 bytes (`pte --data`; "-" where the
    /// module did not read the page).
    public static func render(_ entries: [PageTableEntry], withData: Bool = false) -> String {
        guard withData else { return TextTable.render(header: header, rows: entries.map(row)) }
        return TextTable.render(header: header + ["DATA"], rows: entries.map { entry in
            row(entry) + [entry.data.map { "0x" + String($0, radix: 16) } ?? "-"]
        })
    }
}

/// Renders VMAs as a table: range, vm_pgoff, decoded flags, anon_vma identities (the first 8 hex
/// digits of each keyed hash; the chain in list order), name.
public struct VmaTable {
    public static let header = ["START", "END", "PGOFF", "FLAGS", "ANON_VMA", "ROOT", "CHAIN", "NAME"]

    static func short(_ id: UInt64?) -> String {
        guard let id else { return "-" }
        let hex = String(id, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(8))
    }

    public static func row(_ vma: VmaRecord) -> [String] {
        var chain = vma.anonVmaChain.map { short($0) }.joined(separator: ",")
        if vma.anonVmaChainLength > UInt32(vma.anonVmaChain.count) { chain += ",...(\(vma.anonVmaChainLength))" }
        return [
            "0x" + String(vma.start, radix: 16), "0x" + String(vma.end, radix: 16),
            "0x" + String(vma.pgoff, radix: 16), vma.flags.names.joined(separator: ","),
            short(vma.anonVma), short(vma.anonVmaRoot), chain.isEmpty ? "-" : chain, vma.name ?? "",
        ]
    }

    public static func render(_ vmas: [VmaRecord]) -> String {
        TextTable.render(header: header, rows: vmas.map(row))
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
