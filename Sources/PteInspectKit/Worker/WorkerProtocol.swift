import Glibc

// The protocol between the CLI (or a test) and its worker processes, defined once: a command is a
// `WorkerCommand`, a reply a `WorkerReply`, each with one encoder (`line`) and one decoder
// (`init(line:)`). On the wire both are one line of text (a pipe, or a forked worker's FIFO), so a
// person can drive a worker by hand (`pteinspect worker`, then type `map 4`):
//
//   command  VERB ARG...        (the verbs and arguments: `WorkerCommand`)
//   reply    ok [VALUE]         the command succeeded; VALUE is the address, pid, byte... it names
//            error CALL: TEXT [errno N]   a system call failed with errno N
//            error usage: TEXT  the command was malformed (no system call was made)
//            error TEXT         refused for another reason (no userfaultfd open yet...)

/// Page protection of a mapping (`map`, `map-file`, `mprotect`).
public enum Protection: String, CaseIterable, Sendable {
    case read = "r", readWrite = "rw", none

    public var prot: Int32 {
        switch self {
        case .read: return PROT_READ
        case .readWrite: return PROT_READ | PROT_WRITE
        case .none: return PROT_NONE
        }
    }

    /// As mmap(2) spells it: "PROT_READ|PROT_WRITE".
    public var flagNames: String {
        switch self {
        case .read: return "PROT_READ"
        case .readWrite: return "PROT_READ|PROT_WRITE"
        case .none: return "PROT_NONE"
        }
    }
}

/// MAP_PRIVATE or MAP_SHARED.
public enum Sharing: String, CaseIterable, Sendable {
    case `private`, shared

    public var flag: Int32 { self == .shared ? MAP_SHARED : MAP_PRIVATE }
    public var flagName: String { self == .shared ? "MAP_SHARED" : "MAP_PRIVATE" }
}

/// The madvise(2) advice a worker gives, by the name after MADV_ (include/uapi/asm-generic/mman-common.h).
public enum Advice: String, CaseIterable, Sendable {
    case pageout, cold, willneed, dontneed, dontfork, dofork, wipeonfork, mergeable, unmergeable, hugepage, nohugepage

    public var value: Int32 {
        switch self {
        case .pageout: return MADV_PAGEOUT
        case .cold: return MADV_COLD
        case .willneed: return MADV_WILLNEED
        case .dontneed: return MADV_DONTNEED
        case .dontfork: return MADV_DONTFORK
        case .dofork: return MADV_DOFORK
        case .wipeonfork: return MADV_WIPEONFORK
        case .mergeable: return MADV_MERGEABLE
        case .unmergeable: return MADV_UNMERGEABLE
        case .hugepage: return MADV_HUGEPAGE
        case .nohugepage: return MADV_NOHUGEPAGE
        }
    }

    /// "MADV_PAGEOUT".
    public var constantName: String { "MADV_" + rawValue.uppercased() }
}

/// UFFDIO_REGISTER modes (include/uapi/linux/userfaultfd.h): a non-empty set, written "missing,wp".
public struct UffdModes: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let missing = UffdModes(rawValue: 1)
    public static let wp = UffdModes(rawValue: 2)
    public static let minor = UffdModes(rawValue: 4)

    /// The names in their fixed order.
    public static let named: [(name: String, mode: UffdModes)] = [("missing", .missing), ("wp", .wp), ("minor", .minor)]

    /// "missing,wp"; nil for an unknown name or an empty list.
    public init?(names text: String) {
        var modes: UffdModes = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let mode = UffdModes.named.first(where: { $0.name == name })?.mode else { return nil }
            modes.insert(mode)
        }
        guard !modes.isEmpty else { return nil }
        self = modes
    }

    public var description: String { UffdModes.named.filter { contains($0.mode) }.map(\.name).joined(separator: ",") }
}

