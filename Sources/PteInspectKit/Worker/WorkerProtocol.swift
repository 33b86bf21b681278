import Glibc

// The protocol between the CLI (or a test) and its worker processes, defined once: a command is a
// `WorkerCommand`, a reply a `WorkerReply`, each with one encoder (`line`) and one decoder
// (`init(line:)`). On the wire both are one line of text (a pipe, or a forked worker's FIFO), so a
// person can drive a worker by hand (`pteinspect worker`, then type `map 4`):
//
//   command  VERB ARG...        (the verbs and their arguments: `Verbs.wire`, Verbs/*.swift)
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
    /// Guard regions (6.13+): PTE markers that make an access SIGSEGV, installed over (and
    /// zapping) the range, and removed again (mm/madvise.c madvise_guard_install(),
    /// madvise_guard_remove()). Before 6.13 madvise(2) fails with EINVAL.
    case guardInstall = "guard-install", guardRemove = "guard-remove"
    /// MADV_FREE (lazy free: the clean page is dropped by reclaim, a write keeps it),
    /// MADV_POPULATE_READ / _WRITE (5.14: fault the range in as a read or write would),
    /// MADV_COLLAPSE (6.1: collapse into a PMD THP now, not by khugepaged).
    case free, populateRead = "populate-read", populateWrite = "populate-write", collapse

    /// MADV_GUARD_INSTALL and MADV_GUARD_REMOVE: bookworm's glibc has no constants for them; the
    /// values are the kernel's (7.3 include/uapi/asm-generic/mman-common.h L82-83:
    /// `#define MADV_GUARD_INSTALL 102`, `#define MADV_GUARD_REMOVE 103`).
    public static let guardInstallValue: Int32 = 102
    public static let guardRemoveValue: Int32 = 103
    /// MADV_COLLAPSE: bookworm's glibc has no constant; the kernel's value (6.1.192
    /// include/uapi/asm-generic/mman-common.h L80: `#define MADV_COLLAPSE 25`).
    public static let collapseValue: Int32 = 25

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
        case .guardInstall: return Self.guardInstallValue
        case .guardRemove: return Self.guardRemoveValue
        case .free: return MADV_FREE
        case .populateRead: return MADV_POPULATE_READ
        case .populateWrite: return MADV_POPULATE_WRITE
        case .collapse: return Self.collapseValue
        }
    }

    /// "MADV_PAGEOUT", "MADV_GUARD_INSTALL".
    public var constantName: String { "MADV_" + String(rawValue.uppercased().map { $0 == "-" ? "_" : $0 }) }
}

/// UFFDIO_REGISTER modes (include/uapi/linux/userfaultfd.h): a non-empty set, written "missing,wp".
public struct UffdModes: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let missing = UffdModes(rawValue: 1)
    public static let wp = UffdModes(rawValue: 2)
    public static let minor = UffdModes(rawValue: 4)
    /// UFFDIO_REGISTER_MODE_RWP (7.3): read-write protection.
    public static let rwp = UffdModes(rawValue: 8)

    /// The names in their fixed order.
    public static let named: [(name: String, mode: UffdModes)] = [("missing", .missing), ("wp", .wp), ("minor", .minor), ("rwp", .rwp)]

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

/// One command to a worker: a wire verb with its arguments (Verbs/*.swift, listed in
/// `Verbs.wire`). `line` encodes it, `init(line:)` decodes it, both derived from the verb's
/// declaration of its arguments; the two agree for every value (a host test round-trips them).
public struct WorkerCommand: Equatable, CustomStringConvertible {
    let verb: any WireVerb

    init(_ verb: any WireVerb) { self.verb = verb }

    /// The largest page count a command takes (bounds what one line can ask of a worker).
    public static let maximumPages = 1 << 28
    /// uffd-copy's bound: the worker allocates the source buffer (256 MiB at most).
    public static let maximumCopyPages = 1 << 16

    public var name: String { type(of: verb).name }

    /// The usage line of each verb, for a malformed command's reply.
    public static let usage: [String: String] = Dictionary(uniqueKeysWithValues: Verbs.wire.map { ($0.name, $0.usage(.wire)) })

    /// The command as one line (no newline).
    public var line: String { verb.line(.wire) }
    public var description: String { line }

    public static func == (a: WorkerCommand, b: WorkerCommand) -> Bool { a.line == b.line }

