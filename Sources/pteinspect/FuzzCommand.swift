import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// `pteinspect fuzz`: hostile input for the module (netlink family and fixture device), with a
/// check afterwards that it still answers correctly. Run it in the VM (tools/harden, tools/test).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Send random and mutated messages to the module and hostile calls to /dev/pteinspect; check every answer.",
        discussion: """
            Exit status 1 if any message went unanswered, a reply was malformed, a reply carried a \
            kernel pointer, the fixture device broke its contract, or the module answered wrongly \
            afterwards. Check the kernel log too (tools/vm-guest does).
            """)

    @Option(help: "Netlink messages to send in all.")
    var messages = 100_000

    @Option(help: "Sockets (threads) sending at once.")
    var sockets = 4

    @Option(help: "Rounds of fixture-device abuse (each opens the device and closes it, pins held or not).")
    var fixtureRounds = 2_000

    @Flag(help: "Netlink only: no fixture mapping in the target and no device rounds (the open device would keep the module from unloading; the unload tests use this).")
    var netlinkOnly = false

    @Option(help: "PRNG seed (the run can be replayed with it).")
    var seed: UInt64 = UInt64(time(nil))

    func validate() throws {
        guard messages >= 0, sockets > 0, sockets <= 64, fixtureRounds >= 0 else {
            throw ValidationError("--messages and --fixture-rounds must be >= 0, --sockets in 1...64")
        }
    }

    func run() throws {
        do {
            let client = try PteInspectClient()
            let targets = try netlinkOnly ? FuzzTargets.thisProcess() : FuzzTargets.workers()
            defer { targets.stop() }
            print("fuzz: seed \(seed), \(messages) messages from \(sockets) sockets; targets: \(targets.summary)")
            let fuzzer = NetlinkFuzzer(family: client.family.id, pids: targets.pids, userAddresses: targets.addresses)
            let started = Deadline(seconds: 0)
            let report = try fuzzer.run(messages: messages, sockets: sockets, seed: seed) { sent, seconds in
                var stderr = StandardError()   // progress of a long run; the report itself goes to stdout
                print("fuzz: \(sent) of \(messages) messages sent, \(Int(seconds)) s", to: &stderr)
            }
            let seconds = started.elapsed
            print(report)
            print(String(format: "  %.1f s, %.0f messages/s", seconds, Double(report.sent) / max(seconds, 1e-9)))
            var problems = report.problems
            if report.socketsStoppedByUnload > 0 {
                // The unload tests do this on purpose: every answer before it was checked above.
                for problem in problems { print("fuzz: FAIL \(problem)") }
                print("fuzz: the module was unloaded during the run (\(report.socketsStoppedByUnload) of \(sockets) sockets stopped early); the final check cannot run")
                throw problems.isEmpty ? ExitStatus.cannotRun : ExitStatus.failure
            }
            if !netlinkOnly {
                let fixture = try FixtureFuzzer.run(rounds: fixtureRounds, seed: seed)
                print(fixture)
                problems += fixture.contractViolations
            }
            problems += try stillCorrect(client: PteInspectClient(), pid: targets.checked.pid, address: targets.checked.address)
            guard problems.isEmpty else {
                for problem in problems { print("fuzz: FAIL \(problem)") }
                throw ExitStatus.failure
            }
            print("fuzz: ok (module still answers correctly)")
        } catch let status as ExitCode {
            throw status
        } catch {
            throw report(error)
        }
    }

    /// After the storm: GET_INFO works, and GET_PTES of the target's pages agrees with pagemap.
    private func stillCorrect(client: PteInspectClient, pid: Int32, address: UInt64) throws -> [String] {
        var problems: [String] = []
        _ = try client.info()
        let pageSize = SystemPage.size
        let entries = try client.entries(pid: pid, start: address, end: address + 16 * pageSize)
        let pagemap = try PagemapReader(pid: pid).entries(start: address, end: address + 16 * pageSize)
        let vmas = try client.vmas(pid: pid, start: address, end: address + 16 * pageSize)
        if entries.count != 16 { problems.append("GET_PTES returned \(entries.count) entries for 16 written pages") }
        let disagreements = CrossCheck.compare(module: entries, pagemap: pagemap, vmas: vmas, pageSize: pageSize)
        problems += disagreements.map { "after the fuzz: \($0)" }
        return problems
    }
}

