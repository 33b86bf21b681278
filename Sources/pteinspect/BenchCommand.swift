import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// The benchmark (issue 16): four readers of the same range, each a process of its own, run
/// interleaved in the same boot: (a) the CLI's module path, (b) the kernel's cost of the same
/// dump (a C client that receives and counts without decoding), (c) the CLI's pagemap backend,
/// (d) a C reader of pagemap + kpageflags + kpagecount written the page-types way (the anchor).
/// Over four kinds of range: 4 KiB pages, THP-backed, half swapped out, and the whole user
/// address space of a real process (sparse). Prints medians, records/s, peak RSS, CPU, and the
/// ratios a/d and c/d. Run it in the VM: tools/bench (which builds the C readers).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the module's GET_PTES dump, the pagemap backend and two C references over the same ranges.")

    @Option(help: "Size of the populated ranges, in MiB.")
    var mib: Int = 1024

    @Option(help: "Runs of each reader per range (interleaved).")
    var runs: Int = 5

    @Option(help: "Range kinds, comma separated: \(BenchRangeKind.allCases.map(\.rawValue).joined(separator: ",")).")
    var kinds: String = BenchRangeKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Directory holding the C readers dump_count and page_triple_reader (tools/bench builds them).")
    var tools: String

    @Option(help: "Seconds one reader may take before it is killed and the benchmark fails.")
    var readerTimeout: Double = 300

    func validate() throws {
        guard mib > 0, mib <= 16384 else { throw ValidationError("--mib must be in 1...16384") }
        guard runs > 0, runs <= 100 else { throw ValidationError("--runs must be in 1...100") }
        for kind in kinds.split(separator: ",") where BenchRangeKind(rawValue: String(kind)) == nil {
            throw ValidationError("unknown range kind '\(kind)'; the kinds are \(BenchRangeKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for reader in ["dump_count", "page_triple_reader"] where access(tools + "/" + reader, X_OK) != 0 {
            throw ValidationError("\(tools)/\(reader) is missing: build it with tools/bench (gcc tools/reference/\(reader).c)")
        }
    }

    func run() throws {
        do {
            _ = try PteInspectClient()   // the module is there and speaks our protocol
            var failures = 0
            for kind in kinds.split(separator: ",").compactMap({ BenchRangeKind(rawValue: String($0)) }) {
                if try !runKind(kind) { failures += 1 }
            }
            if failures > 0 { throw ExitStatus.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw report(error)
        }
    }

    /// One range kind: set up, run every reader `runs` times interleaved, print. False when a
    /// reader disagreed on the record count it should share with another.
    private func runKind(_ kind: BenchRangeKind) throws -> Bool {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        let range: BenchRange
        do {
            range = try kind.prepare(worker, mib: mib)
        } catch let skip as BenchRangeKind.Skip {
            print("\n== \(kind.rawValue): SKIP: \(skip.reason)")
            return true
        }
        print("\n== \(kind.rawValue): \(range.description) (pid \(worker.pid), \(runs) interleaved runs of each reader)")
        let me = WorkerProcess.currentExecutable()
        let where_ = [String(worker.pid), "0x" + String(range.start, radix: 16), "0x" + String(range.end, radix: 16)]
        let readers: [(String, BenchReaderProcess)] = [
            ("a", BenchReaderProcess(executable: me, arguments: ["bench-read", "module"] + where_)),
            ("a'", BenchReaderProcess(executable: me, arguments: ["bench-read", "module-entries"] + where_)),
            ("b", BenchReaderProcess(executable: tools + "/dump_count", arguments: where_)),
            ("c", BenchReaderProcess(executable: me, arguments: ["bench-read", "pagemap"] + where_)),
            ("d", BenchReaderProcess(executable: tools + "/page_triple_reader", arguments: where_)),
        ]
        var results: [String: [BenchReaderResult]] = [:]
        for _ in 0..<runs {
            for (key, reader) in readers { results[key, default: []].append(try reader.run(timeout: readerTimeout)) }
        }
        let summary = BenchSummary(results: results)
        print(summary.table)
        print(summary.ratios)
        if kind == .small {
            // memory against range size: the CLI's readers once more over a quarter of the range
            let quarter = [where_[0], where_[1], "0x" + String(range.start + (range.end - range.start) / 4, radix: 16)]
            let a = try BenchReaderProcess(executable: me, arguments: ["bench-read", "module"] + quarter).run(timeout: readerTimeout)
            let c = try BenchReaderProcess(executable: me, arguments: ["bench-read", "pagemap"] + quarter).run(timeout: readerTimeout)
            print(String(format: "  peak RSS over a quarter of the range: a %.1f MiB, c %.1f MiB (whole range: above)",
                         Double(a.maxrssKiB) / 1024, Double(c.maxrssKiB) / 1024))
        }
        return summary.checkCounts(expectSameEntries: kind.moduleRecordsEqualPages)
    }
}

/// `pteinspect bench-read module|pagemap PID START END`: one reader of `pteinspect bench`,
/// measuring itself, printing one BenchReaderResult line.
struct BenchReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-read",
        abstract: "Internal: one reader of `pteinspect bench` (module or pagemap) over a range, timed.",
        shouldDisplay: false)

    enum Reader: String, ExpressibleByArgument { case module, moduleEntries = "module-entries", pagemap }

    @Argument var reader: Reader
    @Argument var pid: Int32
    @Argument var start: Address
    @Argument var end: Address

    func run() throws {
        do {
            let result: BenchReaderResult
            // Each reader folds fields of every record into a sum it prints, as the C readers do
            // (their consume()): no reader can skip the work of reading them.
            var sum: UInt64 = 0
            switch reader {
            case .module:
                result = try BenchReaderResult.measure("module: PageTableRecord (runs expanded)") {
                    let client = try PteInspectClient()
                    var n = 0
                    try client.forEachRecord(pid: pid, start: start.value, end: end.value) { record in
                        for i in 0..<record.count {   // every entry of the run, as reconstructed
                            let w = record.entry(i)
                            sum &+= w.addr ^ w.raw ^ w.pfn ^ w.swap_offset ^ w.index ^ w.mapping_id
                                ^ UInt64(w.entry_flags) ^ UInt64(w.page_flags) ^ UInt64(UInt32(bitPattern: w.mapcount))
                                ^ UInt64(UInt32(bitPattern: w.refcount))
                        }
                        n += record.count
                    }
                    return (n, client.socket.receivedBytes)
                }
            case .moduleEntries:
                result = try BenchReaderResult.measure("module: PageTableEntry (every field decoded)") {
                    let client = try PteInspectClient()
                    var n = 0
                    try client.forEachEntry(pid: pid, start: start.value, end: end.value) { entry in
                        sum &+= entry.address ^ entry.raw ^ (entry.pfn ?? 0) ^ (entry.swap?.offset ?? 0) ^ (entry.page?.index ?? 0)
                            ^ entry.flags.rawValue ^ (entry.page?.flags.rawValue ?? 0) ^ UInt64(UInt32(bitPattern: entry.page?.mapcount ?? 0))
                        n += 1
                    }
                    return (n, client.socket.receivedBytes)
                }
            case .pagemap:
                result = try BenchReaderResult.measure("pagemap backend (PagemapReader)") {
                    let reader = try PagemapReader(pid: pid)
                    var n = 0
                    try reader.forEachEntry(start: start.value, end: end.value) { entry in
                        sum &+= entry.address ^ entry.word ^ (entry.pageFlags ?? 0) ^ (entry.mapcount ?? 0)
                        n += 1
                    }
                    return (n, reader.bytesRead)
                }
            }
            print(result.line)
            FileHandle.standardError.write(Data("bench-read: checksum \(sum)\n".utf8))
        } catch {
            throw report(error)
        }
    }
}
