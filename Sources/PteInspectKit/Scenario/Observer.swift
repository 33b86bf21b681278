import Foundation
import Glibc

/// Reads the state of single pages for the scenario runner.
public protocol PageObserver: AnyObject {
    var backend: Backend { get }
    func canSee(_ field: PageField) -> Bool
    /// The page at `address` of process `pid`. `name` turns an rmap hit (pid, address) into the
    /// scenario's name for it.
    func observe(pid: Int32, address: UInt64, name: (Int32?, UInt64) -> String) throws -> PageObservation
    /// `pages` pages from `address`, each as `observe` would see it but without rmap (read for a
    /// watched page only): the pages of a whole mapping, for an every-page expectation.
    func observeRange(pid: Int32, address: UInt64, pages: Int) throws -> [PageObservation]
}

extension PageObserver {
    /// Page by page.
    public func observeRange(pid: Int32, address: UInt64, pages: Int) throws -> [PageObservation] {
        let pageSize = SystemPage.size
        return try (0..<pages).map { page in
            var observation = try observe(pid: pid, address: address + UInt64(page) * pageSize) { _, _ in "" }
            observation.values[.rmap] = nil
            return observation
        }
    }
}

/// Everything, through the module: GET_PTES, GET_VMAS and GET_RMAP for each page.
public final class ModuleObserver: PageObserver {
    private let client: PteInspectClient
    private let pageSize = SystemPage.size
    public let backend = Backend.module
    /// The module reads page data (Features.pageData, module 0.4.0): the `data` field is seen.
    public let readsData: Bool

    public init(client: PteInspectClient, readsData: Bool) {
        self.client = client
        self.readsData = readsData
    }

    /// Asks the module what it can read.
    public convenience init(client: PteInspectClient) throws {
        self.init(client: client, readsData: try client.info().features.contains(.pageData))
    }

    public func canSee(_ field: PageField) -> Bool { PageObservation.moduleCanSee(field, readsData: readsData) }

    public func observe(pid: Int32, address: UInt64, name: (Int32?, UInt64) -> String) throws -> PageObservation {
        let page = address & ~(pageSize - 1)
        // Three reads (entry, VMA, rmap) of a page the kernel may change in between (ksmd merging
        // it, reclaim): if the rmap query is refused, read the whole page again, a few times.
        var attempt = 0
        while true {
            attempt += 1
            let entry = try client.entries(pid: pid, start: page, end: page + pageSize, readData: readsData).first
            let vma = try client.vma(pid: pid, containing: page)
            var rmap: [String]?
            // GET_RMAP answers for anon and file folios; KSM pages use rmap_items, which it does not walk.
            if let state = entry?.page, entry?.isPresent == true, !state.flags.contains(.ksm),
               state.mappingKind == .anon || state.mappingKind == .file {
                do {
                    rmap = try client.rmap(pid: pid, address: page).filter(\.mapped).map { name($0.pid, $0.address) }
                } catch NetlinkError.kernel(_, let errno, _, _) where attempt < 5 && (errno == EOPNOTSUPP || errno == ENOENT) {
                    continue   // the page changed kind or went away after GET_PTES read it
                }
            }
            return PageObservation(module: entry, at: page, vma: vma, rmap: rmap, dataRead: readsData)
        }
    }

    /// One GET_PTES dump and one GET_VMAS over the range, however many pages (a PMD entry covers
    /// its 512).
    public func observeRange(pid: Int32, address: UInt64, pages: Int) throws -> [PageObservation] {
        let (start, end) = try PteInspectClient.pageRange(address: address, count: UInt64(pages), pageSize: pageSize)
        let entries = try client.entries(pid: pid, start: start, end: end, readData: readsData)
        let vmas = try client.vmas(pid: pid, start: start, end: end)
        let pmdSize = pageSize << 9   // a PMD maps 512 pages (x86-64: PMD_SHIFT 21)
        return (0..<UInt64(pages)).map { index in
            let page = start + index * pageSize
            let entry = entries.first { $0.address <= page && page < $0.address + ($0.level == .pmd ? pmdSize : pageSize) }
            let vma = vmas.first { $0.start <= page && page < $0.end }
            var observation = PageObservation(module: entry, at: page, vma: vma, rmap: nil, dataRead: readsData)
            observation.values[.rmap] = nil
            return observation
        }
    }
}

/// What /proc/PID/pagemap, /proc/kpageflags and /proc/kpagecount show (no module needed).
public final class PagemapObserver: PageObserver {
    public let backend = Backend.pagemap
    private let pageSize = SystemPage.size

    /// Known bugs of this kernel's pagemap files (PagemapQuirks): what they make unreadable.
    public let quirks: PagemapQuirks

    public init(quirks: PagemapQuirks = .current) { self.quirks = quirks }

    public func canSee(_ field: PageField) -> Bool {
        if field == .ksm && quirks.ksmOnEveryAnonPage { return false }
        return PageObservation.pagemapCanSee(field)
    }

    public func observe(pid: Int32, address: UInt64, name: (Int32?, UInt64) -> String) throws -> PageObservation {
        let page = address & ~(pageSize - 1)
        let reader = try PagemapReader(pid: pid)
        return PageObservation(pagemap: try reader.entries(start: page, end: page + pageSize).first, at: page, quirks: quirks)
    }
}
