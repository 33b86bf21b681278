/// The one-line forms of a scenario file (docs/scenario-format.md): a step's action
/// ("madvise P 1 pageout"), a page ("child:P+1") and a check ("child:P.pfn != parent:P.pfn").
/// Each parser throws a message; the loader adds file, line and column.
struct GrammarError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

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

    /// The actions and their arguments, for a usage message (from `Verbs.scenario`).
    static let actionUsage: [String: String] = usage(system: false)
    static let systemUsage: [String: String] = usage(system: true)

    private static func usage(system: Bool) -> [String: String] {
        var table: [String: String] = [:]
        for verb in Verbs.scenario where verb.isSystem == system {
            table[verb.name] = verb.usage(.scenario) + (verb.usageNote.isEmpty ? "" : " " + verb.usageNote)
        }
        return table
    }

    /// An actor's action ("write P+1") or, for `system`, a system action ("swapoff").
    /// `length`: the pages an actor's mapping has at this step (nil: not mapped), for the page
    /// count `all` ("madvise P all pageout": from P to the mapping's end, whatever the run's page
    /// kind makes it).
    static func action(_ text: String, system: Bool, kind: PageKind? = nil, length: @escaping (String) -> Int? = { _ in nil }) throws(GrammarError) -> Action {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { throw GrammarError(message: "an empty action") }
        let name = String(first)
        let usage = system ? systemUsage : actionUsage
        guard let form = usage[name], let verb = Verbs.scenarioByName[name] else {
            let other = system ? actionUsage : systemUsage
            if other[name] != nil {
                throw GrammarError(message: system ? "'\(name)' is an actor's action: write it under an actor's name, not 'system'"
                                                   : "'\(name)' is a system action: write it as 'system: \(name) ...'")
            }
            throw GrammarError(message: "unknown action '\(name)'\(didYouMean(name, Array(usage.keys))); one of: \(usage.keys.sorted().joined(separator: ", "))")
        }
        var parser = ArgumentParser(side: .scenario, text: text, form: form, words: Array(words.dropFirst()), length: length, kind: kind)
        return try verb.action(&parser)
    }

    // MARK: Checks

    /// A field by the name reports print it with ("pfn", "pte.write", "PageAnonExclusive", "vma.mergeable").
    static let fields: [String: PageField] = {
        var table: [String: PageField] = [:]
        let simple: [PageField] = [
            .virtualPage, .mapped, .present, .swapped, .level, .pfn, .write, .dirty, .young, .special, .softDirty, .uffdWP, .protnone, .pagemapSoftDirty,
            .swapExclusive, .swapSlot, .pteMarker, .zeroPage, .normalPage, .pfnLinear, .anon, .anonExclusive, .ksm, .swapCache, .large,
            .mapcount, .refcount, .folioMapcount, .folioOrder, .mappedOnce, .index, .linearIndex, .anonLinearIndex, .indexIsLinear, .pageAnonVma,
            .vmaExists, .vmaPgoff, .vmaAnonPgoff, .vmaAnonVma, .vmaAnonVmaRoot, .vmaChain, .rmap, .data,
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
        case .pfn, .virtualPage, .index, .linearIndex, .anonLinearIndex, .pageAnonVma, .vmaPgoff, .vmaAnonPgoff, .vmaAnonVma, .vmaAnonVmaRoot,
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
        if let outcome = try outcome(words, in: text) { return .outcome(outcome) }
        guard words.count >= 2 else {
            throw GrammarError(message: "'\(text)' is not a check: write ACTOR:PAGE.FIELD OP VALUE, succeeds, or fails ENAME")
        }
        let lhs = words[0]
        guard let dot = lhs.firstIndex(of: ".") else {
            throw GrammarError(message: "'\(lhs)': a check starts with ACTOR:PAGE.FIELD (e.g. parent:P.pfn)")
        }
        let page = try pageRef(lhs[..<dot])
        let field = try self.field(lhs[lhs.index(after: dot)...])
        let rest = words.count == 3 ? Substring(words[2].trimmingCharacters(in: .whitespaces)) : ""
        return .field(page, field, try expected(words[1], rest, page: page, field: field, in: text))
    }

    /// "succeeds" or "fails ENAME"; nil for a field check.
    private static func outcome(_ words: [Substring], in text: String) throws(GrammarError) -> Outcome? {
        switch words.first {
        case "succeeds":
            guard words.count == 1 else { throw GrammarError(message: "'succeeds' takes nothing after it") }
            return .succeeds
        case "fails":
            guard words.count == 2, let errno = ErrnoName(String(words[1])) else {
                let name = words.count > 1 ? String(words[1]) : ""
                throw GrammarError(message: "'\(text)': expected fails ENAME, an errno name of the kernel's\(didYouMean(name, ErrnoName.allNames)) (EINVAL, EEXIST...)")
            }
            return .fails(errno)
        default:
            return nil
        }
    }

    /// What a field check's comparison OP and its operand REST expect of `page`'s `field`.
    private static func expected(_ op: Substring, _ rest: Substring, page: PageRef, field: PageField,
                                 in text: String) throws(GrammarError) -> Expected {
        func needs(_ what: String) throws(GrammarError) {
            if rest.isEmpty { throw GrammarError(message: "'\(text)': '\(op)' needs \(what) after it") }
        }
        switch op {
        case "==", "!=":
            try needs("a value or a page")
            if rest.contains(":") || rest.hasPrefix("@") {
                let (other, otherField, label) = try operand(rest, page: page, field: field)
                return op == "==" ? .same(other, otherField, at: label) : .differs(other, otherField, at: label)
            }
            guard op == "==" else { throw GrammarError(message: "'\(text)': '!=' compares with a page (ACTOR:PAGE[.FIELD][@LABEL]), not a value") }
            return .value(try literal(rest, for: field))
        case "is":
            switch rest {
            case "set": return .notAbsent
            case "absent": return .value(.absent)
            default: throw GrammarError(message: "'\(text)': expected 'is set' or 'is absent'")
            }
        case "contains":
            guard kind(of: field) == .set else {
                throw GrammarError(message: "'contains' is for a set-valued field (vma.anon_vma_chain, rmap, pte_marker), not \(field)")
            }
            try needs("a page")
            let (other, otherField, label) = try operand(rest, page: page, field: nil)
            return .contains(other, otherField ?? .vmaAnonVma, at: label)
        case "finds":
            guard field == .rmap else { throw GrammarError(message: "'finds' is for rmap: ACTOR:PAGE.rmap finds {ACTOR:PAGE, ...}") }
            try needs("a set of pages")
            return .rmapFinds(try pageRefs(rest))
        case "in":
            try needs("a set of pages")
            return try oneOf(rest, in: text)
        default:
            throw GrammarError(message: "unknown comparison '\(op)' in '\(text)'; one of: ==, !=, is set, is absent, contains, finds, in")
        }
    }

    /// "{ACTOR:PAGE, ...}" or "{...}@LABEL", after "in".
    private static func oneOf(_ rest: Substring, in text: String) throws(GrammarError) -> Expected {
        var setText = rest
        var label: String?
        if let close = rest.lastIndex(of: "}"), rest.index(after: close) < rest.endIndex {
            let tail = rest[rest.index(after: close)...]
            guard tail.hasPrefix("@"), isSymbol(String(tail.dropFirst())) else { throw GrammarError(message: "'\(text)': after the set, only @LABEL") }
            label = String(tail.dropFirst())
            setText = rest[...close]
        }
        return .oneOf(try pageRefs(setText), at: label)
    }

    private static func pageRefs(_ set: Substring) throws(GrammarError) -> [PageRef] {
        var pages: [PageRef] = []
        for word in try pageSet(set) { pages.append(try pageRef(word)) }
        return pages
    }
}

import Foundation
