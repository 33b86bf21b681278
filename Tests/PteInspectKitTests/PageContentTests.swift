import Foundation
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// Reads the first 4 bytes of each page through /proc/PID/mem (on the host, without the module):
/// the real contents of real worker processes, for the data check. `swap` makes it lie the way a
/// broken kernel would: it reads another process's page instead.
private final class MemoryObserver: PageObserver {
    let backend = Backend.module
    var redirect: ((Int32) -> Int32)?

    func canSee(_ field: PageField) -> Bool { field == .present || field == .data }

    func observe(pid: Int32, address: UInt64, name: (Int32?, UInt64) -> String) throws -> PageObservation {
        let source = redirect?(pid) ?? pid
        let fd = open("/proc/\(source)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError("open(/proc/\(source)/mem)") }
        defer { close(fd) }
        var word: UInt32 = 0
        guard pread(fd, &word, 4, off_t(Int64(bitPattern: address))) == 4 else {
            throw SystemCallError("pread(/proc/\(source)/mem)")
        }
        return PageObservation([.present: .bool(true), .data: .hex(UInt64(word))])
    }
}

final class PageContentTests: ObservedTestCase {
    let p = PageRef("parent", "P"), c = PageRef("child", "P")

    func environment() -> ScenarioEnvironment {
        ScenarioEnvironment(kernelRelease: "6.1.0-56-amd64", isRoot: true, module: nil, fixtureDevice: false, swapDevices: [],
                            thpMode: "always", ksm: false, userfaultfdProblem: nil, uffdioMove: false)
    }

    func testTagsSayWhoWroteWhatWhenAndRefuseWhatDoesNotFit() throws {
        let tag = try XCTUnwrap(ContentTag(actor: 2, step: 17, page: 511))
        XCTAssertEqual(tag.value, 0x5a2_11_1ff)
        XCTAssertEqual(ContentTag(value: tag.value), tag)
        XCTAssertNil(ContentTag(actor: 16, step: 1, page: 0), "4 bits of actor")
        XCTAssertNil(ContentTag(actor: 0, step: 256, page: 0), "8 bits of step")
        XCTAssertNil(ContentTag(actor: 0, step: 0, page: 0), "steps count from 1: a zero step is no tag")
        XCTAssertNil(ContentTag(actor: 0, step: 1, page: 4096), "12 bits of page")
        XCTAssertNil(ContentTag(value: 0), "zeros are not a tag")
        XCTAssertNil(ContentTag(value: 0xa5a5_a5a5), "uffd-copy's filler is not a tag")
    }

    func testForkCopiesPrivatePagesAndSharesSharedOnes() {
        let scenario = Scenario(name: "t", title: "t", summary: "", watch: [], steps: [Step("parent", .fork(child: "child"))])
        let model = ContentModel(scenario)
        XCTAssertEqual(model.actorNames, ["parent", "child"])
        model.map("parent", "P", shared: false, file: false)
        model.map("parent", "S", shared: true, file: false)
        XCTAssertEqual(model.expected(p), .zero, "a fresh anonymous page reads as zeros")
        let before = model.tag("parent", step: 2, page: 0)?.value
        model.store("parent", Loc("P"), before)
        model.fork("parent", child: "child")
        model.store("parent", Loc("P"), model.tag("parent", step: 4, page: 0)?.value)
        model.store("child", Loc("S"), 7)
        XCTAssertEqual(model.expected(c), before.map(PageContent.stored), "the child keeps what was there at fork")
        XCTAssertEqual(model.expected(PageRef("parent", "S")), .stored(7), "a shared mapping's write is everyone's")
        model.advise("child", Loc("P"), pages: 1, .dontneed)
        XCTAssertEqual(model.expected(c), .zero, "MADV_DONTNEED: zero-fill-on-demand")
        XCTAssertEqual(model.expected(p), model.tag("parent", step: 4, page: 0).map { .stored($0.value) })
        XCTAssertNil(model.expected(PageRef("nobody", "P")))
    }

    func testDontforkWipeonforkFilesAndMoves() {
        let scenario = Scenario(name: "t", title: "t", summary: "", watch: [], steps: [Step("parent", .fork(child: "child"))])
        let model = ContentModel(scenario)
        model.map("parent", "P", shared: false, file: false)
        model.map("parent", "F", shared: false, file: true)
        model.set("parent", Loc("P"), pages: 3) { .stored(UInt32($0 + 1)) }
        model.advise("parent", Loc("P"), pages: 1, .wipeonfork)
        model.advise("parent", Loc("P", 1), pages: 1, .dontfork)
        model.advise("parent", Loc("P"), pages: 3, .pageout)
        model.fork("parent", child: "child")
        XCTAssertEqual(model.expected(PageRef("child", "P", 0)), .zero, "MADV_WIPEONFORK: the child gets zeros")
        XCTAssertEqual(model.expected(PageRef("child", "P", 1)), .unknown, "MADV_DONTFORK: the child has no such page")
        XCTAssertEqual(model.expected(PageRef("child", "P", 2)), .stored(3), "MADV_PAGEOUT does not change contents")
        XCTAssertEqual(model.expected(PageRef("parent", "F")), .unknown, "a file page is the file's")
        model.move("parent", from: Loc("P", 2), to: Loc("F"), pages: 1)
        XCTAssertEqual(model.expected(PageRef("parent", "F")), .stored(3), "UFFDIO_MOVE moves the contents")
        XCTAssertEqual(model.expected(PageRef("parent", "P", 2)), .unknown)
        model.exit("child")
        XCTAssertNil(model.expected(PageRef("child", "P", 2)))
    }

