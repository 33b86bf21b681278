import CPteInspect
import Glibc

/// The helper process that performs memory operations for the CLI and the tests, so the CLI
/// itself never maps test memory or forks. It reads one command per line on stdin and answers one
/// line on stdout: "ok [value]" or "error <text>".
///
///   ping           answer "ok": the worker is loaded, pinned and idle in its loop
///   map PAGES [r|rw] [private|shared]   mmap PAGES anonymous pages (default rw, private)
///                  between two PROT_NONE guard pages (so the mapping never merges with a
///                  neighbour and shares its anon_vma), MADV_NOHUGEPAGE (4 KiB pages only);
///                  answers the address
///   map-file NAME PAGES [r|rw] [private|shared]   mmap the first PAGES pages of the shmem file NAME
///                  (a memfd this worker creates on first use, PAGES long, zero-filled; a
///                  second map-file of the same NAME maps the same file) between guard pages
///   map-thp        mmap 4 MiB between guard pages and MADV_HUGEPAGE its 2 MiB-aligned middle, so
///                  a fault there can be served by a PMD-mapped THP; answers the aligned address
///   write ADDR     store one byte at ADDR (a write fault if not yet writable)
///   read ADDR      load one byte from ADDR (a read fault if not yet mapped)
///   fill ADDR N    store one byte in each of the N pages from ADDR
///   mremap ADDR N  move the N pages at ADDR (MREMAP_MAYMOVE|MREMAP_FIXED) into a fresh range
///                  between guard pages; answers the new address
///   mprotect ADDR N r|rw|none   change the protection of N pages
///   map-pfn N private|shared   mmap N pages of /dev/pteinspect (a VM_PFNMAP mapping of
///                  module-owned RAM; the device stays open in this worker); answers the address
///   pin ADDR N [w][l]   pin N pages at ADDR through /dev/pteinspect (FOLL_PIN, w: FOLL_WRITE,
///                  l: FOLL_LONGTERM); unpin ADDR N releases that pin
///   madvise ADDR N ADVICE   madvise(2) on N pages: pageout, cold, willneed, dontneed, dontfork,
///                  dofork, wipeonfork, mergeable, unmergeable, hugepage, nohugepage
///   drain          lru_add_drain() on this CPU: MADV_COLD on a private scratch page (madvise_cold()
///                  drains the local per-CPU LRU batches first, mm/madvise.c), so refcounts no
///                  longer include a batch reference
///   uffd-open [move]   open a userfaultfd (UFFDIO_API; with `move`, UFFD_FEATURE_MOVE)
///   uffd-register ADDR N MODES   UFFDIO_REGISTER, MODES a comma list of missing, wp, minor
///   uffd-copy ADDR N [wp]   UFFDIO_COPY of N pages filled with 0xa5 (MODE_WP with `wp`)
///   uffd-zeropage ADDR N    UFFDIO_ZEROPAGE
///   uffd-continue ADDR N    UFFDIO_CONTINUE (MINOR mode: map the page already in the page cache)
///   uffd-wp ADDR N on|off   UFFDIO_WRITEPROTECT (mode WP, or 0 to resolve)
///   uffd-move SRC DST N     UFFDIO_MOVE (Linux 6.8+); answers the bytes moved
///   churn SECONDS SEED   change this address space at random for SECONDS (the stress test's
///                  target, see Churn); answers the number of operations
///   mem-write PID ADDR | mem-read PID ADDR   one byte through /proc/PID/mem (FOLL_FORCE)
///   fork [IN OUT]  fork. Without arguments the child holds its copy of the address space, idle,
///                  until this worker exits or is told `release PID`. With two FIFO paths the
///                  child becomes a worker itself, reading commands from IN and answering on OUT
///                  (it ends on `exit` or EOF); answers the child's pid
///   release PID    let a forked child exit, and reap it
///   exit           exit (children are released first)
///
/// The worker pins itself to one CPU first (see pti_pin_to_cpu()). EOF on stdin is `exit`.
/// Failed system calls answer "error CALL: TEXT [errno N]", so a caller can expect an errno.
public enum WorkerLoop {
    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    nonisolated(unsafe) private static var fixture: Int32 = -1
    /// The userfaultfd of `uffd-open`.
    nonisolated(unsafe) private static var uffd: Int32 = -1

