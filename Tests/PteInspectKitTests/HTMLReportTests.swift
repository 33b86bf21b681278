import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestResults
import XCTest
@testable import PteInspectKit

/// The HTML and DOT renderings of saved reports (issue 14): well-formed, complete, the changes
/// and the objects of the seeds visible.
final class HTMLReportTests: ObservedTestCase {
    /// A fork as the module reports it: the child's VMA has its own anon_vma chained to the
    /// parent's, the page still belongs to the parent's, rmap finds it in both.
    static let forkReport = """
    {"schema":"pteinspect.scenario-report","version":1,"kernel":"6.12.117+deb12-amd64","backend":"module","planned":1,
     "complete":true,"interrupted":null,"summary":{"pass":0,"fail":1,"skip":0,"hang":0,"crash":0},
     "scenarios":[{"name":"fork-cow","title":"Fork COW <&> \\"quoted\\"","summary":"fork() write-protects & shares.",
      "verdict":"FAIL","reason":null,"documents":["001 (PG_anon_exclusive)"],
      "steps":[
       {"number":1,"actor":"parent","action":"write P","label":"written","outcome":"ok","error":null,"fault":null,"kernel_report":[],
        "pages":[{"page":"parent:P","location":"parent@0x7f0000001000","changed":[],
                  "fields":{"present":true,"pfn":"0x1234","pte.write":true,"PageAnon":true,"PageAnonExclusive":true,"mapcount":1,
                            "vma.anon_vma":"0xaaaa1111","vma.anon_vma_chain":["0xaaaa1111"],"page.anon_vma":"0xaaaa1111",
                            "vma.vm_pgoff":"0x7f0000001","rmap":["parent@0x7f0000001000"]}}],
        "expectations":[]},
       {"number":2,"actor":"parent","action":"fork -> child","label":"forked","outcome":"ok pid 42","error":null,"fault":null,"kernel_report":[],
        "pages":[{"page":"parent:P","location":"parent@0x7f0000001000","changed":["PageAnonExclusive","mapcount","pte.write"],
                  "fields":{"present":true,"pfn":"0x1234","pte.write":false,"PageAnon":true,"PageAnonExclusive":false,"mapcount":2,
                            "vma.anon_vma":"0xaaaa1111","vma.anon_vma_chain":["0xaaaa1111"],"page.anon_vma":"0xaaaa1111",
                            "vma.vm_pgoff":"0x7f0000001","rmap":["parent@0x7f0000001000","child@0x7f0000001000"]}},
                 {"page":"child:P","location":"child@0x7f0000001000","changed":[],
                  "fields":{"present":true,"pfn":"0x1234","pte.write":false,"PageAnon":true,"PageAnonExclusive":false,"mapcount":2,
                            "vma.anon_vma":"0xbbbb2222","vma.anon_vma.root":"0xaaaa1111","vma.anon_vma_chain":["0xbbbb2222","0xaaaa1111"],
                            "page.anon_vma":"0xaaaa1111","vma.vm_pgoff":"0x7f0000001","rmap":["parent@0x7f0000001000","child@0x7f0000001000"]}}],
        "expectations":[{"summary":"fork clears PG_anon_exclusive","verdict":"FAIL","reason":null,
                         "assertions":["parent:P.PageAnonExclusive == 0"],"fields":["PageAnonExclusive"],
                         "kernels":{"from":"5.19","below":null,"basis":"PG_anon_exclusive, 5.19"},
                         "citation":{"file":"mm/memory.c","function":"copy_present_pte","detail":"page_try_dup_anon_rmap()","document":"seed 001"},
                         "mismatches":[{"assertion":"parent:P.PageAnonExclusive == 0","expected":"0","observed":"1"}]}]},
       {"number":3,"actor":"parent","action":"madvise P 1 pages MADV_PAGEOUT","label":null,"outcome":"ok","error":null,"fault":null,"kernel_report":[],
        "pages":[{"page":"parent:P","location":"parent@0x7f0000001000","changed":["present","swapped"],
                  "fields":{"present":false,"swapped":true,"swap.exclusive":true,"swap.slot":"0:0x1f3","pfn":null,"vma.anon_vma":"0xaaaa1111"}}],
        "expectations":[]}
      ]}]}
    """

    func report() throws -> SavedReport {
        let path = NSTemporaryDirectory() + "/pteinspect-html-test-\(getpid()).json"
        try Self.forkReport.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SavedReport.load(path)
    }

