/// Renders entries as a fixed-width table, one row per entry: the entry's bits as 1/0 columns
/// (P W D A S SD UW = present write dirty young special soft-dirty uffd-wp), then the swap fields
/// or the PFN, then the struct page (AX = PageAnonExclusive, SC = swapcache). "-" = not applicable.
public struct EntryTable {
    public static let header = [
        "ADDR", "LVL", "KIND", "RAW", "P", "W", "D", "A", "S", "SD", "UW", "PFN/SWAP",
        "ANON", "AX", "KSM", "SC", "MAP", "REF", "INDEX",
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
            pageBit(.anon), pageBit(.anonExclusive), pageBit(.ksm), pageBit(.swapCache),
            entry.page.map { String($0.mapcount) } ?? "-",
            entry.page.map { String($0.refcount) } ?? "-",
            entry.page.map { "0x" + String($0.index, radix: 16) } ?? "-",
        ]
    }

    public static func render(_ entries: [PageTableEntry]) -> String {
        let rows = [header] + entries.map(row)
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: " ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
