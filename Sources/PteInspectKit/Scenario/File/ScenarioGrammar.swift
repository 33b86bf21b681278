/// The one-line forms of a scenario file (docs/scenario-format.md): a step's action
/// ("madvise P 1 pageout"), a page ("child:P+1") and a check ("child:P.pfn != parent:P.pfn").
/// Each parser throws a message; the loader adds file, line and column.
struct GrammarError: Error { let message: String }

enum ScenarioGrammar {
    /// "P" or "P+3": page 3 of the mapping bound to P.
    static func loc(_ text: Substring) throws(GrammarError) -> Loc {
        let parts = text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let symbol = String(parts[0])
        guard isSymbol(symbol) else {
            throw GrammarError(message: "'\(text)' is not a page: a mapping's name (letters, digits, '_' and '-', starting with a letter), optionally +N")
        }
        guard parts.count == 2 else { return Loc(symbol) }
        guard let page = Int(parts[1]), page >= 0 else { throw GrammarError(message: "'\(text)': the page after '+' must be a number >= 0") }
        return Loc(symbol, page)
    }

    /// ASCII letters, digits, '_' and '-', starting with a letter.
    static func isSymbol(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// "actor:P+1".
    static func pageRef(_ text: Substring) throws(GrammarError) -> PageRef {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, isSymbol(String(parts[0])) else {
            throw GrammarError(message: "'\(text)' is not a page of an actor: write ACTOR:MAPPING[+N], e.g. parent:P+1")
        }
        return PageRef(String(parts[0]), try loc(parts[1]))
    }

    static func count(_ text: Substring, _ what: String) throws(GrammarError) -> Int {
        guard let value = Int(text), value > 0, value <= WorkerCommand.maximumPages else {
            throw GrammarError(message: "'\(text)' is not a \(what) (a whole number from 1 to \(WorkerCommand.maximumPages))")
        }
        return value
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ text: Substring, _ what: String) throws(GrammarError) -> T where T.RawValue == String {
        if let value = T(rawValue: String(text)) { return value }
        let names = T.allCases.map(\.rawValue)
        throw GrammarError(message: "unknown \(what) '\(text)'\(didYouMean(String(text), names)); one of: \(names.joined(separator: ", "))")
    }

    // MARK: Actions

    /// The actions and their arguments, for a usage message.
    static let actionUsage: [String: String] = [
        "map": "map NAME PAGES [r|rw|none] [private|shared]",
        "map-file": "map-file NAME FILE PAGES [r|rw|none] [private|shared]",
        "map-thp": "map-thp NAME",
        "map-kind": "map-kind NAME (in a scenario with kinds:)",
        "map-pfn": "map-pfn NAME PAGES private|shared",
        "write": "write PAGE [VALUE]", "read": "read PAGE",
        "fork": "fork CHILD",
        "mremap": "mremap NAME PAGES",
        "mprotect": "mprotect PAGE PAGES r|rw|none",
        "madvise": "madvise PAGE PAGES ADVICE",
        "drain": "drain",
        "uffd-open": "uffd-open [move]",
        "uffd-register": "uffd-register PAGE PAGES MODE[,MODE...]",
        "uffd-copy": "uffd-copy PAGE PAGES [wp]",
        "uffd-zeropage": "uffd-zeropage PAGE PAGES",
        "uffd-wp": "uffd-wp PAGE PAGES on|off",
        "uffd-continue": "uffd-continue PAGE PAGES",
        "uffd-move": "uffd-move FROM TO PAGES",
        "mem-write": "mem-write ACTOR:PAGE", "mem-read": "mem-read ACTOR:PAGE",
        "pin": "pin PAGE PAGES [w][l]", "unpin": "unpin PAGE PAGES",
        "exit": "exit",
    ]

    static let systemUsage: [String: String] = [
        "swapoff": "swapoff", "swapon": "swapon",
        "set": "set PATH VALUE",
        "wait-ksm": "wait-ksm SECONDS ACTOR:PAGE...",
    ]

    /// An actor's action ("write P+1") or, for `system`, a system action ("swapoff").
    /// `length`: the pages an actor's mapping has at this step (nil: not mapped), for the page
    /// count `all` ("madvise P all pageout": from P to the mapping's end, whatever the run's page
    /// kind makes it).
    static func action(_ text: String, system: Bool, kind: PageKind? = nil, length: (String) -> Int? = { _ in nil }) throws(GrammarError) -> Action {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first.map(String.init) else { throw GrammarError(message: "an empty action") }
        let usage = system ? systemUsage : actionUsage
        guard let form = usage[verb] else {
            let other = system ? actionUsage : systemUsage
            if other[verb] != nil {
                throw GrammarError(message: system ? "'\(verb)' is an actor's action: write it under an actor's name, not 'system'"
                                                   : "'\(verb)' is a system action: write it as 'system: \(verb) ...'")
            }
            throw GrammarError(message: "unknown action '\(verb)'\(didYouMean(verb, Array(usage.keys))); one of: \(usage.keys.sorted().joined(separator: ", "))")
        }
        let args = Array(words.dropFirst())
        func arity(_ allowed: ClosedRange<Int>) throws(GrammarError) {
            guard allowed.contains(args.count) else { throw GrammarError(message: "'\(text)': expected \(form)") }
        }
        func protection(_ i: Int) throws(GrammarError) -> Protection {
            i < args.count ? try choice(args[i], "protection") : .readWrite
        }
        func shared(_ i: Int) throws(GrammarError) -> Bool {
            guard i < args.count else { return false }
            let sharing: Sharing = try choice(args[i], "sharing")
            return sharing == .shared
        }
        /// A page count from `loc` on: a number, or `all`, the rest of the mapping.
        func pages(_ word: Substring, from loc: Loc) throws(GrammarError) -> Int {
            guard word == "all" else { return try count(word, "page count") }
            guard let total = length(loc.symbol) else {
                throw GrammarError(message: "'\(text)': 'all' counts the pages of '\(loc.symbol)', which no earlier step of this actor maps")
            }
            guard loc.page < total else {
                throw GrammarError(message: "'\(text)': \(loc) is past the end of '\(loc.symbol)' (\(total) page\(total == 1 ? "" : "s"))")
            }
            return total - loc.page
        }
        func symbol(_ i: Int) throws(GrammarError) -> String {
            let name = String(args[i])
            guard isSymbol(name) else { throw GrammarError(message: "'\(name)' is not a name (letters, digits, '_' and '-', starting with a letter)") }
            return name
        }
        switch verb {
        case "map": try arity(2...4); return .map(try symbol(0), pages: try count(args[1], "page count"), try protection(2), shared: try shared(3))
        case "map-file":
            try arity(3...5)
            return .mapFile(try symbol(0), file: try symbol(1), pages: try count(args[2], "page count"), try protection(3), shared: try shared(4))
        case "map-thp": try arity(1...1); return .mapTHP(try symbol(0))
        case "map-kind":
            try arity(1...1)
            guard let kind else { throw GrammarError(message: "map-kind makes the page kind of each run: the scenario needs a 'kinds:' list") }
            return .mapKind(try symbol(0), kind)
        case "map-pfn":
            try arity(3...3)
            return .mapFixture(try symbol(0), pages: try count(args[1], "page count"), shared: try shared(2))
        case "write":
            try arity(1...2)
            guard args.count == 2 else { return .write(try loc(args[0])) }
            let word = args[1]
            guard word.hasPrefix("0x"), let value = UInt32(word.dropFirst(2), radix: 16) else {
                throw GrammarError(message: "'\(text)': a write's value is a u32 in hex (e.g. 0x11223344: equal pages for KSM), not '\(word)'")
            }
            guard value != 0 else {
                throw GrammarError(message: "'\(text)': 0 is what a fresh page holds (the data check could not tell the write happened, and a split may map an all-zero page to the zero page): choose another value")
            }
            guard ContentTag(value: value) == nil else {
                throw GrammarError(message: "'\(text)': \(word) looks like a step's tag (top byte 0x5a, see Data checks): choose another value")
            }
            return .write(try loc(args[0]), value: value)
        case "read": try arity(1...1); return .read(try loc(args[0]))
        case "fork": try arity(1...1); return .fork(child: try symbol(0))
        case "mremap": try arity(2...2); return .mremap(try symbol(0), pages: try pages(args[1], from: Loc(try symbol(0))))
        case "mprotect":
            try arity(3...3)
            return .mprotect(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])), try choice(args[2], "protection"))
        case "madvise":
            try arity(3...3)
            return .madvise(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])), try choice(args[2], "madvise advice"))
        case "drain": try arity(0...0); return .drain
        case "uffd-open":
            try arity(0...1)
            guard args.isEmpty || args[0] == "move" else { throw GrammarError(message: "'\(text)': expected \(form)") }
            return .uffdOpen(move: !args.isEmpty)
        case "uffd-register":
            try arity(3...3)
            guard let modes = UffdModes(names: String(args[2])) else {
                let names = UffdModes.named.map(\.name)
                let bad = args[2].split(separator: ",").first { name in !names.contains(String(name)) }.map(String.init) ?? String(args[2])
                throw GrammarError(message: "unknown userfaultfd mode '\(bad)'\(didYouMean(bad, names)); modes: \(names.joined(separator: ", ")), joined by ','")
            }
            return .uffdRegister(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])), modes: modes)
        case "uffd-copy":
            try arity(2...3)
            let count = try pages(args[1], from: try loc(args[0]))
            guard count <= WorkerCommand.maximumCopyPages else {
                throw GrammarError(message: "'\(text)': uffd-copy copies at most \(WorkerCommand.maximumCopyPages) pages (the worker allocates the source)")
            }
            guard args.count == 2 || args[2] == "wp" else { throw GrammarError(message: "'\(text)': expected \(form)") }
            return .uffdCopy(try loc(args[0]), pages: count, writeProtect: args.count == 3)
        case "uffd-zeropage": try arity(2...2); return .uffdZeropage(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])))
        case "uffd-wp":
            try arity(3...3)
            guard args[2] == "on" || args[2] == "off" else { throw GrammarError(message: "'\(text)': expected \(form)") }
            return .uffdWriteProtect(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])), on: args[2] == "on")
        case "uffd-continue": try arity(2...2); return .uffdContinue(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])))
        case "uffd-move": try arity(3...3); return .uffdMove(from: try loc(args[0]), to: try loc(args[1]), pages: try pages(args[2], from: try loc(args[0])))
        case "mem-write", "mem-read":
            try arity(1...1)
            let ref = try pageRef(args[0])
            return verb == "mem-write" ? .memWrite(actor: ref.actor, ref.loc) : .memRead(actor: ref.actor, ref.loc)
        case "pin":
            try arity(2...3)
            let options = args.count == 3 ? String(args[2]) : ""
            guard options.allSatisfy({ $0 == "w" || $0 == "l" }), Set(options).count == options.count else {
                throw GrammarError(message: "'\(text)': expected \(form) (w: FOLL_WRITE, l: FOLL_LONGTERM)")
            }
            return .pin(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])), write: options.contains("w"), longterm: options.contains("l"))
        case "unpin": try arity(2...2); return .unpin(try loc(args[0]), pages: try pages(args[1], from: try loc(args[0])))
        case "exit": try arity(0...0); return .exit
        case "swapoff": try arity(0...0); return .swapoff
        case "swapon": try arity(0...0); return .swapon
        case "set":
            try arity(2...2)
            let path = String(args[0])
            guard path.hasPrefix("/sys/") || path.hasPrefix("/proc/sys/") else {
                throw GrammarError(message: "'set' writes a setting under /sys/ or /proc/sys/, not '\(path)'")
            }
            return .setting(path: path, value: String(args[1]))
        case "wait-ksm":
            guard args.count >= 2, let seconds = Int(args[0]), seconds > 0, seconds <= 600 else {
                throw GrammarError(message: "'\(text)': expected \(form) (1 to 600 seconds)")
            }
            var pages: [PageRef] = []
            for word in args.dropFirst() { pages.append(try pageRef(word)) }
            return .waitForKsm(pages, seconds: seconds)
        default:
            throw GrammarError(message: "unknown action '\(verb)'")
        }
    }

    // MARK: Checks

    /// A field by the name reports print it with ("pfn", "pte.write", "PageAnonExclusive", "vma.mergeable").
    static let fields: [String: PageField] = {
        var table: [String: PageField] = [:]
        let simple: [PageField] = [
            .virtualPage, .mapped, .present, .swapped, .level, .pfn, .write, .dirty, .young, .special, .softDirty, .uffdWP,
            .swapExclusive, .swapSlot, .pteMarker, .zeroPage, .normalPage, .pfnLinear, .anon, .anonExclusive, .ksm, .swapCache, .large,
            .mapcount, .refcount, .folioMapcount, .folioOrder, .mappedOnce, .index, .linearIndex, .indexIsLinear, .pageAnonVma,
            .vmaExists, .vmaPgoff, .vmaAnonVma, .vmaAnonVmaRoot, .vmaChain, .rmap, .data,
        ]
        for field in simple { table[field.description] = field }
        for flag in VmaFlag.allCases { table[PageField.vmaFlag(flag).description] = .vmaFlag(flag) }
        return table
    }()

    static func field(_ text: Substring) throws(GrammarError) -> PageField {
        if let field = fields[String(text)] { return field }
        let names = fields.keys.sorted()
        if text.hasPrefix("vma."), let flag = text.split(separator: ".").last {
            let flags = VmaFlag.allCases.map(\.rawValue)
            throw GrammarError(message: "unknown field '\(text)': '\(flag)' is not a VMA flag the module decodes\(didYouMean(String(flag), flags)) (flags: \(flags.joined(separator: ", ")))")
        }
        throw GrammarError(message: "unknown field '\(text)'\(didYouMean(String(text), names)); fields: \(names.joined(separator: ", "))")
    }

    /// What a literal of this field is: the observation's value type (PageObservation).
    enum ValueKind { case bool, number, text, set, boolOrText }

    static func kind(of field: PageField) -> ValueKind {
        switch field {
        case .level, .swapSlot: return .text
        case .normalPage: return .boolOrText
        case .pteMarker, .vmaChain, .rmap: return .set
        case .pfn, .virtualPage, .index, .linearIndex, .pageAnonVma, .vmaPgoff, .vmaAnonVma, .vmaAnonVmaRoot,
             .mapcount, .refcount, .folioMapcount, .folioOrder, .data: return .number
        default: return .bool
        }
    }

    static func literal(_ text: Substring, for field: PageField) throws(GrammarError) -> FieldValue {
        if text == "-" || text == "absent" { return .absent }
        func bool() -> Bool? {
            switch text {
            case "1", "true": return true
            case "0", "false": return false
            default: return nil
            }
        }
        switch kind(of: field) {
        case .bool:
            guard let value = bool() else { throw GrammarError(message: "\(field) is 0 or 1 (true/false), not '\(text)'") }
            return .bool(value)
        case .boolOrText:
            if let value = bool() { return .bool(value) }
            return .text(String(text))
        case .number:
            let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let value else { throw GrammarError(message: "\(field) is a number (decimal or 0x hex), not '\(text)'") }
            guard field != .data || value <= UInt64(UInt32.max) else {
                throw GrammarError(message: "data is the page's first 4 bytes, a u32: '\(text)' does not fit")
            }
            // Hex literals stay hex (addresses, identities, page data read better that way).
            return text.hasPrefix("0x") ? .hex(value) : .number(value)
        case .text:
            // level is the only text field: the entry's page-table level
            guard field != .level || text == "pte" || text == "pmd" else { throw GrammarError(message: "level is pte or pmd, not '\(text)'") }
            return .text(String(text))
        case .set:
            guard text.hasPrefix("{"), text.hasSuffix("}") else { throw GrammarError(message: "\(field) is a set: write {a, b} or {}") }
            let items = text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !items.contains(where: \.isEmpty) || items.count == 1 else { throw GrammarError(message: "'\(text)': an empty item in the set") }
            return .set(items.filter { !$0.isEmpty })
        }
    }

    /// "ACTOR:PAGE[.FIELD][@LABEL]", or "@LABEL" alone (`page` and `field` at that step).
    static func operand(_ text: Substring, page: PageRef, field: PageField?) throws(GrammarError) -> (PageRef, PageField?, String?) {
        var body = text
        var label: String?
        if let at = text.lastIndex(of: "@") {
            label = String(text[text.index(after: at)...])
            body = text[..<at]
            guard let label, isSymbol(label) else { throw GrammarError(message: "'\(text)': a step label after '@' is a name") }
        }
        if body.isEmpty { return (page, nil, label) }
        guard let colon = body.firstIndex(of: ":") else {
            throw GrammarError(message: "'\(text)' is neither a value nor a page (ACTOR:PAGE[.FIELD][@LABEL])")
        }
        let dot = body[colon...].firstIndex(of: ".")
        let ref = try pageRef(dot.map { body[..<$0] } ?? body)
        let other = try dot.map { dot throws(GrammarError) in try self.field(body[body.index(after: dot)...]) }
        return (ref, other, label)
    }

    /// "{a, b@l}" -> the pages inside.
    static func pageSet(_ text: Substring) throws(GrammarError) -> [Substring] {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { throw GrammarError(message: "'\(text)': expected a set of pages, {ACTOR:PAGE, ...}") }
        return text.dropFirst().dropLast().split(separator: ",").map { Substring($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.isEmpty }
    }

    /// One check line: "REF.FIELD OP OPERAND", "succeeds", "fails ENAME".
    static func assertion(_ text: String) throws(GrammarError) -> Assertion {
        let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        if words.first == "succeeds" {
            guard words.count == 1 else { throw GrammarError(message: "'succeeds' takes nothing after it") }
            return .outcome(.succeeds)
        }
        if words.first == "fails" {
            guard words.count == 2, let errno = ErrnoName(String(words[1])) else {
                let name = words.count > 1 ? String(words[1]) : ""
                throw GrammarError(message: "'\(text)': expected fails ENAME, an errno name of the kernel's\(didYouMean(name, ErrnoName.allNames)) (EINVAL, EEXIST...)")
            }
            return .outcome(.fails(errno))
        }
        guard words.count >= 2 else {
            throw GrammarError(message: "'\(text)' is not a check: write ACTOR:PAGE.FIELD OP VALUE, succeeds, or fails ENAME")
        }
        let lhs = words[0]
        guard let dot = lhs.firstIndex(of: ".") else {
            throw GrammarError(message: "'\(lhs)': a check starts with ACTOR:PAGE.FIELD (e.g. parent:P.pfn)")
        }
        let page = try pageRef(lhs[..<dot])
        let field = try self.field(lhs[lhs.index(after: dot)...])
        let op = words[1]
        let rest = words.count == 3 ? Substring(words[2].trimmingCharacters(in: .whitespaces)) : ""
        func needs(_ what: String) throws(GrammarError) {
            if rest.isEmpty { throw GrammarError(message: "'\(text)': '\(op)' needs \(what) after it") }
        }
        switch op {
        case "==", "!=":
            try needs("a value or a page")
            if rest.contains(":") || rest.hasPrefix("@") {
                let (other, otherField, label) = try operand(rest, page: page, field: field)
                return .field(page, field, op == "==" ? .same(other, otherField, at: label) : .differs(other, otherField, at: label))
            }
            guard op == "==" else { throw GrammarError(message: "'\(text)': '!=' compares with a page (ACTOR:PAGE[.FIELD][@LABEL]), not a value") }
            return .field(page, field, .value(try literal(rest, for: field)))
        case "is":
            switch rest {
            case "set": return .field(page, field, .notAbsent)
            case "absent": return .field(page, field, .value(.absent))
            default: throw GrammarError(message: "'\(text)': expected 'is set' or 'is absent'")
            }
        case "contains":
            guard kind(of: field) == .set else {
                throw GrammarError(message: "'contains' is for a set-valued field (vma.anon_vma_chain, rmap, pte_marker), not \(field)")
            }
            try needs("a page")
            let (other, otherField, label) = try operand(rest, page: page, field: nil)
            return .field(page, field, .contains(other, otherField ?? .vmaAnonVma, at: label))
        case "finds":
            guard field == .rmap else { throw GrammarError(message: "'finds' is for rmap: ACTOR:PAGE.rmap finds {ACTOR:PAGE, ...}") }
            try needs("a set of pages")
            var pages: [PageRef] = []
            for word in try pageSet(rest) { pages.append(try pageRef(word)) }
            return .field(page, field, .rmapFinds(pages))
        case "in":
            try needs("a set of pages")
            var setText = rest
            var label: String?
            if let close = rest.lastIndex(of: "}"), rest.index(after: close) < rest.endIndex {
                let tail = rest[rest.index(after: close)...]
                guard tail.hasPrefix("@"), isSymbol(String(tail.dropFirst())) else { throw GrammarError(message: "'\(text)': after the set, only @LABEL") }
                label = String(tail.dropFirst())
                setText = rest[...close]
            }
            var pages: [PageRef] = []
            for word in try pageSet(setText) { pages.append(try pageRef(word)) }
            return .field(page, field, .oneOf(pages, at: label))
        default:
            throw GrammarError(message: "unknown comparison '\(op)' in '\(text)'; one of: ==, !=, is set, is absent, contains, finds, in")
        }
    }
}

import Foundation