    public static func run() -> Never {
        var children: [pid_t: Int32] = [:]   // pid -> write end of the pipe it waits on
        pinToFirstAllowedCPU()
        while let line = readLine(strippingNewline: true) {
            let words = line.split(separator: " ").map(String.init)
            guard let verb = words.first else { continue }
            let reply: String
            switch verb {
            case "ping": reply = "ok"
            case "map": reply = map(words)
            case "map-thp": reply = mapTHP()
            case "write": reply = touch(words, write: true)
            case "read": reply = touch(words, write: false)
            case "fill": reply = fill(words)
            case "mremap": reply = move(words)
            case "mprotect": reply = protect(words)
            case "map-pfn": reply = mapFixture(words)
            case "pin", "unpin": reply = pin(words)
            case "madvise": reply = advise(words)
            case "drain": reply = drain()
            case "map-file": reply = mapFile(words)
            case "churn": reply = Churn.run(words)
            case "uffd-open", "uffd-register", "uffd-copy", "uffd-zeropage", "uffd-wp", "uffd-move", "uffd-continue":
                reply = Userfault.run(words, fd: &uffd)
            case "mem-write", "mem-read": reply = remoteAccess(words)
            case "fork":
                guard let answer = forkChild(words, &children) else { continue }   // the new worker child
                reply = answer
            case "release": reply = release(words, &children)
            case "exit":
                respond("ok")
                finish(&children)
            default: reply = "error unknown command '\(verb)'"
            }
            respond(reply)
        }
        finish(&children)
    }

    private static func respond(_ line: String) {
        print(line)
        fflush(stdout)
    }

    private static func finish(_ children: inout [pid_t: Int32]) -> Never {
        for pid in Array(children.keys) { _ = release(["release", String(pid)], &children) }
        exit(0)
    }

    private static func pinToFirstAllowedCPU() {
        // CPU 0 is always present in the VM and on ordinary machines; if it is not allowed, stay
        // unpinned rather than fail (refcount-dependent results may then vary).
        _ = pti_pin_to_cpu(0)
    }

    private static func parseAddress(_ text: String) -> UInt? {
        text.hasPrefix("0x") ? UInt(text.dropFirst(2), radix: 16) : UInt(text)
    }

    /// The reply for a failed system call (errno is read now).
    static func failure(_ call: String) -> String {
        let code = errno
        return "error \(call): \(String(cString: strerror(code))) [errno \(code)]"
    }

