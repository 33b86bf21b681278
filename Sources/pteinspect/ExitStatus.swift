import ArgumentParser
import Foundation
import PteInspectKit

/// Every exit status pteinspect uses, in one place.
enum ExitStatus {
    /// The command ran and found nothing wrong.
    static let success = ExitCode(ExitCodes.success)
    /// The command ran and something failed (a kernel error for the request, a failed check).
    static let failure = ExitCode(ExitCodes.failure)
    /// The command could not run at all: no module, no permission to open netlink, bad setup.
    static let cannotRun = ExitCode(ExitCodes.cannotRun)
    /// `scenario run`: a step hung (a bound was hit), and no kernel splat explains it. Also the
    /// status of a run the watchdog ended because the CLI's own call never returned.
    static let hang = ExitCode(ExitCodes.hang)
    /// `scenario run`: every scenario was skipped, nothing was checked. kselftest's KSFT_SKIP, so
    /// that its runner reports such a run as `# SKIP`.
    static let skipped = ExitCode(ExitCodes.skipped)
    /// `scenario run`: the kernel reported a problem (BUG, WARNING, KASAN, lockdep, ...) during a
    /// step. Wins over `hang` and `failure`: a kernel splat explains what else went wrong.
    static let crash = ExitCode(ExitCodes.crash)
    /// `scenario run`: the kernel was compromised (an RCU stall, a lockup, a hung task, a BUG that
    /// left a task it cannot kill, lockdep off) and the run stopped; the scenarios left are
    /// reported as not run. Wins over every other status of a run.
    static let compromised = ExitCode(ExitCodes.compromised)

    /// Each status and what it means, for --help and the man page (in numeric order).
    static let meanings: [(status: ExitCode, meaning: String)] = [
        (success, "the command ran and found nothing wrong"),
        (failure, "something failed: a kernel error for the request, a failed check, a scenario FAIL"),
        (cannotRun, "the command could not run: no module, not root, a protocol mismatch, bad setup"),
        (hang, "scenario run: a step hung (a bound was hit, no kernel splat explains it)"),
        (skipped, "scenario run: every scenario was skipped, nothing was checked (kselftest's SKIP)"),
        (compromised, "scenario run: the kernel was compromised (an RCU stall, a lockup, a BUG that left a task it cannot kill, lockdep off); the run stopped and the scenarios left are reported as not run"),
        (crash, "scenario run: the kernel reported a problem (BUG, WARNING, KASAN, lockdep, ...) during a step"),
    ]

    /// The exit statuses as a paragraph.
    static var text: String {
        "Exit status: " + meanings.map { "\($0.status.rawValue) \($0.meaning)" }.joined(separator: "; ") + "."
    }

    /// A scenario run's status: the worst of its verdicts (CRASH, then HANG, then FAIL); a run
    /// in which every scenario was a SKIP is `skipped`.
    static func of(_ verdicts: [Verdict]) -> ExitCode {
        if verdicts.contains(.crash) { return crash }
        if verdicts.contains(.hang) { return hang }
        if verdicts.contains(.fail) { return failure }
        if !verdicts.isEmpty && verdicts.allSatisfy({ $0 == .skip }) { return skipped }
        return success
    }
}

/// Prints `error` to stderr the way a user can act on it and returns the status to exit with.
func report(_ error: Error) -> ExitCode {
    var stderr = StandardError()
    switch error {
    case let error as PteInspectError:
        print("pteinspect: \(error)", to: &stderr)
        if case .invalidRange = error { return ExitStatus.failure }
        return ExitStatus.cannotRun
    case let error as NetlinkError:
        print("pteinspect: \(error)", to: &stderr)
        if case let .kernel(_, errno, message, _) = error, errno == EPERM {
            if message?.contains("CAP_SYS_PTRACE") == true {
                print("pteinspect: page contents (--data) need CAP_SYS_PTRACE as well as CAP_SYS_ADMIN: run as root with both, or leave out --data", to: &stderr)
            } else {
                print("pteinspect: run as root (CAP_SYS_ADMIN in the initial user namespace is required)", to: &stderr)
            }
        }
        return ExitStatus.failure
    case let error as SystemCallError:
        // a call of the CLI's own (the netlink socket, /proc/PID/pagemap...): it could not run
        print("pteinspect: \(error)", to: &stderr)
        return ExitStatus.cannotRun
    default:
        print("pteinspect: \(error)", to: &stderr)
        return ExitStatus.failure
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
