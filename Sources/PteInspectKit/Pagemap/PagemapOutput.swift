extension PagemapEntry {
    /// The `pte --backend pagemap --json` object: the module backend's keys, null where these
    /// files cannot tell (raw entry, write, dirty, young, special, refcount, index, swap exclusive).
    public var json: JSONValue {
        let bit: (KPF) -> JSONValue = { flag($0).map(JSONValue.bool) ?? .null }
        return .object([
            ("addr", .hex(address)),
            ("level", .null),
            ("kind", .string(isPresent ? "present" : "swap")),
            ("raw", .null),
            ("pagemap", .hex(word)),
            ("present", .bool(isPresent)),
            ("write", .null), ("dirty", .null), ("young", .null), ("special", .null),
            ("soft_dirty", .bool(softDirty)),
            ("uffd_wp", .bool(uffdWP)),
            ("zero_page", bit(.zeroPage)),
            ("pfn", pfn.map { .uint($0) } ?? .null),
            ("anon", bit(.anon)),
            ("anon_exclusive", anonExclusive.map(JSONValue.bool) ?? .null),
            ("ksm", bit(.ksm)),
            ("swapcache", bit(.swapcache)),
            ("mapcount", mapcount.map { .uint($0) } ?? .null),
            ("refcount", .null),
            ("index", .null),
            ("exclusively_mapped", .bool(exclusivelyMapped)),
            ("file_or_shared_anon", .bool(fileOrSharedAnon)),
            ("thp", bit(.thp)),
            ("lru", bit(.lru)),
            ("page_dirty", bit(.dirty)),
            ("swap", isSwapped ? .object([
                ("type", swapType.map { .uint($0) } ?? .null),
                ("offset", swapOffset.map { .uint($0) } ?? .null),
                ("exclusive", .null),
            ]) : .null),
        ])
    }
}

/// `pte --backend pagemap` as a table. EXCL = mapped exactly once (PM_MMAP_EXCLUSIVE); AX =
/// PG_anon_exclusive from kpageflags bit 34 ("-" where it cannot be told, e.g. THP tails).
public enum PagemapTable {
    public static let header = ["ADDR", "P", "SWP", "PFN/SWAP", "SD", "UW", "EXCL", "ANON", "AX", "KSM", "THP", "ZERO", "SC", "MAP"]

    public static func render(_ entries: [PagemapEntry]) -> String {
        TextTable.render(header: header, rows: entries.map { e in
            let bit: (Bool?) -> String = { $0.map { $0 ? "1" : "0" } ?? "-" }
            var location = e.pfn.map { "pfn 0x" + String($0, radix: 16) } ?? (e.isPresent ? "pfn hidden" : "-")
            if e.isSwapped { location = "swp \(e.swapType ?? 0):0x\(String(e.swapOffset ?? 0, radix: 16))" }
            return [
                "0x" + String(e.address, radix: 16), bit(e.isPresent), bit(e.isSwapped), location, bit(e.softDirty),
                bit(e.uffdWP), bit(e.exclusivelyMapped), bit(e.flag(.anon)), bit(e.anonExclusive), bit(e.flag(.ksm)),
                bit(e.flag(.thp)), bit(e.flag(.zeroPage)), bit(e.flag(.swapcache)), e.mapcount.map(String.init) ?? "-",
            ]
        })
    }
}
