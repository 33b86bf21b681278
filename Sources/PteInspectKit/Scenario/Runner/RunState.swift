import CPteInspect
import Foundation
import Glibc

public enum ScenarioError: Error, CustomStringConvertible {
    case unbound(String)
    public var description: String {
        switch self { case let .unbound(text): return text }
    }
}

/// The actors and machine state of one run; `finish` puts everything back.
final class RunState {
    /// What each page must hold (the data checks), kept by `perform` as the steps succeed.
    let content: ContentModel
    init(content: ContentModel) { self.content = content }

    var actors: [(name: String, worker: WorkerProcess)] = []
    var symbols: [String: [String: UInt64]] = [:]
    var fifoDirectory: String?
    var swappedOff: String?
    var settings: [(path: String, old: String)] = []
    /// Set when a helper did not answer within its bound: how long was waited, where it was.
    var hang: ScenarioRunner.Hang?
    /// Why the last `map-kind` did not make its folio, or (a swapped kind) did not swap it out.
    var kindNotMade: String?
    var kindNotSwapped: String?
    /// Helpers that did not go away when stopped or killed (stuck in the kernel).
    var leftBehind: [String] = []

    func worker(_ name: String) -> WorkerProcess? { actors.last { $0.name == name }?.worker }

    func address(_ ref: PageRef, pageSize: UInt64) -> UInt64? {
        guard worker(ref.actor) != nil, let base = symbols[ref.actor]?[ref.loc.symbol] else { return nil }
        let (offset, overflow) = UInt64(ref.loc.page).multipliedReportingOverflow(by: pageSize)
        guard !overflow, case let (address, wrapped) = base.addingReportingOverflow(offset), !wrapped else { return nil }
        return address
    }

    /// An rmap hit as the scenario names pages: "actor@0x...".
    func name(pid: Int32?, address: UInt64) -> String {
        let owner = pid.flatMap { pid in actors.last { $0.worker.pid == pid }?.name } ?? pid.map { "pid \($0)" } ?? "no process"
        return "\(owner)@0x" + String(address, radix: 16)
    }

    /// Kills every actor (SIGKILL, bounded waits), children first.
    func kill() {
        for actor in actors.reversed() {
            actor.worker.kill()
            if let note = actor.worker.leftBehind { leftBehind.append("\(actor.name): \(note)") }
        }
        actors = []
    }

    /// Writes a sysfs/procfs setting, keeping the first old value to put back when the scenario ends.
    func set(_ path: String, to value: String) throws -> StepOutcome {
        let old = ScenarioRunner.currentChoice(try String(contentsOfFile: path, encoding: .utf8))
        try ScenarioRunner.write(value, to: path)
        if !settings.contains(where: { $0.path == path }) { settings.append((path, old)) }
        return .succeeded("was \(old)")
    }

    func finish() {
        // Children before parents: a forked worker is reaped by its parent.
        for actor in actors.reversed() {
            actor.worker.stop()
            if let note = actor.worker.leftBehind { leftBehind.append("\(actor.name): \(note)") }
        }
        actors = []
        if let device = swappedOff { _ = pti_swapon(device, 0) }
        for setting in settings.reversed() { try? ScenarioRunner.write(setting.old, to: setting.path) }
        if let fifoDirectory { rmdir(fifoDirectory) }
    }
}
