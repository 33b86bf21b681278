import CPteInspect
import Glibc

/// What one worker process holds between commands (its userfaultfd, /dev/pteinspect, memfds, idle
/// children) and the memory helpers its verbs share (Verbs/*.swift `execute`).
final class WorkerState {
    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    var fixture: Int32 = -1
    /// The userfaultfd of `uffd-open`.
    var uffd: Int32 = -1
    /// memfd files by name (map-file).
    var files: [String: Int32] = [:]
    /// A private page used only to run lru_add_drain() on this CPU through MADV_COLD.
    var scratch: UnsafeMutableRawPointer?
    /// Pipes `vmsplice` filled, by the first page's address: they hold FOLL_GET references.
    var splices: [UInt64: (read: Int32, write: Int32)] = [:]
    /// Idle forked children: pid -> write end of the pipe each waits on.
    var children: [pid_t: Int32] = [:]

    let pageSize = Int(SystemPage.size)

    /// `pages` pages as a byte length (the decoder bounds `pages`; this cannot overflow).
    func length(_ pages: Int) -> Int { pages * pageSize }

    func pointer(_ address: Address) throws(WorkerFailure) -> UnsafeMutablePointer<UInt8> {
        guard let pointer = UnsafeMutablePointer<UInt8>(bitPattern: UInt(address.value)) else {
            throw WorkerFailure(call: "usage", message: "address 0 is not a page of this worker")
        }
        return pointer
    }

    func raw(_ address: Address) throws(WorkerFailure) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(try pointer(address)) }

    static func hex(_ pointer: UnsafeMutableRawPointer) -> String { "0x" + String(UInt(bitPattern: pointer), radix: 16) }

    /// A PROT_NONE reservation of `pages` + 2 pages; returns the address after the first guard.
    /// `map` and `map-thp` make their pages accessible with mprotect(): their reservation is
    /// accounted (no MAP_NORESERVE, which would stay in the VMA as VM_NORESERVE); the others map
    /// over it with MAP_FIXED.
    func reserve(pages: Int, accounted: Bool = false) throws(WorkerFailure) -> UnsafeMutableRawPointer {
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (accounted ? 0 : MAP_NORESERVE)
        guard let base = mmap(nil, length(pages + 2), PROT_NONE, flags, -1, 0),
              base != MAP_FAILED else { throw .system("mmap(PROT_NONE)") }
        return base + pageSize
    }

    /// The byte 0x5a, or `value` as a u32 (one aligned store, so the module reads all of it or
    /// none of it; an unaligned address is refused).
    func store(_ value: UInt32?, at address: Address) throws(WorkerFailure) {
        guard let value else { try pointer(address).pointee = 0x5a; return }
        guard address.value % 4 == 0 else { throw WorkerFailure(call: "usage", message: "write: a u32 value needs a 4-byte aligned address") }
        UnsafeMutableRawPointer(try pointer(address)).storeBytes(of: value, as: UInt32.self)
    }

    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    func openFixture() throws(WorkerFailure) -> Int32 {
        if fixture < 0 {
            fixture = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
            guard fixture >= 0 else { throw .system("open(/dev/pteinspect)") }
        }
        return fixture
    }

    /// The userfaultfd `uffd-open` opened.
    func userfaultfd() throws(WorkerFailure) -> Int32 {
        guard uffd >= 0 else { throw WorkerFailure(message: "no userfaultfd: send uffd-open first") }
        return uffd
    }

    /// `bytes` read from or written to `address` of process `pid` through /proc/PID/mem (the
    /// kernel's FOLL_FORCE access, mem_rw()); a short transfer is EIO: the page could not be reached.
    /// As a debugger does it: the target stopped under ptrace meanwhile (pti_ptrace_stop()), which
    /// a kernel with CONFIG_PROC_MEM_FORCE_PTRACE (Debian's 7.3) requires for FOLL_FORCE
    /// (fs/proc/base.c proc_mem_foll_force(): `READ_ONCE(task->parent) == current`, 7.3.4 L869-871);
    /// with PROC_MEM_ALWAYS_FORCE (Debian's 6.1 and 6.12) the stop changes nothing of the access.
    func procMem(pid: Int32, _ address: Address, _ bytes: UnsafeMutableRawBufferPointer, write: Bool) throws(WorkerFailure) {
        let path = "/proc/\(pid)/mem"
        let fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open(\(path))") }
        defer { close(fd) }
        // (a process cannot trace itself: its own /proc/self/mem is read as it is)
        let traced = pid != getpid()
        if traced {
            guard pti_ptrace_stop(pid) == 0 else { throw .system("ptrace(PTRACE_SEIZE/PTRACE_INTERRUPT, \(pid))") }
        }
        defer { if traced { _ = pti_ptrace_release(pid) } }
        let offset = off_t(Int64(bitPattern: address.value))
        let done = write ? pwrite(fd, bytes.baseAddress, bytes.count, offset) : pread(fd, bytes.baseAddress, bytes.count, offset)
        guard done == bytes.count else {
            if done >= 0 { errno = EIO }
            throw .system((write ? "pwrite(" : "pread(") + path + ")")
        }
    }

    /// One byte through /proc/PID/mem; the byte read (or written).
    func procMemByte(pid: Int32, _ address: Address, write: Bool) throws(WorkerFailure) -> UInt8 {
        var byte: UInt8 = 0x3c
        try withUnsafeMutableBytes(of: &byte) { (bytes) throws(WorkerFailure) in
            try procMem(pid: pid, address, bytes, write: write)
        }
        return byte
    }

    /// Thrown in a forked child that now serves commands of its own.
    struct BecameWorker: Error {}

    /// The child's pid; throws `BecameWorker` in a child that now serves commands from `fifos`.
    func forkChild(fifos: (input: String, output: String)?) throws -> String {
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

    /// Lets an idle child exit, and reaps it.
    func release(_ pid: Int32) throws(WorkerFailure) {
        guard let fd = children[pid] else {
            throw WorkerFailure(call: "usage", message: "release CHILD-PID: \(pid) is not an idle child of this worker")
        }
        close(fd)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        children[pid] = nil
    }
}
