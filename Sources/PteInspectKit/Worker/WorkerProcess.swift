import Foundation
import Glibc

/// The CLI's (or a test's) handle on one worker process: spawns `pteinspect worker` (posix_spawn
/// through Foundation's Process, never fork in the caller) and exchanges commands with it
/// (`WorkerCommand`, `WorkerReply`: WorkerProtocol.swift).
public final class WorkerProcess {
    public enum Failure: Error, CustomStringConvertible {
        case refused(command: String, reply: WorkerFailure)
        /// A reply that is not a `WorkerReply` line, or whose value is not what the command names.
        case garbled(command: String, reply: String)
        case exited(command: String)
        /// No reply within the bound: the worker is stuck (in the kernel, most likely). `where` is
        /// what /proc said about it when the bound was hit (`ProcessDiagnostics`).
        case timedOut(command: String, pid: Int32, seconds: Double, where: String)
        /// The wait was given up before the bound because `stopWaiting` said so (the kernel
        /// logged a splat meanwhile: the reply is not coming).
        case interrupted(command: String, pid: Int32, seconds: Double, where: String)

        public var description: String {
            switch self {
            case let .refused(command, reply): return "worker refused '\(command)': \(reply.explained)"
            case let .garbled(command, reply): return "worker answered '\(command)' with '\(reply)', which is not a reply of the worker protocol"
            case let .exited(command): return "worker exited while running '\(command)'"
            case let .timedOut(command, pid, seconds, _):
                return "worker \(pid) did not answer '\(command)' within \(Bounds.text(seconds))"
            case let .interrupted(command, pid, seconds, _):
                return "worker \(pid) had not answered '\(command)' after \(Bounds.text(seconds)) when the kernel logged a splat"
            }
        }

        /// The errno of a failed system call.
        public var errno: Int32? {
            guard case let .refused(_, reply) = self else { return nil }
            return reply.errno
        }
    }

    /// The spawned worker; nil for a forked child that became a worker.
    private let process: Process?
    private let writer: FileHandle
    private let reader: FileHandle
    private var pending: [UInt8] = []
    public let pid: Int32
    /// How long a command may take before it is a hang (`Failure.timedOut`).
    public var replyTimeout: Double
    /// Asked about once a second while a reply is awaited: true gives up the wait
    /// (`Failure.interrupted`). A fork passes it on to the child.
    public var stopWaiting: (() -> Bool)?
    private var stopped = false
    /// Set when `stop()` or `kill()` gave up waiting: the process did not go away (a task stuck
    /// in the kernel does not die of SIGKILL until it leaves the kernel).
    public private(set) var leftBehind: String?

