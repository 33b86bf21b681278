/// The arguments of a verb, declared once (`Verb.visit`) and read four ways: parsed from the words
/// of a scenario step or a worker command line, written back as those words, listed as the verb's
/// usage, and checked against what a scenario has mapped. A verb names its fields in order, each
/// with its kind (a page, a page count, a choice...); the visitors below do the rest, the way
/// swift-argument-parser derives parsing and help from one declaration of a command's arguments.

/// Which language the words are in: a scenario file's step ("madvise P+1 1 pageout", pages by
/// name) or the worker protocol's line ("madvise 0x7f0000001000 1 pageout", pages by address).
enum VerbSide { case scenario, wire }

/// Where a verb acts: a page of a scenario's mapping (`Loc`, "P+1") or, on the wire, an address.
/// A verb generic over its place is one declaration for both languages (`Mprotect<Loc>` in a
/// scenario, `Mprotect<Address>` in the worker).
protocol Place: Hashable, Sendable, CustomStringConvertible {
    /// The value of a field before a parser fills it in.
    static var placeholder: Self { get }
    static func parse(_ word: Substring) throws(GrammarError) -> Self
}

extension Loc: Place {
    static var placeholder: Loc { Loc("P") }
    static func parse(_ word: Substring) throws(GrammarError) -> Loc { try ScenarioGrammar.loc(word) }
}

/// A user address in a worker command: "0x7f..." (or decimal) on the wire.
public struct Address: Place, Comparable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    static var placeholder: Address { Address(0) }
    static func parse(_ word: Substring) throws(GrammarError) -> Address {
        guard let value = word.hasPrefix("0x") ? UInt64(word.dropFirst(2), radix: 16) : UInt64(word) else {
            throw GrammarError(message: "'\(word)' is not an address")
        }
        return Address(value)
    }
    public var description: String { "0x" + String(value, radix: 16) }
    public static func < (a: Address, b: Address) -> Bool { a.value < b.value }
}

/// One pass over a verb's fields, in the order its words have them.
protocol ArgumentVisitor {
    var side: VerbSide { get }
    /// A name a scenario binds or refers to (a mapping, a child actor, a shmem file).
    mutating func name(_ value: inout String, _ usage: String) throws(GrammarError)
    /// A page: "PAGE" in a scenario, "ADDR" on the wire (`wire` renames it there).
    mutating func page<P: Place>(_ value: inout P, _ usage: String, wire: String) throws(GrammarError)
    /// A page of another actor, "ACTOR:PAGE" (scenario only).
    mutating func pageRef(_ value: inout PageRef, _ usage: String) throws(GrammarError)
    /// One or more pages of actors, to the end of the line (scenario only).
    mutating func pageRefs(_ value: inout [PageRef], _ usage: String) throws(GrammarError)
    /// A page count from `start` on; in a scenario also `all`, the rest of the mapping.
    mutating func pages<P: Place>(_ value: inout Int, from start: P, most: Int) throws(GrammarError)
    /// One of a choice's raw values; with a `default`, it may be left out and is then that.
    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String?, default: T?) throws(GrammarError) where T.RawValue == String
    /// A word that is there (true) or not (false): "wp", "move".
    mutating func flag(_ value: inout Bool, _ word: String) throws(GrammarError)
    /// One of two words, required: "on|off".
    mutating func either(_ value: inout Bool, _ yes: String, _ no: String) throws(GrammarError)
    /// Letters each of which is there or not ("[w][l]"): at most once each, in any order.
    mutating func letters(_ values: inout [Bool], _ letters: [Character], _ usage: String) throws(GrammarError)
    /// An optional u32 in hex ("0x5a001000").
    mutating func hex(_ value: inout UInt32?, _ usage: String) throws(GrammarError)
    /// A whole number in `range` ("SECONDS", "PID").
    mutating func number<N: FixedWidthInteger>(_ value: inout N, _ usage: String, _ range: ClosedRange<N>) throws(GrammarError)
    mutating func decimal(_ value: inout Double, _ usage: String, _ range: ClosedRange<Double>) throws(GrammarError)
    /// A word of a type that parses itself (a path, a value to write, userfaultfd modes).
    mutating func value<T: WordValue>(_ value: inout T, _ usage: String) throws(GrammarError)
    /// A word taken as it is (a path, a value to write).
    mutating func word(_ value: inout String, _ usage: String) throws(GrammarError)
    /// A page count that is only a number (what a new mapping gets).
    mutating func count(_ value: inout Int, _ usage: String) throws(GrammarError)
    /// Two words that come together or not at all ("fork [IN-FIFO OUT-FIFO]").
    mutating func optionalPair(_ first: inout String?, _ second: inout String?, _ usage: String) throws(GrammarError)
}

