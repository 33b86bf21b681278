import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// `pteinspect stress`: clients dump, list VMAs and walk rmaps of targets that change their
/// address space as fast as they can, fork, and get killed mid-dump. Every answer must be well
/// formed for some moment, or a clean error for a target that went away.
struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Race GET_PTES/GET_VMAS/GET_RMAP against targets that churn, fork and exit.",
        discussion: """
            Allowed errors: ESRCH (the target exited), ENOENT (no page or VMA there any more), \
            EOPNOTSUPP (the page became a KSM or movable page). Anything else, a malformed answer, or \
            no progress for --watchdog seconds fails the run (exit 1, or 3 for a hang).
            """)

    @Option(help: "How long to run, in seconds.")
    var seconds = 60

    @Option(help: "Client threads (each with its own netlink socket).")
    var clients = 3

    @Option(help: "Target processes churning at any time.")
    var targets = 3

    @Option(help: "Seconds without any client finishing a request before the run counts as hung.")
    var watchdog = 120

    @Option(help: "PRNG seed.")
    var seed: UInt64 = UInt64(time(nil))

    func validate() throws {
        guard seconds > 0, clients > 0, clients <= 32, targets > 0, targets <= 16, watchdog > 0 else {
            throw ValidationError("--seconds, --clients (1...32), --targets (1...16), --watchdog must be positive")
        }
    }

    func run() throws {
        let state = StressState()
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        let group = DispatchGroup()
        print("stress: \(seconds) s, \(clients) clients, \(targets) churning targets, seed \(seed)")
        fflush(stdout)
        for slot in 0..<targets {
            group.enter()
            Thread { defer { group.leave() }; runTargets(slot: slot, until: deadline, state) }.start()
        }
        for index in 0..<clients {
            group.enter()
            Thread { defer { group.leave() }; runClient(index, until: deadline, state) }.start()
        }
        // Watchdog: the run counts as hung when no request (or target) finished for `watchdog`
        // seconds, or the threads are still busy `watchdog` seconds after the deadline.
        while group.wait(timeout: .now() + 5) == .timedOut {
            let late = Date().timeIntervalSince(deadline)
            if state.secondsSinceProgress() > Double(watchdog) || late > Double(watchdog) {
                print("stress: HANG: nothing finished for \(Int(state.secondsSinceProgress())) s (\(Int(max(late, 0))) s past the end)")
                state.report()
                state.printActivities()
                fflush(stdout)
                Foundation.exit(ExitCodes.hang)
            }
        }
        let ok = state.report()
        if !ok { throw ExitStatus.failure }
    }

    /// One target slot: a worker churning its own address space at a time, half of them killed
    /// mid-churn, until the deadline.
    private func runTargets(slot: Int, until deadline: Date, _ state: StressState) {
        var rng = SplitMix64(seed: seed &+ UInt64(slot) &* 7919)
        while Date() < deadline {
            guard let worker = try? WorkerProcess() else { state.note(unexpected: "could not spawn a target"); return }
            state.add(target: worker.pid)
            let length = 1 + Int(rng.next() % 6)
            let delay = rng.next() % 2 == 0 ? Double(rng.next() % UInt64(length * 1000)) / 1000 : nil
            var killer: DispatchWorkItem?
            if let delay {
                let pid = worker.pid
                let item = DispatchWorkItem { kill(pid, SIGKILL); state.count("targets killed") }
                DispatchQueue.global().asyncAfter(deadline: .now() + delay, execute: item)
                killer = item
            }
            state.doing("target slot \(slot): churn pid \(worker.pid) for \(length) s")
            do {
                let reply = try worker.send(.churn(seconds: Double(length), seed: rng.next() % 1_000_000))
                state.count("target operations", Int(reply) ?? 0)
            } catch {
                if killer == nil { state.note(unexpected: "target \(worker.pid) died on its own: \(error)") }
            }
            killer?.cancel()   // before the pid can be reused
            state.remove(target: worker.pid)
            state.doing("target slot \(slot): stopping pid \(worker.pid)")
            worker.stop()
            state.doing("target slot \(slot): idle")
            state.count("targets run")
            state.progress()
        }
    }

    /// One client: random GET_PTES / GET_VMAS / GET_RMAP requests against the live targets until
    /// the deadline, each reply checked for what must always hold.
    private func runClient(_ index: Int, until deadline: Date, _ state: StressState) {
        var rng = SplitMix64(seed: seed &+ 0x5151 &+ UInt64(index))
        guard let client = try? PteInspectClient() else { state.note(unexpected: "client \(index): no module"); return }
        var lastAddresses: [Int32: [UInt64]] = [:]
        while Date() < deadline {
            guard let pid = state.randomTarget(&rng) else { usleep(10_000); continue }
            let operation = rng.next() % 4
            state.doing("client \(index): \(["GET_PTES", "GET_PTES", "GET_VMAS", "GET_RMAP"][Int(operation)]) pid \(pid)")
            do {
                switch operation {
                case 0, 1: try Self.checkPtes(client, pid: pid, &rng, &lastAddresses, state)
                case 2:
                    let vmas = try client.vmas(pid: pid)
                    for (a, b) in zip(vmas, vmas.dropFirst()) where a.end > b.start {
                        state.note(unexpected: "GET_VMAS overlap: 0x\(String(a.start, radix: 16))-0x\(String(a.end, radix: 16)) and 0x\(String(b.start, radix: 16))")
                    }
                    state.count("GET_VMAS")
                default:
                    guard let address = lastAddresses[pid]?.randomElement(using: &rng) else { continue }
                    let hits = try client.rmap(pid: pid, address: address)
                    for hit in hits where hit.folioPages == 0 || hit.address & 4095 != 0 {
                        state.note(unexpected: "GET_RMAP hit malformed: \(hit)")
                    }
                    state.count("GET_RMAP")
                }
            } catch let NetlinkError.kernel(_, errno, _, _) where [ESRCH, ENOENT, EOPNOTSUPP].contains(errno) {
                state.count("clean errors (\(ErrnoName(code: errno).message))")
            } catch {
                state.note(unexpected: "\(error)")
            }
            state.progress()
        }
        state.doing("client \(index): done")
    }

    /// One GET_PTES of the whole address space or of a range near an address seen before: the
    /// records in order, inside the range, present ones with a PFN, PMDs aligned.
    private static func checkPtes(_ client: PteInspectClient, pid: Int32, _ rng: inout SplitMix64,
                                  _ lastAddresses: inout [Int32: [UInt64]], _ state: StressState) throws {
        let whole = rng.next() % 3 == 0
        let start: UInt64 = whole ? 0 : (lastAddresses[pid]?.randomElement(using: &rng) ?? 0) & ~4095
        let end: UInt64 = whole ? 0x7fff_ffff_f000 : min(start + (1 + rng.next() % 1024) * 4096, 0x7fff_ffff_f000)
        var previous: UInt64?
        var seen: [UInt64] = []
        try client.forEachEntry(pid: pid, start: start, end: end) { entry in
            if let previous, entry.address <= previous {
                // The documented exception: a THP that formed mid-dump, reported at its aligned
                // address after PTE records of its own range.
                if entry.level == .pmd, previous < entry.address + 0x20_0000 {
                    state.count("PMD records after PTEs of their range (THP formed mid-dump)")
                } else {
                    state.note(unexpected: "GET_PTES out of order: 0x\(String(entry.address, radix: 16)) after 0x\(String(previous, radix: 16))")
                }
            }
            if entry.address < start & ~0x1f_ffff || entry.address >= end { state.note(unexpected: "GET_PTES entry 0x\(String(entry.address, radix: 16)) outside the range") }
            if entry.isPresent && entry.pfn == nil { state.note(unexpected: "present entry without a PFN") }
            if entry.level == .pmd && entry.address & 0x1f_ffff != 0 { state.note(unexpected: "unaligned PMD entry") }
            previous = entry.address
            if entry.isPresent && seen.count < 64 { seen.append(entry.address) }
        }
        if !seen.isEmpty { lastAddresses[pid] = seen }
        state.count("GET_PTES")
    }
}

