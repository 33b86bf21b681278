import CPteInspect
import Glibc

/// The helper process that performs memory operations for the CLI and the tests, so the CLI
/// itself never maps test memory or forks. It reads one `WorkerCommand` per line on stdin and
/// answers one `WorkerReply` line on stdout (the commands, their arguments and replies:
/// WorkerProtocol.swift). A failed system call answers "error CALL: TEXT [errno N]", whatever the
/// command, so a step can expect an errno of any of them.
///
/// The worker pins itself to one CPU first (see pti_pin_to_cpu()). EOF on stdin is `exit`.
public enum WorkerLoop {
    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    nonisolated(unsafe) private static var fixture: Int32 = -1
    /// The userfaultfd of `uffd-open`.
    nonisolated(unsafe) private static var uffd: Int32 = -1

    public static func run() -> Never {
        var children: [pid_t: Int32] = [:]   // pid -> write end of the pipe it waits on
        pinToFirstAllowedCPU()
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " }) { continue }
            let command: WorkerCommand
            do {
                command = try WorkerCommand(line: line)
            } catch {
                respond(.failed(error))
                continue
            }
            if case .exit = command {
                respond(.ok(""))
                finish(&children)
            }
            guard let reply = perform(command, &children) else { continue }   // the new worker child
            respond(reply)
        }
        finish(&children)
    }

    /// The reply to one command; nil in a child that became a worker (it answers nothing to the fork).
    static func perform(_ command: WorkerCommand, _ children: inout [pid_t: Int32]) -> WorkerReply? {
        do {
            return .ok(try execute(command, &children))
        } catch let failure as WorkerFailure {
            return .failed(failure)
        } catch is BecameWorker {
            return nil
        } catch {
            return .failed(WorkerFailure(message: "\(error)"))
        }
    }

    /// Thrown in a forked child that now serves commands of its own.
    private struct BecameWorker: Error {}

    private static func execute(_ command: WorkerCommand, _ children: inout [pid_t: Int32]) throws -> String {
        switch command {
        case .ping: return ""
        case let .map(pages, protection, sharing): return try map(pages: pages, protection, sharing)
        case let .mapTHP(sharing): return try mapTHP(sharing)
        case let .write(address, value): try store(value, at: address); return ""
        case let .read(address): return "\(try pointer(address).pointee)"
        case let .fill(address, pages, first): try fill(address, pages: pages, first: first); return ""
        case let .mremap(address, pages): return try move(address, pages: pages)
        case let .mprotect(address, pages, protection): try protect(address, pages: pages, protection); return ""
        case let .mapFixture(pages, sharing): return try mapFixture(pages: pages, sharing)
        case let .pin(address, pages, write, longterm): try pin(address, pages: pages, write: write, longterm: longterm, unpin: false); return ""
        case let .unpin(address, pages): try pin(address, pages: pages, write: false, longterm: false, unpin: true); return ""
        case let .madvise(address, pages, advice): try advise(address, pages: pages, advice); return ""
        case .drain: try drain(); return ""
        case let .mapFile(name, pages, protection, sharing): return try mapFile(name, pages: pages, protection, sharing)
        case let .churn(seconds, seed): return "\(Churn.run(seconds: seconds, seed: seed))"
        case .uffdOpen, .uffdRegister, .uffdCopy, .uffdZeropage, .uffdWriteProtect, .uffdMove, .uffdContinue:
            return try Userfault.run(command, fd: &uffd)
        case let .memWrite(pid, address, value): try remoteWrite(pid: pid, address, value); return ""
        case let .memRead(pid, address): return "\(try remoteAccess(pid: pid, address, write: false))"
        case .fork: return try forkChild(fifos: nil, &children)
        case let .forkWorker(input, output): return try forkChild(fifos: (input, output), &children)
        case let .release(pid): try release(pid, &children); return ""
        case .exit: return ""   // handled by run()
        }
    }

    private static func respond(_ reply: WorkerReply) {
        print(reply.line)
        fflush(stdout)
    }

    private static func finish(_ children: inout [pid_t: Int32]) -> Never {
        for pid in Array(children.keys) { try? release(pid, &children) }
        exit(0)
    }

    private static func pinToFirstAllowedCPU() {
        // CPU 0 is always present in the VM and on ordinary machines; if it is not allowed, stay
        // unpinned rather than fail (refcount-dependent results may then vary).
        _ = pti_pin_to_cpu(0)
    }


    private static let pageSize = Int(SystemPage.size)

    /// `pages` pages as a byte length (the decoder bounds `pages`; this cannot overflow).
    private static func length(_ pages: Int) -> Int { pages * pageSize }

    private static func pointer(_ address: UInt64) throws(WorkerFailure) -> UnsafeMutablePointer<UInt8> {
        guard let pointer = UnsafeMutablePointer<UInt8>(bitPattern: UInt(address)) else {
            throw WorkerFailure(call: "usage", message: "address 0 is not a page of this worker")
        }
        return pointer
    }

    private static func raw(_ address: UInt64) throws(WorkerFailure) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(try pointer(address))
    }

    private static func hex(_ pointer: UnsafeMutableRawPointer) -> String { "0x" + String(UInt(bitPattern: pointer), radix: 16) }

    /// A PROT_NONE reservation of `pages` + 2 pages; returns the address after the first guard.
    /// `map` and `map-thp` make their pages accessible with mprotect(): their reservation is
    /// accounted (no MAP_NORESERVE, which would stay in the VMA as VM_NORESERVE); the others map
    /// over it with MAP_FIXED.
    private static func reserve(pages: Int, accounted: Bool = false) throws(WorkerFailure) -> UnsafeMutableRawPointer {
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (accounted ? 0 : MAP_NORESERVE)
        guard let base = mmap(nil, length(pages + 2), PROT_NONE, flags, -1, 0),
              base != MAP_FAILED else { throw .system("mmap(PROT_NONE)") }
        return base + pageSize
    }

    private static func map(pages: Int, _ protection: Protection, _ sharing: Sharing) throws(WorkerFailure) -> String {
        var start = try reserve(pages: pages, accounted: true)
        if sharing == .shared {
            guard let shared = mmap(start, length(pages), protection.prot, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  shared != MAP_FAILED else { throw .system("mmap(MAP_SHARED)") }
            start = shared
        } else {
            guard mprotect(start, length(pages), protection.prot) == 0 else { throw .system("mprotect") }
        }
        guard madvise(start, length(pages), MADV_NOHUGEPAGE) == 0 else { throw .system("madvise(MADV_NOHUGEPAGE)") }
        return hex(start)
    }

    /// memfd files by name (map-file).
    nonisolated(unsafe) private static var files: [String: Int32] = [:]

    private static func mapFile(_ name: String, pages: Int, _ protection: Protection, _ sharing: Sharing) throws(WorkerFailure) -> String {
        let fd: Int32
        if let known = files[name] {
            fd = known
        } else {
            fd = pti_memfd_create(name)
            guard fd >= 0 else { throw .system("memfd_create") }
            guard ftruncate(fd, off_t(length(pages))) == 0 else {
                let failure = WorkerFailure.system("ftruncate")
                close(fd)
                throw failure
            }
            files[name] = fd
        }
        let target = try reserve(pages: pages)
        guard let mapped = mmap(target, length(pages), protection.prot, sharing.flag | MAP_FIXED, fd, 0), mapped != MAP_FAILED else {
            throw .system("mmap(memfd:\(name))")
        }
        return hex(mapped)
    }

    private static func mapTHP(_ sharing: Sharing) throws(WorkerFailure) -> String {
        let huge = 2 << 20
        // Between PROT_NONE guard pages, as `map`: without them 6.1 placed the 4 MiB right
        // against an earlier anonymous mapping and expanded that VMA (mm/mmap.c mmap_region(),
        // "Check next/prev" -> vma_expand()), so the new range came with its neighbour's
        // anon_vma; 6.12 puts a 2 MiB-multiple anonymous mmap on a THP boundary with gaps around
        // it (efa7df3e3bb5, v6.7; d4148aeab412, v6.12), and showed none.
        let base = try reserve(pages: 2 * huge / pageSize, accounted: true)
        guard mprotect(base, 2 * huge, PROT_READ | PROT_WRITE) == 0 else { throw .system("mprotect") }
        // 6.1 does not align anonymous mmaps to 2 MiB: use the aligned 2 MiB inside the 4 MiB.
        let start = (UInt(bitPattern: base) + UInt(huge) - 1) & ~UInt(huge - 1)
        var aligned = try raw(UInt64(start))
        if sharing == .shared {
            // shmem: a PMD can map its THP only where the address and the file offset agree
            // modulo 2 MiB (transhuge_vma_suitable()); a shared anonymous mapping starts at offset 0.
            guard let shared = mmap(aligned, huge, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  shared != MAP_FAILED else { throw .system("mmap(MAP_SHARED)") }
            aligned = shared
        }
        guard madvise(aligned, huge, MADV_HUGEPAGE) == 0 else { throw .system("madvise(MADV_HUGEPAGE)") }
        return hex(aligned)
    }

    private static func fill(_ address: UInt64, pages: UInt64, first: UInt32?) throws(WorkerFailure) {
        for i in 0..<pages {
            let (page, overflow) = address.addingReportingOverflow(i * UInt64(pageSize))
            guard !overflow else { throw WorkerFailure(call: "usage", message: "fill: the range wraps the address space") }
            try store(first.map { $0 &+ UInt32(truncatingIfNeeded: i) }, at: page)
        }
    }

    /// The byte 0x5a, or `value` as a u32 (one aligned store, so the module reads all of it or
    /// none of it; an unaligned address is refused).
    private static func store(_ value: UInt32?, at address: UInt64) throws(WorkerFailure) {
        guard let value else { try pointer(address).pointee = 0x5a; return }
        guard address % 4 == 0 else { throw WorkerFailure(call: "usage", message: "write: a u32 value needs a 4-byte aligned address") }
        UnsafeMutableRawPointer(try pointer(address)).storeBytes(of: value, as: UInt32.self)
    }

    private static func move(_ address: UInt64, pages: Int) throws(WorkerFailure) -> String {
        let old = try raw(address)
        let target = try reserve(pages: pages)
        guard let moved = pti_mremap_fixed(old, length(pages), target), moved != MAP_FAILED else { throw .system("mremap") }
        return hex(moved)
    }

    private static func protect(_ address: UInt64, pages: Int, _ protection: Protection) throws(WorkerFailure) {
        guard mprotect(try raw(address), length(pages), protection.prot) == 0 else { throw .system("mprotect") }
    }

    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    private static func openFixture() throws(WorkerFailure) {
        if fixture >= 0 { return }
        fixture = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
        guard fixture >= 0 else { throw .system("open(/dev/pteinspect)") }
    }

    private static func mapFixture(pages: Int, _ sharing: Sharing) throws(WorkerFailure) -> String {
        try openFixture()
        let target = try reserve(pages: pages)
        guard let mapped = mmap(target, length(pages), PROT_READ | PROT_WRITE, sharing.flag | MAP_FIXED, fixture, 0),
              mapped != MAP_FAILED else { throw .system("mmap(/dev/pteinspect)") }
        return hex(mapped)
    }

    private static func pin(_ address: UInt64, pages: UInt64, write: Bool, longterm: Bool, unpin: Bool) throws(WorkerFailure) {
        var flags: UInt32 = 0
        if write { flags |= UInt32(PTEINSPECT_PIN_WRITE) }
        if longterm { flags |= UInt32(PTEINSPECT_PIN_LONGTERM) }
        try openFixture()
        guard pti_fixture_pin(fixture, unpin ? 1 : 0, address, pages, flags) == 0 else {
            throw .system(unpin ? "PTEINSPECT_IOC_UNPIN" : "PTEINSPECT_IOC_PIN")
        }
    }

    private static func advise(_ address: UInt64, pages: Int, _ advice: Advice) throws(WorkerFailure) {
        guard madvise(try raw(address), length(pages), advice.value) == 0 else { throw .system("madvise(\(advice.constantName))") }
    }

    /// A private page used only to run lru_add_drain() on this CPU through MADV_COLD.
    nonisolated(unsafe) private static var scratch: UnsafeMutableRawPointer?

    private static func drain() throws(WorkerFailure) {
        if scratch == nil {
            guard let page = mmap(nil, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  page != MAP_FAILED else { throw .system("mmap") }
            scratch = page
        }
        guard let scratch else { throw WorkerFailure(message: "no scratch page") }
        guard madvise(scratch, pageSize, MADV_COLD) == 0 else { throw .system("madvise(MADV_COLD)") }
    }

    /// A write through /proc/PID/mem: the byte 0x3c, or `value` as a u32.
    private static func remoteWrite(pid: Int32, _ address: UInt64, _ value: UInt32?) throws(WorkerFailure) {
        guard let value else { _ = try remoteAccess(pid: pid, address, write: true); return }
        var word = value
        try withUnsafeMutableBytes(of: &word) { (bytes) throws(WorkerFailure) in
            try procMem(pid: pid, address, bytes, write: true)
        }
    }

    /// One byte through /proc/PID/mem; the byte read (or written).
    private static func remoteAccess(pid: Int32, _ address: UInt64, write: Bool) throws(WorkerFailure) -> UInt8 {
        var byte: UInt8 = 0x3c
        try withUnsafeMutableBytes(of: &byte) { (bytes) throws(WorkerFailure) in
            try procMem(pid: pid, address, bytes, write: write)
        }
        return byte
    }

    /// `bytes` read from or written to `address` of process `pid` through /proc/PID/mem (the
    /// kernel's FOLL_FORCE access, mem_rw()); a short transfer is EIO: the page could not be reached.
    private static func procMem(pid: Int32, _ address: UInt64, _ bytes: UnsafeMutableRawBufferPointer, write: Bool) throws(WorkerFailure) {
        let path = "/proc/\(pid)/mem"
        let fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open(\(path))") }
        defer { close(fd) }
        let offset = off_t(Int64(bitPattern: address))
        let done = write ? pwrite(fd, bytes.baseAddress, bytes.count, offset) : pread(fd, bytes.baseAddress, bytes.count, offset)
        guard done == bytes.count else {
            if done >= 0 { errno = EIO }
            throw .system((write ? "pwrite(" : "pread(") + path + ")")
        }
    }

    /// The child's pid; throws `BecameWorker` in a child that now serves commands from `fifos`.
    private static func forkChild(fifos: (input: String, output: String)?, _ children: inout [pid_t: Int32]) throws -> String {
        var hold: [Int32] = [0, 0]
        guard pipe(&hold) == 0 else { throw WorkerFailure.system("pipe") }
        fflush(stdout)
        let pid = fork()
        if pid < 0 {
            let failure = WorkerFailure.system("fork")
            close(hold[0]); close(hold[1])
            throw failure
        }
        if pid == 0 {
            close(hold[1])
            for fd in children.values { close(fd) }   // other children's hold pipes
            children = [:]
            if let fifos {
                // A new worker: commands from IN, answers on OUT. The userfaultfd and the fixture
                // file are the parent's (a pin belongs to the open file): leave them to it.
                close(hold[0])
                if uffd >= 0 { close(uffd); uffd = -1 }
                if fixture >= 0 { close(fixture); fixture = -1 }
                let input = open(fifos.input, O_RDONLY | O_CLOEXEC)
                let output = open(fifos.output, O_WRONLY | O_CLOEXEC)
                guard input >= 0, output >= 0, dup2(input, STDIN_FILENO) == STDIN_FILENO,
                      dup2(output, STDOUT_FILENO) == STDOUT_FILENO else { _exit(1) }
                close(input); close(output)
                clearerr(stdin)
                throw BecameWorker()
            }
            // An idle child: wait for EOF on the hold pipe (the worker closed it, or died and the
            // kernel closed it), then leave.
            close(STDIN_FILENO)
            close(STDOUT_FILENO)
            var byte: UInt8 = 0
            while read(hold[0], &byte, 1) > 0 {}
            _exit(0)
        }
        close(hold[0])
        children[pid] = hold[1]
        return "\(pid)"
    }

    private static func release(_ pid: Int32, _ children: inout [pid_t: Int32]) throws(WorkerFailure) {
        guard let fd = children[pid] else {
            throw WorkerFailure(call: "usage", message: "release CHILD-PID: \(pid) is not an idle child of this worker")
        }
        close(fd)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        children[pid] = nil
    }
}