/// A value written as one word.
protocol WordValue {
    init(word: Substring) throws(GrammarError)
    var word: String { get }
}

extension UffdModes: WordValue {
    init(word: Substring) throws(GrammarError) {
        guard let modes = UffdModes(names: String(word)) else {
            let names = UffdModes.named.map(\.name)
            let bad = word.split(separator: ",").first { name in !names.contains(String(name)) }.map(String.init) ?? String(word)
            throw GrammarError(message: "unknown userfaultfd mode '\(bad)'\(didYouMean(bad, names)); modes: \(names.joined(separator: ", ")), joined by ','")
        }
        self = modes
    }
    var word: String { description }
}

extension ArgumentVisitor {
    mutating func page<P: Place>(_ value: inout P, _ usage: String = "PAGE") throws(GrammarError) {
        try page(&value, usage, wire: "ADDR")
    }
    mutating func pages<P: Place>(_ value: inout Int, from start: P) throws(GrammarError) {
        try pages(&value, from: start, most: WorkerCommand.maximumPages)
    }
    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String? = nil) throws(GrammarError) where T.RawValue == String {
        try choice(&value, what, usage: usage, default: nil)
    }
}

// MARK: - Parsing

/// Fills a verb's fields from the words after its name. A word that does not fit, or one missing
/// or left over, throws: in a scenario with the message a person needs (the loader adds file:line:
/// column), on the wire as the verb's usage (`WorkerFailure` of kind usage).
struct ArgumentParser: ArgumentVisitor {
    let side: VerbSide
    /// The whole step or line, for messages.
    let text: String
    /// "madvise PAGE PAGES ADVICE": what an arity error shows.
    let form: String
    private var words: [Substring]
    private var next = 0
    /// The pages a mapping of the stepping actor has (nil: not mapped), for `all`.
    let length: (String) -> Int?
    /// The page kind of this run of the scenario (map-kind).
    let kind: PageKind?

    init(side: VerbSide, text: String, form: String, words: [Substring], length: @escaping (String) -> Int? = { _ in nil }, kind: PageKind? = nil) {
        self.side = side
        self.text = text
        self.form = form
        self.words = words
        self.length = length
        self.kind = kind
    }

    var arityError: GrammarError { GrammarError(message: "'\(text)': expected \(form)") }

    private mutating func take() throws(GrammarError) -> Substring {
        guard next < words.count else { throw arityError }
        defer { next += 1 }
        return words[next]
    }

    private var peek: Substring? { next < words.count ? words[next] : nil }

    /// After the visit: every word was used.
    func finish() throws(GrammarError) {
        guard next == words.count else { throw arityError }
    }

    mutating func name(_ value: inout String, _ usage: String) throws(GrammarError) {
        let word = try take()
        guard side == .wire || ScenarioGrammar.isSymbol(String(word)) else {
            throw GrammarError(message: "'\(word)' is not a name (letters, digits, '_' and '-', starting with a letter)")
        }
        value = String(word)
    }

    mutating func page<P: Place>(_ value: inout P, _ usage: String, wire: String) throws(GrammarError) {
        value = try P.parse(try take())
    }

    mutating func pageRef(_ value: inout PageRef, _ usage: String) throws(GrammarError) {
        value = try ScenarioGrammar.pageRef(try take())
    }

    mutating func pageRefs(_ value: inout [PageRef], _ usage: String) throws(GrammarError) {
        guard peek != nil else { throw arityError }
        value = []
        while let word = peek {
            next += 1
            value.append(try ScenarioGrammar.pageRef(word))
        }
    }