/// What the fuzzer sends its messages about: processes (real, vanished, without an mm, nonsense)
/// and user addresses, and the one page range checked against pagemap afterwards.
private struct FuzzTargets {
    let pids: [Int32]
    let addresses: [UInt64]
    let checked: (pid: Int32, address: UInt64)
    let summary: String
    private let worker: WorkerProcess?

    /// This process itself (16 written anonymous pages), init, kthreadd (no mm), nonsense. No
    /// helper processes: the unload tests start this client once per cycle, and under KASAN the
    /// helpers' start was most of a cycle's 90 s.
    static func thisProcess() throws -> FuzzTargets {
        let own = try ownPages(16)
        return FuzzTargets(pids: [getpid(), getpid(), 1, 2, 0, Int32.max, -1], addresses: [own],
                           checked: (getpid(), own),
                           summary: "this process \(getpid()), init, kthreadd", worker: nil)
    }

    /// A worker with anonymous pages, a THP, a PFN map and a forked child sharing them; a worker
    /// that has exited (a vanished pid); init; kthreadd (no mm); nonsense.
    static func workers() throws -> FuzzTargets {
        let target = try WorkerProcess()
        do {
            let anon = try target.map(pages: 16)
            try target.fill(anon, pages: 16)
            let thp = try target.mapTHP()
            try target.write(thp)
            let pfnmap = try? target.mapFixture(pages: 4)
            let child = try target.fork()
            let gone = try WorkerProcess()
            let vanished = gone.pid
            gone.stop()
            return FuzzTargets(pids: [target.pid, target.pid, child, getpid(), 1, 2, 0, vanished, Int32.max, -1],
                               addresses: [anon, thp] + (pfnmap.map { [$0] } ?? []),
                               checked: (target.pid, anon),
                               summary: "worker \(target.pid), child \(child), vanished \(vanished)", worker: target)
        } catch {
            target.stop()
            throw error
        }
    }

    func stop() { worker?.stop() }

    /// `count` written pages of this process's own (private anonymous), their address.
    private static func ownPages(_ count: Int) throws -> UInt64 {
        let length = count * Int(SystemPage.size)
        guard let memory = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), memory != MAP_FAILED else {
            throw FuzzSetupError(description: "fuzz: mmap of \(count) pages of its own failed: \(ErrnoName(code: errno).message)")
        }
        for page in 0..<count { memory.storeBytes(of: UInt8(page + 1), toByteOffset: page * Int(SystemPage.size), as: UInt8.self) }
        return UInt64(UInt(bitPattern: memory))
    }
}

private extension FuzzReport {
    /// What the replies broke of the module's contract: silence, malformed or misrouted replies,
    /// refusals without an extack message, kernel pointers.
    var problems: [String] {
        var problems: [String] = []
        if unanswered > 0 { problems.append("\(unanswered) messages got no answer") }
        if malformedReplies > 0 { problems.append("\(malformedReplies) malformed or misrouted replies") }
        let silent = refusedSilently.filter { $0.key.hasPrefix("pteinspect") }.values.reduce(0, +)
        if silent > 0 { problems.append("\(silent) refusals by the module came without an extack message") }
        if kernelPointers > 0 { problems.append("\(kernelPointers) kernel pointers in replies") }
        // Keyed hashes land in the kernel half 1 time in 256; raw pointers always would.
        for type in hashAttributesLikePointers {
            guard let tally = hashes[type] else { continue }
            problems.append("\(tally.distinctInKernelHalf) of \(tally.distinct.count) distinct values of \(NetlinkFuzzer.identityName(type)) are in the kernel half: raw pointers, not keyed hashes")
        }
        return problems
    }
}

struct FuzzSetupError: Error, CustomStringConvertible {
    let description: String
}
