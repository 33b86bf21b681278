/// The numbers of pteinspect's exit statuses (what each means: the CLI's ExitStatus, which makes
/// them ArgumentParser's ExitCode). Here, in the library, so that a host test can check the
/// scripts' table (tools/exit-statuses) against them.
public enum ExitCodes {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let cannotRun: Int32 = 2
    public static let hang: Int32 = 3
    /// kselftest's KSFT_SKIP (tools/testing/selftests/kselftest.h; runner.sh's skip_rc): its
    /// runner reports a test program that exits 4 as `ok N ... # SKIP`. pteinspect uses 4 for
    /// that and nothing else, so that a run under the kselftest runner reads true.
    public static let skipped: Int32 = 4
    public static let compromised: Int32 = 5
    /// Not 4: kselftest's runner would report a CRASH as a SKIP (it was 4 up to pteinspect 0.4.0).
    public static let crash: Int32 = 6
}