    mutating func pages<P: Place>(_ value: inout Int, from start: P, most: Int) throws(GrammarError) {
        let word = try take()
        if side == .scenario, word == "all", let loc = start as? Loc {
            guard let total = length(loc.symbol) else {
                throw GrammarError(message: "'\(text)': 'all' counts the pages of '\(loc.symbol)', which no earlier step of this actor maps")
            }
            guard loc.page < total else {
                throw GrammarError(message: "'\(text)': \(loc) is past the end of '\(loc.symbol)' (\(total) page\(total == 1 ? "" : "s"))")
            }
            value = total - loc.page
        } else {
            value = try ScenarioGrammar.count(word, "page count")
        }
        guard value <= most else {
            throw GrammarError(message: "'\(text)': \(form.split(separator: " ").first ?? "") takes at most \(most) pages")
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String?, default: T?) throws(GrammarError) where T.RawValue == String {
        if let fallback = `default`, peek == nil { value = fallback; return }
        value = try ScenarioGrammar.choice(try take(), what)
    }

    mutating func flag(_ value: inout Bool, _ word: String) throws(GrammarError) {
        value = peek == Substring(word)
        if value { next += 1 }
    }

    mutating func either(_ value: inout Bool, _ yes: String, _ no: String) throws(GrammarError) {
        let word = try take()
        guard word == yes || word == no else { throw arityError }
        value = word == yes
    }

    mutating func letters(_ values: inout [Bool], _ letters: [Character], _ usage: String) throws(GrammarError) {
        values = Array(repeating: false, count: letters.count)
        guard let word = peek else { return }
        next += 1
        guard word.allSatisfy(letters.contains), Set(word).count == word.count else {
            throw GrammarError(message: "'\(text)': expected \(form) (\(usage))")
        }
        for (i, letter) in letters.enumerated() { values[i] = word.contains(letter) }
    }

    mutating func hex(_ value: inout UInt32?, _ usage: String) throws(GrammarError) {
        guard let word = peek else { value = nil; return }
        next += 1
        guard word.hasPrefix("0x"), let parsed = UInt32(word.dropFirst(2), radix: 16) else {
            throw GrammarError(message: "'\(text)': \(usage) is a u32 in hex (e.g. 0x11223344), not '\(word)'")
        }
        value = parsed
    }

    mutating func number<N: FixedWidthInteger>(_ value: inout N, _ usage: String, _ range: ClosedRange<N>) throws(GrammarError) {
        let word = try take()
        guard let parsed = N(word), range.contains(parsed) else {
            throw GrammarError(message: "'\(text)': expected \(form) (\(usage): \(range.lowerBound) to \(range.upperBound))")
        }
        value = parsed
    }

    mutating func decimal(_ value: inout Double, _ usage: String, _ range: ClosedRange<Double>) throws(GrammarError) {
        let word = try take()
        guard let parsed = Double(word), range.contains(parsed) else { throw arityError }
        value = parsed
    }

    mutating func value<T: WordValue>(_ value: inout T, _ usage: String) throws(GrammarError) {
        value = try T(word: try take())
    }

    mutating func word(_ value: inout String, _ usage: String) throws(GrammarError) { value = String(try take()) }

    mutating func count(_ value: inout Int, _ usage: String) throws(GrammarError) {
        value = try ScenarioGrammar.count(try take(), "page count")
    }

    mutating func optionalPair(_ first: inout String?, _ second: inout String?, _ usage: String) throws(GrammarError) {
        guard peek != nil else { first = nil; second = nil; return }
        first = String(try take())
        second = String(try take())
    }
}

// MARK: - Writing

/// The words of a verb's fields (the parser's inverse): trailing optional arguments at their
/// default are left out, as a person would write them.
struct ArgumentWriter: ArgumentVisitor {
    let side: VerbSide
    private(set) var words: [(word: String, optional: Bool)] = []

    init(side: VerbSide) { self.side = side }

    /// The words, without trailing optional ones.
    var line: [String] {
        var kept = words
        while kept.last?.optional == true { kept.removeLast() }
        return kept.map(\.word)
    }

    private mutating func add(_ word: String, optional: Bool = false) { words.append((word, optional)) }

    mutating func name(_ value: inout String, _ usage: String) { add(value) }
    mutating func page<P: Place>(_ value: inout P, _ usage: String, wire: String) { add(value.description) }
    mutating func pageRef(_ value: inout PageRef, _ usage: String) { add(value.description) }
    mutating func pageRefs(_ value: inout [PageRef], _ usage: String) { for ref in value { add(ref.description) } }
    mutating func pages<P: Place>(_ value: inout Int, from start: P, most: Int) { add("\(value)") }
    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String?, default: T?) where T.RawValue == String {
        add(value.rawValue, optional: value == `default`)
    }
    mutating func flag(_ value: inout Bool, _ word: String) { if value { add(word) } }
    mutating func either(_ value: inout Bool, _ yes: String, _ no: String) { add(value ? yes : no) }
    mutating func letters(_ values: inout [Bool], _ letters: [Character], _ usage: String) {
        let word = String(zip(letters, values).filter(\.1).map(\.0))
        if !word.isEmpty { add(word) }
    }
    mutating func hex(_ value: inout UInt32?, _ usage: String) { if let value { add("0x" + String(value, radix: 16)) } }
    mutating func number<N: FixedWidthInteger>(_ value: inout N, _ usage: String, _ range: ClosedRange<N>) { add("\(value)") }
    mutating func decimal(_ value: inout Double, _ usage: String, _ range: ClosedRange<Double>) { add("\(value)") }
    mutating func value<T: WordValue>(_ value: inout T, _ usage: String) { add(value.word) }
    mutating func word(_ value: inout String, _ usage: String) { add(value) }
    mutating func count(_ value: inout Int, _ usage: String) { add("\(value)") }
    mutating func optionalPair(_ first: inout String?, _ second: inout String?, _ usage: String) {
        if let first, let second { add(first); add(second) }
    }
}

