import Foundation
import Glibc

/// What one benchmark reader measured of itself, the line it prints when done: the JSON object
/// of tools/reference/reader_result.h, which the C readers print with the same keys. Every reader
/// runs in a process of its own, so peak RSS and CPU time are its own.
public struct BenchReaderResult: Codable, Equatable {
    /// Which reader ("module (pteinspect client)", "reference C (...)", ...).
    public var reader: String
    /// Records the reader produced: page-table entries (module) or pages (pagemap readers).
    public var records: Int
    /// Wall time from opening the first file or socket to the last record (CLOCK_MONOTONIC).
    public var seconds: Double
    /// The process's user and system CPU time over the same span.
    public var user: Double
    public var system: Double
    /// The process's peak RSS at the end, KiB: VmHWM of /proc/self/status (getrusage's ru_maxrss
    /// survives execve() and would report the spawning parent's RSS).
    public var maxrssKiB: Int
    /// What the reader received from the kernel: netlink payload or pread bytes.
    public var bytes: Int

    enum CodingKeys: String, CodingKey {
        case reader, records, seconds, user, system, bytes
        case maxrssKiB = "maxrss_kib"
    }

    public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }

    /// The line, as the C readers print it.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The result line among a reader's output (the last line that decodes).
    public static func parse(_ output: String) -> BenchReaderResult? {
        output.split(separator: "\n").reversed().lazy.compactMap { line in
            try? JSONDecoder().decode(BenchReaderResult.self, from: Data(line.utf8))
        }.first
    }

    /// Runs `body` (which returns records and bytes) and measures it the way reader_result.h does.
    public static func measure(_ reader: String, _ body: () throws -> (records: Int, bytes: Int)) rethrows -> BenchReaderResult {
        func cpu() -> (Double, Double) {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            return (s(usage.ru_utime), s(usage.ru_stime))
        }
        var start = timespec(), end = timespec()
        let (user0, system0) = cpu()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let (records, bytes) = try body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let (user1, system1) = cpu()
        return BenchReaderResult(
            reader: reader, records: records,
            seconds: Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9,
            user: user1 - user0, system: system1 - system0, maxrssKiB: highWaterKiB(), bytes: bytes)
    }

    /// VmHWM of /proc/self/status, KiB (-1 if unreadable).
    static func highWaterKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
        }
        return -1
    }
}
