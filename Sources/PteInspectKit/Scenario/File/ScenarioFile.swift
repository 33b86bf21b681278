import Foundation
import Yams

/// Scenario files: one scenario per YAML file (docs/scenario-format.md). `load` reads and checks
/// one; every mistake is a `ScenarioFileError` naming the file, line and column.
public enum ScenarioFile {
    /// The scenarios of a file, or of every `*.yaml` file in a folder (sorted by name).
    public static func load(path: String) throws -> [Scenario] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ScenarioFileError(file: path, line: 0, column: 0, message: "no such file or folder")
        }
        if isFolder.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") }.sorted()
            guard !names.isEmpty else { throw ScenarioFileError(file: path, line: 0, column: 0, message: "the folder has no .yaml files") }
            var scenarios: [Scenario] = []
            var files: [String: String] = [:]
            for name in names {
                let file = (path as NSString).appendingPathComponent(name)
                let runs = try loadFile(file)
                guard let first = runs.first else { continue }
                if let other = files[first.baseName] {
                    throw ScenarioFileError(file: file, line: 1, column: 1, message: "scenario name '\(first.baseName)' is already used by \(other)")
                }
                files[first.baseName] = file
                scenarios += runs
            }
            return scenarios
        }
        return try loadFile(path)
    }

    static func loadFile(_ path: String) throws -> [Scenario] { try parse(ScenarioFileError.contents(of: path), file: path) }

    /// The scenario `text` describes, one per page kind where it has `kinds:`; `file` names it
    /// in errors.
    public static func parse(_ text: String, file: String) throws -> [Scenario] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ScenarioFileReader.yamlError(error, file: file)
        }
        guard let node else { throw ScenarioFileError(file: file, line: 1, column: 1, message: "the file is empty") }
        return try ScenarioFileReader(file: file, library: try ScenarioLibrary.builtIn()).scenarios(node)
    }
}

/// Reads the nodes of one file into a `Scenario`, checking as it goes.
struct ScenarioFileReader {
    let file: String
    /// The shared kernel ranges and citations (scenarios/lib/shared.yaml).
    let library: ScenarioLibrary

    func error(_ node: Node?, _ message: String) -> ScenarioFileError { ScenarioFileError(file: file, at: node?.mark, message) }

