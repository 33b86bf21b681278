import CPteInspect
import Glibc

/// The helper process that performs memory operations for the CLI and the tests, so the CLI
/// itself never maps test memory or forks. It reads one command per line on stdin and answers one
/// line on stdout: "ok [value]" or "error <text>".
///
///   ping           answer "ok": the worker is loaded, pinned and idle in its loop
///   map PAGES      mmap PAGES read-write private anonymous pages between two PROT_NONE guard
///                  pages (so the mapping never merges with a neighbour and shares its
///                  anon_vma), MADV_NOHUGEPAGE (4 KiB pages only); answers the address
///   map-thp        mmap 4 MiB (plus guard pages) and MADV_HUGEPAGE its 2 MiB-aligned middle, so
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
///   fork           fork; the child holds its copy of the address space, idle, until this worker
///                  exits or is told `release PID`; answers the child's pid
///   release PID    let a forked child exit, and reap it
///   exit           exit (children are released first)
///
/// The worker pins itself to one CPU first (see pti_pin_to_cpu()). EOF on stdin is `exit`.
public enum WorkerLoop {
    /// /dev/pteinspect, opened on first use and kept open (pins live as long as it does).
    nonisolated(unsafe) private static var fixture: Int32 = -1

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
            case "fork": reply = forkChild(&children)
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

    private static func map(_ words: [String]) -> String {
        guard words.count == 2, let pages = Int(words[1]), pages > 0, pages < (1 << 28) else {
            return "error usage: map PAGES"
        }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let total = (pages + 2) * pageSize
        guard let base = mmap(nil, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            return "error mmap: \(String(cString: strerror(errno)))"
        }
        let start = base + pageSize
        guard mprotect(start, pages * pageSize, PROT_READ | PROT_WRITE) == 0 else {
            return "error mprotect: \(String(cString: strerror(errno)))"
        }
        guard madvise(start, pages * pageSize, MADV_NOHUGEPAGE) == 0 else {
            return "error madvise(MADV_NOHUGEPAGE): \(String(cString: strerror(errno)))"
        }
        return "ok 0x" + String(UInt(bitPattern: start), radix: 16)
    }

    private static func mapTHP() -> String {
        let huge = 2 << 20
        let total = 2 * huge
        guard let base = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            return "error mmap: \(String(cString: strerror(errno)))"
        }
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
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let base = mmap(nil, (pages + 2) * pageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != MAP_FAILED else { return nil }
        return base + pageSize
    }

    private static func move(_ words: [String]) -> String {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
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
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
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
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
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
        let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
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

    private static func forkChild(_ children: inout [pid_t: Int32]) -> String {
        var hold: [Int32] = [0, 0]
        guard pipe(&hold) == 0 else { return "error pipe: \(String(cString: strerror(errno)))" }
        let pid = fork()
        if pid < 0 {
            close(hold[0]); close(hold[1])
            return "error fork: \(String(cString: strerror(errno)))"
        }
        if pid == 0 {
            // Child: async-signal-safe calls only. Wait for EOF on the hold pipe (the worker
            // closed it, or died and the kernel closed it), then leave.
            close(hold[1])
            for fd in children.values { close(fd) }   // other children's hold pipes
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