    /// `executable` is the pteinspect binary (default: the running one). The first reply (the
    /// worker loaded and sits in its loop) may take `Bounds.workerStart`; later ones
    /// `replyTimeout` each.
    public init(executable: String = WorkerProcess.currentExecutable(), replyTimeout: Double = Bounds.reply,
                stopWaiting: (() -> Bool)? = nil) throws {
        WorkerProcess.ignoreSigpipe
        let process = Process(), input = Pipe(), output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker"]
        process.standardInput = input
        process.standardOutput = output
        // The worker's stderr is a pipe of this process's, copied to its own stderr as it comes,
        // not this process's stderr itself: a helper the kernel left stuck (a BUG with its
        // page-table lock held: it cannot be killed) held that open after this process exited,
        // and whoever reads this process's output to EOF waited for good. kselftest's runner
        // does (`tap_timeout "$cmd" 2>&1 | tap_prefix`): on a kernel broken on purpose the whole
        // kselftest run hung at the scenario that BUGged. (Descriptors from 3 on are not
        // inherited: Foundation's Process closes them in the child, seen in /proc/PID/fd.)
        process.standardError = errors
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { FileHandle.standardError.write(data) }
        }
        try process.run()
        self.process = process
        writer = input.fileHandleForWriting
        reader = output.fileHandleForReading
        pid = process.processIdentifier
        self.replyTimeout = replyTimeout
        self.stopWaiting = stopWaiting
        try send(.ping, within: max(replyTimeout, Bounds.workerStart))
    }

    private init(child pid: Int32, writer: FileHandle, reader: FileHandle, replyTimeout: Double, stopWaiting: (() -> Bool)?) throws {
        process = nil
        self.pid = pid
        self.writer = writer
        self.reader = reader
        self.replyTimeout = replyTimeout
        self.stopWaiting = stopWaiting
        try send(.ping)
    }

    deinit { stop() }

    /// A write to a worker that has died must be an error (EPIPE: `Failure.exited`), not the
    /// death of the CLI by SIGPIPE.
    private static let ignoreSigpipe: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Forks this worker; the child becomes a worker of its own, driven through two FIFOs made in
    /// `directory`. Stop the child before its parent (the parent reaps it when it stops).
    public func forkWorker(fifoDirectory directory: String) throws -> WorkerProcess {
        let stem = directory + "/fork-\(pid)-\(UInt32.random(in: 0...UInt32.max))"
        let inPath = stem + ".in", outPath = stem + ".out"
        for path in [inPath, outPath] where mkfifo(path, 0o600) != 0 {
            throw SystemCallError("mkfifo(\(path))")
        }
        defer { unlink(inPath); unlink(outPath) }
        let command = WorkerCommand.forkWorker(input: inPath, output: outPath)
        let text = try send(command)
        guard let child = Int32(text), child > 0 else { throw Failure.garbled(command: command.line, reply: text) }
        // Same order as the child (IN, then OUT), bounded: the child opens IN for reading, then
        // blocks opening OUT for writing until a reader is there. A write-only non-blocking open
        // fails with ENXIO while the FIFO has no reader (fifo(7)); a read-only one returns at
        // once, and poll(2) reports nothing on it until a writer has come (fs/pipe.c, pipe_poll()).
        let deadline = Deadline(seconds: replyTimeout)
        var inFD: Int32 = -1
        while true {
            inFD = open(inPath, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if inFD >= 0 { break }
            guard errno == ENXIO || errno == EINTR else {
                throw SystemCallError("open(\(inPath))")
            }
            let childState = ProcessDiagnostics.state(pid: child)
            if childState == nil || childState?.hasPrefix("Z") == true {
                throw Failure.exited(command: "fork (the child \(child) ended before it opened its FIFOs)")
            }
            if deadline.passed || stopWaiting?() == true {
                let place = ProcessDiagnostics(pid: child)
                Foundation.kill(child, SIGKILL)
                if deadline.passed {
                    throw Failure.timedOut(command: "fork (the child opening its FIFOs)", pid: child, seconds: replyTimeout, where: place.summary)
                }
                throw Failure.interrupted(command: "fork (the child opening its FIFOs)", pid: child, seconds: replyTimeout, where: place.summary)
            }
            usleep(5_000)
        }
        let outFD = open(outPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard outFD >= 0 else {
            close(inFD)
            throw SystemCallError("open(\(outPath))")
        }
        // Blocking again: writes to the child and reads after poll(2) said there is data.
        _ = fcntl(inFD, F_SETFL, fcntl(inFD, F_GETFL) & ~O_NONBLOCK)
        _ = fcntl(outFD, F_SETFL, fcntl(outFD, F_GETFL) & ~O_NONBLOCK)
        let writer = FileHandle(fileDescriptor: inFD, closeOnDealloc: true)
        let reader = FileHandle(fileDescriptor: outFD, closeOnDealloc: true)
        let forked = try WorkerProcess(child: child, writer: writer, reader: reader, replyTimeout: replyTimeout, stopWaiting: stopWaiting)
        return forked
    }

    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Sends one command; returns the reply's value (what follows "ok"). Waits at most `within`
    /// seconds (default `replyTimeout`) for the reply.
    @discardableResult
    public func send(_ command: WorkerCommand, within seconds: Double? = nil) throws -> String {
        let line = command.line
        guard !stopped else { throw Failure.exited(command: line) }
        do {
            try writer.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw Failure.exited(command: line)
        }
        let bound = seconds ?? replyTimeout
        let started = Deadline(seconds: 0)
        switch readLine(deadline: Deadline(seconds: bound), checking: stopWaiting) {
        case .eof: throw Failure.exited(command: line)
        case .timedOut:
            throw Failure.timedOut(command: line, pid: pid, seconds: bound, where: ProcessDiagnostics(pid: pid).summary)
        case .interrupted:
            throw Failure.interrupted(command: line, pid: pid, seconds: started.elapsed, where: ProcessDiagnostics(pid: pid).summary)
        case let .line(text):
            switch WorkerReply(line: text) {
            case let .ok(value)?: return value
            case let .failed(failure)?: throw Failure.refused(command: line, reply: failure)
            case nil: throw Failure.garbled(command: line, reply: text)
            }
        }
    }

    /// `send` for a command whose reply is an address ("ok 0x7f...").
    public func sendForAddress(_ command: WorkerCommand) throws -> UInt64 {
        let value = try send(command)
        guard let address = WorkerReply.address(value) else { throw Failure.garbled(command: command.line, reply: "ok " + value) }
        return address
    }

    public func map(pages: Int, _ protection: Protection = .readWrite, _ sharing: Sharing = .private) throws -> UInt64 {
        try sendForAddress(.map(pages: pages, protection, sharing))
    }

    /// A 2 MiB-aligned, MADV_HUGEPAGE range where a fault may map a PMD THP.
    public func mapTHP() throws -> UInt64 { try sendForAddress(.mapTHP()) }

    public func write(_ address: UInt64) throws { try send(.write(address)) }
    public func read(_ address: UInt64) throws { try send(.read(address)) }

    /// Moves `pages` pages at `address` to a fresh range (mremap MAYMOVE|FIXED); the new address.
    public func mremap(_ address: UInt64, pages: Int) throws -> UInt64 { try sendForAddress(.mremap(address, pages: pages)) }

    public func mprotect(_ address: UInt64, pages: Int, _ protection: Protection) throws {
        try send(.mprotect(address, pages: pages, protection))
    }

    /// Maps `pages` pages of /dev/pteinspect (a VM_PFNMAP mapping); the address.
    public func mapFixture(pages: Int, shared: Bool = false) throws -> UInt64 {
        try sendForAddress(.mapFixture(pages: pages, shared ? .shared : .private))
    }

    /// Pins `pages` pages at `address` of the worker (FOLL_PIN, optionally WRITE / LONGTERM).
    public func pin(_ address: UInt64, pages: Int, write: Bool = false, longterm: Bool = false) throws {
        try send(.pin(address, pages: UInt64(pages), write: write, longterm: longterm))
    }

    public func unpin(_ address: UInt64, pages: Int) throws { try send(.unpin(address, pages: UInt64(pages))) }

    public func madvise(_ address: UInt64, pages: Int, _ advice: Advice) throws { try send(.madvise(address, pages: pages, advice)) }

    /// Writes one byte in each of `pages` pages from `address`.
    public func fill(_ address: UInt64, pages: UInt64) throws { try send(.fill(address, pages: pages)) }

    /// Forks the worker; returns the child's pid. The child stays until released or until the
    /// worker stops.
    public func fork() throws -> Int32 {
        let text = try send(.fork)
        guard let pid = Int32(text), pid > 0 else { throw Failure.garbled(command: WorkerCommand.fork.line, reply: "ok " + text) }
        return pid
    }

    public func release(child: Int32) throws { try send(.release(pid: child)) }

    /// Ends the worker (and its idle children) and waits for it, at most `Bounds.exit` and then
    /// SIGKILL and `Bounds.exit` again: for a forked worker, until it closed its end (its parent
    /// worker reaps it). A worker that is still there after that is left behind (`leftBehind`
    /// says where it was); nothing here waits longer.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        try? writer.close()
        if !waitForExit(Deadline(seconds: Bounds.exit)) {
            Foundation.kill(pid, SIGKILL)
            if !waitForExit(Deadline(seconds: Bounds.exit)) {
                leftBehind = "pid \(pid) did not exit within \(Bounds.text(2 * Bounds.exit)) of being told to, SIGKILL included: " +
                    ProcessDiagnostics(pid: pid).summary
            }
        }
        try? reader.close()
    }

    /// Kills the worker outright (SIGKILL) and waits for it (bounded, as `stop()`).
    public func kill() {
        guard !stopped else { return }
        Foundation.kill(pid, SIGKILL)
        stop()
    }

    /// Until the worker is gone or the deadline passes: a spawned worker's exit; a forked one's
    /// end of the FIFO closing (its parent reaps it).
    private func waitForExit(_ deadline: Deadline) -> Bool {
        if let process {
            while process.isRunning {
                // A zombie has exited; Foundation may not say so while a forked child still holds
                // the status pipe it inherited.
                if ProcessDiagnostics.isZombie(pid: pid) { return true }
                if deadline.passed { return false }
                usleep(10_000)
            }
            process.waitUntilExit()   // it has exited: this only collects the status
            return true
        }
        while true {
            switch readLine(deadline: deadline) {
            case .eof: return true
            case .timedOut, .interrupted: return false
            case .line: continue
            }
        }
    }

    private enum Read { case line(String), eof, timedOut, interrupted }

    /// One line of the worker's output, waiting at most until `deadline` (poll(2) on the pipe),
    /// and asking `checking` about once a second whether to give up.
    private func readLine(deadline: Deadline, checking: (() -> Bool)? = nil) -> Read {
        let fd = reader.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return .line(line)
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let slice = checking == nil ? deadline.remainingMilliseconds : min(deadline.remainingMilliseconds, 1000)
            let ready = poll(&poller, 1, slice)
            if ready < 0 {
                if errno == EINTR { continue }   // the deadline loop: the next slice is what is left
                return .eof
            }
            if ready == 0 {
                if deadline.passed { return .timedOut }
                if checking?() == true { return .interrupted }
                continue
            }
            let count = retryingInterrupted { Glibc.read(fd, &chunk, chunk.count) }
            if count < 0 {
                if errno == EAGAIN { continue }
                return .eof
            }
            if count == 0 { return .eof }
            pending.append(contentsOf: chunk[..<count])
        }
    }
}