    static func yamlError(_ error: YamlError, file: String) -> ScenarioFileError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _):
            return ScenarioFileError(file: file, line: mark.line, column: mark.column,
                                     message: "not valid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? ""))
        case let .composer(context, problem, mark, _):
            return ScenarioFileError(file: file, line: mark.line, column: mark.column,
                                     message: "not valid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? ""))
        case let .duplicatedKeysInMapping(duplicates, context):
            // the mark is the mapping's; each key may appear only once in it
            return ScenarioFileError(file: file, line: context.mark.line, column: context.mark.column,
                                     message: "a key appears twice in one mapping: " + duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))
        default:
            return ScenarioFileError(file: file, line: 0, column: 0, message: "not valid YAML: \(error)")
        }
    }

    // MARK: Node access

    /// A mapping's entries by key, in file order; a key outside `allowed` is an error, as is a
    /// missing one of `required`.
    func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard let pairs = node.mapping else { throw error(node, "\(what) must be a mapping (key: value lines)") }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in pairs {
            guard let key = keyNode.scalar?.string else { throw error(keyNode, "a key must be a plain word") }
            guard allowed.contains(key) else {
                throw error(keyNode, "unknown key '\(key)' in \(what)\(didYouMean(key, allowed)); keys: \(allowed.joined(separator: ", "))")
            }
            guard !entries.contains(where: { $0.key == key }) else { throw error(keyNode, "'\(key)' appears twice in \(what)") }
            entries.append((key, keyNode, value))
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            throw error(node, "\(what) needs '\(key)'")
        }
        return entries
    }

    /// A scalar's text without the line break a block scalar (`>`, `|`) ends with.
    func string(_ node: Node, _ what: String) throws -> String {
        guard let scalar = node.scalar else { throw error(node, "\(what) must be text, not a list or mapping") }
        return scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func bool(_ node: Node, _ what: String) throws -> Bool {
        switch try string(node, what) {
        case "true": return true
        case "false": return false
        case let other: throw error(node, "\(what) is true or false, not '\(other)'")
        }
    }

    func strings(_ node: Node, _ what: String) throws -> [(String, Node)] {
        guard let items = node.sequence else { throw error(node, "\(what) must be a list ([a, b] or '- a' lines)") }
        return try items.map { (try string($0, "an item of \(what)"), $0) }
    }

    // MARK: The document

    static let topKeys = ["name", "title", "summary", "documents", "requires", "actors", "kinds", "watch", "kernels", "citations", "steps"]
    static let requirementNames: [String: Requirement] = [
        "root": .root, "module": .module, "fixture-device": .fixtureDevice, "swap": .swap, "userfaultfd": .userfaultfd,
        "thp": .thp, "ksm": .ksm, "uffdio-move": .uffdioMove, "no-uffdio-move": .notUffdioMove,
        "zram-swap": .synchronousSwap, "zswap-off": .zswapOff, "guard-regions": .guardRegions, "uffd-rwp": .uffdRwp,
    ]

    /// The kinds a `kinds:` list (or an expectation's) names, in order; a group word
    /// (PageKind.groups) stands for the listed kinds it covers.
    func kinds(_ node: Node, of scenarioKinds: [PageKind]? = nil) throws -> [PageKind] {
        var kinds: [PageKind] = []
        for (word, item) in try strings(node, "kinds") {
            let named: [PageKind]
            if let kind = PageKind(name: word) {
                if let scenarioKinds, !scenarioKinds.contains(kind) {
                    throw error(item, "kind '\(word)' is not in the scenario's kinds: (\(scenarioKinds.map(\.description).joined(separator: ", ")))")
                }
                named = [kind]
            } else if let scenarioKinds, let group = PageKind.groups[word] {
                named = scenarioKinds.filter(group)
            } else {
                let names = PageKind.names + (scenarioKinds == nil ? [] : PageKind.groups.keys.sorted())
                throw error(item, "unknown page kind '\(word)'\(didYouMean(word, names)); kinds: \(PageKind.namesHint)"
                    + (scenarioKinds == nil ? "" : "; groups: " + PageKind.groups.keys.sorted().joined(separator: ", ")))
            }
            for kind in named where !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { throw error(node, "kinds must name at least one page kind") }
        return kinds
    }

    /// The scenario, or one per kind of its `kinds:` list, each read with that kind (its
    /// `map-kind` actions, lengths and per-kind expectations).
    func scenarios(_ root: Node) throws -> [Scenario] {
        let kindsNode = root.mapping?.first { $0.key.scalar?.string == "kinds" }?.value
        guard let kindsNode else { return [try scenario(root, kind: nil, kinds: [])] }
        let kinds = try self.kinds(kindsNode)
        return try kinds.map { try scenario(root, kind: $0, kinds: kinds) }
    }

    func scenario(_ root: Node, kind: PageKind?, kinds: [PageKind]) throws -> Scenario {
        let top = try mapping(root, "a scenario", allowed: Self.topKeys, required: ["name", "title", "summary", "steps"])
        func value(_ key: String) -> Node? { top.first { $0.key == key }?.value }
        let nameNode = value("name")!   // required above
        let name = try string(nameNode, "name")
        guard let first = name.first, first.isASCII, first.isLetter,
              name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw error(nameNode, "a scenario's name is lower case letters, digits and '-' (e.g. fork-cow), not '\(name)'")
        }
        let title = try string(value("title")!, "title")
        let summary = try string(value("summary")!, "summary").trimmingCharacters(in: .whitespacesAndNewlines)
        let documents = try value("documents").map { try strings($0, "documents").map(\.0) } ?? []
        let requirements = try value("requires").map { try self.requirements($0) } ?? []
        var actors = ["parent"]
        if let node = value("actors") {
            actors = []
            for (word, item) in try strings(node, "actors") {
                guard ScenarioGrammar.isSymbol(word), !Self.reservedActorNames.contains(word) else {
                    throw error(item, "'\(word)' cannot name an actor (a name, not one of \(Self.reservedActorNames.sorted().joined(separator: ", ")))")
                }
                guard !actors.contains(word) else { throw error(item, "actor '\(word)' is listed twice") }
                actors.append(word)
            }
            guard !actors.isEmpty else { throw error(node, "a scenario needs at least one actor") }
        }
        let kernels = shared(try value("kernels").map { try namedRanges($0) } ?? [:], library.kernels)
        let citations = shared(try value("citations").map { try namedCitations($0) } ?? [:], library.citations)
        var watch: [(PageRef, Node)] = []
        if let node = value("watch") {
            for (word, item) in try strings(node, "watch") {
                watch.append((try grammar(item) { () throws(GrammarError) in try ScenarioGrammar.pageRef(Substring(word)) }, item))
            }
        }
        guard let stepNodes = value("steps")!.sequence, !stepNodes.isEmpty else { throw error(value("steps"), "steps must be a non-empty list") }
        var state = Validation(actors: Set(actors), watch: Set(watch.map(\.0)), kind: kind, kinds: kinds)
        var steps: [Step] = []
        for node in stepNodes { steps.append(try step(node, &state, kernels: kernels, citations: citations)) }
        // A watched page must be one some step maps: otherwise it is never observed, silently.
        for (ref, node) in watch {
            guard let pages = state.everBound[PageRef(ref.actor, ref.loc.symbol)] else {
                throw error(node, "watched page \(ref): no step maps '\(ref.loc.symbol)' in actor '\(ref.actor)'")
            }
            guard ref.loc.page < pages else {
                throw error(node, "watched page \(ref): '\(ref.loc.symbol)' is at most \(pages) page\(pages == 1 ? "" : "s") long in actor '\(ref.actor)' (pages count from +0)")
            }
        }
        if kind != nil, !steps.contains(where: { $0.action.verb is MapKind }) {
            throw error(root, "a scenario with kinds: makes each kind with a 'map-kind NAME' step, and this one has none")
        }
        return Scenario(name: name, title: title, summary: summary, documents: documents, requirements: requirements,
                        actors: actors, watch: watch.map(\.0), steps: steps, kind: kind)
    }

    /// A grammar parse with the node's position on its error.
    func grammar<T>(_ node: Node, _ body: () throws(GrammarError) -> T) throws -> T {
        do { return try body() } catch { throw self.error(node, error.message) }
    }

    // MARK: Kernels and citations

    func namedRanges(_ node: Node) throws -> [String: KernelRange] {
        var ranges: [String: KernelRange] = [:]
        guard let pairs = node.mapping else { throw error(node, "kernels must be a mapping of names to ranges") }
        for (key, value) in pairs {
            let name = try string(key, "a kernel range's name")
            guard ScenarioGrammar.isSymbol(name.replacingOccurrences(of: ".", with: "_")) else {
                throw error(key, "a kernel range's name is a word (letters, digits, '_', '-', '.'), not '\(name)'")
            }
            guard ranges[name] == nil else { throw error(key, "kernel range '\(name)' is defined twice") }
            ranges[name] = try kernelRange(value, name: name)
        }
        return ranges
    }

    /// A range: `{from, below, basis, note, also}`; `also` is a list of further intervals
    /// `{from, below}` (interval: true: only those two keys).
    func kernelRange(_ node: Node, name: String? = nil, interval: Bool = false) throws -> KernelRange {
        let entries = try mapping(node, interval ? "an interval of `also`" : "a kernel range",
                                  allowed: interval ? ["from", "below"] : ["from", "below", "also", "basis", "note"],
                                  required: interval ? [] : ["basis"])
        var from: KernelVersion?, below: KernelVersion?
        var basis = ""
        var note: String?
        var also: [KernelRange] = []
        for entry in entries {
            switch entry.key {
            case "also":
                guard let items = entry.value.sequence, !items.isEmpty else {
                    throw error(entry.value, "also: is a list of further intervals, [{from: \"6.14\"}, ...]")
                }
                also = try items.map { try kernelRange($0, interval: true) }
            case "basis":
                basis = try string(entry.value, "basis")
                guard !basis.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw error(entry.value, "basis says which change each bound follows (commit and release); it cannot be empty")
                }
            case "note":
                note = try string(entry.value, "note").trimmingCharacters(in: .whitespacesAndNewlines)
            default:
                let text = try string(entry.value, entry.key)
                guard let version = KernelVersion(release: text) else {
                    throw error(entry.value, "'\(text)' is not a kernel version (e.g. 6.1 or 6.11.0)")
                }
                if entry.key == "from" { from = version } else { below = version }
            }
        }
        if let from, let below, !(from < below) {
            throw error(node, "the kernel range from \(from) below \(below) is empty: no kernel is >= \(from) and < \(below)")
        }
        if interval && from == nil && below == nil {
            throw error(node, "an interval of also: has from:, below: or both")
        }
        return KernelRange(name: name, from: from, below: below, also: also, basis: basis, note: note)
    }

    func namedCitations(_ node: Node) throws -> [String: Citation] {
        var citations: [String: Citation] = [:]
        guard let pairs = node.mapping else { throw error(node, "citations must be a mapping of names to citations") }
        for (key, value) in pairs {
            let name = try string(key, "a citation's name")
            guard citations[name] == nil else { throw error(key, "citation '\(name)' is defined twice") }
            citations[name] = try citation(value)
        }
        return citations
    }

    func citation(_ node: Node) throws -> Citation {
        let entries = try mapping(node, "a citation", allowed: ["file", "function", "detail", "document"], required: ["file", "function"])
        func text(_ key: String) throws -> String? { try entries.first { $0.key == key }.map { try string($0.value, key) } }
        return Citation(try text("file") ?? "", try text("function") ?? "", try text("detail"), document: try text("document"))
    }

    /// A file's own names and the library's; a file's own definition of a library name is the
    /// one it means (a file of the user's own predates the library; the catalog's files may not
    /// do it: tools/cite-check says so, one fact is written once).
    func shared<T>(_ own: [String: T], _ library: [String: T]) -> [String: T] {
        own.merging(library) { mine, _ in mine }
    }

    /// `kernels:` / `cite:` of an expectation: a name defined at the top or in the shared
    /// library, or written in place.
    func reference<T>(_ node: Node, _ named: [String: T], _ what: String, inline: (Node) throws -> T) throws -> T {
        if let name = node.scalar?.string {
            guard let value = named[name] else {
                throw error(node, "no \(what) named '\(name)' in this file's '\(what == "kernel range" ? "kernels" : "citations")' or in \(library.shortName)\(didYouMean(name, Array(named.keys)))")
            }
            return value
        }
        return try inline(node)
    }

    // MARK: Steps

    /// What the steps so far have made: actors alive, mappings bound, labels defined.
    struct Validation {
        var actors: Set<String>
        /// The watched pages: the only ones observed, so the only ones a check can read.
        let watch: Set<PageRef>
        var bound: [String: Set<String>] = [:]
        /// The pages of each name an actor has now.
        var length: [PageRef: Int] = [:]
        /// (actor, symbol) pairs any step so far has bound (as PageRef with page 0), with the most
        /// pages the name ever had.
        var everBound: [PageRef: Int] = [:]
        var labels: Set<String> = []
        /// Pages a `vmsplice` step put in a pipe that no `vmsplice-drop` has closed yet.
        var spliced: Set<PageRef> = []
        /// The kind this reading is for, and the scenario's list.
        var kind: PageKind?
        var kinds: [PageKind] = []

        mutating func bind(_ actor: String, _ symbol: String, pages: Int) {
            bound[actor, default: []].insert(symbol)
            length[PageRef(actor, symbol)] = pages
            everBound[PageRef(actor, symbol)] = max(pages, everBound[PageRef(actor, symbol)] ?? 0)
        }

        /// `loc` of `actor` must be mapped now.
        func needs(_ loc: Loc, of actor: String) throws(GrammarError) {
            guard actors.contains(actor) else { throw GrammarError(message: "no actor '\(actor)' at this step") }
            guard bound[actor]?.contains(loc.symbol) == true, let pages = length[PageRef(actor, loc.symbol)] else {
                throw GrammarError(message: "'\(loc.symbol)' is not mapped in actor '\(actor)' at this step (map it in an earlier step)")
            }
            guard loc.page < pages else {
                throw GrammarError(message: "\(loc) is past the end of '\(loc.symbol)' (\(pages) page\(pages == 1 ? "" : "s") in actor '\(actor)'; pages count from +0)")
            }
        }
    }

    static let stepKeys = ["label", "expect"]
    /// Step keys and the CLI's own actor cannot name an actor.
    static let reservedActorNames: Set<String> = ["system", "label", "expect"]

    func step(_ node: Node, _ state: inout Validation, kernels: [String: KernelRange], citations: [String: Citation]) throws -> Step {
        guard let pairs = node.mapping else { throw error(node, "a step must be a mapping: ACTOR: ACTION (with label: and expect: under it)") }
        var actorEntries: [(String, Node, Node)] = []
        for (key, value) in pairs {
            guard let word = key.scalar?.string else { throw error(key, "a key must be a plain word") }
            if !Self.stepKeys.contains(word) { actorEntries.append((word, key, value)) }
        }
        if actorEntries.count > 1 {
            // One of them names an actor; the others are misspelt keys ("lable:").
            let known = actorEntries.filter { state.actors.contains($0.0) || $0.0 == "system" }
            if known.count == 1, let stray = actorEntries.first(where: { $0.0 != known[0].0 }) {
                throw error(stray.1, "unknown key '\(stray.0)' in a step\(didYouMean(stray.0, Self.stepKeys)); keys: ACTOR or system, label, expect")
            }
        }
        guard actorEntries.count == 1, let (actor, actorNode, actionNode) = actorEntries.first else {
            throw error(node, actorEntries.isEmpty ? "a step needs an action: ACTOR: ACTION, or system: ACTION"
                                                   : "a step has one action; this one has \(actorEntries.map(\.0).joined(separator: ", "))")
        }
        let entries = try mapping(node, "a step", allowed: Self.stepKeys + [actor])
        let isSystem = actor == "system"
        if !isSystem && !state.actors.contains(actor) {
            let known = state.actors.sorted()
            throw error(actorNode, "no actor '\(actor)' at this step\(didYouMean(actor, known)) (actors: \(known.joined(separator: ", ")); a child exists after its fork)")
        }
        let text = try string(actionNode, "an action")
        let kind = state.kind
        let lengths = state.length
        let bound = state.bound[actor] ?? []
        let action = try grammar(actionNode) { () throws(GrammarError) in
            try ScenarioGrammar.action(text, system: isSystem, kind: kind) { symbol in
                bound.contains(symbol) ? lengths[PageRef(actor, symbol)] : nil
            }
        }
        try checkAction(action, actor: actor, actionNode, &state)
        var label: String?
        var expectations: [Expectation] = []
        for entry in entries {
            switch entry.key {
            case "label":
                let name = try string(entry.value, "label")
                guard ScenarioGrammar.isSymbol(name) else { throw error(entry.value, "a label is a name (letters, digits, '_', '-')") }
                guard !state.labels.contains(name) else { throw error(entry.value, "label '\(name)' is already used by an earlier step") }
                label = name
            case "expect":
                guard let items = entry.value.sequence else { throw error(entry.value, "expect must be a list of expectations") }
                for item in items {
                    if let expectation = try expectation(item, state, kernels: kernels, citations: citations) { expectations.append(expectation) }
                }
            default: break
            }
        }
        if let label { state.labels.insert(label) }   // after the checks: a step's own label names its state for later steps
        return Step(isSystem ? "system" : actor, action, label: label, expect: expectations)
    }

    /// An action's pages must be mapped by an earlier step of that actor; what it binds is bound
    /// after (each verb's `check`).
    func checkAction(_ action: Action, actor: String, _ node: Node, _ state: inout Validation) throws {
        try grammar(node) { () throws(GrammarError) in try action.verb.check(&state, actor: actor) }
    }

    /// A `requires:` list (a scenario's or an expectation's).
    func requirements(_ node: Node) throws -> [Requirement] {
        var requirements: [Requirement] = []
        for (word, item) in try strings(node, "requires") {
            guard let requirement = Self.requirementNames[word] else {
                let names = Self.requirementNames.keys.sorted()
                throw error(item, "unknown requirement '\(word)'\(didYouMean(word, names)); one of: \(names.joined(separator: ", "))")
            }
            requirements.append(requirement)
        }
        return requirements
    }

    static let expectationKeys = ["summary", "kernels", "kinds", "requires", "every-page", "known-bug", "cite", "check"]
    static let knownBugKeys = ["kernels", "bug"]

    /// `known-bug:` {kernels: [RANGE...], bug: TEXT}: the kernels a known kernel bug makes this
    /// expectation fail on (each range a name or an inline range), and what the bug is and where
    /// it is fixed.
    func knownBug(_ node: Node, kernels: [String: KernelRange]) throws -> KnownBug {
        let entries = try mapping(node, "known-bug", allowed: Self.knownBugKeys, required: ["kernels", "bug"])
        func value(_ key: String) -> Node { entries.first { $0.key == key }!.value }   // both required
        let rangesNode = value("kernels")
        let items = rangesNode.sequence ?? [rangesNode]
        guard !items.isEmpty else { throw error(rangesNode, "known-bug: kernels must name at least one kernel range") }
        let ranges = try items.map { try reference($0, kernels, "kernel range") { try kernelRange($0) } }
        return KnownBug(kernels: ranges, bug: try string(value("bug"), "bug"))
    }

    /// nil: the expectation is for other kinds than this reading's (its `kinds:` leaves it out).
    func expectation(_ node: Node, _ state: Validation, kernels: [String: KernelRange], citations: [String: Citation]) throws -> Expectation? {
        let entries = try mapping(node, "an expectation", allowed: Self.expectationKeys, required: ["summary", "kernels", "cite", "check"])
        func value(_ key: String) -> Node { entries.first { $0.key == key }!.value }   // all required
        let summary = try string(value("summary"), "summary")
        let range = try reference(value("kernels"), kernels, "kernel range") { try kernelRange($0) }
        let citation = try reference(value("cite"), citations, "citation") { try self.citation($0) }
        if let node = entries.first(where: { $0.key == "kinds" })?.value {
            guard let kind = state.kind else { throw error(node, "an expectation's kinds: needs the scenario's kinds: list") }
            guard try kinds(node, of: state.kinds).contains(kind) else { return nil }
        }
        guard let checks = value("check").sequence, !checks.isEmpty else { throw error(value("check"), "check must be a non-empty list") }
        var assertions: [Assertion] = []
        for item in checks {
            let text = try string(item, "a check")
            let assertion = try grammar(item) { () throws(GrammarError) in try ScenarioGrammar.assertion(text) }
            try checkAssertion(assertion, item, state)
            assertions.append(assertion)
        }
        let requirements = try entries.first(where: { $0.key == "requires" }).map { try self.requirements($0.value) } ?? []
        var everyPage: Int?
        if let node = entries.first(where: { $0.key == "every-page" })?.value, try bool(node, "every-page") {
            everyPage = try pagesOfEveryPage(assertions, node, state)
        }
        let knownBug = try entries.first(where: { $0.key == "known-bug" }).map { try self.knownBug($0.value, kernels: kernels) }
        return Expectation(summary, kernels: range, cite: citation, assertions, requires: requirements, everyPage: everyPage,
                           knownBug: knownBug)
    }

    /// An every-page expectation reads whole mappings at its own step: each check names a mapping
    /// by its first page, compares only with pages at this step, reads no rmap (observed for the
    /// watched page alone), and the mappings it names have one length: the pages it covers.
    func pagesOfEveryPage(_ assertions: [Assertion], _ node: Node, _ state: Validation) throws -> Int {
        var lengths: [PageRef: Int] = [:]
        for assertion in assertions {
            guard case let .field(_, field, expected) = assertion else {
                throw error(node, "every-page: '\(assertion.description)' is not about a page; keep succeeds/fails in an expectation of its own")
            }
            switch expected {
            case .same(_, _, _?), .differs(_, _, _?), .contains(_, _, _?), .oneOf(_, _?):
                throw error(node, "every-page: '\(assertion.description)' compares with another step (@LABEL); every-page compares pages at this step only")
            case .rmapFinds:
                throw error(node, "every-page: '\(assertion.description)': rmap is read for the watched page only")
            default: break
            }
            if field == .rmap { throw error(node, "every-page: '\(assertion.description)': rmap is read for the watched page only") }
        }
        let mappings = Expectation("", kernels: KernelRange(basis: ""), cite: Citation("", ""), assertions).mappings
        for ref in mappings {
            guard ref.loc.page == 0 else {
                throw error(node, "every-page: \(ref) is not the first page of '\(ref.loc.symbol)'; name a mapping by its first page (\(ref.actor):\(ref.loc.symbol))")
            }
            lengths[ref] = state.length[PageRef(ref.actor, ref.loc.symbol)] ?? 0
        }
        let distinct = Set(lengths.values)
        guard distinct.count == 1, let pages = distinct.first, pages > 0 else {
            let list = lengths.sorted { $0.key.description < $1.key.description }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            throw error(node, "every-page: the mappings it names must have one length at this step; they have \(list) pages")
        }
        return pages
    }

    /// Every page a check reads must be one some step has mapped by now, every label one an
    /// earlier step defined.
    func checkAssertion(_ assertion: Assertion, _ node: Node, _ state: Validation) throws {
        guard case let .field(page, _, expected) = assertion else { return }
        var pages = [page]
        var labels: [String] = []
        switch expected {
        case let .same(other, _, label), let .differs(other, _, label), let .contains(other, _, label):
            pages.append(other); labels += label.map { [$0] } ?? []
        case let .rmapFinds(refs): pages += refs
        case let .oneOf(refs, label): pages += refs; labels += label.map { [$0] } ?? []
        case .value, .notAbsent: break
        }
        for ref in pages where state.everBound[PageRef(ref.actor, ref.loc.symbol)] == nil {
            throw error(node, "\(ref): no step so far maps '\(ref.loc.symbol)' in actor '\(ref.actor)'")
        }
        for ref in pages where !state.actors.contains(ref.actor) {
            throw error(node, "\(ref): actor '\(ref.actor)' does not exist at this step (it exited, or is forked later), so its pages are not observed")
        }
        for ref in pages where !state.watch.contains(ref) {
            throw error(node, "\(ref) is not watched, so it is never observed: add it to the scenario's watch list")
        }
        for label in labels where !state.labels.contains(label) {
            throw error(node, "label '\(label)' is not defined by an earlier step\(didYouMean(label, Array(state.labels)))")
        }
    }
}
