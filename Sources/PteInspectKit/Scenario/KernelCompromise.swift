import Foundation

/// The kernel can no longer give meaningful answers, decided from its own signals: an RCU stall,
/// a soft or hard lockup, a hung-task report, a BUG or Oops that left a task it cannot kill (a
/// lock held by a dead task: every later scenario waits for it and reports the same stall),
/// lockdep switched off by a report (debug kernels: no lock is checked after it), or a scenario
/// that could not even start its helpers. `scenario run` stops there (unless --keep-going) and
/// reports every scenario left as not run, with this as the reason.
public struct KernelCompromise: Equatable, Codable, CustomStringConvertible {
    public let scenario: String
    public let step: Int
    /// What the kernel did: "an RCU stall", "a BUG with a task that cannot be killed", ...
    public let signal: String
    /// The first line of the kernel's report (or of the step's error).
    public let line: String

    public var description: String { "the kernel is compromised since scenario \(scenario) step \(step) (\(signal)): \(line)" }

    /// The reason a scenario that was not run gets.
    public var notRun: String { "not run: " + description }

    static let stalls = ["self-detected stall", "detected stalls", "RCU stall"]
    static let lockups = ["soft lockup", "hard LOCKUP"]
    static let hungTask = ["blocked for more than"]
    static let oopses = ["kernel BUG at", "BUG: unable to handle", "BUG: kernel NULL pointer", "Oops", "general protection fault"]

    /// The first compromising signal among a scenario's faulted steps, if any.
    public static func detect(in result: ScenarioResult) -> KernelCompromise? {
        for step in result.steps where step.fault != nil || (step.number == 0 && step.error != nil) {
            let lines = step.kernelReport
            func first(_ markers: [String]) -> String? { lines.first { line in markers.contains { line.contains($0) } } }
            let found: (signal: String, line: String)?
            if let line = first(stalls) {
                found = ("an RCU stall", line)
            } else if let line = first(lockups) {
                found = ("a CPU lockup", line)
            } else if let line = first(hungTask) {
                found = ("a hung task", line)
            } else if let line = first(oopses), !step.leftBehind.isEmpty {
                found = ("a BUG/Oops with a task that cannot be killed", line)
            } else if step.number == 0 {
                found = ("a scenario could not start its helpers", step.error ?? "")
            } else {
                found = nil
            }
            if let found {
                return KernelCompromise(scenario: result.scenario.name, step: step.number, signal: found.signal,
                                        line: found.line.trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    /// lockdep's state (/proc/lockdep_stats "debug_locks: N"): nil on a kernel without lockdep.
    public static func debugLocks(_ path: String = "/proc/lockdep_stats") -> Bool? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("debug_locks:") }),
              let value = Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") else { return nil }
        return value != 0
    }

    /// lockdep went off during `scenario` (it was on before it).
    public static func lockdepWentOff(during scenario: String, before: Bool?, after: Bool?) -> KernelCompromise? {
        guard before == true, after == false else { return nil }
        return KernelCompromise(scenario: scenario, step: 0, signal: "lockdep switched itself off after a report",
                                line: "/proc/lockdep_stats: debug_locks 0")
    }

    /// A compromise carried from one `scenario run` to the next of the same boot (one run per
    /// scenario, as under kselftest's runner: `--compromise-file`). A kernel stays compromised
    /// until it reboots, so the record holds the boot's identity and a record of another boot
    /// is not one.
    public struct Record {
        public let path: String
        /// /proc/sys/kernel/random/boot_id: a random UUID drawn at every boot.
        public let bootID: String

        public init(path: String, bootID: String? = nil) {
            self.path = path
            self.bootID = bootID ?? Self.currentBootID()
        }

        static func currentBootID(_ file: String = "/proc/sys/kernel/random/boot_id") -> String {
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        private struct Stored: Codable {
            let bootID: String
            let compromise: KernelCompromise
            enum CodingKeys: String, CodingKey { case bootID = "boot_id", compromise }
        }

        /// The compromise an earlier run of this boot recorded; nil when there is none, or the
        /// record is another boot's. A file that cannot be read as a record is an error.
        public func load() throws -> KernelCompromise? {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let stored: Stored
            do {
                stored = try JSONDecoder().decode(Stored.self, from: data)
            } catch {
                throw RecordError(path: path, problem: "is not a compromise record (\(error)); remove it")
            }
            return stored.bootID == bootID ? stored.compromise : nil
        }

        /// Records `compromise` for the runs that follow in this boot.
        public func save(_ compromise: KernelCompromise) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            do {
                try encoder.encode(Stored(bootID: bootID, compromise: compromise))
                    .write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw RecordError(path: path, problem: "cannot be written (\(error))")
            }
        }
    }

    public struct RecordError: Error, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "the compromise record \(path) \(problem)" }
    }
}