/// One command to a worker. `line` encodes it, `init(line:)` decodes it; the two agree for every
/// value (a host test round-trips them).
public enum WorkerCommand: Equatable, Sendable {
    /// The worker is loaded, pinned and idle in its loop.
    case ping
    /// mmap `pages` anonymous pages between two PROT_NONE guard pages (the mapping never merges
    /// with a neighbour and shares its anon_vma), MADV_NOHUGEPAGE. Replies with the address.
    case map(pages: Int, Protection, Sharing)
    /// The first `pages` pages of the shmem file `name` (a memfd the worker creates on first use,
    /// `pages` long; the same name maps the same file again), between guard pages. The address.
    case mapFile(name: String, pages: Int, Protection, Sharing)
    /// 4 MiB between guard pages, MADV_HUGEPAGE on its 2 MiB-aligned middle. That address.
    /// `shared`: the middle 2 MiB is MAP_SHARED|MAP_ANONYMOUS (shmem, its file offset 0 at a
    /// 2 MiB boundary, so a shmem THP can be PMD-mapped there).
    case mapTHP(sharing: Sharing = .private)
    /// One byte (0x5a) stored at the address, or the u32 `value` (a write fault if it is not
    /// writable yet). Scenarios store a `ContentTag`.
    case write(UInt64, value: UInt32? = nil)
    /// One byte loaded (a read fault if nothing is mapped yet). Replies with the byte.
    case read(UInt64)
    /// One byte (0x5a) stored in each of `pages` pages, or the u32 `first + i` at the start of page i.
    case fill(UInt64, pages: UInt64, first: UInt32? = nil)
    /// mremap(MREMAP_MAYMOVE|MREMAP_FIXED) of `pages` pages into a fresh range between guard pages. The new address.
    case mremap(UInt64, pages: Int)
    case mprotect(UInt64, pages: Int, Protection)
    /// `pages` pages of /dev/pteinspect (VM_PFNMAP, remap_pfn_range; the device stays open). The address.
    case mapFixture(pages: Int, Sharing)
    /// pin_user_pages() through /dev/pteinspect (FOLL_PIN, optionally FOLL_WRITE / FOLL_LONGTERM).
    case pin(UInt64, pages: UInt64, write: Bool, longterm: Bool)
    case unpin(UInt64, pages: UInt64)
    case madvise(UInt64, pages: Int, Advice)
    /// lru_add_drain() on the worker's CPU: MADV_COLD on a scratch page (madvise_cold() drains the
    /// local per-CPU LRU batches first, mm/madvise.c).
    case drain
    /// userfaultfd() + UFFDIO_API (with UFFD_FEATURE_MOVE when `move`). Replies "features=0x.. ioctls=0x..".
    case uffdOpen(move: Bool)
    case uffdRegister(UInt64, pages: Int, UffdModes)
    /// UFFDIO_COPY of pages filled with 0xa5, page i starting with the u32 `first + i` when given
    /// (UFFDIO_COPY_MODE_WP when `writeProtect`).
    case uffdCopy(UInt64, pages: Int, writeProtect: Bool, first: UInt32? = nil)
    case uffdZeropage(UInt64, pages: Int)
    /// UFFDIO_CONTINUE (MINOR mode: map the page already in the page cache).
    case uffdContinue(UInt64, pages: Int)
    /// UFFDIO_WRITEPROTECT, mode WP (`on`) or 0 (resolve).
    case uffdWriteProtect(UInt64, pages: Int, on: Bool)
    /// UFFDIO_MOVE (Linux 6.8+). Replies with the bytes moved.
    case uffdMove(from: UInt64, to: UInt64, pages: Int)
    /// Change the worker's own address space at random for `seconds` (the stress test's target). Replies with the operation count.
    case churn(seconds: Double, seed: UInt64)
    /// One byte (0x3c) or the u32 `value` written, or one byte read, through /proc/PID/mem (FOLL_FORCE).
    case memWrite(pid: Int32, UInt64, value: UInt32? = nil)
    case memRead(pid: Int32, UInt64)
    /// fork(); the child holds its copy idle until released or until the worker exits. The child's pid.
    case fork
    /// fork(); the child becomes a worker itself, reading commands from the FIFO `input` and
    /// answering on `output` (it ends on `exit` or EOF). The child's pid.
    case forkWorker(input: String, output: String)
    /// Let an idle forked child exit, and reap it.
    case release(pid: Int32)
    /// Exit (idle children released first). EOF on the worker's input is the same.
    case exit

    /// The largest page count a command takes (bounds what one line can ask of a worker).
    public static let maximumPages = 1 << 28
    /// uffd-copy's bound: the worker allocates the source buffer (256 MiB at most).
    public static let maximumCopyPages = 1 << 16

    public var verb: String {
        switch self {
        case .ping: return "ping"
        case .map: return "map"
        case .mapFile: return "map-file"
        case .mapTHP: return "map-thp"
        case .write: return "write"
        case .read: return "read"
        case .fill: return "fill"
        case .mremap: return "mremap"
        case .mprotect: return "mprotect"
        case .mapFixture: return "map-pfn"
        case .pin: return "pin"
        case .unpin: return "unpin"
        case .madvise: return "madvise"
        case .drain: return "drain"
        case .uffdOpen: return "uffd-open"
        case .uffdRegister: return "uffd-register"
        case .uffdCopy: return "uffd-copy"
        case .uffdZeropage: return "uffd-zeropage"
        case .uffdContinue: return "uffd-continue"
        case .uffdWriteProtect: return "uffd-wp"
        case .uffdMove: return "uffd-move"
        case .churn: return "churn"
        case .memWrite: return "mem-write"
        case .memRead: return "mem-read"
        case .fork, .forkWorker: return "fork"
        case .release: return "release"
        case .exit: return "exit"
        }
    }