/// The bounds on waits for a helper process, in one place (`pteinspect scenario run
/// --step-timeout` overrides `reply`). Measured under TCG: a worker's first reply (the Swift
/// runtime loaded over 9p) about 1 s on a stock kernel, 7.5 s on the 6.12 debug kernel (KASAN,
/// lockdep, kmemleak) with a warm page cache and 43 s with a cold one; a healthy step well under
/// 10 s on either.
public enum Bounds {
    /// A reply to one command (one scenario step).
    public static let reply: Double = 120
    /// A spawned worker's first reply.
    public static let workerStart: Double = 180
    /// A worker's exit once told to (and again after SIGKILL).
    public static let exit: Double = 10

    static func text(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}

/// A point in time on the monotonic clock.
public struct Deadline {
    private let end: UInt64   // CLOCK_MONOTONIC, nanoseconds

    public init(seconds: Double) {
        end = Deadline.now() + UInt64(max(0, seconds) * 1e9)
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    public var passed: Bool { Deadline.now() >= end }

    /// Seconds since this deadline (for one made with 0 seconds: since it was made).
    public var elapsed: Double { Deadline.now() > end ? Double(Deadline.now() - end) / 1e9 : 0 }

    /// For poll(2): what is left, rounded up to a millisecond, 0 once passed.
    var remainingMilliseconds: Int32 {
        let now = Deadline.now()
        guard now < end else { return 0 }
        return Int32(min(UInt64(Int32.max), (end - now + 999_999) / 1_000_000))
    }
}

/// Where a process is, as /proc says (root reads /proc/PID/stack): its state, its wait channel
/// and its kernel stack, for a hang report.
public struct ProcessDiagnostics {
    public let pid: Int32
    public let state: String?
    public let wchan: String?
    public let stack: [String]
    /// Why `stack` is empty: the read's errno, or what an empty read means.
    public let stackProblem: String?

