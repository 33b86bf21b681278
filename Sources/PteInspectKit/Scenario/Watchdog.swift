import Dispatch
import Foundation
import Glibc

/// A bound on a call the CLI makes itself (an observation through the module or pagemap,
/// swapoff, a sysfs write): if it has not returned when the bound passes, the calling thread is
/// stuck in the kernel and nothing can take it out, so the run ends there. `onExpiry` gets the
/// message, writes its last words (the reports have been written as results came) and returns
/// the exit status; the message also goes to `$PTEINSPECT_WEDGED_FILE` when that is set (a thread
/// in uninterruptible sleep keeps the process from ever exiting, so whoever waits for it,
/// tools/vm-guest, needs another sign), and the process exits. A helper process that hangs is not
/// this: the runner waits for those with poll(2) and goes on (`WorkerProcess.Failure.timedOut`).
public final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var armed: UInt64 = 0    // the generation armed now; 0 when none
    private var generation: UInt64 = 0
    private let queue = DispatchQueue(label: "pteinspect.watchdog")
    public let exitStatus: Int32
    /// Called on the watchdog's own thread with what did not return; it must not wait on the
    /// stuck thread (it may print and flush). Returns the exit status.
    public var onExpiry: ((String) -> Int32)?

    public init(exitStatus: Int32) { self.exitStatus = exitStatus }

    /// Runs `body`; if it takes longer than `seconds`, ends the process (see the type).
    public func guarded<T>(_ what: @autoclosure () -> String, within seconds: Double, _ body: () throws -> T) rethrows -> T {
        let description = what()
        let mine: UInt64 = lock.withLock {
            generation += 1
            armed = generation
            return generation
        }
        queue.asyncAfter(deadline: .now() + seconds) { [self] in
            let expired = lock.withLock { armed == mine }
            guard expired else { return }
            let message = "\(description) did not return within \(Bounds.text(seconds)): the CLI's own call is stuck in the kernel, so the run ends here"
            let status = onExpiry?(message) ?? exitStatus
            fflush(stdout)
            fflush(stderr)
            if let path = ProcessInfo.processInfo.environment["PTEINSPECT_WEDGED_FILE"] {
                FileManager.default.createFile(atPath: path, contents: Data((message + "\n").utf8))
            }
            _exit(status)
        }
        defer { lock.withLock { if armed == mine { armed = 0 } } }
        return try body()
    }
}