    /// The usage line of each verb, for a malformed command's reply.
    public static let usage: [String: String] = [
        "ping": "ping",
        "map": "map PAGES [r|rw|none] [private|shared]",
        "map-file": "map-file NAME PAGES [r|rw|none] [private|shared]",
        "map-thp": "map-thp [private|shared]",
        "write": "write ADDR [VALUE]", "read": "read ADDR", "fill": "fill ADDR PAGES [FIRST]",
        "mremap": "mremap ADDR PAGES",
        "mprotect": "mprotect ADDR PAGES r|rw|none",
        "map-pfn": "map-pfn PAGES private|shared",
        "pin": "pin ADDR PAGES [w][l]", "unpin": "unpin ADDR PAGES",
        "madvise": "madvise ADDR PAGES " + Advice.allCases.map(\.rawValue).joined(separator: "|"),
        "drain": "drain",
        "uffd-open": "uffd-open [move]",
        "uffd-register": "uffd-register ADDR PAGES missing|wp|minor[,...]",
        "uffd-copy": "uffd-copy ADDR PAGES [wp] [FIRST]",
        "uffd-zeropage": "uffd-zeropage ADDR PAGES",
        "uffd-continue": "uffd-continue ADDR PAGES",
        "uffd-wp": "uffd-wp ADDR PAGES on|off",
        "uffd-move": "uffd-move SRC DST PAGES",
        "churn": "churn SECONDS SEED",
        "mem-write": "mem-write PID ADDR [VALUE]", "mem-read": "mem-read PID ADDR",
        "fork": "fork [IN-FIFO OUT-FIFO]",
        "release": "release CHILD-PID",
        "exit": "exit",
    ]

