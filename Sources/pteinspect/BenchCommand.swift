import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// GET_PTES through the client against pagemap + kpageflags + kpagecount, over the same populated
/// anonymous range, interleaved, several runs each. Prints medians, the ratio, records per second
/// and this process's peak RSS. Needs the module (run it in the VM: tools/bench).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the module's GET_PTES dump against reading pagemap + kpageflags + kpagecount.")

    @Option(help: "Size of the populated anonymous range, in MiB.")
    var mib: Int = 1024

    @Option(help: "Runs of each reader (interleaved).")
    var runs: Int = 5

    func validate() throws {
        guard mib > 0, mib <= 16384 else { throw ValidationError("--mib must be in 1...16384") }
        guard runs > 0, runs <= 100 else { throw ValidationError("--runs must be in 1...100") }
    }

    /// CPU time of this process so far: (user, system) seconds. The module's dump runs in our
    /// recvmsg() calls (netlink_recvmsg() -> netlink_dump()), so its kernel work is system time.
    private func cpuTimes() -> (Double, Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (s(usage.ru_utime), s(usage.ru_stime))
    }

    private func seconds(_ body: () throws -> Int) rethrows -> (Double, Int, user: Double, system: Double) {
        var start = timespec(), end = timespec()
        let (user0, system0) = cpuTimes()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let count = try body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let (user1, system1) = cpuTimes()
        return (Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9, count, user1 - user0, system1 - system0)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    func run() throws {
        do {
            let client = try PteInspectClient()
            let pageSize = SystemPage.size
            let pages = UInt64(mib) * (1 << 20) / pageSize
            let worker = try WorkerProcess()
            defer { worker.stop() }
            let base = try worker.map(pages: Int(pages))
            try worker.fill(base, pages: pages)
            let end = base + pages * pageSize
            print("bench: \(mib) MiB = \(pages) populated 4 KiB anon pages in pid \(worker.pid), \(runs) interleaved runs each")

            var moduleTimes: [Double] = [], pagemapTimes: [Double] = []
            var moduleCount = 0, pagemapCount = 0
            var moduleCPU: [(Double, Double)] = [], pagemapCPU: [(Double, Double)] = []
            for _ in 0..<runs {
                let (a, countA, userA, systemA) = try seconds {
                    var n = 0
                    try client.forEachEntry(pid: worker.pid, start: base, end: end) { _ in n += 1 }
                    return n
                }
                let (b, countB, userB, systemB) = try seconds {
                    var n = 0
                    try PagemapReader(pid: worker.pid).forEachEntry(start: base, end: end) { _ in n += 1 }
                    return n
                }
                moduleTimes.append(a); pagemapTimes.append(b)
                moduleCPU.append((userA, systemA)); pagemapCPU.append((userB, systemB))
                moduleCount = countA; pagemapCount = countB
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let (a, b) = (median(moduleTimes), median(pagemapTimes))
            print(String(format: "module  GET_PTES: median %.3f s  (%d records, %.0f records/s; runs %@)", a, moduleCount, Double(moduleCount) / a,
                         moduleTimes.map { String(format: "%.3f", $0) }.joined(separator: " ")))
            print(String(format: "pagemap+kpageflags+kpagecount: median %.3f s  (%d records, %.0f records/s; runs %@)", b, pagemapCount, Double(pagemapCount) / b,
                         pagemapTimes.map { String(format: "%.3f", $0) }.joined(separator: " ")))
            print(String(format: "cpu medians: module user %.3f s sys %.3f s; pagemap user %.3f s sys %.3f s",
                         median(moduleCPU.map { $0.0 }), median(moduleCPU.map { $0.1 }),
                         median(pagemapCPU.map { $0.0 }), median(pagemapCPU.map { $0.1 })))
            print(String(format: "ratio a/b = %.2f  (module fields per record: ~30; pagemap: ~14, no raw entry, write/dirty/young/special, refcount, index)", a / b))
            print("peak RSS of this process: \(usage.ru_maxrss / 1024) MiB (both readers stream; the range is \(mib) MiB)")
            if moduleCount != Int(pages) || pagemapCount != Int(pages) {
                print("bench: expected \(pages) records from each reader")
                throw ExitStatus.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw report(error)
        }
    }
}
