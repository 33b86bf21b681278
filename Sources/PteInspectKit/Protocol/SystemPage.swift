import CPteInspect

/// The base page size of this machine, asked once through CPteInspect (see pti_page_size for why
/// not sysconf(_SC_PAGESIZE) from Swift directly).
public enum SystemPage {
    public static let size: UInt64 = UInt64(pti_page_size())
}