/// Counters and the live target list, shared by the stress threads.
final class StressState: @unchecked Sendable {
    private let lock = NSLock()
    private var targets: [Int32] = []
    private var counters: [String: Int] = [:]
    private var unexpected: [String] = []
    private var lastProgress = Date()
    private var activities: [String: String] = [:]
    private let started = Date()

    func add(target pid: Int32) { lock.lock(); targets.append(pid); lock.unlock() }
    func remove(target pid: Int32) { lock.lock(); targets.removeAll { $0 == pid }; lock.unlock() }
    func randomTarget(_ rng: inout SplitMix64) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        return targets.isEmpty ? nil : targets[Int(rng.next() % UInt64(targets.count))]
    }
    func count(_ name: String, _ amount: Int = 1) { lock.lock(); counters[name, default: 0] += amount; lock.unlock() }
    func note(unexpected text: String) { lock.lock(); if unexpected.count < 1000 { unexpected.append(text) }; lock.unlock() }
    /// What a thread is doing now ("client 1: GET_PTES pid 42"), printed if the run hangs.
    func doing(_ text: String) {
        let key = String(text.prefix { $0 != ":" })
        lock.lock(); activities[key] = text; lock.unlock()
    }
    func printActivities() {
        lock.lock(); defer { lock.unlock() }
        for text in activities.values.sorted() { print("  - \(text)") }
    }
    func progress() { lock.lock(); lastProgress = Date(); lock.unlock() }
    func secondsSinceProgress() -> Double { lock.lock(); defer { lock.unlock() }; return Date().timeIntervalSince(lastProgress) }

    @discardableResult
    func report() -> Bool {
        lock.lock(); defer { lock.unlock() }
        print(String(format: "stress: ran %.0f s", Date().timeIntervalSince(started)))
        for (name, value) in counters.sorted(by: { $0.key < $1.key }) { print("  \(name): \(value)") }
        print("  unexpected: \(unexpected.count)")
        for text in unexpected.prefix(20) { print("  ! \(text)") }
        print(unexpected.isEmpty ? "stress: ok" : "stress: FAIL")
        return unexpected.isEmpty
    }
}
