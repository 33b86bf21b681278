import TestResults
import XCTest
@testable import PteInspectKit

/// The verb table (Verbs/*.swift): each verb's one declaration of its arguments gives the
/// scenario grammar, the file writer, the usage lines, the validation and the worker protocol.
final class VerbTableTests: ObservedTestCase {
    /// One step of every scenario verb, written the way the writer writes it back.
    static let everyAction: [(actor: String, text: String)] = [
        ("parent", "map P 4"), ("parent", "map Q 2 r shared"), ("parent", "map-file F data 1 r"),
        ("parent", "map-file G data 2 rw shared"), ("parent", "map-thp T"), ("parent", "map-pfn X 2 shared"),
        ("parent", "write P+1"), ("parent", "write P 0x11223344"), ("parent", "read P+3"), ("parent", "fork child"),
        ("parent", "mremap Q 2"), ("parent", "mprotect P+1 2 none"), ("parent", "madvise P 4 pageout"), ("parent", "drain"),
        ("parent", "mlock P 2"), ("parent", "mlock P+2 2 onfault"), ("parent", "munlock P 4"),
        ("parent", "uffd-open move"), ("parent", "uffd-register P 4 missing,wp"), ("parent", "uffd-copy P 2 wp"),
        ("parent", "uffd-zeropage P+2 1"), ("parent", "uffd-wp P 4 off"), ("parent", "uffd-continue P 1"),
        ("parent", "uffd-open rwp async"), ("parent", "uffd-open move rwp"), ("parent", "uffd-register P 1 missing,rwp"),
        ("parent", "uffd-rwp P 4 on"), ("parent", "uffd-rwp P+1 1 off"),
        ("parent", "uffd-move P P+2 2"), ("parent", "mem-write child:P+1"), ("parent", "mem-read child:P"),
        ("parent", "pin P 2 wl"), ("parent", "unpin P 2"), ("parent", "vmsplice P+1 1"), ("parent", "vmsplice-drop P+1"), ("parent", "clear-refs"), ("child", "exit"),
        ("system", "swapoff"), ("system", "swapon"), ("system", "set /sys/kernel/mm/ksm/run 1"),
        ("system", "wait-ksm 30 parent:P parent:Q"),
    ]

    func testEveryScenarioVerbReadsBackWhatItWrites() throws {
        var names = Set<String>()
        let lengths = ["P": 4, "Q": 2]
        for (actor, text) in Self.everyAction {
            let action = try ScenarioGrammar.action(text, system: actor == "system") { lengths[$0] }
            XCTAssertEqual(action.text, text)
            names.insert(action.name)
        }
        XCTAssertEqual(names, Set(Verbs.scenario.map { $0.name }).subtracting(["map-kind"]), "a step above for every verb but map-kind")
        let kind = try ScenarioGrammar.action("map-kind K", system: false, kind: PageKind(.thp))
        XCTAssertEqual((kind.verb as? MapKind)?.kind, PageKind(.thp))
        XCTAssertEqual(kind.text, "map-kind K")
    }

    /// The usage lines come from the same declaration as the parsing: a verb's arguments, in
    /// their order, named for the language they are in.
    func testUsageLinesAreTheDeclaration() {
        XCTAssertEqual(ScenarioGrammar.actionUsage["map"], "map NAME PAGES [r|rw|none] [private|shared]")
        XCTAssertEqual(ScenarioGrammar.actionUsage["map-kind"], "map-kind NAME (in a scenario with kinds:)")
        XCTAssertEqual(ScenarioGrammar.actionUsage["uffd-move"], "uffd-move FROM TO PAGES")
        XCTAssertEqual(ScenarioGrammar.actionUsage["pin"], "pin PAGE PAGES [w][l]")
        XCTAssertEqual(ScenarioGrammar.systemUsage["wait-ksm"], "wait-ksm SECONDS ACTOR:PAGE...")
        XCTAssertEqual(WorkerCommand.usage["map"], "map PAGES [r|rw|none] [private|shared]")
        XCTAssertEqual(WorkerCommand.usage["uffd-move"], "uffd-move SRC DST PAGES")
        XCTAssertEqual(WorkerCommand.usage["uffd-copy"], "uffd-copy ADDR PAGES [wp] [FIRST]")
        XCTAssertEqual(WorkerCommand.usage["fork"], "fork [IN-FIFO OUT-FIFO]")
        XCTAssertNil(WorkerCommand.usage["map-kind"], "map-kind is the CLI's: several worker commands")
        XCTAssertNil(ScenarioGrammar.actionUsage["churn"], "churn is the stress test's, not a scenario's")
    }

    /// The validation is each verb's: the pages its arguments name must be mapped, and what it
    /// binds is bound after it.
    func testTheValidationFollowsTheArguments() throws {
        var state = ScenarioFileReader.Validation(actors: ["parent"], watch: [])
        func check(_ text: String, _ actor: String = "parent") throws {
            let action = try ScenarioGrammar.action(text, system: actor == "system") { state.length[PageRef(actor, $0)] }
            try action.verb.check(&state, actor: actor)
        }
        XCTAssertThrowsError(try check("write P")) { XCTAssertTrue("\($0)".contains("'P' is not mapped in actor 'parent'"), "\($0)") }
        try check("map P 2")
        try check("write P+1")
        XCTAssertThrowsError(try check("write P+2")) { XCTAssertTrue("\($0)".contains("P+2 is past the end of 'P' (2 pages"), "\($0)") }
        try check("mremap P 1")
        XCTAssertThrowsError(try check("read P+1"), "the name follows the pages moved")
        try check("fork child")
        try check("write P", "child")
        XCTAssertThrowsError(try check("wait-ksm 5 child:Q", "system")) { XCTAssertTrue("\($0)".contains("'Q' is not mapped in actor 'child'"), "\($0)") }
        try check("exit", "child")
        XCTAssertThrowsError(try check("mem-write child:P")) { XCTAssertTrue("\($0)".contains("no actor 'child'"), "\($0)") }
    }

    /// A verb on a page is one declaration for both languages: the step's page is the wire's address.
    func testAPageVerbIsOneDeclarationForBothLanguages() throws {
        let step = Mprotect(at: Loc("P", 1), pages: 2, protection: .read)
        XCTAssertEqual(step.line(.scenario), "mprotect P+1 2 r")
        let wire = Mprotect(at: Address(0x7f00_0000_1000), pages: step.pages, protection: step.protection)
        XCTAssertEqual(WorkerCommand(wire).line, "mprotect 0x7f0000001000 2 r")
        XCTAssertEqual(try WorkerCommand(line: "mprotect 0x7f0000001000 2 r"), WorkerCommand(wire))
    }
}
