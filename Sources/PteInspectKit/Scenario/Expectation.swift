/// A kernel release, compared by its first numbers ("6.1.0-56-amd64" -> 6.1.0).
public struct KernelVersion: Comparable, CustomStringConvertible {
    public let parts: [Int]

    public init(_ parts: Int...) { self.parts = parts }

    public init?(release: String) {
        let numbers = release.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        guard numbers.count >= 2 else { return nil }
        parts = numbers
    }

    public static func < (a: KernelVersion, b: KernelVersion) -> Bool {
        for i in 0..<max(a.parts.count, b.parts.count) {
            let x = i < a.parts.count ? a.parts[i] : 0, y = i < b.parts.count ? b.parts[i] : 0
            if x != y { return x < y }
        }
        return false
    }

    public static func == (a: KernelVersion, b: KernelVersion) -> Bool { !(a < b) && !(b < a) }

    public var description: String { parts.map(String.init).joined(separator: ".") }
}

/// The kernels an expectation holds for: [from, below), and any further intervals in `also` (a
/// fix in a mainline release and backported to an older stable line: [6.12.117, 6.13) and [6.14,
/// ...)). `basis` says where the bounds come from (the commit that introduced or changed the
/// behaviour).
public struct KernelRange: CustomStringConvertible, Equatable {
    public let from: KernelVersion?
    public let below: KernelVersion?
    /// More intervals the range holds for (their own `also` and `basis` are not used).
    public let also: [KernelRange]
    public let basis: String
    /// The name a scenario file gives it (`kernels:`), for its expectations to refer to.
    public let name: String?
    /// The longer account of the bounds (commits, releases, the lines that show it), if any.
    public let note: String?

    public init(name: String? = nil, from: KernelVersion? = nil, below: KernelVersion? = nil, also: [KernelRange] = [],
                basis: String, note: String? = nil) {
        self.name = name
        self.from = from
        self.below = below
        self.also = also
        self.basis = basis
        self.note = note
    }

    public func contains(_ version: KernelVersion) -> Bool {
        also.contains { $0.contains(version) } || intervalContains(version)
    }

    private func intervalContains(_ version: KernelVersion) -> Bool {
        if let from, version < from { return false }
        if let below, !(version < below) { return false }
        return true
    }

    /// Bounded at all: false only for "all kernels".
    public var isBounded: Bool { from != nil || below != nil || !also.isEmpty }

    public var description: String {
        ([interval] + also.map(\.interval)).joined(separator: " or ")
    }

    var interval: String {
        switch (from, below) {
        case let (from?, below?): return ">= \(from), < \(below)"
        case let (from?, nil): return ">= \(from)"
        case let (nil, below?): return "< \(below)"
        case (nil, nil): return "all"
        }
    }
}

/// Where an expectation comes from: the kernel file and function that decide it, and the
/// background document where one applies. Where the kernel lines spell it differently, `file`
/// and `function` name it per line: "page_add_new_anon_rmap (6.1), folio_add_new_anon_rmap (6.12)".
/// In `detail`, code between backticks is a verbatim quote and a line number names its tree
/// ("6.1.192 L4053", "6.12.118 L4553": Debian's linux-source-6.1 and linux-source-6.12);
/// tools/cite-check checks both against those trees (docs/scenario-format.md, "Citations").
public struct Citation: CustomStringConvertible, Equatable {
    public let file: String
    public let function: String
    public let detail: String?
    public let document: String?

    public init(_ file: String, _ function: String, _ detail: String? = nil, document: String? = nil) {
        self.file = file
        self.function = function
        self.detail = detail
        self.document = document
    }

    public var description: String {
        var text = Citation.place(file: file, function: function)
        if let detail { text += ": \(detail)" }
        if let document { text += " [\(document)]" }
        return text
    }