    /// MADV_GUARD_INSTALL zaps its range as MADV_DONTNEED does (the contents are gone; a guard
    /// marker is never read, and after MADV_GUARD_REMOVE the page faults in as zeros); fork
    /// copies the state; MADV_GUARD_REMOVE changes no contents; a shared mapping keeps its own.
    func testGuardInstallDiscardsPrivateContentsAndGuardRemoveNothing() {
        let scenario = Scenario(name: "t", title: "t", summary: "", watch: [], steps: [Step("parent", .fork(child: "child"))])
        let model = ContentModel(scenario)
        model.map("parent", "P", shared: false, file: false)
        model.map("parent", "S", shared: true, file: false)
        model.set("parent", Loc("P"), pages: 3) { .stored(UInt32($0 + 1)) }
        model.store("parent", Loc("S"), 9)
        model.advise("parent", Loc("P", 1), pages: 1, .guardInstall)
        model.advise("parent", Loc("S"), pages: 1, .guardInstall)
        XCTAssertEqual(model.expected(PageRef("parent", "P", 0)), .stored(1), "outside the range: untouched")
        XCTAssertEqual(model.expected(PageRef("parent", "P", 1)), .zero, "zapped, like MADV_DONTNEED")
        XCTAssertEqual(model.expected(PageRef("parent", "P", 2)), .stored(3))
        XCTAssertEqual(model.expected(PageRef("parent", "S")), .stored(9), "a shared mapping's contents stay in its object")
        model.fork("parent", child: "child")
        model.advise("parent", Loc("P"), pages: 3, .guardRemove)
        XCTAssertEqual(model.expected(PageRef("parent", "P", 0)), .stored(1), "MADV_GUARD_REMOVE leaves present pages alone")
        XCTAssertEqual(model.expected(PageRef("parent", "P", 1)), .zero)
        XCTAssertEqual(model.expected(PageRef("child", "P", 1)), .zero)
    }

    /// Each wrong value is named for what it is: a lost write, a leak, a page mapped elsewhere,
    /// zeros, bytes of nobody's.
    func testAWrongValueIsDiagnosed() throws {
        let scenario = Scenario(name: "t", title: "t", summary: "", watch: [], steps: [Step("parent", .fork(child: "child"))])
        let model = ContentModel(scenario)
        model.map("parent", "P", shared: false, file: false)
        let two = try XCTUnwrap(model.tag("parent", step: 2, page: 0)?.value)
        let four = try XCTUnwrap(model.tag("parent", step: 4, page: 0)?.value)
        let childs = try XCTUnwrap(model.tag("child", step: 5, page: 0)?.value)
        let otherPage = try XCTUnwrap(model.tag("parent", step: 4, page: 3)?.value)
        XCTAssertEqual(model.diagnose(p, got: two, want: four), "older contents: the write of step 4 is not in this page (a lost write)")
        XCTAssertEqual(model.diagnose(p, got: childs, want: four), "child's write is visible in parent's private page: a copy-on-write leak between processes")
        XCTAssertEqual(model.diagnose(p, got: otherPage, want: four), "the contents of page +3: the page is mapped at the wrong place")
        XCTAssertEqual(model.diagnose(p, got: 0, want: four), "the page lost its contents (it reads as zeros)")
        XCTAssertTrue(model.diagnose(p, got: 0x1234, want: four).hasPrefix("the page holds bytes other than the ones it should"))
        XCTAssertEqual(model.describe(childs), "child's write of page +0 at step 5")
    }

