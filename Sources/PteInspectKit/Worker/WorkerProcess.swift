import Foundation
import Glibc

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

        /// The errno of a failed system call ("... [errno N]" at the end of the reply).
        public var errno: Int32? {
            guard case let .refused(_, reply) = self, reply.hasSuffix("]"),
                  let open = reply.range(of: "[errno ", options: .backwards) else { return nil }
            return Int32(reply[open.upperBound...].dropLast())
        }
    }

    /// The spawned worker; nil for a forked child that became a worker.
    private let process: Process?
    private let writer: FileHandle
    private let reader: FileHandle
    public let pid: Int32
    private var stopped = false

    /// `executable` is the pteinspect binary (default: the running one).
    public init(executable: String = WorkerProcess.currentExecutable()) throws {
        let process = Process(), input = Pipe(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        self.process = process
        writer = input.fileHandleForWriting
        reader = output.fileHandleForReading
        pid = process.processIdentifier
        try send("ping")   // returns once the worker has finished loading and sits in its loop
    }

    private init(child pid: Int32, writer: FileHandle, reader: FileHandle) throws {
        process = nil
        self.pid = pid
        self.writer = writer
        self.reader = reader
        try send("ping")
    }

    deinit { stop() }

    /// Forks this worker; the child becomes a worker of its own, driven through two FIFOs made in
    /// `directory`. Stop the child before its parent (the parent reaps it when it stops).
    public func forkWorker(fifoDirectory directory: String) throws -> WorkerProcess {
        let stem = directory + "/fork-\(pid)-\(UInt32.random(in: 0...UInt32.max))"
        let inPath = stem + ".in", outPath = stem + ".out"
        for path in [inPath, outPath] where mkfifo(path, 0o600) != 0 {
            throw NetlinkError.system(call: "mkfifo(\(path))", errno: Glibc.errno)
        }
        defer { unlink(inPath); unlink(outPath) }
        let text = try send("fork \(inPath) \(outPath)")
        guard let child = Int32(text) else { throw Failure.refused(command: "fork", reply: text) }
        // Same order as the child (IN, then OUT): each open waits for the other side.
        guard let writer = FileHandle(forWritingAtPath: inPath), let reader = FileHandle(forReadingAtPath: outPath) else {
            throw Failure.exited(command: "fork (the child did not open its FIFOs)")
        }
        return try WorkerProcess(child: child, writer: writer, reader: reader)
    }

    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Sends one command; returns the reply's value (the text after "ok ").
    @discardableResult
    public func send(_ command: String) throws -> String {
        guard !stopped else { throw Failure.exited(command: command) }
        do {
            try writer.write(contentsOf: Data((command + "\n").utf8))
        } catch {
            throw Failure.exited(command: command)
        }
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

    /// Ends the worker (and its idle children) and waits for it: for a forked worker, until it
    /// closed its end (its parent worker reaps it).
    public func stop() {
        guard !stopped else { return }
        stopped = true
        try? writer.close()
        if let process {
            process.waitUntilExit()
        } else {
            while let chunk = try? reader.read(upToCount: 4096), !chunk.isEmpty {}
        }
        try? reader.close()
    }

    /// Kills the worker outright (SIGKILL) and waits for it.
    public func kill() {
        guard !stopped else { return }
        Foundation.kill(pid, SIGKILL)
        stop()
    }

    private func readLine() -> String? {
        var bytes: [UInt8] = []
        let handle = reader
        while true {
            guard let chunk = try? handle.read(upToCount: 1), let byte = chunk.first else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