    private static func map(_ words: [String]) -> String {
        let protections = ["r": PROT_READ, "rw": PROT_READ | PROT_WRITE]
        let sharing = ["private": MAP_PRIVATE, "shared": MAP_SHARED]
        let prot = words.count > 2 ? protections[words[2]] : PROT_READ | PROT_WRITE
        let share = words.count > 3 ? sharing[words[3]] : MAP_PRIVATE
        guard words.count >= 2, words.count <= 4, let pages = Int(words[1]), pages > 0, pages < (1 << 28),
              let prot, let share else {
            return "error usage: map PAGES [r|rw] [private|shared]"
        }
        let pageSize = Int(SystemPage.size)
        let total = (pages + 2) * pageSize
        guard let base = mmap(nil, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            return "error mmap: \(String(cString: strerror(errno)))"
        }
        var start = base + pageSize
        if share == MAP_SHARED {
            guard let shared = mmap(start, pages * pageSize, prot, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  shared != MAP_FAILED else { return failure("mmap(MAP_SHARED)") }
            start = shared
        } else {
            guard mprotect(start, pages * pageSize, prot) == 0 else { return failure("mprotect") }
        }
        guard madvise(start, pages * pageSize, MADV_NOHUGEPAGE) == 0 else {
            return "error madvise(MADV_NOHUGEPAGE): \(String(cString: strerror(errno)))"
        }
        return "ok 0x" + String(UInt(bitPattern: start), radix: 16)
    }

    /// memfd files by name (map-file).
    nonisolated(unsafe) private static var files: [String: Int32] = [:]

    private static func mapFile(_ words: [String]) -> String {
        let protections = ["r": PROT_READ, "rw": PROT_READ | PROT_WRITE]
        let sharing = ["private": MAP_PRIVATE, "shared": MAP_SHARED]
        let prot = words.count > 3 ? protections[words[3]] : PROT_READ | PROT_WRITE
        let share = words.count > 4 ? sharing[words[4]] : MAP_PRIVATE
        guard words.count >= 3, words.count <= 5, let pages = Int(words[2]), pages > 0, pages < (1 << 20), let prot, let share else {
            return "error usage: map-file NAME PAGES [r|rw] [private|shared]"
        }
        let pageSize = Int(SystemPage.size)
        let fd: Int32
        if let known = files[words[1]] {
            fd = known
        } else {
            fd = pti_memfd_create(words[1])
            guard fd >= 0 else { return failure("memfd_create") }
            guard ftruncate(fd, off_t(pages * pageSize)) == 0 else { return failure("ftruncate") }
            files[words[1]] = fd
        }
        guard let target = reserve(pages: pages) else { return failure("mmap") }
        guard let mapped = mmap(target, pages * pageSize, prot, share | MAP_FIXED, fd, 0), mapped != MAP_FAILED else {
            return failure("mmap(memfd \(words[1]))")
        }
        return "ok 0x" + String(UInt(bitPattern: mapped), radix: 16)
    }

    private static func mapTHP() -> String {
        let huge = 2 << 20
        let total = 2 * huge
        let pageSize = Int(SystemPage.size)
        // Between PROT_NONE guard pages, as `map`: without them 6.1 placed the 4 MiB right
        // against an earlier anonymous mapping and expanded that VMA (mm/mmap.c mmap_region(),
        // "Check next/prev" -> vma_expand()), so the new range came with its neighbour's
        // anon_vma; 6.12 puts a 2 MiB-multiple anonymous mmap on a THP boundary with gaps around
        // it (efa7df3e3bb5, v6.7; d4148aeab412, v6.12), and showed none.
        guard let reserved = mmap(nil, total + 2 * pageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), reserved != MAP_FAILED else {
            return "error mmap: \(String(cString: strerror(errno)))"
        }
        let base = reserved + pageSize
        guard mprotect(base, total, PROT_READ | PROT_WRITE) == 0 else { return failure("mprotect") }
        // 6.1 does not align anonymous mmaps to 2 MiB: use the aligned 2 MiB inside the 4 MiB.
        let start = (UInt(bitPattern: base) + UInt(huge) - 1) & ~UInt(huge - 1)
        guard let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return "error alignment" }
        guard madvise(aligned, huge, MADV_HUGEPAGE) == 0 else {
            return "error madvise(MADV_HUGEPAGE): \(String(cString: strerror(errno)))"
        }
        return "ok 0x" + String(start, radix: 16)
    }

    private static func touch(_ words: [String], write: Bool) -> String {
        guard words.count == 2, let address = parseAddress(words[1]), let pointer = UnsafeMutablePointer<UInt8>(bitPattern: address) else {
            return "error usage: \(write ? "write" : "read") ADDR"
        }
        if write {
            pointer.pointee = 0x5a
            return "ok"
        }
        return "ok \(pointer.pointee)"
    }