    /// "mm/memory.c do_swap_page()"; per kernel line where the file or the function is given per
    /// line: "mm/mmap.c copy_vma() (6.1), mm/vma.c copy_vma() (6.12)".
    public static func place(file: String, function: String) -> String {
        let files = perLine(file), functions = perLine(function)
        guard files != nil || functions != nil else { return "\(file) \(function)()" }
        let lines = Array(Set((files ?? [:]).keys).union((functions ?? [:]).keys))
            .sorted { (KernelVersion(release: $0) ?? KernelVersion(0)) < (KernelVersion(release: $1) ?? KernelVersion(0)) }
        return lines.map { line in
            "\(files?[line] ?? file) \(functions?[line] ?? function)() (\(line))"
        }.joined(separator: ", ")
    }

    /// "a (6.1), b (6.12)" -> ["6.1": "a", "6.12": "b"]; nil for a plain name.
    static func perLine(_ value: String) -> [String: String]? {
        var out: [String: String] = [:]
        for part in value.split(separator: ",") {
            let words = part.split(separator: " ")
            guard words.count == 2, let last = words.last, last.hasPrefix("("), last.hasSuffix(")") else { return nil }
            out[String(last.dropFirst().dropLast())] = String(words[0])
        }
        return out.isEmpty ? nil : out
    }
}

/// What a field should be compared with.
public indirect enum Expected: Equatable {
    case value(FieldValue)
    /// Any value but `.absent` (e.g. an anon_vma has been allocated).
    case notAbsent
    /// The same value as `field` (default: the same field) of `page`, at step `label` (default: now).
    case same(PageRef, PageField?, at: String?)
    case differs(PageRef, PageField?, at: String?)
    /// This set-valued field contains the value of `field` of `page`.
    case contains(PageRef, PageField, at: String?)
    /// rmap finds exactly these pages mapped (as they are addressed now).
    case rmapFinds([PageRef])
    /// Equal to one of these pages' values of the same field at step `label`.
    case oneOf([PageRef], at: String?)
}

/// How a step's own call should end.
public enum Outcome: Equatable {
    case succeeds
    case fails(ErrnoName)
}

/// One checked statement.
public enum Assertion: Equatable {
    case field(PageRef, PageField, Expected)
    case outcome(Outcome)

    /// Every field the assertion reads (its own and those it compares with).
    public var fields: Set<PageField> {
        switch self {
        case let .field(_, field, expected):
            var all: Set<PageField> = [field]
            switch expected {
            case let .same(_, other?, _), let .differs(_, other?, _), let .contains(_, other, _): all.insert(other)
            default: break
            }
            return all
        case .outcome: return []
        }
    }

    public var description: String {
        switch self {
        case let .outcome(.fails(errno)): return "the call fails with \(errno.name)"
        case .outcome(.succeeds): return "the call succeeds"
        case let .field(page, field, expected):
            let lhs = "\(page).\(field)"
            func other(_ ref: PageRef, _ otherField: PageField?, _ label: String?) -> String {
                "\(ref).\(otherField ?? field)" + (label.map { "@\($0)" } ?? "")
            }
            switch expected {
            case let .value(value): return "\(lhs) == \(value)"
            case .notAbsent: return "\(lhs) is set"
            case let .same(ref, f, label): return "\(lhs) == \(other(ref, f, label))"
            case let .differs(ref, f, label): return "\(lhs) != \(other(ref, f, label))"
            case let .contains(ref, f, label): return "\(lhs) contains \(other(ref, f, label))"
            case let .rmapFinds(refs): return "\(lhs) == {" + refs.map(\.description).joined(separator: ", ") + "}"
            case let .oneOf(refs, label): return "\(lhs) in {" + refs.map { other($0, nil, label) }.joined(separator: ", ") + "}"
            }
        }
    }
}

/// A statement about the kernel's state after a step, with what it needs and where it comes from.
/// A kernel bug, known and fixed somewhere, that makes an expectation fail on the kernels in
/// `kernels` (those without the fix): there the expectation is evaluated all the same, a failure
/// is a SKIP whose reason begins "XFAIL" and names the bug (what a kernel engineer must see: not a
/// silent pass, not a FAIL that reads as the tool's), and a pass is a PASS (the fix is there).
public struct KnownBug: Equatable {
    public let kernels: [KernelRange]
    /// What is wrong, what a user sees, and which commit or release fixes it.
    public let bug: String