    /// Decodes one line; a malformed one is a `WorkerFailure` of kind usage (or unknown command)
    /// that the worker sends back as its reply.
    public init(line: String) throws(WorkerFailure) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let name = words.first.map(String.init) else { throw WorkerFailure(message: "empty command") }
        guard let type = Verbs.wireByName[name] else {
            throw WorkerFailure(message: "unknown command '\(name)' (one of: \(WorkerCommand.usage.keys.sorted().joined(separator: ", ")))")
        }
        let usage = type.usage(.wire)
        var parser = ArgumentParser(side: .wire, text: line, form: usage, words: Array(words.dropFirst()))
        do {
            verb = try type.read(&parser)
        } catch {
            throw WorkerFailure(call: "usage", message: usage)
        }
    }

    // The commands the CLI and the tests send by hand.
    public static var ping: WorkerCommand { WorkerCommand(Ping()) }
    public static func map(pages: Int, _ protection: Protection = .readWrite, _ sharing: Sharing = .private) -> WorkerCommand {
        WorkerCommand(MapAnon(pages: pages, protection: protection, sharing: sharing))
    }
    public static func mapFile(name: String, pages: Int, _ protection: Protection, _ sharing: Sharing) -> WorkerCommand {
        var verb = MapFile()
        verb.file = name; verb.pages = pages; verb.protection = protection; verb.sharing = sharing
        return WorkerCommand(verb)
    }
    public static func mapTHP(sharing: Sharing = .private) -> WorkerCommand { WorkerCommand(MapTHP(sharing: sharing)) }
    public static func write(_ address: UInt64, value: UInt32? = nil) -> WorkerCommand { WorkerCommand(Write(at: Address(address), value: value)) }
    public static func read(_ address: UInt64) -> WorkerCommand { WorkerCommand(Read(at: Address(address))) }
    public static func fill(_ address: UInt64, pages: UInt64, first: UInt32? = nil) -> WorkerCommand {
        WorkerCommand(Fill(at: Address(address), pages: Int(pages), first: first))
    }
    public static func mremap(_ address: UInt64, pages: Int) -> WorkerCommand { WorkerCommand(Mremap(at: Address(address), pages: pages)) }
    public static func mprotect(_ address: UInt64, pages: Int, _ protection: Protection) -> WorkerCommand {
        WorkerCommand(Mprotect(at: Address(address), pages: pages, protection: protection))
    }
    public static func mapFixture(pages: Int, _ sharing: Sharing) -> WorkerCommand { WorkerCommand(MapFixture(pages: pages, sharing: sharing)) }
    public static func pin(_ address: UInt64, pages: UInt64, write: Bool, longterm: Bool) -> WorkerCommand {
        WorkerCommand(Pin(at: Address(address), pages: Int(pages), write: write, longterm: longterm))
    }
    public static func unpin(_ address: UInt64, pages: UInt64) -> WorkerCommand { WorkerCommand(Unpin(at: Address(address), pages: Int(pages))) }
    public static func madvise(_ address: UInt64, pages: Int, _ advice: Advice) -> WorkerCommand {
        WorkerCommand(Madvise(at: Address(address), pages: pages, advice: advice))
    }
    public static var drain: WorkerCommand { WorkerCommand(Drain()) }
    public static func uffdOpen(move: Bool) -> WorkerCommand { WorkerCommand(UffdOpen(move: move)) }
    public static func uffdRegister(_ address: UInt64, pages: Int, _ modes: UffdModes) -> WorkerCommand {
        WorkerCommand(UffdRegister(at: Address(address), pages: pages, modes: modes))
    }
    public static func uffdCopy(_ address: UInt64, pages: Int, writeProtect: Bool, first: UInt32? = nil) -> WorkerCommand {
        WorkerCommand(UffdCopy(at: Address(address), pages: pages, writeProtect: writeProtect, first: first))
    }
    public static func uffdZeropage(_ address: UInt64, pages: Int) -> WorkerCommand { WorkerCommand(UffdZeropage(at: Address(address), pages: pages)) }
    public static func uffdContinue(_ address: UInt64, pages: Int) -> WorkerCommand { WorkerCommand(UffdContinue(at: Address(address), pages: pages)) }
    public static func uffdWriteProtect(_ address: UInt64, pages: Int, on: Bool) -> WorkerCommand {
        WorkerCommand(UffdWriteProtect(at: Address(address), pages: pages, on: on))
    }
    public static func uffdReadWriteProtect(_ address: UInt64, pages: Int, on: Bool) -> WorkerCommand {
        WorkerCommand(UffdReadWriteProtect(at: Address(address), pages: pages, on: on))
    }
    public static func uffdMove(from: UInt64, to: UInt64, pages: Int) -> WorkerCommand {
        WorkerCommand(UffdMove(from: Address(from), to: Address(to), pages: pages))
    }
    public static func churn(seconds: Double, seed: UInt64) -> WorkerCommand { WorkerCommand(RandomChurn(seconds: seconds, seed: seed)) }
    public static func memWrite(pid: Int32, _ address: UInt64, value: UInt32? = nil) -> WorkerCommand {
        WorkerCommand(ProcMemWrite(pid: pid, at: Address(address), value: value))
    }
    public static func memRead(pid: Int32, _ address: UInt64) -> WorkerCommand { WorkerCommand(ProcMemRead(pid: pid, at: Address(address))) }
    public static var fork: WorkerCommand { WorkerCommand(WireFork(input: nil, output: nil)) }
    public static func forkWorker(input: String, output: String) -> WorkerCommand { WorkerCommand(WireFork(input: input, output: output)) }
    public static func release(pid: Int32) -> WorkerCommand { WorkerCommand(Release(pid: pid)) }
    public static var exit: WorkerCommand { WorkerCommand(Exit()) }
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
        return WorkerFailure(call: call, message: ErrnoName(code: code).message, errno: code)
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
