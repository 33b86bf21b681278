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
    static let level = UInt16(PTEINSPECT_A_LEVEL.rawValue)
    static let raw = UInt16(PTEINSPECT_A_RAW.rawValue)
    static let entryKind = UInt16(PTEINSPECT_A_ENTRY_KIND.rawValue)
    static let entryFlags = UInt16(PTEINSPECT_A_ENTRY_FLAGS.rawValue)
    static let swapType = UInt16(PTEINSPECT_A_SWAP_TYPE.rawValue)
    static let swapOffset = UInt16(PTEINSPECT_A_SWAP_OFFSET.rawValue)
    static let pfn = UInt16(PTEINSPECT_A_PFN.rawValue)
    static let pageFlags = UInt16(PTEINSPECT_A_PAGE_FLAGS.rawValue)
    static let mapcount = UInt16(PTEINSPECT_A_MAPCOUNT.rawValue)
    static let refcount = UInt16(PTEINSPECT_A_REFCOUNT.rawValue)
    static let index = UInt16(PTEINSPECT_A_INDEX.rawValue)
}

public enum Command {
    public static let getInfo = UInt8(PTEINSPECT_CMD_GET_INFO.rawValue)
    public static let getPtes = UInt8(PTEINSPECT_CMD_GET_PTES.rawValue)
}
