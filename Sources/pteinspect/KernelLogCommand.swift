import ArgumentParser
import PteInspectKit

/// The kernel log checked for splats with the same list the scenario runner uses (KernelSplat),
/// for the scripts that check a whole VM run (tools/vm-guest) and for a person after a run.
struct KernelLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-log",
        abstract: "Check the kernel log for BUG, WARNING, KASAN, lockdep and other checker reports.",
        discussion: """
            Reads the whole ring buffer (/dev/kmsg, as dmesg does; needs root) and prints the first
            report and what follows it, at most --lines lines, in dmesg's format (for
            scripts/decode_stacktrace.sh). Exit status 0: no report; 1: a report; 2: the log cannot
            be read. --pattern prints the list as one grep -E expression instead; --console FILE
            prints what a kernel console saved in FILE says from its first report (or failure to
            mount the root) on, or its last 60 lines (tools/vm, for a boot that went wrong).
            """)

    @Option(help: ArgumentHelp("A saved kernel console to excerpt instead of the kernel log.", valueName: "file"))
    var console: String?

    @Flag(help: "Print the markers as one extended regular expression (grep -E) and exit.")
    var pattern = false

    @Option(help: "At most this many lines of the report.")
    var lines = 200

    func run() throws {
        if pattern {
            print(KernelSplat.extendedRegex)
            return
        }
        var stderr = StandardError()
        if let console {
            guard let text = try? String(contentsOfFile: console, encoding: .utf8) else {
                print("pteinspect: cannot read \(console)", to: &stderr)
                throw ExitStatus.cannotRun
            }
            KernelSplat.consoleExcerpt(text).forEach { print($0) }
            return
        }
        guard let log = KernelLog(fromStart: true) else {
            print("pteinspect: cannot read /dev/kmsg (run as root)", to: &stderr)
            throw ExitStatus.cannotRun
        }
        let records = log.read()
        guard let report = KernelSplat.report(in: records, lines: lines) else {
            print("pteinspect: no checker report in the kernel log (\(records.count) records)")
            return
        }
        report.forEach { print($0) }
        throw ExitStatus.failure
    }
}
