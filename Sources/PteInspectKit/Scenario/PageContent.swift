/// What a scenario stores in a page, so that the page's first 4 bytes say who wrote them, when and
/// where: every write of a scenario (`write`, `mem-write`, `uffd-copy`, the write of `map-kind`)
/// stores the tag of (actor, step, page) as a u32 at the page's start, unless the file gives a
/// value of its own (`write A 0x5a5a5a5a`: KSM needs pages with equal contents).
///
///     bits 31..24  0x5a, the marker (a tag, not data from elsewhere)
///          23..20  the actor (its index in `ContentModel.actorNames`)
///          19..12  the step number (1-based)
///          11..0   the page within its mapping (P+N: N)
public struct ContentTag: Hashable, CustomStringConvertible {
    public let actor: Int
    public let step: Int
    public let page: Int

    static let marker: UInt32 = 0x5a

    /// nil when a number does not fit its bits (17+ actors, 256+ steps, 4096+ pages): such a
    /// write stores 0 and its page's content is not checked.
    public init?(actor: Int, step: Int, page: Int) {
        guard (0..<16).contains(actor), (1..<256).contains(step), (0..<4096).contains(page) else { return nil }
        self.actor = actor
        self.step = step
        self.page = page
    }

    /// A tag read back; nil for 4 bytes that are not one.
    public init?(value: UInt32) {
        guard value >> 24 == Self.marker, (value >> 12) & 0xff != 0 else { return nil }
        actor = Int((value >> 20) & 0xf)
        step = Int((value >> 12) & 0xff)
        page = Int(value & 0xfff)
    }

    public var value: UInt32 { Self.marker << 24 | UInt32(actor) << 20 | UInt32(step) << 12 | UInt32(page) }

    public var description: String { "0x" + String(value, radix: 16) }
}

/// What the first 4 bytes of one page should be, as one actor sees it.
public enum PageContent: Equatable {
    /// Nothing written since the mapping was made or its pages were discarded: zeros.
    case zero
    /// A value stored by a step: a tag, or a scenario's explicit value.
    case stored(UInt32)
    /// The runner cannot say (a file's contents, a page that was moved away): not checked.
    case unknown

    var value: UInt32? {
        switch self {
        case .zero: return 0
        case let .stored(value): return value
        case .unknown: return nil
        }
    }
}

/// The contents of the pages of one shared mapping (MAP_SHARED): one object for every process
/// that maps it, so a write through one mapping is what the others see.
final class SharedContent {
    var pages: [Int: PageContent] = [:]
    let initial: PageContent
    init(initial: PageContent) { self.initial = initial }
}

/// What one actor's mapping holds. Private pages are values (fork copies them); a shared
/// mapping's pages live in its `SharedContent`.
struct MappingContent {
    var pages: [Int: PageContent] = [:]
    var initial: PageContent
    var shared: SharedContent?
    /// madvise(MADV_DONTFORK / MADV_WIPEONFORK) pages: the child gets no mapping / zeros.
    var dontFork: Set<Int> = []
    var wipeOnFork: Set<Int> = []
    /// A file mapping (map-file): a page not written through this private mapping is the file's.
    var fileBacked = false

    subscript(page: Int) -> PageContent {
        get { shared.map { $0.pages[page] ?? $0.initial } ?? pages[page] ?? initial }
        set {
            if let shared { shared.pages[page] = newValue } else { pages[page] = newValue }
        }
    }
}

/// The runner's account of what each page must hold (the data checks): each step's effect on
/// the contents every actor sees, by the documented semantics of private and shared memory —
/// fork(2) ("the child inherits copies of the parent's ... memory mappings"), mmap(2)
/// MAP_PRIVATE ("updates to the mapping are not visible to other processes"), madvise(2)
/// MADV_DONTNEED ("private anonymous mappings: zero-fill-on-demand pages") — which the kernel
/// implements by copying on write (mm/memory.c wp_page_copy(), do_wp_page()) and must keep across
/// swap, migration, KSM, mremap and userfaultfd. Where the semantics do not pin a value down
/// (file contents, MADV_FREE), the page is `unknown` and not checked: never a guess.
final class ContentModel {
    /// Every actor of the scenario in the order it appears (the actors, then each fork's child):
    /// a tag's actor number indexes this list.
    let actorNames: [String]
    fileprivate var mappings: [String: [String: MappingContent]] = [:]

    init(_ scenario: Scenario) {
        var names = scenario.actors
        for step in scenario.steps {
            if let child = (step.action.verb as? Fork)?.child, !names.contains(child) { names.append(child) }
        }
        actorNames = names
    }

    /// The tag `actor` stores in page `page` at step `step` (nil: beyond what a tag can say).
    func tag(_ actor: String, step: Int, page: Int) -> ContentTag? {
        actorNames.firstIndex(of: actor).flatMap { ContentTag(actor: $0, step: step, page: page) }
    }

    /// What `ref` should hold now; nil for a page the model does not know (no mapping bound).
    func expected(_ ref: PageRef) -> PageContent? { mappings[ref.actor]?[ref.loc.symbol]?[ref.loc.page] }

    /// Whether `ref`'s mapping is private (MAP_PRIVATE): its written pages are the process's own copies.
    func isPrivate(_ ref: PageRef) -> Bool { mappings[ref.actor]?[ref.loc.symbol].map { $0.shared == nil } ?? false }

    /// A tag as a person reads it: "parent's write of P+1 at step 3".
    func describe(_ value: UInt32) -> String {
        guard let tag = ContentTag(value: value), tag.actor < actorNames.count else {
            return value == 0 ? "zeros" : "not a step's tag: a value a step wrote, or bytes nobody in this scenario wrote"
        }
        return "\(actorNames[tag.actor])'s write of page +\(tag.page) at step \(tag.step)"
    }