    /// A private page the process wrote that is not anonymous: the write went through to a page
    /// the process does not own (Dirty COW: a FOLL_FORCE write into the page cache). FAIL.
    func testAPrivateWriteInAPageThatIsNotAnonymousFails() throws {
        let observer = FakeObserver(visible: [.present, .anon, .data]) { _ in
            PageObservation([.present: .bool(true), .anon: .bool(false), .data: .absent])
        }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: ScenarioEngineTests.pteinspectBinary)
        let result = runner.run(Scenario(name: "t", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .write(Loc("P"))),
        ]))
        XCTAssertEqual(result.verdict, .fail)
        XCTAssertNil(result.steps[0].expectations.first, "a fresh page expects zeros: nothing stored, nothing to check there")
        let mismatch = try XCTUnwrap(result.steps[1].expectations.first?.mismatches.first)
        XCTAssertEqual(mismatch.expected, "0x5a002000 (parent's write of page +0 at step 2) in an anonymous copy")
        XCTAssertTrue(mismatch.observed.hasPrefix("a page that is not anonymous (PageAnon 0, not read)"), mismatch.observed)
    }

    func forkCow() -> Scenario {
        Scenario(name: "data-fork", title: "t", summary: "", actors: ["parent"], watch: [p, c], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .write(Loc("P"))),
            Step("parent", .fork(child: "child")),
            Step("parent", .write(Loc("P"))),
            Step("child", .write(Loc("P"))),
        ])
    }

    /// A data check cites the kernel path of its step's operation, decided by the action and by
    /// what the page was before it.
    func testTheDataCheckCitesTheStepsOperation() {
        let swapped = PageObservation([.present: .bool(false), .swapped: .bool(true)])
        let shared = PageObservation([.present: .bool(true), .anonExclusive: .bool(false)])
        let mine = PageObservation([.present: .bool(true), .anonExclusive: .bool(true)])
        func path(_ action: Action, _ before: PageObservation?) -> DataPath { DataPath.of(Step("parent", action)) { _ in before } }
        XCTAssertEqual(path(.write(Loc("P")), nil), .fault)
        XCTAssertEqual(path(.write(Loc("P")), swapped), .swapIn)
        XCTAssertEqual(path(.read(Loc("P")), swapped), .swapIn)
        XCTAssertEqual(path(.write(Loc("P")), shared), .cowCopy)
        XCTAssertEqual(path(.write(Loc("P")), mine), .other)
        XCTAssertEqual(path(.fork(child: "child"), mine), .fork)
        XCTAssertEqual(path(.madvise(Loc("P"), pages: 1, .pageout), mine), .swapOut)
        XCTAssertEqual(path(Action(Mremap(at: Loc("P"), pages: 1)), mine), .mremap)
        XCTAssertEqual(path(.madvise(Loc("P"), pages: 1, .guardInstall), mine), .dontneed, "MADV_GUARD_INSTALL zaps first")
        XCTAssertEqual(DataPath.swapIn.citation.function, "do_swap_page")
        XCTAssertTrue(DataPath.fork.citation.description.hasPrefix(
            "mm/memory.c copy_present_pte() (6.1), mm/memory.c __copy_present_ptes() (6.12), mm/memory.c __copy_present_ptes() (7.3): the"),
            DataPath.fork.citation.description)
        XCTAssertEqual(DataPath.uffdMove.kernels.from, KernelVersion(6, 8))
        XCTAssertNil(DataPath.swapIn.kernels.from)
        // every path has a citation; tools/cite-check checks each against the kernel trees
        XCTAssertEqual(Set(DataPath.allCases.map(\.citation.file)).count, 6)
    }

    /// Real processes on the host kernel: every step's pages hold what the model says.
    func testARealForkPassesTheDataCheckAtEveryStep() throws {
        guard geteuid() == 0 else { throw XCTSkip("reading another process's /proc/PID/mem needs root") }
        let runner = ScenarioRunner(observer: MemoryObserver(), environment: environment(), executable: ScenarioEngineTests.pteinspectBinary)
        let result = runner.run(forkCow())
        XCTAssertEqual(result.verdict, .pass, result.reason ?? "\(result.steps.map { $0.expectations.map(\.mismatches) })")
        let checks = result.steps.compactMap { $0.expectations.first { $0.expectation.summary == ContentModel.checkSummary } }
        XCTAssertEqual(checks.count, 5, "a data check after every step")
        XCTAssertEqual(checks.last?.expectation.assertions.map(\.description), [
            "parent:P.data == 0x5a004000", "child:P.data == 0x5a105000",
        ], "each side holds its own last write")
    }

    /// The same run seen through a kernel whose child maps the parent's page after fork: the
    /// check fails and names the leak.
    func testALeakBetweenProcessesIsNamed() throws {
        guard geteuid() == 0 else { throw XCTSkip("reading another process's /proc/PID/mem needs root") }
        let observer = MemoryObserver()
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: ScenarioEngineTests.pteinspectBinary)
        var parentPid: Int32?
        // The first observation is the parent's: remember its pid, and read it for everyone.
        observer.redirect = { pid in
            if parentPid == nil { parentPid = pid }
            return parentPid ?? pid
        }
        let result = runner.run(forkCow())
        XCTAssertEqual(result.verdict, .fail)
        let failed = result.steps.flatMap(\.expectations).filter { $0.verdict == .fail }
        XCTAssertEqual(failed.first?.expectation.summary, ContentModel.checkSummary)
        XCTAssertEqual(failed.first?.expectation.citation.function, "wp_page_copy", "the parent's write after fork: the COW path")
        let mismatch = try XCTUnwrap(failed.first?.mismatches.first)
        XCTAssertEqual(mismatch.assertion, "child:P.data == 0x5a002000")
        XCTAssertEqual(mismatch.expected, "0x5a002000 (parent's write of page +0 at step 2)")
        XCTAssertEqual(mismatch.observed,
                       "0x5a004000 (parent's write of page +0 at step 4): parent's write is visible in child's private page: a copy-on-write leak between processes")
    }
}
