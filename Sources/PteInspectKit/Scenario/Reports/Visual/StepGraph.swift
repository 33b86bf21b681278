/// The objects of one step that the background documents talk about, and how they point at each
/// other: processes own pages (their VMA's place, vm_pgoff); a VMA points to its anon_vma and
/// chains to others (anon_vma_chain, after fork); an anon_vma to its root; a present PTE to a
/// physical page (PFN), a swap PTE to a swap entry (with its exclusive bit); a page back to the
/// anon_vma its folio->mapping names; rmap finds the page at (process, address). Built from a saved
/// report's step (`SavedReport.Step`) only: one model that the SVG (HTMLReport) and the Graphviz
/// DOT (DOTReport) renderings draw.
public struct StepGraph: Equatable {
    public enum Kind: String { case process, mapping, anonVma, page, swapEntry }

    public struct Node: Equatable {
        public let id: String
        public let kind: Kind
        /// Lines of the node's label, the first its name.
        public let label: [String]
    }

    public enum Relation: String {
        case owns            // process -> its page's place
        case anonVma = "vma->anon_vma"
        case chain = "anon_vma_chain"
        case root
        case maps = "pte"    // place -> physical page
        case swap = "swap pte"
        case mapping = "folio->mapping"
        case rmap            // physical page -> where rmap finds it
    }

    public struct Edge: Equatable {
        public let from: String
        public let to: String
        public let relation: Relation
        /// Extra words on the edge ("exclusive").
        public let note: String?
    }

    public private(set) var nodes: [Node] = []
    public private(set) var edges: [Edge] = []

    private mutating func node(_ id: String, _ kind: Kind, _ label: [String]) {
        if !nodes.contains(where: { $0.id == id }) { nodes.append(Node(id: id, kind: kind, label: label)) }
    }

    private mutating func edge(_ from: String, _ to: String, _ relation: Relation, note: String? = nil) {
        let edge = Edge(from: from, to: to, relation: relation, note: note)
        if !edges.contains(edge) { edges.append(edge) }
    }

    /// The last hex digits of a keyed-hash identity, as the terminal report shows them.
    static func short(_ id: String) -> String { id.count > 6 ? "…" + id.suffix(4) : id }

    public init(step: SavedReport.Step) {
        // Every watched page's place first, so that an rmap hit on a later page finds its node.
        for page in step.pages { addPlace(page) }
        for page in step.pages {
            addAnonVmas(page)
            if page.flag("present"), let pfn = page.text("pfn") {
                addPage(pfn, mappedBy: page, in: step)
            } else if page.flag("swapped") {
                addSwapSlot(page)
            }
        }
    }

    /// A watched page's process and place (its VMA: vm_pgoff, or that there is none).
    private mutating func addPlace(_ page: SavedReport.Page) {
        let actor = String(page.page.prefix { $0 != ":" })
        let process = "process:" + actor
        node(process, .process, [actor])
        let place = "place:" + page.page
        var label = [page.page]
        if let location = page.location { label.append(String(location.drop { $0 != "@" }.dropFirst())) }
        if let pgoff = page.text("vma.vm_pgoff") { label.append("vm_pgoff " + pgoff) }
        if page.fields["vma"] == .bool(false) { label.append("no VMA") }
        node(place, .mapping, label)
        edge(process, place, .owns)
    }

    /// The place's anon_vma, its root, and the other anon_vmas of its chain.
    private mutating func addAnonVmas(_ page: SavedReport.Page) {
        let place = "place:" + page.page
        if let anonVma = page.text("vma.anon_vma") {
            node("anon_vma:" + anonVma, .anonVma, ["anon_vma " + Self.short(anonVma)])
            edge(place, "anon_vma:" + anonVma, .anonVma)
            if let root = page.text("vma.anon_vma.root"), root != anonVma {
                node("anon_vma:" + root, .anonVma, ["anon_vma " + Self.short(root)])
                edge("anon_vma:" + anonVma, "anon_vma:" + root, .root)
            }
        }
        if case let .list(chain)? = page.fields["vma.anon_vma_chain"] {
            for member in chain where member != page.text("vma.anon_vma") {
                node("anon_vma:" + member, .anonVma, ["anon_vma " + Self.short(member)])
                edge(place, "anon_vma:" + member, .chain)
            }
        }
    }

    /// The page a present entry maps (PFN, index, its state), the folio's anon_vma and the places
    /// the rmap walk found.
    private mutating func addPage(_ pfn: String, mappedBy page: SavedReport.Page, in step: SavedReport.Step) {
        let place = "place:" + page.page
        var lines = ["PFN " + pfn]
        if let index = page.text("index") { lines.append("index " + index) }
        var bits: [String] = []
        if page.flag("PageAnon") { bits.append("anon") }
        if page.flag("PageAnonExclusive") { bits.append("exclusive") }
        if page.flag("PageKsm") { bits.append("KSM") }
        if page.flag("zero_page") { bits.append("zero page") }
        if let mapcount = page.text("mapcount") { bits.append("mapcount " + mapcount) }
        if !bits.isEmpty { lines.append(bits.joined(separator: ", ")) }
        node("page:" + pfn, .page, lines)
        edge(place, "page:" + pfn, .maps, note: page.bit("pte.write").map { $0 ? "writable" : "read-only" })
        if let mapping = page.text("page.anon_vma") {
            node("anon_vma:" + mapping, .anonVma, ["anon_vma " + Self.short(mapping)])
            edge("page:" + pfn, "anon_vma:" + mapping, .mapping)
        }
        if case let .list(hits)? = page.fields["rmap"] {
            for hit in hits {
                // a hit names a watched page by its location ("child@0x7f..."), when it is one
                let target = step.pages.first { $0.location == hit }.map { "place:" + $0.page } ?? "place:" + hit
                if !nodes.contains(where: { $0.id == target }) { node(target, .mapping, [hit]) }
                edge("page:" + pfn, target, .rmap)
            }
        }
    }

    /// One node per swap slot: after fork the parent's and the child's swap PTEs name the same one.
    private mutating func addSwapSlot(_ page: SavedReport.Page) {
        let slot = page.text("swap.slot")
        let id = "swap:" + (slot ?? page.page)
        node(id, .swapEntry, ["swap slot " + (slot ?? "?")])
        let exclusive = page.bit("swap.exclusive")
        edge("place:" + page.page, id, .swap, note: exclusive.map { $0 ? "exclusive" : "not exclusive" })
    }
}

private extension SavedReport.Page {
    func text(_ field: String) -> String? {
        switch fields[field] {
        case let .text(value)?: return value
        case let .number(value)?: return String(value)
        default: return nil
        }
    }

    func flag(_ field: String) -> Bool { fields[field] == .bool(true) }

    /// A bit the backend saw, set or clear; nil where it could not see it (nothing is drawn).
    func bit(_ field: String) -> Bool? {
        if case let .bool(value)? = fields[field] { return value }
        return nil
    }
}