    /// Parses `text` as XML; the error (with line) if it is not well-formed.
    func parseError(_ text: String) -> String? {
        let parser = XMLParser(data: Data(text.utf8))
        final class Delegate: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                elements[name, default: 0] += 1
            }
        }
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else { return "\(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)" }
        return nil
    }

    func testTheHTMLIsWellFormedAndHasEveryScenarioAndStep() throws {
        let html = HTMLReport.render([try report()], title: "test")
        XCTAssertNil(parseError(html), "not well-formed XML")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(html.contains("<script"), "no script")
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/", with: "").contains("http://"), "no network")
        XCTAssertTrue(html.contains("id=\"k0-fork-cow\""))
        for step in 1...3 { XCTAssertTrue(html.contains("id=\"step-\(step)\""), "step \(step)") }
        XCTAssertTrue(html.contains("Fork COW &lt;&amp;&gt; &quot;quoted&quot;"), "escaped")
        XCTAssertTrue(html.contains("fork() write-protects &amp; shares."), "the summary")
        // the fields that changed in step 2 are marked, the others not
        let step2 = try XCTUnwrap(html.components(separatedBy: "id=\"step-2\"").last?.components(separatedBy: "id=\"step-3\"").first)
        XCTAssertEqual(step2.components(separatedBy: "class=\"changed\"").count - 1, 3, "PageAnonExclusive, mapcount, pte.write of parent:P")
        XCTAssertTrue(step2.contains("expected <b>0</b>, observed <b>1</b>"))
        XCTAssertTrue(step2.contains("source: mm/memory.c copy_present_pte(): page_try_dup_anon_rmap() [seed 001]"))
        XCTAssertTrue(step2.contains("kernels: &gt;= 5.19 (PG_anon_exclusive, 5.19)"))
    }

    /// Seed 003's point after fork: the child's VMA has its own anon_vma, chained to (and rooted
    /// at) the parent's, which the page still belongs to; rmap finds the page in both.
    func testTheForkGraphShowsTheChainAndTheRmap() throws {
        let step = try report().scenarios[0].steps[1]
        let graph = StepGraph(step: step)
        let edges = Set(graph.edges.map { "\($0.from) -[\($0.relation.rawValue)]-> \($0.to)" })
        for edge in [
            "place:child:P -[vma->anon_vma]-> anon_vma:0xbbbb2222",
            "anon_vma:0xbbbb2222 -[root]-> anon_vma:0xaaaa1111",
            "place:child:P -[anon_vma_chain]-> anon_vma:0xaaaa1111",
            "page:0x1234 -[folio->mapping]-> anon_vma:0xaaaa1111",
            "page:0x1234 -[rmap]-> place:parent:P",
            "page:0x1234 -[rmap]-> place:child:P",
            "place:parent:P -[pte]-> page:0x1234",
        ] {
            XCTAssertTrue(edges.contains(edge), "\(edge) not in \(edges.sorted())")
        }
        XCTAssertEqual(graph.nodes.filter { $0.kind == .page }.count, 1, "one physical page")
        let svg = HTMLReport.svg(graph)
        XCTAssertNil(parseError(svg))
        XCTAssertTrue(svg.contains("class=\"edge chain\""))
        XCTAssertTrue(svg.contains("class=\"edge rmap\""))
        // the swap PTE of step 3 is an edge to a swap entry that says it is exclusive
        let swap = StepGraph(step: try report().scenarios[0].steps[2])
        XCTAssertTrue(swap.edges.contains { $0.relation == .swap && $0.note == "exclusive" && $0.to == "swap:0:0x1f3" })
        XCTAssertEqual(swap.nodes.first { $0.kind == .swapEntry }?.label, ["swap slot 0:0x1f3"])
    }

    func testTheDOTIsOneDigraphPerStepAndGraphvizReadsIt() throws {
        let dot = DOTReport.render([try report()])
        XCTAssertEqual(dot.components(separatedBy: "digraph ").count - 1, 3)
        XCTAssertTrue(dot.contains("\"anon_vma:0xbbbb2222\" -> \"anon_vma:0xaaaa1111\" [label=\"root\"]"))
        let graphviz = ["/usr/bin/dot", "/usr/local/bin/dot"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let graphviz else { throw XCTSkip("Graphviz is not installed (apt-get install graphviz; tools/setup installs it)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: graphviz)
        process.arguments = ["-Tsvg", "-o", "/dev/null"]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(dot.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
    }

    /// Several kernels: the overview is a row per scenario, a column per report, linking in.
    func testSeveralReportsGetAnOverviewThatLinksIn() throws {
        let html = HTMLReport.render([try report(), try report()])
        XCTAssertNil(parseError(html))
        XCTAssertTrue(html.contains("<a href=\"#k0-fork-cow\">FAIL</a>"))
        XCTAssertTrue(html.contains("<a href=\"#k1-fork-cow\">FAIL</a>"))
        XCTAssertTrue(html.contains("id=\"k1-fork-cow\""))
    }

    /// `scenario run --format html`: written when the run ends, or when it is cut short (a hang),
    /// from the same JSON document; the hung step's kernel report is on the page.
    func testTheRunReporterWritesHTMLAtTheEndAndWhenCutShort() throws {
        var output = ""
        let reporter = RunReporter(format: .html) { output += $0 }
        let scenario = Scenario(name: "hangs", title: "a step that hangs", summary: "s", watch: [], steps: [])
        reporter.begin(planned: 2, kernel: "6.12.117+deb12-amd64", backend: "module", notes: [])
        XCTAssertEqual(output, "", "nothing before the end")
        var hung = StepResult(number: 1, step: Step("parent", .write(Loc("P"))), outcome: .failed(errno: nil, message: "timed out"),
                              pages: [], changed: [:], expectations: [], error: "step 1 (parent: write P) did not complete within 1 s")
        hung.fault = .hang
        hung.kernelReport = ["where the helper was: state D (disk sleep), wchan folio_wait_bit_common"]
        reporter.started(scenario)
        reporter.ended(ScenarioResult(scenario: scenario, backend: .module, steps: [hung]))
        reporter.cutShort("a second hang")
        XCTAssertNil(parseError(output), output)
        XCTAssertTrue(output.contains("id=\"k0-hangs\""))
        XCTAssertTrue(output.contains("wchan folio_wait_bit_common"))
        XCTAssertTrue(output.contains(">HANG<"))
        XCTAssertTrue(output.contains("The run ended early: a second hang"))
    }
}
