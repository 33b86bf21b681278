import Foundation

/// The CLI's (or a test's) handle on one worker process: spawns `pteinspect worker` (posix_spawn
/// through Foundation's Process, never fork in the caller) and exchanges command lines with it.
public final class WorkerProcess {
    public enum Failure: Error, CustomStringConvertible {
        case refused(command: String, reply: String)
        case exited(command: String)

        public var description: String {
            switch self {
            case let .refused(command, reply): return "worker refused '\(command)': \(reply)"
            case let .exited(command): return "worker exited while running '\(command)'"
            }
        }
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    public var pid: Int32 { process.processIdentifier }

    /// `executable` is the pteinspect binary (default: the running one).
    public init(executable: String = WorkerProcess.currentExecutable()) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        try send("ping")   // returns once the worker has finished loading and sits in its loop
    }

    deinit { stop() }

    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Sends one command; returns the reply's value (the text after "ok ").
    @discardableResult
    public func send(_ command: String) throws -> String {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        guard let line = readLine() else { throw Failure.exited(command: command) }
        guard line.hasPrefix("ok") else { throw Failure.refused(command: command, reply: line) }
        return String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
    }

    public func map(pages: Int) throws -> UInt64 {
        let text = try send("map \(pages)")
        guard text.hasPrefix("0x"), let address = UInt64(text.dropFirst(2), radix: 16) else {
            throw Failure.refused(command: "map \(pages)", reply: text)
        }
        return address
    }

    /// A 2 MiB-aligned, MADV_HUGEPAGE range where a fault may map a PMD THP.
    public func mapTHP() throws -> UInt64 {
        let text = try send("map-thp")
        guard text.hasPrefix("0x"), let address = UInt64(text.dropFirst(2), radix: 16) else {
            throw Failure.refused(command: "map-thp", reply: text)
        }
        return address
    }

    public func write(_ address: UInt64) throws { try send("write 0x" + String(address, radix: 16)) }
    public func read(_ address: UInt64) throws { try send("read 0x" + String(address, radix: 16)) }

    /// Moves `pages` pages at `address` to a fresh range (mremap MAYMOVE|FIXED); the new address.
    public func mremap(_ address: UInt64, pages: Int) throws -> UInt64 {
        let command = "mremap 0x" + String(address, radix: 16) + " \(pages)"
        let text = try send(command)
        guard text.hasPrefix("0x"), let moved = UInt64(text.dropFirst(2), radix: 16) else {
            throw Failure.refused(command: command, reply: text)
        }
        return moved
    }

    public enum Protection: String { case read = "r", readWrite = "rw", none }

    public func mprotect(_ address: UInt64, pages: Int, _ protection: Protection) throws {
        try send("mprotect 0x" + String(address, radix: 16) + " \(pages) " + protection.rawValue)
    }

    /// Maps `pages` pages of /dev/pteinspect (a VM_PFNMAP mapping); the address.
    public func mapFixture(pages: Int, shared: Bool = false) throws -> UInt64 {
        let command = "map-pfn \(pages) " + (shared ? "shared" : "private")
        let text = try send(command)
        guard text.hasPrefix("0x"), let address = UInt64(text.dropFirst(2), radix: 16) else {
            throw Failure.refused(command: command, reply: text)
        }
        return address
    }

    /// Pins `pages` pages at `address` of the worker (FOLL_PIN, optionally WRITE / LONGTERM).
    public func pin(_ address: UInt64, pages: Int, write: Bool = false, longterm: Bool = false) throws {
        try send("pin 0x" + String(address, radix: 16) + " \(pages) " + (write ? "w" : "") + (longterm ? "l" : ""))
    }

    public func unpin(_ address: UInt64, pages: Int) throws {
        try send("unpin 0x" + String(address, radix: 16) + " \(pages)")
    }

    /// Writes one byte in each of `pages` pages from `address`.
    public func fill(_ address: UInt64, pages: UInt64) throws { try send("fill 0x" + String(address, radix: 16) + " \(pages)") }

    /// Forks the worker; returns the child's pid. The child stays until released or until the
    /// worker stops.
    public func fork() throws -> Int32 {
        let text = try send("fork")
        guard let pid = Int32(text) else { throw Failure.refused(command: "fork", reply: text) }
        return pid
    }

    public func release(child: Int32) throws { try send("release \(child)") }

    /// Ends the worker (and its children) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Kills the worker outright (SIGKILL) and waits for it.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private func readLine() -> String? {
        var bytes: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            guard let chunk = try? handle.read(upToCount: 1), let byte = chunk.first else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
