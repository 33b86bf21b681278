extension PageTableEntry {
    /// The `pte --json` object of one entry. Fields that do not apply are null: struct-page fields
    /// when no online struct page backs the entry, `swap` for present entries.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("addr", .hex(address)),
            ("level", .string(level.name)),
            ("kind", .string(kind.name)),
            ("raw", .hex(raw)),
            ("present", .bool(flags.contains(.present))),
            ("write", .bool(flags.contains(.write))),
            ("dirty", .bool(flags.contains(.dirty))),
            ("young", .bool(flags.contains(.young))),
            ("special", .bool(flags.contains(.special))),
            ("soft_dirty", .bool(flags.contains(.softDirty))),
            ("uffd_wp", .bool(flags.contains(.uffdWP))),
            ("zero_page", .bool(flags.contains(.zeroPage))),
            ("pfn", pfn.map { .uint($0) } ?? .null),
            ("normal_page", normalPage.map { $0.returnsPage.map(JSONValue.bool) ?? .null } ?? .null),
            ("normal_page_reason", normalPage.map { .string($0.name) } ?? .null),
            ("pfn_linear", pfnLinear.map(JSONValue.bool) ?? .null),
            ("linear_index", linearIndex.map { .uint($0) } ?? .null),
            ("index_is_linear", indexIsLinear.map(JSONValue.bool) ?? .null),
        ]
        let pageBit: (PageFlags) -> JSONValue = { bit in page.map { .bool($0.flags.contains(bit)) } ?? .null }
        members += [
            ("anon", pageBit(.anon)),
            ("anon_exclusive", pageBit(.anonExclusive)),
            ("ksm", pageBit(.ksm)),
            ("swapcache", pageBit(.swapCache)),
            ("mapcount", page?.pageMapcount.map { .int(Int64($0)) } ?? .null),
            ("folio_mapcount", page?.folioMapcount.map { .int(Int64($0)) } ?? .null),
            ("folio_order", page?.folioOrder.map { .uint(UInt64($0)) } ?? .null),
            ("refcount", page.map { .int(Int64($0.refcount)) } ?? .null),
            ("index", page?.index.map { .uint($0) } ?? .null),
            ("mapping_kind", page.map { .string($0.mappingKind.name) } ?? .null),
            ("mapping_id", page?.mappingID.map(JSONValue.hex) ?? .null),
            ("page_dirty", pageBit(.dirty)),
            ("lru", pageBit(.lru)),
            ("locked", pageBit(.locked)),
            ("writeback", pageBit(.writeback)),
            ("large", pageBit(.large)),
            ("head", pageBit(.head)),
            ("swapbacked", pageBit(.swapBacked)),
        ]
        members.append(("data", data.map { .hex(UInt64($0)) } ?? .null))
        members.append(("pte_marker", marker.map { .array($0.names.map(JSONValue.string)) } ?? .null))
        members.append(("swap", swap.map {
            .object([("type", .uint(UInt64($0.type))), ("offset", .uint($0.offset)), ("exclusive", .bool($0.exclusive))])
        } ?? .null))
        return .object(members)
    }
}

extension VmaRecord {
    public var json: JSONValue {
        .object([
            ("start", .hex(start)),
            ("end", .hex(end)),
            ("pgoff", .hex(pgoff)),
            ("flags", .array(flags.names.map { .string($0) })),
            ("vm_flags", .hex(rawFlags)),
            ("id", .hex(id)),
            ("anon_vma", anonVma.map(JSONValue.hex) ?? .null),
            ("anon_vma_root", anonVmaRoot.map(JSONValue.hex) ?? .null),
            ("anon_vma_chain", .array(anonVmaChain.map(JSONValue.hex))),
            ("anon_vma_chain_length", .uint(UInt64(anonVmaChainLength))),
            ("name", name.map(JSONValue.string) ?? .null),
        ])
    }
}

extension ModuleInfo {
    public var json: JSONValue {
        .object([
            ("module_version", .string(moduleVersion)),
            ("kernel_release", .string(kernelRelease)),
            ("page_size", .uint(UInt64(pageSize))),
            ("protocol", .uint(UInt64(protocolVersion))),
            ("features", .hex(features.rawValue)),
            ("feature_names", .array(features.names.map { .string($0) })),
        ])
    }
}
