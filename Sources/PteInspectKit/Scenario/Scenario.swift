/// A page of a scenario: page `page` of the mapping an actor bound to `symbol`.
public struct Loc: Hashable, CustomStringConvertible {
    public let symbol: String
    public let page: Int

    public init(_ symbol: String, _ page: Int = 0) {
        self.symbol = symbol
        self.page = page
    }

    public var description: String { page == 0 ? symbol : "\(symbol)+\(page)" }
    public func plus(_ pages: Int) -> Loc { Loc(symbol, page + pages) }
}

/// A page as one actor sees it ("child:P").
public struct PageRef: Hashable, CustomStringConvertible {
    public let actor: String
    public let loc: Loc

    public init(_ actor: String, _ loc: Loc) {
        self.actor = actor
        self.loc = loc
    }

    public init(_ actor: String, _ symbol: String, _ page: Int = 0) { self.init(actor, Loc(symbol, page)) }

    public var description: String { "\(actor):\(loc)" }
}

/// What a step does. Actor actions run in that actor's worker process; system actions
/// (swapoff, swapon, sysfs settings, waiting for ksmd) run in the CLI.
public enum Action {
    /// mmap `pages` anonymous pages between guard pages, MADV_NOHUGEPAGE; binds `symbol`.
    case map(String, pages: Int, Protection = .readWrite, shared: Bool = false)
    /// `pages` pages of the shmem file `file` (a memfd the actor creates on first use; the same
    /// name maps the same file again), from offset 0; binds `symbol`.
    case mapFile(String, file: String, pages: Int, Protection = .readWrite, shared: Bool)
    /// A 2 MiB-aligned MADV_HUGEPAGE range inside a 4 MiB mapping; binds `symbol`.
    case mapTHP(String)
    /// The page kind of this run (`Scenario.kind`) at a fresh mapping, made and verified as
    /// `PageKind.recipe` says; binds `symbol` to the folio's first page.
    case mapKind(String, PageKind)
    /// `pages` pages of /dev/pteinspect (VM_PFNMAP, remap_pfn_range); binds `symbol`.
    case mapFixture(String, pages: Int, shared: Bool)
    /// Stores a u32 at the page's start: `value`, or (nil) the step's `ContentTag`, which says
    /// who wrote the page when (the data checks).
    case write(Loc, value: UInt32? = nil)
    case read(Loc)
    /// fork(); the child becomes the actor `child`, with the same symbols.
    case fork(child: String)
    /// mremap(MAYMOVE|FIXED) of the whole mapping `symbol` (`pages` long) to a fresh range; rebinds
    /// `symbol` in this actor.
    case mremap(String, pages: Int)
    case mprotect(Loc, pages: Int, Protection)
    case madvise(Loc, pages: Int, Advice)
    /// lru_add_drain() on the actor's CPU (MADV_COLD on a scratch page).
    case drain
    case uffdOpen(move: Bool)
    case uffdRegister(Loc, pages: Int, modes: UffdModes)
    case uffdCopy(Loc, pages: Int, writeProtect: Bool)
    case uffdZeropage(Loc, pages: Int)
    case uffdWriteProtect(Loc, pages: Int, on: Bool)
    case uffdContinue(Loc, pages: Int)
    case uffdMove(from: Loc, to: Loc, pages: Int)
    /// One byte through /proc/PID/mem of `actor` (FOLL_FORCE).
    case memWrite(actor: String, Loc)
    case memRead(actor: String, Loc)
    case pin(Loc, pages: Int, write: Bool, longterm: Bool)
    case unpin(Loc, pages: Int)
    case exit
    // System actions
    case swapoff
    case swapon
    /// Writes a sysfs/procfs value; the old value is restored when the scenario ends.
    case setting(path: String, value: String)
    /// Polls the pages until each is PageKsm (ksmd merges asynchronously), at most `seconds`.
    case waitForKsm([PageRef], seconds: Int)

    public var isSystem: Bool {
        switch self {
        case .swapoff, .swapon, .setting, .waitForKsm: return true
        default: return false
        }
    }

    /// Fields the step itself polls (not an expectation): a backend that cannot see one cannot
    /// run the step.
    public var observedFields: [PageField] {
        if case .waitForKsm = self { return [.ksm] }
        return []
    }

