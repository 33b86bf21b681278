import Foundation
import Glibc

/// The kernel's log as /dev/kmsg gives it (Documentation/ABI/testing/dev-kmsg): one record per
/// read(2), "LEVEL,SEQ,USEC,FLAGS;MESSAGE\n" then " KEY=VALUE" lines. Opened non-blocking at the
/// end of the log; `read()` returns what was added since. Reading needs root, as do scenarios.
public final class KernelLog {
    public struct Record: Equatable {
        public let level: Int
        public let sequence: UInt64
        /// Since boot, as in dmesg's "[ seconds]".
        public let seconds: Double
        public let message: String

        /// As dmesg prints it.
        public var line: String { String(format: "[%12.6f] ", seconds) + message }

        /// Parses one record; nil for text that is not one.
        public init?(_ text: String) {
            guard let semicolon = text.firstIndex(of: ";") else { return nil }
            let prefix = text[..<semicolon].split(separator: ",")
            guard prefix.count >= 3, let priority = Int(prefix[0]), let sequence = UInt64(prefix[1]),
                  let microseconds = UInt64(prefix[2]) else { return nil }
            level = priority & 7   // the facility is in the bits above (syslog's PRI)
            self.sequence = sequence
            seconds = Double(microseconds) / 1e6
            // The message ends at the first newline; " KEY=VALUE" dictionary lines follow.
            let body = text[text.index(after: semicolon)...]
            message = String(body.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }

        public init(level: Int, sequence: UInt64, seconds: Double, message: String) {
            self.level = level
            self.sequence = sequence
            self.seconds = seconds
            self.message = message
        }
    }

    private let fd: Int32
    /// Records lost because the ring buffer wrapped between two reads (read(2) said EPIPE).
    public private(set) var lost = 0

    /// nil when /dev/kmsg cannot be read here (no root, a container without it): the runner then
    /// cannot tell a kernel splat from a failure, and says so. `fromStart`: the first read returns
    /// the oldest record the ring buffer still holds (what dmesg prints), not only newer ones.
    public init?(path: String = "/dev/kmsg", fromStart: Bool = false) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.fd = fd
        // SEEK_END: the next read returns the first record logged after this point; SEEK_SET 0:
        // the oldest one (devkmsg_llseek(), kernel/printk/printk.c).
        guard lseek(fd, 0, fromStart ? SEEK_SET : SEEK_END) >= 0 else { close(fd); return nil }
    }

    deinit { close(fd) }

    /// The records in `text`: /dev/kmsg gives one per read(2), a file or pipe standing in for it
    /// (tests) several; a line that starts with a space belongs to the record before it.
    static func records(in text: String) -> [Record] {
        text.split(separator: "\n").filter { !$0.hasPrefix(" ") }.compactMap { Record(String($0)) }
    }

    /// The records logged since the last call (or since opening).
    public func read() -> [Record] {
        var records: [Record] = []
        var buffer = [UInt8](repeating: 0, count: 8192)   // a record is at most 1 KiB of text plus its dictionary
        while true {
            let count = retryingInterrupted { Glibc.read(fd, &buffer, buffer.count) }
            if count > 0 {
                records += Self.records(in: String(decoding: buffer[..<count], as: UTF8.self))
                continue
            }
            if count < 0 && errno == EPIPE { lost += 1; continue }   // overwritten: the next read goes on
            return records   // EAGAIN: nothing more
        }
    }
}

/// What the kernel's checkers and its BUG/WARN machinery print when something is wrong (not
/// their boot banners). The one list: the scripts (tools/vm-guest, tools/test) take it from
/// `pteinspect kernel-log --pattern`.
public enum KernelSplat {
    public static let markers = [
        "BUG:", "WARNING:", "KASAN:", "UBSAN:", "Oops", "general protection fault", "bad page",
        "kernel BUG at", "RCU stall", "self-detected stall", "detected stalls", "hard LOCKUP", "possible circular locking",
        "possible recursive locking", "inconsistent lock state", "suspicious RCU usage",
        "lock held when returning", "list_add corruption", "list_del corruption",
        "sleeping function called from invalid context", "Kernel panic", "blocked for more than",
    ]

    /// The markers as one POSIX extended regular expression (grep -E), for the scripts that check
    /// a whole log with it.
    public static var extendedRegex: String {
        markers.map { marker in
            String(marker.flatMap { "\\^$.|?*+()[]{}".contains($0) ? ["\\", $0] : [$0] })
        }.joined(separator: "|")
    }

    /// The first splat among `records` and what follows it (its stack), at most `lines` lines;
    /// nil when there is none.
    public static func report(in records: [KernelLog.Record], lines: Int = 40) -> [String]? {
        guard let first = records.firstIndex(where: isSplat) else { return nil }
        return records[first...].prefix(lines).map(\.line)
    }

    /// What the kernel prints about a user-space process's fault (arch/x86/kernel/traps.c
    /// show_signal(): "traps: COMM[PID] general protection fault ip:..."; show_signal_msg():
    /// "COMM[PID]: segfault at ..."): the process's problem, not the kernel's, though the words
    /// match a marker.
    public static let userSpaceFault = ["traps: ", "]: segfault at "]

    /// What a boot that went wrong printed on the console (tools/vm): from the first checker
    /// marker or root-mount failure on, at most `lines` lines; else its last 60 lines.
    public static func consoleExcerpt(_ text: String, lines: Int = 120) -> [String] {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let bootFailures = ["cannot find", "Cannot open root", "Unable to mount root"]
        let first = all.firstIndex { line in
            (markers.contains(where: line.contains) && !line.contains(userSpaceFault[1]) && !line.contains("] " + userSpaceFault[0]))
                || bootFailures.contains(where: line.contains)
        }
        guard let first else { return Array(all.suffix(60)) }
        return Array(all[first...].prefix(lines))
    }

    static func isSplat(_ record: KernelLog.Record) -> Bool {
        guard markers.contains(where: { record.message.contains($0) }) else { return false }
        return !record.message.hasPrefix(userSpaceFault[0]) && !record.message.contains(userSpaceFault[1])
    }
}
