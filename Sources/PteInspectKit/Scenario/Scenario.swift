/// A page of a scenario: page `page` of the mapping an actor bound to `symbol`.
public struct Loc: Hashable, Sendable, CustomStringConvertible {
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
public struct PageRef: Hashable, Sendable, CustomStringConvertible {
    public let actor: String
    public let loc: Loc

    public init(_ actor: String, _ loc: Loc) {
        self.actor = actor
        self.loc = loc
    }

    public init(_ actor: String, _ symbol: String, _ page: Int = 0) { self.init(actor, Loc(symbol, page)) }

    public var description: String { "\(actor):\(loc)" }
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

    /// An expectation of this step says it fails ("fails ENAME"): a failed outcome is its result,
    /// not an error.
    var expectsFailure: Bool {
        expectations.contains { $0.assertions.contains { if case .outcome(.fails) = $0 { return true } else { return false } } }
    }
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
    case synchronousSwap   // the swap device in use is zram (SWP_SYNCHRONOUS_IO: swap-in skips the swap cache before 7.0; from 7.0 it goes through it, freed at once)
    case zswapOff          // zswap is not enabled (a large folio cannot be swapped in whole once it has been)
    case guardRegions      // the kernel accepts MADV_GUARD_INSTALL (guard regions, 6.13+)
    case uffdRwp           // UFFDIO_API grants UFFD_FEATURE_RWP and RWP_ASYNC (read-write protection, 7.3+)

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
        case .guardRegions: return "guard regions (MADV_GUARD_INSTALL, Linux 6.13+)"
        case .uffdRwp: return "userfaultfd read-write protection (UFFD_FEATURE_RWP, Linux 7.3+)"
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
