import CPteInspect

/// The family's attribute and command numbers, from the UAPI header, as the types Swift needs.
enum Attr {
    static let moduleVersion = UInt16(PTEINSPECT_A_MODULE_VERSION.rawValue)
    static let kernelRelease = UInt16(PTEINSPECT_A_KERNEL_RELEASE.rawValue)
    static let pageSize = UInt16(PTEINSPECT_A_PAGE_SIZE.rawValue)
    static let features = UInt16(PTEINSPECT_A_FEATURES.rawValue)
    static let protocolVersion = UInt16(PTEINSPECT_A_PROTOCOL.rawValue)
    static let pid = UInt16(PTEINSPECT_A_PID.rawValue)
    static let start = UInt16(PTEINSPECT_A_START.rawValue)
    static let end = UInt16(PTEINSPECT_A_END.rawValue)
    static let address = UInt16(PTEINSPECT_A_ADDR.rawValue)
    static let pfn = UInt16(PTEINSPECT_A_PFN.rawValue)
    static let index = UInt16(PTEINSPECT_A_INDEX.rawValue)
    static let mappingKind = UInt16(PTEINSPECT_A_MAPPING_KIND.rawValue)
    static let mappingID = UInt16(PTEINSPECT_A_MAPPING_ID.rawValue)
    /// GET_PTES replies (protocol 2): struct pteinspect_entry, many per message.
    static let entry = UInt16(PTEINSPECT_A_ENTRY.rawValue)
    /// GET_PTES request flag (module 0.4.0): read each anonymous page's first 4 bytes.
    static let readData = UInt16(PTEINSPECT_A_READ_DATA.rawValue)
    static let vmaStart = UInt16(PTEINSPECT_A_VMA_START.rawValue)
    static let vmaEnd = UInt16(PTEINSPECT_A_VMA_END.rawValue)
    static let vmaPgoff = UInt16(PTEINSPECT_A_VMA_PGOFF.rawValue)
    static let vmaAnonPgoff = UInt16(PTEINSPECT_A_VMA_ANON_PGOFF.rawValue)
    static let vmaFlags = UInt16(PTEINSPECT_A_VMA_FLAGS.rawValue)
    static let vmaFlagsDecoded = UInt16(PTEINSPECT_A_VMA_FLAGS_DECODED.rawValue)
    static let vmaID = UInt16(PTEINSPECT_A_VMA_ID.rawValue)
    static let anonVmaID = UInt16(PTEINSPECT_A_ANON_VMA_ID.rawValue)
    static let anonVmaRootID = UInt16(PTEINSPECT_A_ANON_VMA_ROOT_ID.rawValue)
    static let anonVmaChain = UInt16(PTEINSPECT_A_ANON_VMA_CHAIN.rawValue)
    static let anonVmaChainLength = UInt16(PTEINSPECT_A_ANON_VMA_CHAIN_LEN.rawValue)
    static let vmaName = UInt16(PTEINSPECT_A_VMA_NAME.rawValue)
    static let rmapPid = UInt16(PTEINSPECT_A_RMAP_PID.rawValue)
    static let mmID = UInt16(PTEINSPECT_A_MM_ID.rawValue)
    static let rmapMapped = UInt16(PTEINSPECT_A_RMAP_MAPPED.rawValue)
    static let folioPages = UInt16(PTEINSPECT_A_FOLIO_PAGES.rawValue)
}

public enum Command {
    public static let getInfo = UInt8(PTEINSPECT_CMD_GET_INFO.rawValue)
    public static let getPtes = UInt8(PTEINSPECT_CMD_GET_PTES.rawValue)
    public static let getVmas = UInt8(PTEINSPECT_CMD_GET_VMAS.rawValue)
    public static let getRmap = UInt8(PTEINSPECT_CMD_GET_RMAP.rawValue)
}