    public init(kernels: [KernelRange], bug: String) {
        self.kernels = kernels
        self.bug = bug
    }

    public func contains(_ version: KernelVersion) -> Bool { kernels.contains { $0.contains(version) } }
}

public struct Expectation {
    public let summary: String
    public let assertions: [Assertion]
    public let kernels: KernelRange
    public let citation: Citation
    /// What the machine must offer for it to hold (besides the scenario's own requirements);
    /// an unmet one makes this expectation a SKIP with the reason.
    public let requirements: [Requirement]
    /// Checked on every page of the mappings its checks name, not only on the page named
    /// (`every-page: true`): their common length in pages at its step. A check of ACTOR:P then
    /// reads P+0 ... P+(everyPage-1) in turn, each compared with the same page of any other
    /// mapping it names: a property of a whole large folio (each page exclusive after a swap-in,
    /// each mapped twice after a fork) is seen to hold for all of its pages. nil: the named page.
    public let everyPage: Int?
    /// A known kernel bug that makes it fail on some kernels (`known-bug:`): on those it is still
    /// evaluated, and a failure is reported as that bug (kselftest's XFAIL), not as the tool's.
    public let knownBug: KnownBug?

    public init(_ summary: String, kernels: KernelRange, cite citation: Citation, _ assertions: [Assertion],
                requires requirements: [Requirement] = [], everyPage: Int? = nil, knownBug: KnownBug? = nil) {
        self.summary = summary
        self.assertions = assertions
        self.kernels = kernels
        self.citation = citation
        self.requirements = requirements
        self.everyPage = everyPage
        self.knownBug = knownBug
    }

    /// The mappings (as their first pages) an every-page expectation reads.
    public var mappings: Set<PageRef> {
        Set(assertions.flatMap { assertion -> [PageRef] in
            guard case let .field(ref, _, expected) = assertion else { return [] }
            switch expected {
            case let .same(other, _, _), let .differs(other, _, _), let .contains(other, _, _): return [ref, other]
            case let .rmapFinds(refs), let .oneOf(refs, _): return [ref] + refs
            case .value, .notAbsent: return [ref]
            }
        })
    }

    public var fields: Set<PageField> { assertions.reduce(into: []) { $0.formUnion($1.fields) } }
}

// A small vocabulary for writing assertions: `P.has(.write, true)`, `P.same(.pfn, at: "write")`.
extension PageRef {
    public func has(_ field: PageField, _ value: Bool) -> Assertion { .field(self, field, .value(.bool(value))) }
    public func has(_ field: PageField, _ value: Int) -> Assertion { .field(self, field, .value(.number(UInt64(value)))) }
    public func has(_ field: PageField, _ value: String) -> Assertion { .field(self, field, .value(.text(value))) }
    public func has(_ field: PageField, set: [String]) -> Assertion { .field(self, field, .value(.set(set))) }
    public func absent(_ field: PageField) -> Assertion { .field(self, field, .value(.absent)) }
    public func isSet(_ field: PageField) -> Assertion { .field(self, field, .notAbsent) }
    public func same(_ field: PageField, as other: PageRef? = nil, _ otherField: PageField? = nil, at label: String? = nil) -> Assertion {
        .field(self, field, .same(other ?? self, otherField, at: label))
    }
    public func differs(_ field: PageField, from other: PageRef? = nil, _ otherField: PageField? = nil, at label: String? = nil) -> Assertion {
        .field(self, field, .differs(other ?? self, otherField, at: label))
    }
    /// The VMA's anon_vma_chain contains `other`'s `field` (default: its VMA's anon_vma).
    public func chainContains(_ other: PageRef, _ field: PageField = .vmaAnonVma) -> Assertion {
        .field(self, .vmaChain, .contains(other, field, at: nil))
    }
    public func rmapFinds(_ pages: [PageRef]) -> Assertion { .field(self, .rmap, .rmapFinds(pages)) }
}