    /// The command as one line (no newline).
    public var line: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        func value(_ word: UInt32?) -> [String] { word.map { [hex(UInt64($0))] } ?? [] }
        let words: [String]
        switch self {
        case .ping, .drain, .fork, .exit: words = []
        case let .mapTHP(sharing): words = sharing == .shared ? [sharing.rawValue] : []
        case let .map(pages, protection, sharing): words = ["\(pages)", protection.rawValue, sharing.rawValue]
        case let .mapFile(name, pages, protection, sharing): words = [name, "\(pages)", protection.rawValue, sharing.rawValue]
        case let .write(address, stored): words = [hex(address)] + value(stored)
        case let .read(address): words = [hex(address)]
        case let .fill(address, pages, first): words = [hex(address), "\(pages)"] + value(first)
        case let .mremap(address, pages), let .uffdZeropage(address, pages), let .uffdContinue(address, pages):
            words = [hex(address), "\(pages)"]
        case let .mprotect(address, pages, protection): words = [hex(address), "\(pages)", protection.rawValue]
        case let .mapFixture(pages, sharing): words = ["\(pages)", sharing.rawValue]
        case let .pin(address, pages, write, longterm):
            let options = (write ? "w" : "") + (longterm ? "l" : "")
            words = [hex(address), "\(pages)"] + (options.isEmpty ? [] : [options])
        case let .unpin(address, pages): words = [hex(address), "\(pages)"]
        case let .madvise(address, pages, advice): words = [hex(address), "\(pages)", advice.rawValue]
        case let .uffdOpen(move): words = move ? ["move"] : []
        case let .uffdRegister(address, pages, modes): words = [hex(address), "\(pages)", modes.description]
        case let .uffdCopy(address, pages, writeProtect, first): words = [hex(address), "\(pages)"] + (writeProtect ? ["wp"] : []) + value(first)
        case let .uffdWriteProtect(address, pages, on): words = [hex(address), "\(pages)", on ? "on" : "off"]
        case let .uffdMove(from, to, pages): words = [hex(from), hex(to), "\(pages)"]
        case let .churn(seconds, seed): words = ["\(seconds)", "\(seed)"]
        case let .memWrite(pid, address, stored): words = ["\(pid)", hex(address)] + value(stored)
        case let .memRead(pid, address): words = ["\(pid)", hex(address)]
        case let .forkWorker(input, output): words = [input, output]
        case let .release(pid): words = ["\(pid)"]
        }
        return ([verb] + words).joined(separator: " ")
    }

    /// Decodes one line; a malformed one is a `WorkerFailure` of kind usage (or unknown command)
    /// that the worker sends back as its reply.
    public init(line: String) throws(WorkerFailure) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first else { throw WorkerFailure(message: "empty command") }
        guard let usage = WorkerCommand.usage[verb] else {
            throw WorkerFailure(message: "unknown command '\(verb)' (one of: \(WorkerCommand.usage.keys.sorted().joined(separator: ", ")))")
        }
        let arguments = Array(words.dropFirst())
        let bad = WorkerFailure(call: "usage", message: usage)
        func address(_ i: Int) throws(WorkerFailure) -> UInt64 {
            guard i < arguments.count else { throw bad }
            let text = arguments[i]
            guard let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text) else { throw bad }
            return value
        }
        func pages(_ i: Int) throws(WorkerFailure) -> Int {
            guard i < arguments.count, let value = Int(arguments[i]), value > 0, value <= WorkerCommand.maximumPages else { throw bad }
            return value
        }
        func pid(_ i: Int) throws(WorkerFailure) -> Int32 {
            guard i < arguments.count, let value = Int32(arguments[i]), value > 0 else { throw bad }
            return value
        }
        /// An optional u32 in hex at `i` (a value to store).
        func word(_ i: Int) throws(WorkerFailure) -> UInt32? {
            guard i < arguments.count else { return nil }
            let text = arguments[i]
            guard text.hasPrefix("0x"), let value = UInt32(text.dropFirst(2), radix: 16) else { throw bad }
            return value
        }
        func count(_ allowed: ClosedRange<Int>) throws(WorkerFailure) {
            guard allowed.contains(arguments.count) else { throw bad }
        }
        func optional<T: RawRepresentable>(_ i: Int, default value: T) throws(WorkerFailure) -> T where T.RawValue == String {
            guard i < arguments.count else { return value }
            guard let parsed = T(rawValue: arguments[i]) else { throw bad }
            return parsed
        }
        switch verb {
        case "ping": try count(0...0); self = .ping
        case "map":
            try count(1...3)
            self = .map(pages: try pages(0), try optional(1, default: Protection.readWrite), try optional(2, default: Sharing.private))
        case "map-file":
            try count(2...4)
            self = .mapFile(name: arguments[0], pages: try pages(1), try optional(2, default: Protection.readWrite),
                            try optional(3, default: Sharing.private))
        case "map-thp": try count(0...1); self = .mapTHP(sharing: try optional(0, default: Sharing.private))
        case "write": try count(1...2); self = .write(try address(0), value: try word(1))
        case "read": try count(1...1); self = .read(try address(0))
        case "fill": try count(2...3); self = .fill(try address(0), pages: UInt64(try pages(1)), first: try word(2))
        case "mremap": try count(2...2); self = .mremap(try address(0), pages: try pages(1))
        case "mprotect":
            try count(3...3)
            guard let protection = Protection(rawValue: arguments[2]) else { throw bad }
            self = .mprotect(try address(0), pages: try pages(1), protection)
        case "map-pfn":
            try count(2...2)
            guard let sharing = Sharing(rawValue: arguments[1]) else { throw bad }
            self = .mapFixture(pages: try pages(0), sharing)
        case "pin":
            try count(2...3)
            let options = arguments.count == 3 ? arguments[2] : ""
            guard options.allSatisfy({ $0 == "w" || $0 == "l" }), Set(options).count == options.count else { throw bad }
            self = .pin(try address(0), pages: UInt64(try pages(1)), write: options.contains("w"), longterm: options.contains("l"))
        case "unpin": try count(2...2); self = .unpin(try address(0), pages: UInt64(try pages(1)))
        case "madvise":
            try count(3...3)
            guard let advice = Advice(rawValue: arguments[2]) else { throw bad }
            self = .madvise(try address(0), pages: try pages(1), advice)
        case "drain": try count(0...0); self = .drain
        case "uffd-open":
            try count(0...1)
            guard arguments.isEmpty || arguments[0] == "move" else { throw bad }
            self = .uffdOpen(move: !arguments.isEmpty)
        case "uffd-register":
            try count(3...3)
            guard let modes = UffdModes(names: arguments[2]) else { throw bad }
            self = .uffdRegister(try address(0), pages: try pages(1), modes)
        case "uffd-copy":
            try count(2...4)
            let writeProtect = arguments.count > 2 && arguments[2] == "wp"
            let valueAt = writeProtect ? 3 : 2
            guard arguments.count <= valueAt + 1, try pages(1) <= WorkerCommand.maximumCopyPages else { throw bad }
            self = .uffdCopy(try address(0), pages: try pages(1), writeProtect: writeProtect, first: try word(valueAt))
        case "uffd-zeropage": try count(2...2); self = .uffdZeropage(try address(0), pages: try pages(1))
        case "uffd-continue": try count(2...2); self = .uffdContinue(try address(0), pages: try pages(1))
        case "uffd-wp":
            try count(3...3)
            guard arguments[2] == "on" || arguments[2] == "off" else { throw bad }
            self = .uffdWriteProtect(try address(0), pages: try pages(1), on: arguments[2] == "on")
        case "uffd-move": try count(3...3); self = .uffdMove(from: try address(0), to: try address(1), pages: try pages(2))
        case "churn":
            try count(2...2)
            guard let seconds = Double(arguments[0]), seconds > 0, seconds <= 3600, let seed = UInt64(arguments[1]) else { throw bad }
            self = .churn(seconds: seconds, seed: seed)
        case "mem-write": try count(2...3); self = .memWrite(pid: try pid(0), try address(1), value: try word(2))
        case "mem-read": try count(2...2); self = .memRead(pid: try pid(0), try address(1))
        case "fork":
            guard arguments.count == 0 || arguments.count == 2 else { throw bad }
            self = arguments.isEmpty ? .fork : .forkWorker(input: arguments[0], output: arguments[1])
        case "release": try count(1...1); self = .release(pid: try pid(0))
        case "exit": try count(0...0); self = .exit
        default: throw bad   // every verb of `usage` is decoded above
        }
    }
}

