import Glibc

/// The kernel log of one scenario: what was logged since it began, and the splat in it.
final class ScenarioLog {
    private let kernelLog: KernelLog?
    private(set) var records: [KernelLog.Record] = []

    /// What was logged before the scenario is not its doing: read and dropped here.
    init(_ kernelLog: KernelLog?) {
        self.kernelLog = kernelLog
        _ = kernelLog?.read()
    }

    /// The records logged since the last read (kept in `records`).
    @discardableResult
    func read() -> [KernelLog.Record] {
        let new = kernelLog?.read() ?? []
        records += new
        return new
    }

    /// The splat in this scenario's log, if any, once the kernel has finished printing it (its
    /// stack follows the first line within milliseconds; wait until 300 ms are quiet).
    func splatReport() -> [String]? {
        read()
        guard KernelSplat.report(in: records) != nil else { return nil }
        for _ in 0..<10 {
            usleep(300_000)
            if read().isEmpty { break }
        }
        return KernelSplat.report(in: records)
    }

    /// While a reply is awaited: a splat logged meanwhile means it is not coming (a BUG in the
    /// helper's fault kills the task, which then never leaves the kernel). nil without a log.
    var splatLogged: (() -> Bool)? {
        guard kernelLog != nil else { return nil }
        return { [self] in
            read()
            return KernelSplat.report(in: records) != nil
        }
    }
}