// MARK: - Usage

/// "madvise PAGE PAGES pageout|cold|...": a verb's usage line, from its fields.
struct ArgumentUsage: ArgumentVisitor {
    let side: VerbSide
    private(set) var parts: [String] = []

    init(side: VerbSide) { self.side = side }

    mutating func name(_ value: inout String, _ usage: String) { parts.append(usage) }
    mutating func page<P: Place>(_ value: inout P, _ usage: String, wire: String) { parts.append(side == .wire ? wire : usage) }
    mutating func pageRef(_ value: inout PageRef, _ usage: String) { parts.append(usage) }
    mutating func pageRefs(_ value: inout [PageRef], _ usage: String) { parts.append(usage + "...") }
    mutating func pages<P: Place>(_ value: inout Int, from start: P, most: Int) { parts.append("PAGES") }
    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String?, default: T?) where T.RawValue == String {
        let text = usage ?? T.allCases.map(\.rawValue).joined(separator: "|")
        parts.append(`default` != nil ? "[\(text)]" : text)
    }
    mutating func flag(_ value: inout Bool, _ word: String) { parts.append("[\(word)]") }
    mutating func either(_ value: inout Bool, _ yes: String, _ no: String) { parts.append("\(yes)|\(no)") }
    mutating func letters(_ values: inout [Bool], _ letters: [Character], _ usage: String) {
        parts.append(letters.map { "[\($0)]" }.joined())
    }
    mutating func hex(_ value: inout UInt32?, _ usage: String) { parts.append("[\(usage)]") }
    mutating func number<N: FixedWidthInteger>(_ value: inout N, _ usage: String, _ range: ClosedRange<N>) { parts.append(usage) }
    mutating func decimal(_ value: inout Double, _ usage: String, _ range: ClosedRange<Double>) { parts.append(usage) }
    mutating func value<T: WordValue>(_ value: inout T, _ usage: String) { parts.append(usage) }
    mutating func word(_ value: inout String, _ usage: String) { parts.append(usage) }
    mutating func count(_ value: inout Int, _ usage: String) { parts.append(usage) }
    mutating func optionalPair(_ first: inout String?, _ second: inout String?, _ usage: String) { parts.append("[\(usage)]") }
}

// MARK: - Pages a scenario step touches

/// The pages a scenario verb's arguments name, for the validation (each must be mapped by an
/// earlier step of its actor) and for anyone else who asks which pages a step acts on.
struct ArgumentPages: ArgumentVisitor {
    let side = VerbSide.scenario
    /// The stepping actor's pages by location, other actors' as references.
    private(set) var pages: [(actor: String?, loc: Loc)] = []

    mutating func page<P: Place>(_ value: inout P, _ usage: String, wire: String) {
        if let loc = value as? Loc { pages.append((nil, loc)) }
    }
    mutating func pageRef(_ value: inout PageRef, _ usage: String) { pages.append((value.actor, value.loc)) }
    mutating func pageRefs(_ value: inout [PageRef], _ usage: String) { for ref in value { pages.append((ref.actor, ref.loc)) } }
    mutating func name(_ value: inout String, _ usage: String) {}
    mutating func pages<P: Place>(_ value: inout Int, from start: P, most: Int) {}
    mutating func choice<T: RawRepresentable & CaseIterable & Equatable>(_ value: inout T, _ what: String, usage: String?, default: T?) where T.RawValue == String {}
    mutating func flag(_ value: inout Bool, _ word: String) {}
    mutating func either(_ value: inout Bool, _ yes: String, _ no: String) {}
    mutating func letters(_ values: inout [Bool], _ letters: [Character], _ usage: String) {}
    mutating func hex(_ value: inout UInt32?, _ usage: String) {}
    mutating func number<N: FixedWidthInteger>(_ value: inout N, _ usage: String, _ range: ClosedRange<N>) {}
    mutating func decimal(_ value: inout Double, _ usage: String, _ range: ClosedRange<Double>) {}
    mutating func value<T: WordValue>(_ value: inout T, _ usage: String) {}
    mutating func word(_ value: inout String, _ usage: String) {}
    mutating func count(_ value: inout Int, _ usage: String) {}
    mutating func optionalPair(_ first: inout String?, _ second: inout String?, _ usage: String) {}
}