    public var description: String {
        switch self {
        case let .map(symbol, pages, prot, shared):
            return "mmap \(pages) page\(pages == 1 ? "" : "s") \(prot.flagNames) \(shared ? "MAP_SHARED" : "MAP_PRIVATE")|MAP_ANONYMOUS, MADV_NOHUGEPAGE -> \(symbol)"
        case let .mapFile(symbol, file, pages, prot, shared):
            return "mmap \(pages) page\(pages == 1 ? "" : "s") of shmem file \(file) \(prot.flagNames) \(shared ? "MAP_SHARED" : "MAP_PRIVATE") -> \(symbol)"
        case let .mapTHP(symbol): return "mmap 4 MiB, MADV_HUGEPAGE on its 2 MiB-aligned middle -> \(symbol)"
        case let .mapKind(symbol, kind): return "make a \(kind) page: \(kind.recipe) -> \(symbol)"
        case let .mapFixture(symbol, pages, shared):
            return "mmap \(pages) page\(pages == 1 ? "" : "s") of /dev/pteinspect \(shared ? "MAP_SHARED" : "MAP_PRIVATE") (remap_pfn_range) -> \(symbol)"
        case let .write(loc, value): return "write \(loc)" + (value.map { " 0x" + String($0, radix: 16) } ?? "")
        case let .read(loc): return "read \(loc)"
        case let .fork(child): return "fork -> \(child)"
        case let .mremap(symbol, pages): return "mremap \(symbol) (\(pages) page\(pages == 1 ? "" : "s"), MREMAP_MAYMOVE|MREMAP_FIXED) to a fresh range"
        case let .mprotect(loc, pages, prot): return "mprotect \(loc) \(pages) pages \(prot.flagNames)"
        case let .madvise(loc, pages, advice): return "madvise \(loc) \(pages) pages \(advice.constantName)"
        case .drain: return "drain this CPU's LRU batches (MADV_COLD on a scratch page)"
        case let .uffdOpen(move): return "userfaultfd + UFFDIO_API" + (move ? " (UFFD_FEATURE_MOVE)" : "")
        case let .uffdRegister(loc, pages, modes): return "UFFDIO_REGISTER \(loc) \(pages) pages mode \(modes)"
        case let .uffdCopy(loc, pages, wp): return "UFFDIO_COPY \(loc) \(pages) pages" + (wp ? " MODE_WP" : "")
        case let .uffdZeropage(loc, pages): return "UFFDIO_ZEROPAGE \(loc) \(pages) pages"
        case let .uffdWriteProtect(loc, pages, on): return "UFFDIO_WRITEPROTECT \(loc) \(pages) pages " + (on ? "MODE_WP" : "mode 0 (resolve)")
        case let .uffdContinue(loc, pages): return "UFFDIO_CONTINUE \(loc) \(pages) pages"
        case let .uffdMove(from, to, pages): return "UFFDIO_MOVE \(from) -> \(to) \(pages) pages"
        case let .memWrite(actor, loc): return "write 1 byte at \(actor):\(loc) through /proc/\(actor)/mem"
        case let .memRead(actor, loc): return "read 1 byte at \(actor):\(loc) through /proc/\(actor)/mem"
        case let .pin(loc, pages, write, longterm):
            return "pin_user_pages \(loc) \(pages) pages FOLL_PIN" + (write ? "|FOLL_WRITE" : "") + (longterm ? "|FOLL_LONGTERM" : "")
        case let .unpin(loc, pages): return "unpin \(loc) \(pages) pages"
        case .exit: return "exit"
        case .swapoff: return "swapoff the swap device"
        case .swapon: return "swapon the swap device again"
        case let .setting(path, value): return "echo \(value) > \(path)"
        case let .waitForKsm(pages, seconds):
            return "wait (at most \(seconds) s) until ksmd merged " + pages.map(\.description).joined(separator: ", ")
        }
    }
}

/// One step: an actor (or "system") performs an action, then expectations are checked.
public struct Step {
    public let actor: String
    public let action: Action
    /// A name later expectations can refer to ("the PFN after `write`").
    public let label: String?
    public let expectations: [Expectation]

    public init(_ actor: String, _ action: Action, label: String? = nil, expect expectations: [Expectation] = []) {
        self.actor = actor
        self.action = action
        self.label = label
        self.expectations = expectations
    }

    public var description: String { "\(actor): \(action.description)" }
}

/// What must hold before a scenario can run; an unmet one is a SKIP with the reason.
public enum Requirement: Hashable, CustomStringConvertible {
    case root
    case module            // the module backend (fields only it can see)
    case fixtureDevice     // /dev/pteinspect
    case swap              // an active swap device (zram on the VM)
    case userfaultfd
    case thp
    case ksm
    case uffdioMove        // UFFDIO_MOVE in this kernel (6.8+)
    case notUffdioMove     // the kernel lacks UFFDIO_MOVE (the 6.1 refusal case)
    case synchronousSwap   // the swap device in use is zram (SWP_SYNCHRONOUS_IO: swap-in skips the swap cache)
    case zswapOff          // zswap is not enabled (a large folio cannot be swapped in whole once it has been)

    public var description: String {
        switch self {
        case .root: return "root"
        case .module: return "the pteinspect module"
        case .fixtureDevice: return "/dev/pteinspect"
        case .swap: return "a swap device"
        case .userfaultfd: return "userfaultfd"
        case .thp: return "transparent hugepages"
        case .ksm: return "KSM"
        case .uffdioMove: return "UFFDIO_MOVE (Linux 6.8+)"
        case .notUffdioMove: return "a kernel without UFFDIO_MOVE"
        case .synchronousSwap: return "zram swap (SWP_SYNCHRONOUS_IO)"
        case .zswapOff: return "zswap off"
        }
    }
}

/// A named sequence of steps with the pages it watches.
public struct Scenario {
    public let name: String
    public let title: String
    /// What it shows and which bug or design it guards, for `explain`.
    public let summary: String
    /// Background documents (shared/seeds/) this scenario makes visible.
    public let documents: [String]
    public let requirements: [Requirement]
    /// Actors spawned as fresh workers before the first step.
    public let actors: [String]
    /// Pages observed after every step (when their actor exists and the symbol is bound).
    public let watch: [PageRef]
    public let steps: [Step]
    /// The page kind this run is over (a file's `kinds:` makes one scenario per kind, named
    /// `NAME[KIND]`); nil for a scenario without kinds.
    public let kind: PageKind?
    /// The name in the file: `name` without the kind.
    public let baseName: String

    public init(name: String, title: String, summary: String, documents: [String] = [], requirements: [Requirement] = [],
                actors: [String] = ["parent"], watch: [PageRef], steps: [Step], kind: PageKind? = nil) {
        self.baseName = name
        self.kind = kind
        self.name = kind.map { "\(name)[\($0)]" } ?? name
        self.title = title
        self.summary = summary
        self.documents = documents
        self.requirements = requirements
        self.actors = actors
        self.watch = watch
        self.steps = steps
    }
}