    // MARK: - Steps

    func map(_ actor: String, _ symbol: String, shared: Bool, file: Bool) {
        let initial: PageContent = file ? .unknown : .zero
        mappings[actor, default: [:]][symbol] = MappingContent(initial: initial, shared: shared ? SharedContent(initial: initial) : nil,
                                                              fileBacked: file)
    }

    /// `actor` stored `value` at the start of `loc` (through its own mapping, or another
    /// process's through /proc/PID/mem). nil: a value that is not checked.
    func store(_ actor: String, _ loc: Loc, _ value: UInt32?) {
        guard mappings[actor]?[loc.symbol] != nil else { return }
        mappings[actor]?[loc.symbol]?[loc.page] = value.map(PageContent.stored) ?? .unknown
    }

    func fork(_ parent: String, child: String) {
        var copies: [String: MappingContent] = [:]
        for (symbol, var mapping) in mappings[parent] ?? [:] {
            for page in mapping.dontFork { mapping.pages[page] = .unknown }   // the child has no VMA there
            for page in mapping.wipeOnFork where mapping.shared == nil { mapping.pages[page] = .zero }
            copies[symbol] = mapping
        }
        mappings[child] = copies
    }

    /// madvise(2) on `pages` pages from `loc`.
    func advise(_ actor: String, _ loc: Loc, pages: Int, _ advice: Advice) {
        guard var mapping = mappings[actor]?[loc.symbol] else { return }
        let range = loc.page..<(loc.page + pages)
        switch advice {
        case .dontneed, .guardInstall:
            // Private pages go: anonymous ones refault as zeros, a file mapping's as the file's.
            // A shared mapping's contents stay in its object (shmem keeps them).
            // MADV_GUARD_INSTALL zaps the range the same way (mm/madvise.c madvise_guard_install()
            // calls zap_vma_range()), then leaves guard markers: no page is mapped there and an
            // access is SIGSEGV (mm/memory.c handle_pte_marker()), never a zero page, so nothing
            // is read back until MADV_GUARD_REMOVE empties the entries; a fault after that is a
            // fresh page like one after MADV_DONTNEED.
            if mapping.shared == nil { for page in range { mapping[page] = mapping.fileBacked ? .unknown : .zero } }
        case .guardRemove:
            break   // clears guard markers only; a present entry in the range is left as it is
        case .dontfork: mapping.dontFork.formUnion(range)
        case .dofork: mapping.dontFork.subtract(range)
        case .wipeonfork: mapping.wipeOnFork.formUnion(range)
        case .free:
            // A lazily freed private anonymous page is dropped by the next reclaim that finds it
            // clean (it then reads as zeros) or kept if written first (mm/vmscan.c
            // shrink_folio_list(): a clean !swapbacked anon folio is freed): either may be seen.
            if mapping.shared == nil && !mapping.fileBacked { for page in range { mapping[page] = .unknown } }
        case .pageout, .cold, .willneed, .mergeable, .unmergeable, .hugepage, .nohugepage, .populateRead, .populateWrite, .collapse:
            break   // reclaim, KSM, THP and prefaulting move or map pages, never change what they hold
        }
        mappings[actor]?[loc.symbol] = mapping
    }

    /// UFFDIO_ZEROPAGE, or the pages `count` from `loc` are filled with what a step says.
    func set(_ actor: String, _ loc: Loc, pages: Int, _ content: (Int) -> PageContent) {
        for page in loc.page..<(loc.page + pages) { mappings[actor]?[loc.symbol]?[page] = content(page) }
    }

    /// UFFDIO_MOVE: the contents move with the pages; the source is left unmapped.
    func move(_ actor: String, from: Loc, to: Loc, pages: Int) {
        for i in 0..<pages {
            let content = mappings[actor]?[from.symbol]?[from.page + i] ?? .unknown
            mappings[actor]?[to.symbol]?[to.page + i] = content
            mappings[actor]?[from.symbol]?[from.page + i] = .unknown
        }
    }

    func exit(_ actor: String) { mappings[actor] = nil }
}

extension ContentModel {
    /// The data check's expectation, added to every step that observed a page's contents.
    static let checkSummary = "data: every page holds what its process wrote or inherited, nobody else's later write"
    static let checkKernels = KernelRange(
        name: "data", basis: "the semantics of private and shared memory (fork(2), mmap(2)), every kernel",
        note: "Private pages are copied before a write reaches them (do_wp_page() -> wp_page_copy(), mm/memory.c), "
            + "and must keep their contents across swap-out and swap-in, migration, KSM, mremap and userfaultfd.")

    /// What a wrong value means for `ref`, whose page should hold `want`. Explicit values of a
    /// scenario never carry the tag marker (the grammar refuses them), so a tag is a step's write.
    func diagnose(_ ref: PageRef, got: UInt32, want: UInt32) -> String {
        guard let tag = ContentTag(value: got), tag.actor < actorNames.count else {
            return got == 0 ? "the page lost its contents (it reads as zeros)"
                : "the page holds bytes other than the ones it should (another page's contents, or the kernel's)"
        }
        let writer = actorNames[tag.actor]
        if let wanted = ContentTag(value: want), tag.step < wanted.step {
            // Older than what should be there: whoever wrote it, the later write did not land here.
            return "older contents: the write of step \(wanted.step) is not in this page (a lost write)"
        }
        if tag.page != ref.loc.page { return "the contents of page +\(tag.page): the page is mapped at the wrong place" }
        if writer != ref.actor, mappings[ref.actor]?[ref.loc.symbol]?.shared == nil {
            return "\(writer)'s write is visible in \(ref.actor)'s private page: a copy-on-write leak between processes"
        }
        return "a write this page should not see"
    }
}
