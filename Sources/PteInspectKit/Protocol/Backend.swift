/// Where page state is read from: the module (GET_PTES/GET_VMAS/GET_RMAP) or /proc/PID/pagemap
/// with /proc/kpageflags and /proc/kpagecount. The raw value is the name reports carry.
public enum Backend: String, Sendable, CaseIterable {
    case module, pagemap
}

/// What a command's `--backend` asks for; `resolve()` turns it into a backend, in this one place.
public enum BackendChoice: String, Sendable, CaseIterable {
    /// The module if it is loaded, else pagemap.
    case auto
    case module, pagemap

    /// The module's client, or nil for the pagemap backend. `auto` falls back to pagemap only
    /// when the module is not loaded (no pteinspect genetlink family): a module that is there but
    /// refuses (a protocol version this CLI does not speak, no permission) is an error whatever
    /// was asked, not a silent switch to a backend that sees less. `requireModule` (a command
    /// that needs both, e.g. `pte --cross-check`) makes `auto` need the module too.
    public func resolve(requireModule: Bool = false) throws -> PteInspectClient? {
        switch self {
        case .pagemap: return nil
        case .module: return try PteInspectClient()
        case .auto:
            do {
                return try PteInspectClient()
            } catch PteInspectError.moduleNotLoaded where !requireModule {
                return nil
            }
        }
    }
}
