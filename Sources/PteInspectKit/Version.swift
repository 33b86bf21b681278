/// The CLI's version. It moves with the module's (PTEINSPECT_MODULE_VERSION in kmod/pteinspect.h,
/// PACKAGE_VERSION in kmod/dkms.conf): VersionTests holds the three equal.
public enum PteInspectVersion {
    public static let cli = "0.6.0"

    /// `pteinspect --version`: the CLI's version and protocol, then what the loaded module says
    /// (`module` nil: not loaded; `problem`: why it could not be asked).
    public static func describe(module: ModuleInfo?, problem: String?) -> String {
        var lines = ["pteinspect \(cli) (protocol \(PteInspectClient.protocolVersion))"]
        if let module {
            lines.append("module \(module.moduleVersion) (protocol \(module.protocolVersion)) on \(module.kernelRelease)")
        } else {
            lines.append("module: \(problem ?? "not loaded")")
        }
        return lines.joined(separator: "\n")
    }
}