    public init(pid: Int32) {
        self.pid = pid
        func read(_ name: String) -> String? {
            (try? String(contentsOfFile: "/proc/\(pid)/\(name)", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        state = Self.state(pid: pid)
        wchan = read("wchan").flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
        switch Self.readReportingErrno("/proc/\(pid)/stack") {
        case let (text?, _):
            stack = text.split(separator: "\n").map(String.init)
            // proc_pid_stack() saves no entry for a task it cannot unwind: one running on a CPU
            // (a spinning lock holder) or exiting; the read itself succeeded.
            stackProblem = stack.isEmpty ? "its kernel stack read back empty (the task is running on a CPU, or exiting: the kernel does not unwind those)" : nil
        case let (nil, errno):
            stack = []
            let hint = errno == EACCES || errno == EPERM
                ? (geteuid() == 0 ? " (root, yet refused: proc_pid_stack() also needs ptrace access to the task)" : " (it needs root)")
                : errno == ENOENT || errno == ESRCH ? " (the task is gone)" : ""
            stackProblem = "reading /proc/\(pid)/stack failed with \(ErrnoName(code: errno).name)\(hint)"
        }
    }

    /// The whole file, or the errno of the open or read that failed.
    static func readReportingErrno(_ path: String) -> (text: String?, errno: Int32) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (nil, errno) }
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = retryingInterrupted { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            if n < 0 { return (nil, errno) }
            if n == 0 { break }
            data += buffer[0..<n]
        }
        return (String(decoding: data, as: UTF8.self), 0)
    }

    public var isZombie: Bool { state?.hasPrefix("Z") ?? false }

    /// The State: line of /proc/PID/status alone ("S (sleeping)"), nil once the process is gone:
    /// for the loops that wait for a process to exit or open its FIFOs. They ask every 10 ms, and
    /// the kernel stack is only for a report: proc_pid_stack() unwinds a task that may be running
    /// on another CPU, and on the 7.3 debug kernel that unwind of a live stack drew a KASAN report
    /// ("out-of-bounds in unwind_next_frame", stack_trace_save_tsk <- proc_pid_stack) while
    /// `pteinspect stress` waited for the targets it killed.
    public static func state(pid: Int32) -> String? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("State:") }
            .map { $0.dropFirst("State:".count).trimmingCharacters(in: .whitespaces) }
    }

    public static func isZombie(pid: Int32) -> Bool { state(pid: pid)?.hasPrefix("Z") ?? false }

    /// One paragraph: "state D (disk sleep), wchan folio_wait_bit_common; stack: ...".
    public var summary: String {
        guard state != nil else { return "pid \(pid) is gone" }
        var parts = ["state \(state ?? "?")"]
        if let wchan { parts.append("wchan \(wchan)") }
        parts.append(stack.isEmpty ? (stackProblem ?? "no kernel stack") : "kernel stack: " + stack.joined(separator: " <- "))
        return parts.joined(separator: ", ")
    }
}
