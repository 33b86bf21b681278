import CPteInspect
import Foundation
import Glibc

// The system actions: performed by the CLI itself (`system: VERB` in a scenario), each put back
// when the scenario ends.

/// swapoff(2) of the swap device (swapped pages come back in; try_to_unuse()).
struct Swapoff: ScenarioVerb {
    static let name = "swapoff"
    static var isSystem: Bool { true }
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {}
    var description: String { "swapoff the swap device" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        guard let device = step.environment.swapDevices.first else { throw ScenarioError.unbound("no swap device") }
        guard pti_swapoff(device) == 0 else {
            let code = errno
            return .failed(errno: code, message: "swapoff(\(device)): \(ErrnoName(code: code).message)")
        }
        step.state.swappedOff = device
        return .succeeded(device)
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .swapoff }
}

struct Swapon: ScenarioVerb {
    static let name = "swapon"
    static var isSystem: Bool { true }
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {}
    var description: String { "swapon the swap device again" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        guard let device = step.state.swappedOff ?? step.environment.swapDevices.first else { throw ScenarioError.unbound("no swap device") }
        guard pti_swapon(device, 0) == 0 else {
            let code = errno
            return .failed(errno: code, message: "swapon(\(device)): \(ErrnoName(code: code).message)")
        }
        step.state.swappedOff = nil
        return .succeeded(device)
    }
}

/// Writes a sysfs/procfs value; the old value is restored when the scenario ends.
struct Setting: ScenarioVerb {
    static let name = "set"
    static var isSystem: Bool { true }
    var path = "/sys/"
    var value = ""
    init() {}
    init(path: String, value: String) { self.path = path; self.value = value }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.word(&path, "PATH")
        try v.word(&value, "VALUE")
    }
    func validate(_ text: String) throws(GrammarError) {
        guard path.hasPrefix("/sys/") || path.hasPrefix("/proc/sys/") else {
            throw GrammarError(message: "'set' writes a setting under /sys/ or /proc/sys/, not '\(path)'")
        }
    }
    var description: String { "echo \(value) > \(path)" }
    func perform(_ step: StepContext) throws -> StepOutcome { try step.state.set(path, to: value) }
}

/// Polls the pages until each is PageKsm (ksmd merges asynchronously), at most `seconds`.
struct WaitForKsm: ScenarioVerb {
    static let name = "wait-ksm"
    static var isSystem: Bool { true }
    var seconds = 1
    var pages: [PageRef] = []
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.number(&seconds, "SECONDS", 1...600)
        try v.pageRefs(&pages, "ACTOR:PAGE")
    }
    var description: String { "wait (at most \(seconds) s) until ksmd merged " + pages.map(\.description).joined(separator: ", ") }
    var observedFields: [PageField] { [.ksm] }
    var ownBound: Double { Double(seconds) }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .ksm }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        while true {
            var waiting: [String] = []
            for ref in pages {
                let (worker, address) = try step.locate(ref)
                let seen = try step.observer.observe(pid: worker.pid, address: address.value) { _, _ in "" }
                if seen[.ksm] != .bool(true) { waiting.append(ref.description) }
            }
            if waiting.isEmpty { return .succeeded("merged") }
            if Date() > deadline {
                return .failed(errno: nil, message: "ksmd did not merge \(waiting.joined(separator: ", ")) within \(seconds) s")
            }
            usleep(200_000)
        }
    }
}