    /// A PROT_NONE reservation of `pages` + 2 pages; returns the address after the first guard.
    private static func reserve(pages: Int) -> UnsafeMutableRawPointer? {
        let pageSize = Int(SystemPage.size)
        guard let base = mmap(nil, (pages + 2) * pageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != MAP_FAILED else { return nil }
        return base + pageSize
    }

    private static func move(_ words: [String]) -> String {
        let pageSize = Int(SystemPage.size)
        guard words.count == 3, let address = parseAddress(words[1]), let pages = Int(words[2]), pages > 0,
              let old = UnsafeMutableRawPointer(bitPattern: address) else {
            return "error usage: mremap ADDR PAGES"
        }
        guard let target = reserve(pages: pages) else { return "error mmap: \(String(cString: strerror(errno)))" }
        let length = pages * pageSize
        guard let moved = pti_mremap_fixed(old, length, target), moved != MAP_FAILED else {
            return "error mremap: \(String(cString: strerror(errno)))"
        }
        return "ok 0x" + String(UInt(bitPattern: moved), radix: 16)
    }

    private static func protect(_ words: [String]) -> String {
        let pageSize = Int(SystemPage.size)
        let protections = ["r": PROT_READ, "rw": PROT_READ | PROT_WRITE, "none": PROT_NONE]
        guard words.count == 4, let address = parseAddress(words[1]), let pages = Int(words[2]), pages > 0,
              let prot = protections[words[3]], let start = UnsafeMutableRawPointer(bitPattern: address) else {
            return "error usage: mprotect ADDR PAGES r|rw|none"
        }
        guard mprotect(start, pages * pageSize, prot) == 0 else {
            return "error mprotect: \(String(cString: strerror(errno)))"
        }
        return "ok"
    }

    private static func openFixture() -> String? {
        if fixture >= 0 { return nil }
        fixture = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
        return fixture >= 0 ? nil : "error open(/dev/pteinspect): \(String(cString: strerror(errno)))"
    }

    private static func mapFixture(_ words: [String]) -> String {
        let pageSize = Int(SystemPage.size)
        let sharing = ["private": MAP_PRIVATE, "shared": MAP_SHARED]
        guard words.count == 3, let pages = Int(words[1]), pages > 0, pages < (1 << 20), let flags = sharing[words[2]] else {
            return "error usage: map-pfn PAGES private|shared"
        }
        if let failure = openFixture() { return failure }
        guard let target = reserve(pages: pages) else { return "error mmap: \(String(cString: strerror(errno)))" }
        guard let mapped = mmap(target, pages * pageSize, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fixture, 0),
              mapped != MAP_FAILED else {
            return "error mmap(/dev/pteinspect): \(String(cString: strerror(errno)))"
        }
        return "ok 0x" + String(UInt(bitPattern: mapped), radix: 16)
    }

    private static func pin(_ words: [String]) -> String {
        let unpin = words.first == "unpin"
        guard words.count >= 3, words.count <= 4, let address = parseAddress(words[1]), let pages = UInt64(words[2]) else {
            return "error usage: pin ADDR PAGES [w][l] | unpin ADDR PAGES"
        }
        let options = words.count == 4 ? words[3] : ""
        var flags: UInt32 = 0
        if options.contains("w") { flags |= UInt32(PTEINSPECT_PIN_WRITE) }
        if options.contains("l") { flags |= UInt32(PTEINSPECT_PIN_LONGTERM) }
        if let failure = openFixture() { return failure }
        guard pti_fixture_pin(fixture, unpin ? 1 : 0, UInt64(address), pages, flags) == 0 else {
            return "error \(unpin ? "unpin" : "pin"): \(String(cString: strerror(errno)))"
        }
        return "ok"
    }

    private static func fill(_ words: [String]) -> String {
        let pageSize = UInt(SystemPage.size)
        guard words.count == 3, let address = parseAddress(words[1]), let pages = UInt(words[2]),
              UnsafeMutablePointer<UInt8>(bitPattern: address) != nil else {
            return "error usage: fill ADDR PAGES"
        }
        for i in 0..<pages {
            guard let pointer = UnsafeMutablePointer<UInt8>(bitPattern: address + i * pageSize) else {
                return "error fill: address overflow"
            }
            pointer.pointee = 0x5a
        }
        return "ok"
    }

    /// nil in a child that became a worker (it answers nothing to the fork).
    private static func forkChild(_ words: [String], _ children: inout [pid_t: Int32]) -> String? {
        guard words.count == 1 || words.count == 3 else { return "error usage: fork [IN-FIFO OUT-FIFO]" }
        let driven = words.count == 3
        var hold: [Int32] = [0, 0]
        guard pipe(&hold) == 0 else { return failure("pipe") }
        fflush(stdout)
        let pid = fork()
        if pid < 0 {
            let reply = failure("fork")
            close(hold[0]); close(hold[1])
            return reply
        }
        if pid == 0 {
            close(hold[1])
            for fd in children.values { close(fd) }   // other children's hold pipes
            children = [:]
            if driven {
                // A new worker: commands from IN, answers on OUT. The userfaultfd and the fixture
                // file are the parent's (a pin belongs to the open file): leave them to it.
                close(hold[0])
                if uffd >= 0 { close(uffd); uffd = -1 }
                if fixture >= 0 { close(fixture); fixture = -1 }
                let input = open(words[1], O_RDONLY | O_CLOEXEC)
                let output = open(words[2], O_WRONLY | O_CLOEXEC)
                guard input >= 0, output >= 0, dup2(input, STDIN_FILENO) == STDIN_FILENO,
                      dup2(output, STDOUT_FILENO) == STDOUT_FILENO else { _exit(1) }
                close(input); close(output)
                clearerr(stdin)
                return nil
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
        return "ok \(pid)"
    }

    private static let advice: [String: Int32] = [
        "pageout": MADV_PAGEOUT, "cold": MADV_COLD,
        "willneed": MADV_WILLNEED, "dontneed": MADV_DONTNEED, "dontfork": MADV_DONTFORK, "dofork": MADV_DOFORK,
        "wipeonfork": MADV_WIPEONFORK, "mergeable": MADV_MERGEABLE, "unmergeable": MADV_UNMERGEABLE,
        "hugepage": MADV_HUGEPAGE, "nohugepage": MADV_NOHUGEPAGE,
    ]

    private static func advise(_ words: [String]) -> String {
        let pageSize = Int(SystemPage.size)
        guard words.count == 4, let address = parseAddress(words[1]), let pages = Int(words[2]), pages > 0,
              let value = advice[words[3]], let start = UnsafeMutableRawPointer(bitPattern: address) else {
            return "error usage: madvise ADDR PAGES \(advice.keys.sorted().joined(separator: "|"))"
        }
        return madvise(start, pages * pageSize, value) == 0 ? "ok" : failure("madvise(\(words[3]))")
    }

    /// A private page used only to run lru_add_drain() on this CPU through MADV_COLD.
    nonisolated(unsafe) private static var scratch: UnsafeMutableRawPointer?

    private static func drain() -> String {
        let pageSize = Int(SystemPage.size)
        if scratch == nil {
            guard let page = mmap(nil, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  page != MAP_FAILED else { return failure("mmap") }
            scratch = page
        }
        guard let scratch else { return "error no scratch page" }
        return madvise(scratch, pageSize, MADV_COLD) == 0 ? "ok" : failure("madvise(MADV_COLD)")
    }

    private static func remoteAccess(_ words: [String]) -> String {
        let write = words[0] == "mem-write"
        guard words.count == 3, let pid = pid_t(words[1]), let address = parseAddress(words[2]) else {
            return "error usage: \(words[0]) PID ADDR"
        }
        let fd = open("/proc/\(pid)/mem", (write ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { return failure("open(/proc/\(pid)/mem)") }
        defer { close(fd) }
        var byte: UInt8 = 0x3c
        let done = write ? pwrite(fd, &byte, 1, off_t(Int64(bitPattern: UInt64(address))))
                         : pread(fd, &byte, 1, off_t(Int64(bitPattern: UInt64(address))))
        guard done == 1 else {
            if done >= 0 { errno = EIO }
            return failure(write ? "pwrite(/proc/\(pid)/mem)" : "pread(/proc/\(pid)/mem)")
        }
        return write ? "ok" : "ok \(byte)"
    }

    private static func release(_ words: [String], _ children: inout [pid_t: Int32]) -> String {
        guard words.count == 2, let pid = pid_t(words[1]), let fd = children[pid] else {
            return "error usage: release CHILD-PID (a child of this worker)"
        }
        close(fd)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        children[pid] = nil
        return "ok"
    }
}
