import Foundation
import TestResults
import XCTest
@testable import PteInspectKit

/// Scenario files (ScenarioFile.swift, docs/scenario-format.md): the worked example loads, and
/// every mistake the issue names is an error with its file, line and column, never a SKIP.
final class ScenarioFileTests: ObservedTestCase {
    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A minimal valid file; `steps` replaces its steps, `extra` adds top-level keys.
    func file(steps: String = "  - parent: map P 1\n  - parent: write P\n", extra: String = "", watch: String = "[parent:P]") -> String {
        """
        name: t
        title: a test
        summary: what it shows
        watch: \(watch)
        kernels:
          all: {basis: "always"}
        \(extra)steps:
        \(steps)
        """
    }

    func assertError(_ text: String, line: Int, column: Int, _ says: String, file: StaticString = #filePath, at: UInt = #line) {
        XCTAssertThrowsError(try ScenarioFile.parse(text, file: "my.yaml"), file: file, line: at) { error in
            guard let error = error as? ScenarioFileError else { return XCTFail("not a ScenarioFileError: \(error)", file: file, line: at) }
            XCTAssertEqual(error.file, "my.yaml", file: file, line: at)
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: at)
            XCTAssertEqual(error.column, column, "\(error)", file: file, line: at)
            XCTAssertTrue(error.description.contains(says), "\(error)", file: file, line: at)
            print("message shown: \(error)")
        }
    }

    func testACitationNamesItsPlacePerKernelLine() {
        XCTAssertEqual(Citation("mm/memory.c", "do_swap_page", "`x` (6.1.192 L1)").description, "mm/memory.c do_swap_page(): `x` (6.1.192 L1)")
        XCTAssertEqual(Citation("mm/mmap.c (6.1), mm/vma.c (6.12)", "copy_vma").description, "mm/mmap.c copy_vma() (6.1), mm/vma.c copy_vma() (6.12)")
        XCTAssertEqual(Citation.place(file: "mm/rmap.c", function: "folio_add_new_anon_rmap (6.12), page_add_new_anon_rmap (6.1)"),
                       "mm/rmap.c page_add_new_anon_rmap() (6.1), mm/rmap.c folio_add_new_anon_rmap() (6.12)")
        // a name with a space that is not a kernel line stays as written
        XCTAssertEqual(Citation.place(file: "mm/rmap.c", function: "try_to_unmap_one"), "mm/rmap.c try_to_unmap_one()")
    }

    func testTheDocsExampleLoads() throws {
        let scenarios = try ScenarioFile.load(path: Self.repository + "/docs/examples/fork-cow.yaml")
        let scenario = try XCTUnwrap(scenarios.first)
        XCTAssertEqual(scenario.name, "fork-cow-example")
        XCTAssertEqual(scenario.actors, ["parent"])
        XCTAssertEqual(scenario.watch, [PageRef("parent", "P"), PageRef("child", "P")])
        XCTAssertEqual(scenario.steps.count, 6)
        XCTAssertEqual(scenario.requirements, [.root])
        XCTAssertEqual((scenario.steps[3].action.verb as? Fork)?.child, "child", "step 4 is the fork: \(scenario.steps[3].action)")
        XCTAssertEqual(scenario.steps[3].label, "forked")
        let fork = scenario.steps[3].expectations
        XCTAssertEqual(fork.map(\.assertions.count), [3, 4, 4])
        XCTAssertEqual(fork[0].kernels.from, KernelVersion(5, 19))
        XCTAssertEqual(fork[0].citation.function, "copy_present_pte (6.1), copy_present_ptes (6.12), copy_present_ptes (7.3)")
        XCTAssertTrue(fork[0].citation.description.hasPrefix(
            "mm/memory.c copy_present_pte() (6.1), mm/memory.c copy_present_ptes() (6.12), mm/memory.c copy_present_ptes() (7.3): "),
                      fork[0].citation.description)
        XCTAssertEqual(fork[2].assertions.map(\.description), [
            "child:P.vma.anon_vma != parent:P.vma.anon_vma", "child:P.vma.anon_vma_chain contains parent:P.vma.anon_vma",
            "child:P.page.anon_vma == parent:P.vma.anon_vma", "parent:P.rmap == {parent:P, child:P}",
        ])
        guard case .field(_, .pfn, .same(PageRef("parent", "P"), nil, at: "written")) = scenario.steps[5].expectations[0].assertions[0] else {
            return XCTFail("\(scenario.steps[5].expectations[0].assertions[0])")
        }
        // a folder loads every .yaml file in it
        XCTAssertEqual(try ScenarioFile.load(path: Self.repository + "/docs/examples").map(\.name), ["fork-cow-example", "swapin-read-example"])
    }

    /// The example runs: on the host, through the pagemap backend, what pagemap can see passes.
    func testTheDocsExampleRunsOnThePagemapBackend() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root for PFNs in /proc/PID/pagemap") }
        let scenario = try XCTUnwrap(ScenarioFile.load(path: Self.repository + "/docs/examples/fork-cow.yaml").first)
        let environment = ScenarioEnvironment.probe(module: nil)
        let runner = ScenarioRunner(observer: PagemapObserver(), environment: environment, executable: ScenarioEngineTests.pteinspectBinary)
        let result = runner.run(scenario)
        XCTAssertEqual(result.verdict, .pass, result.reason ?? "")
        let verdicts = result.expectationResults.map(\.verdict)
        XCTAssertFalse(verdicts.contains(.fail), result.expectationResults.filter { $0.verdict == .fail }
            .map { "\($0.expectation.summary): \($0.mismatches)" }.joined(separator: "\n"))
        XCTAssertTrue(verdicts.contains(.pass), "\(verdicts)")
        XCTAssertEqual(result.steps.count, 6)
    }

    func testAnUnknownKeyIsAnErrorWithItsPlace() {
        assertError(file(extra: "titel: again\n"), line: 7, column: 1, "unknown key 'titel' in a scenario (did you mean 'title'?)")
        assertError(file(steps: "  - parent: map P 1\n    lable: x\n"), line: 9, column: 5, "unknown key 'lable' in a step")
        assertError(file(steps: "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: all\n        cite: {file: f, function: g, line: 3}\n        check: [succeeds]\n"),
                    line: 12, column: 38, "unknown key 'line' in a citation")
    }

    /// every-page: read back with the pages it covers, written back as it was read; what it
    /// cannot mean is an error at its place.
    func testAnEveryPageExpectationCoversItsMappingsPages() throws {
        func steps(_ checks: String, every: String = "true") -> String {
            "  - parent: map P 4\n  - parent: map Q 2\n    label: w\n  - parent: write P\n    expect:\n      - summary: s\n        kernels: all\n"
                + "        every-page: \(every)\n        cite: {file: mm/memory.c, function: do_anonymous_page}\n        check: \(checks)\n"
        }
        let text = file(steps: steps("[parent:P.present == 1]"), watch: "[parent:P, parent:Q]")
        let scenario = try XCTUnwrap(try ScenarioFile.parse(text, file: "my.yaml").first)
        let expectation = try XCTUnwrap(scenario.steps.last?.expectations.first)
        XCTAssertEqual(expectation.everyPage, 4)
        XCTAssertTrue(ScenarioFileWriter.yaml(scenario).contains("        every-page: true\n"))
        XCTAssertEqual(try ScenarioFile.parse(ScenarioFileWriter.yaml(scenario), file: "again.yaml").first?.steps.last?.expectations.first?.everyPage, 4)
        XCTAssertNil(try ScenarioFile.parse(file(steps: steps("[parent:P.present == 1]", every: "false"), watch: "[parent:P, parent:Q]"),
                                            file: "my.yaml").first?.steps.last?.expectations.first?.everyPage)

        assertError(file(steps: steps("[parent:P.pfn == parent:Q]"), watch: "[parent:P, parent:Q]"), line: 15, column: 21,
                    "every-page: the mappings it names must have one length at this step; they have parent:P 4, parent:Q 2 pages")
        assertError(file(steps: steps("[parent:P.pfn == parent:P@w]"), watch: "[parent:P, parent:Q]"), line: 15, column: 21,
                    "compares with another step (@LABEL)")
        assertError(file(steps: steps("[parent:P.rmap contains parent:P]"), watch: "[parent:P, parent:Q]"), line: 15, column: 21,
                    "rmap is read for the watched page only")
        assertError(file(steps: steps("[succeeds]"), watch: "[parent:P, parent:Q]"), line: 15, column: 21, "is not about a page")
        assertError(file(steps: steps("[parent:P.present == 1]", every: "yes"), watch: "[parent:P, parent:Q]"), line: 15, column: 21,
                    "every-page is true or false, not 'yes'")
    }

    /// scenarios/lib/shared.yaml: a range several scenarios rely on is named from any file; a file
    /// of one's own may define the name again (its own is then the one meant).
    func testSharedKernelRangesAreNamedFromEveryFile() throws {
        let expect = { (range: String) in
            "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: \(range)\n        cite: {file: f, function: g}\n        check:\n          - parent:P.present == 0\n"
        }
        let scenario = try XCTUnwrap(try ScenarioFile.parse(file(steps: expect("anon-exclusive")), file: "my.yaml").first)
        XCTAssertEqual(scenario.steps[0].expectations[0].kernels.from, KernelVersion(5, 19))
        XCTAssertEqual(scenario.steps[0].expectations[0].kernels.basis, "PG_anon_exclusive and the swap PTE exclusive bit, 5.19")
        let own = file(steps: expect("anon-exclusive"), extra: "").replacingOccurrences(of: "  all: {basis: \"always\"}", with: "  anon-exclusive: {from: \"6.1\", basis: mine}")
        XCTAssertEqual(try ScenarioFile.parse(own, file: "my.yaml").first?.steps[0].expectations[0].kernels.basis, "mine")
        assertError(file(steps: expect("anon-exclusiv")), line: 11, column: 18,
                    "no kernel range named 'anon-exclusiv' in this file's 'kernels' or in lib/shared.yaml (did you mean 'anon-exclusive'?)")
        XCTAssertThrowsError(try ScenarioLibrary.parse("kernels:\n  early: {from: six, basis: b}\n", file: "shared.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("shared.yaml:2:17: 'six' is not a kernel version"), "\(error)")
        }
        XCTAssertTrue(ScenarioFileWriter.yaml(scenario).contains("kernels: anon-exclusive\n"))
        XCTAssertFalse(ScenarioFileWriter.yaml(scenario).contains("  anon-exclusive:\n"), "a shared range is written by its name only")
    }

    /// docs/scenario-format.md's table of actions lists every verb a scenario can name.
    func testTheFormatDocumentListsEveryAction() throws {
        let doc = try String(contentsOfFile: Self.repository + "/docs/scenario-format.md", encoding: .utf8)
        for verb in Verbs.scenario {
            let written = (verb.isSystem ? "`system: " : "`") + verb.name
            XCTAssertTrue(doc.contains("| " + written) || doc.contains(", " + written), "docs/scenario-format.md has no row for \(verb.name)")
        }
    }

    func testAnUnknownActionAdviceModeFlagOrFieldIsAnError() {
        assertError(file(steps: "  - parent: map P 1\n  - parent: wirte P\n"), line: 9, column: 13, "unknown action 'wirte' (did you mean 'write'?)")
        assertError(file(steps: "  - parent: map P 1\n  - parent: madvise P 1 pagout\n"), line: 9, column: 13,
                    "unknown madvise advice 'pagout' (did you mean 'pageout'?)")
        assertError(file(steps: "  - parent: map P 1\n  - parent: uffd-register P 1 missing,wq\n"), line: 9, column: 13,
                    "unknown userfaultfd mode 'wq' (did you mean 'wp'?)")
        assertError(file(steps: "  - parent: map P 1\n  - parent: mprotect P 1 rx\n"), line: 9, column: 13, "unknown protection 'rx'")
        let check = { (line: String) in
            self.file(steps: "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: all\n        cite: {file: f, function: g}\n        check:\n          - \(line)\n")
        }
        assertError(check("parent:P.vma.mergable == 1"), line: 14, column: 13, "'mergable' is not a VMA flag the module decodes (did you mean 'mergeable'?)")
        assertError(check("parent:P.pfnn == 1"), line: 14, column: 13, "unknown field 'pfnn' (did you mean 'pfn'?)")
        assertError(check("parent:P.pte.write == yes"), line: 14, column: 13, "pte.write is 0 or 1")
        assertError(check("fails EINVALL"), line: 14, column: 13, "(did you mean 'EINVAL'?)")
        assertError(check("parent:P.pfn ~= 1"), line: 14, column: 13, "unknown comparison '~='")
        assertError(file(steps: "  - system: write P\n"), line: 8, column: 13, "'write' is an actor's action")
        assertError(file(steps: "  - parent: map P 1\n  - parent: write P 5a\n"), line: 9, column: 13,
                    "VALUE is a u32 in hex (e.g. 0x11223344), not '5a'")
        assertError(file(steps: "  - parent: map P 1\n  - parent: write P 0x1 0x2\n"), line: 9, column: 13, "write PAGE [VALUE]")
        assertError(file(steps: "  - parent: map P 1\n  - parent: write P 0x5a001000\n"), line: 9, column: 13,
                    "0x5a001000 looks like a step's tag (top byte 0x5a, see Data checks): choose another value")
        assertError(file(steps: "  - parent: map P 1\n  - parent: write P 0x0\n"), line: 9, column: 13,
                    "0 is what a fresh page holds")
    }

    /// `all` counts from the page to the end of its mapping at that step: the run's page kind, a
    /// mremap's new length; a name no step maps is an error where it is written.
    func testAllCountsTheRestOfTheMapping() throws {
        let text = file(steps: "  - parent: map P 4\n  - parent: madvise P+1 all pageout\n  - parent: mremap P all\n"
            + "  - parent: mprotect P+3 all r\n")
        let steps = try XCTUnwrap(try ScenarioFile.parse(text, file: "my.yaml").first).steps
        XCTAssertEqual(steps.map(\.description), ["parent: mmap 4 pages PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS, MADV_NOHUGEPAGE -> P",
                                                  "parent: madvise P+1 3 pages MADV_PAGEOUT",
                                                  "parent: mremap P (4 pages, MREMAP_MAYMOVE|MREMAP_FIXED) to a fresh range",
                                                  "parent: mprotect P+3 1 pages PROT_READ"])
        assertError(file(steps: "  - parent: map P 1\n  - parent: madvise Q all pageout\n"), line: 9, column: 13,
                    "'all' counts the pages of 'Q', which no earlier step of this actor maps")
        let kinds = try ScenarioFile.parse("""
            name: k
            title: t
            summary: s
            kinds: [small, thp]
            watch: [parent:P]
            kernels:
              all: {basis: "always"}
            steps:
              - parent: map-kind P
              - parent: madvise P all pageout
            """, file: "k.yaml")
        XCTAssertEqual(kinds.map { $0.steps[1].description }, ["parent: madvise P 1 pages MADV_PAGEOUT", "parent: madvise P 512 pages MADV_PAGEOUT"])
    }

    /// A write stores the step's tag unless it gives a value (KSM's equal pages); `data` is a field.
    func testAWriteTakesAValueAndDataIsAField() throws {
        let text = file(steps: "  - parent: map P 1\n  - parent: write P 0x11223344\n    expect:\n      - summary: s\n"
            + "        kernels: all\n        cite: {file: f, function: g}\n        check:\n          - parent:P.data == 0x11223344\n")
        let scenario = try XCTUnwrap(try ScenarioFile.parse(text, file: "my.yaml").first)
        let write = try XCTUnwrap(scenario.steps[1].action.verb as? Write<Loc>, "\(scenario.steps[1].action)")
        XCTAssertEqual(write.at, Loc("P"))
        XCTAssertEqual(write.value, 0x1122_3344)
        XCTAssertEqual(scenario.steps[1].expectations.first?.assertions.first?.description, "parent:P.data == 0x11223344")
        XCTAssertEqual(try ScenarioFile.parse(ScenarioFileWriter.yaml(scenario), file: "again.yaml").first?.steps[1].description,
                       "parent: write P 0x11223344")
    }

    func testAPageOfAMappingNoStepCreatesIsAnError() {
        assertError(file(steps: "  - parent: map P 1\n  - parent: write Q\n"), line: 9, column: 13, "'Q' is not mapped in actor 'parent' at this step")
        assertError(file(watch: "[parent:P, parent:Q]"), line: 4, column: 19, "watched page parent:Q: no step maps 'Q' in actor 'parent'")
        assertError(file(steps: "  - parent: map P 1\n  - child: write P\n"), line: 9, column: 5, "no actor 'child' at this step")
        let check = file(steps: "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: all\n        cite: {file: f, function: g}\n        check:\n          - parent:P.pfn == child:P\n")
        assertError(check, line: 14, column: 13, "child:P: no step so far maps 'P' in actor 'child'")
        let unwatched = file(steps: "  - parent: map P 2\n    expect:\n      - summary: s\n        kernels: all\n        cite: {file: f, function: g}\n        check:\n          - parent:P+1.pfn == 1\n")
        assertError(unwatched, line: 14, column: 13, "parent:P+1 is not watched, so it is never observed")
    }

    func testALabelUsedBeforeItIsDefinedIsAnError() {
        let early = file(steps: """
              - parent: map P 1
              - parent: write P
                expect:
                  - summary: s
                    kernels: all
                    cite: {file: f, function: g}
                    check: ["parent:P.pfn == @later"]
              - parent: write P
                label: later
            """)
        assertError(early, line: 14, column: 17, "label 'later' is not defined by an earlier step")
        let own = file(steps: """
              - parent: map P 1
              - parent: write P
                label: now
                expect:
                  - summary: s
                    kernels: all
                    cite: {file: f, function: g}
                    check: ["parent:P.pfn == @now"]
            """)
        assertError(own, line: 15, column: 17, "label 'now' is not defined by an earlier step")
    }

    func testAnEmptyKernelRangeIsAnError() {
        assertError(file(extra: "citations: {}\n").replacingOccurrences(of: "all: {basis: \"always\"}", with: "all: {from: \"6.5\", below: \"6.1\", basis: \"x\"}"),
                    line: 6, column: 8, "the kernel range from 6.5 below 6.1 is empty")
        assertError(file().replacingOccurrences(of: "all: {basis: \"always\"}", with: "all: {from: \"6.1\", below: \"6.1\", basis: \"x\"}"),
                    line: 6, column: 8, "is empty")
        assertError(file().replacingOccurrences(of: "all: {basis: \"always\"}", with: "all: {from: \"6.1\"}"), line: 6, column: 8, "a kernel range needs 'basis'")
        assertError(file(steps: "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: everything\n        cite: {file: f, function: g}\n        check: [succeeds]\n"),
                    line: 11, column: 18, "no kernel range named 'everything'")
    }

    func testNotYAMLIsAnErrorWithItsPlace() {
        assertError("name: t\ntitle: [unclosed\nsummary: s\n", line: 3, column: 8, "not valid YAML")
        assertError(file(extra: "requires: [root, swapp]\n"), line: 7, column: 18, "unknown requirement 'swapp' (did you mean 'swap'?)")
    }

    /// What the second reading of the code found (review of issue 13's first slice).
    func testOffsetsNamesAndValuesAreCheckedWhereTheyAreWritten() {
        let check = { (line: String) in
            self.file(steps: "  - parent: map P 1\n    expect:\n      - summary: s\n        kernels: all\n        cite: {file: f, function: g}\n        check:\n          - \(line)\n")
        }
        assertError(file(steps: "  - parent: map P 2\n  - parent: write P+2\n"), line: 9, column: 13, "P+2 is past the end of 'P' (2 pages")
        assertError(file(watch: "[parent:P+4503599627370496]"), line: 4, column: 9, "'P' is at most 1 page long")
        assertError(file(steps: "  - parent: map P 1\n  - parent: mremap P 3\n  - parent: write P+3\n"), line: 10, column: 13, "P+3 is past the end of 'P' (3 pages")
        assertError(check("parent:P.pfn contains parent:P"), line: 14, column: 13, "'contains' is for a set-valued field")
        assertError(check("parent:P.level == ptee"), line: 14, column: 13, "level is pte or pmd")
        assertError(check("parent:P.rmap == {a, , b}"), line: 14, column: 13, "an empty item in the set")
        assertError(file(extra: "actors: [parent, label]\n"), line: 7, column: 18, "'label' cannot name an actor")
        assertError(file(extra: "citations:\n  c: {file: f, function: g}\n  c: {file: f, function: h}\n"), line: 8, column: 3, "a key appears twice in one mapping: 'c'")
        assertError(file().replacingOccurrences(of: "name: t", with: "name: fork_cow"), line: 1, column: 7, "a scenario's name is lower case")
        // a child's names after an earlier child of that name exited are the new fork's only
        assertError(file(steps: """
              - parent: map P 1
              - parent: fork child
              - child: map Q 1
              - child: exit
              - parent: fork child
              - child: write Q
            """), line: 13, column: 12, "'Q' is not mapped in actor 'child' at this step")
        // a check on an actor that has exited
        assertError(file(steps: """
              - parent: map P 1
              - parent: fork child
              - child: exit
                expect:
                  - summary: s
                    kernels: all
                    cite: {file: f, function: g}
                    check: ["child:P.mapped == 0"]
            """, watch: "[parent:P, child:P]"), line: 15, column: 17, "actor 'child' does not exist at this step")
        // spaces after the operator are not part of the value
        XCTAssertNoThrow(try ScenarioFile.parse(check("parent:P.mapcount ==  1"), file: "ok.yaml"))
    }

    /// An expectation's own `requires:`: read, refused when misspelt, and a SKIP with the
    /// machine's reason when unmet (the rest of the step still counts).
    func testAnExpectationsRequirementIsReadCheckedAndSkipsWhenUnmet() throws {
        let steps = """
              - parent: map P 1
                expect:
                  - summary: needs zswap off
                    kernels: all
                    requires: [zswap-off, zram-swap]
                    cite: {file: f, function: g}
                    check: ["parent:P.mapped == 0"]
            """
        let scenario = try XCTUnwrap(ScenarioFile.parse(file(steps: steps), file: "ok.yaml").first)
        let expectation = try XCTUnwrap(scenario.steps.first?.expectations.first)
        XCTAssertEqual(expectation.requirements, [.zswapOff, .synchronousSwap])
        assertError(file(steps: steps.replacingOccurrences(of: "zswap-off,", with: "zswap-of,")), line: 12, column: 20,
                    "unknown requirement 'zswap-of' (did you mean 'zswap-off'?)")
        let environment = ScenarioEnvironment(kernelRelease: "6.12.118", isRoot: true, module: nil, fixtureDevice: false,
                                              swapDevices: ["/dev/zram0"], thpMode: "always", ksm: true,
                                              userfaultfdProblem: nil, uffdioMove: true, zswapEnabled: true)
        let page = PageRef("parent", "P")
        let context = EvaluationContext(current: [page: PageObservation([.mapped: .bool(false)])], canSee: { _ in true },
                                        backend: .module, kernel: environment.kernel, unmet: environment.unmet)
        let result = context.evaluate(expectation)
        XCTAssertEqual(result.verdict, .skip)
        XCTAssertTrue(result.reason?.contains("zswap is enabled") ?? false, result.reason ?? "")
        var zswapOff = environment
        zswapOff.zswapEnabled = false
        XCTAssertEqual(EvaluationContext(current: [page: PageObservation([.mapped: .bool(false)])], canSee: { _ in true },
                                         backend: .module, kernel: zswapOff.kernel, unmet: zswapOff.unmet).evaluate(expectation).verdict, .pass)
        var disk = zswapOff
        disk.swapDevices = ["/dev/vda2"]
        XCTAssertTrue(disk.unmet(.synchronousSwap)?.contains("/dev/vda2") ?? false)
    }

    /// `guard-regions`: met when madvise(MADV_GUARD_INSTALL) succeeded; EINVAL (a kernel before
    /// 6.13) is a SKIP that says the kernel has none, another errno a SKIP naming it.
    func testTheGuardRegionsRequirementSaysWhyItIsUnmet() throws {
        let scenario = try XCTUnwrap(ScenarioFile.parse("""
            name: g
            title: t
            summary: s
            requires: [guard-regions]
            watch: [parent:P]
            steps:
              - parent: map P 2
              - parent: madvise P+1 1 guard-install
              - parent: madvise P+1 1 guard-remove
            """, file: "g.yaml").first)
        XCTAssertEqual(scenario.requirements, [.guardRegions])
        XCTAssertTrue(ScenarioFileWriter.yaml(scenario).contains("requires: [guard-regions]\n"))
        var environment = ScenarioEnvironment(kernelRelease: "6.12.118", isRoot: true, module: nil, fixtureDevice: false,
                                              swapDevices: [], thpMode: "always", ksm: true, userfaultfdProblem: nil,
                                              uffdioMove: true, guardInstallErrno: EINVAL)
        XCTAssertTrue(environment.unmet(.guardRegions)?.hasPrefix(
            "this kernel has no guard regions: MADV_GUARD_INSTALL came in v6.13 (662df3e5c376)") ?? false,
            environment.unmet(.guardRegions) ?? "met")
        environment.guardInstallErrno = ENOMEM
        XCTAssertTrue(environment.unmet(.guardRegions)?.contains("ENOMEM") ?? false, environment.unmet(.guardRegions) ?? "met")
        environment.guardInstallErrno = nil
        XCTAssertNil(environment.unmet(.guardRegions))
        XCTAssertEqual(KernelOptions.options(for: .guardRegions), [], "no build option of its own")
    }

    /// Text a folded block cannot carry (line breaks, tabs, runs of spaces) comes back the same.
    func testTheWriterKeepsAwkwardText() throws {
        let odd = "two lines\nand a\ttab,  two spaces: \"quoted\" \\ and a bell \u{7}"
        let scenario = Scenario(name: "odd", title: odd, summary: odd, documents: [odd], watch: [PageRef("parent", "P")], steps: [
            Step("parent", .map("P", pages: 1), expect: [
                Expectation(odd, kernels: KernelRange(basis: odd, note: odd), cite: Citation("f", "g", odd, document: odd), [.outcome(.succeeds)]),
            ]),
        ])
        let back = try XCTUnwrap(ScenarioFile.parse(ScenarioFileWriter.yaml(scenario), file: "odd.yaml").first)
        assertSame(scenario, back, ScenarioFileWriter.yaml(scenario))
        XCTAssertEqual(back.steps[0].expectations[0].kernels.note, odd)
    }

    /// Every catalog scenario written as a file reads back as the same scenario: the writer
    /// (`scenario export`) and the reader agree on every action, check, range and citation.
    func testEveryCatalogScenarioRoundTripsThroughAFile() throws {
        for scenario in try ScenarioCatalog.load() {
            let text = ScenarioFileWriter.yaml(scenario)
            let back: Scenario
            do {
                let runs = try ScenarioFile.parse(text, file: scenario.baseName + ".yaml")
                XCTAssertEqual(runs.count, 1, "a run over one kind is written as a scenario over that kind: \(scenario.name)")
                back = try XCTUnwrap(runs.first)
            } catch {
                XCTFail("\(error)\n\(text)")
                continue
            }
            assertSame(scenario, back, text)
        }
    }

    func assertSame(_ a: Scenario, _ b: Scenario, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let name = a.name
        XCTAssertEqual(a.name, b.name, file: file, line: line)
        XCTAssertEqual(a.kind, b.kind, name, file: file, line: line)
        XCTAssertEqual(a.title, b.title, name, file: file, line: line)
        XCTAssertEqual(a.summary, b.summary, name, file: file, line: line)
        XCTAssertEqual(a.documents, b.documents, name, file: file, line: line)
        XCTAssertEqual(a.requirements, b.requirements, name, file: file, line: line)
        XCTAssertEqual(a.actors, b.actors, name, file: file, line: line)
        XCTAssertEqual(a.watch, b.watch, name, file: file, line: line)
        XCTAssertEqual(a.steps.count, b.steps.count, name, file: file, line: line)
        for (x, y) in zip(a.steps, b.steps) {
            let at = "\(name): \(x.description)"
            XCTAssertEqual(x.actor, y.actor, at, file: file, line: line)
            XCTAssertEqual(x.action.description, y.action.description, at, file: file, line: line)
            XCTAssertEqual(x.label, y.label, at, file: file, line: line)
            XCTAssertEqual(x.expectations.count, y.expectations.count, at, file: file, line: line)
            for (e, f) in zip(x.expectations, y.expectations) {
                XCTAssertEqual(e.summary, f.summary, at, file: file, line: line)
                XCTAssertEqual(e.kernels, f.kernels, "\(at): \(e.summary)", file: file, line: line)
                XCTAssertEqual(e.citation, f.citation, "\(at): \(e.summary)", file: file, line: line)
                XCTAssertEqual(e.requirements, f.requirements, "\(at): \(e.summary)", file: file, line: line)
                XCTAssertEqual(e.assertions, f.assertions, "\(at): \(e.summary)", file: file, line: line)
                XCTAssertEqual(e.knownBug, f.knownBug, "\(at): \(e.summary)", file: file, line: line)
            }
        }
    }
}