/// A refused command: a failed system call (with its errno), a malformed command, or another
/// refusal. The reply line is "error CALL: MESSAGE [errno N]" (CALL and errno where there are).
public struct WorkerFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The system call ("mremap", "UFFDIO_COPY"), "usage" for a malformed command, nil otherwise.
    public let call: String?
    public let message: String
    public let errno: Int32?

    public init(call: String? = nil, message: String, errno: Int32? = nil) {
        self.call = call
        self.message = message
        self.errno = errno
    }

    /// A system call that just failed: errno is read now.
    public static func system(_ call: String) -> WorkerFailure {
        let code = Glibc.errno
        return WorkerFailure(call: call, message: String(cString: strerror(code)), errno: code)
    }

    /// "mremap: Invalid argument [errno 22]" (the reply line without its "error ").
    public var description: String {
        (call.map { $0 + ": " } ?? "") + message + (errno.map { " [errno \($0)]" } ?? "")
    }

    /// "mremap: Invalid argument (EINVAL)", for a report.
    public var explained: String {
        (call.map { $0 + ": " } ?? "") + message + (errno.map { " (\(ErrnoName(code: $0).name))" } ?? "")
    }
}

/// A worker's answer to one command.
public enum WorkerReply: Equatable, Sendable {
    /// The command succeeded; the value it names ("" when it names none).
    case ok(String)
    case failed(WorkerFailure)

    public var line: String {
        switch self {
        case let .ok(value): return value.isEmpty ? "ok" : "ok " + value
        case let .failed(failure): return "error " + failure.description
        }
    }

    /// Decodes a reply line; nil for a line that is neither (the worker is not speaking this protocol).
    public init?(line: String) {
        if line == "ok" { self = .ok(""); return }
        if line.hasPrefix("ok ") { self = .ok(String(line.dropFirst(3))); return }
        guard line.hasPrefix("error ") else { return nil }
        var text = Substring(line.dropFirst("error ".count))
        var code: Int32?
        if text.hasSuffix("]"), let open = text.range(of: " [errno ", options: .backwards),
           let parsed = Int32(text[open.upperBound...].dropLast()) {
            code = parsed
            text = text[..<open.lowerBound]
        }
        var call: String?
        // A call name has no spaces ("mmap(MAP_SHARED)", "UFFDIO_COPY", "usage"); a message that
        // merely contains ": " further on is not split there.
        if let colon = text.range(of: ": "), !text[..<colon.lowerBound].contains(" "), !text[..<colon.lowerBound].isEmpty {
            call = String(text[..<colon.lowerBound])
            text = text[colon.upperBound...]
        }
        self = .failed(WorkerFailure(call: call, message: String(text), errno: code))
    }

    /// An "ok 0x..." value as an address.
    public static func address(_ value: String) -> UInt64? {
        value.hasPrefix("0x") ? UInt64(value.dropFirst(2), radix: 16) : nil
    }
}
