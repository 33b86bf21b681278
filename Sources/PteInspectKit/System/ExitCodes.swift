/// The numbers of pteinspect's exit statuses (what each means: the CLI's ExitStatus, which makes
/// them ArgumentParser's ExitCode). Here, in the library, so that a host test can check the
/// scripts' table (tools/exit-statuses) against them.
public enum ExitCodes {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let cannotRun: Int32 = 2
    public static let hang: Int32 = 3
    public static let crash: Int32 = 4
    public static let compromised: Int32 = 5
}
