import TestResults
import XCTest
@testable import PteInspectKit

/// The benchmark's one protocol between its processes (the result line, tools/reference/
/// reader_result.h) and its judging.
final class BenchTests: ObservedTestCase {
    /// The line the C readers print decodes, and the Swift readers print the same keys.
    func testTheCReadersLineDecodes() throws {
        let line = #"{"reader":"reference C (pagemap+kpageflags+kpagecount)","records":262144,"seconds":0.184000,"user":0.010000,"system":0.174000,"maxrss_kib":2260,"bytes":6291456}"#
        let result = try XCTUnwrap(BenchReaderResult.parse("dump_count: 3 messages\n" + line + "\n"))
        XCTAssertEqual(result.records, 262144)
        XCTAssertEqual(result.maxrssKiB, 2260)
        XCTAssertEqual(result.bytes, 6291456)
        XCTAssertEqual(result.recordsPerSecond, 262144 / 0.184, accuracy: 1)
        XCTAssertEqual(BenchReaderResult.parse(result.line), result, "the Swift readers' line is the same format")
        XCTAssertNil(BenchReaderResult.parse("not json\n{\"reader\":1}"))
    }

    func testMeasureTimesTheBodyAndReadsItsOwnHighWaterMark() {
        let result = BenchReaderResult.measure("test") { usleep(20_000); return (3, 24) }
        XCTAssertEqual(result.records, 3)
        XCTAssertGreaterThanOrEqual(result.seconds, 0.02)
        XCTAssertGreaterThan(result.maxrssKiB, 0, "VmHWM of /proc/self/status")
    }

    /// a/b read the same dump and c/d the same files: a count that differs is a failure.
    func testCountsThatDifferFail() {
        func run(_ records: Int, _ seconds: Double) -> BenchReaderResult {
            BenchReaderResult(reader: "r", records: records, seconds: seconds, user: 0, system: 0, maxrssKiB: 1, bytes: 0)
        }
        let same = BenchSummary(results: ["a": [run(10, 1)], "b": [run(10, 0.5)], "c": [run(10, 2)], "d": [run(10, 1)]])
        XCTAssertTrue(same.checkCounts(expectSameEntries: true))
        XCTAssertTrue(same.ratios.contains("a/d = 1.00"), same.ratios)
        XCTAssertTrue(same.ratios.contains("c/d = 2.00"), same.ratios)
        let differ = BenchSummary(results: ["a": [run(10, 1)], "b": [run(9, 1)], "c": [run(10, 1)], "d": [run(10, 1)]])
        XCTAssertFalse(differ.checkCounts(expectSameEntries: false))
        let pages = BenchSummary(results: ["a": [run(512, 1)], "b": [run(512, 1)], "c": [run(262144, 1)], "d": [run(262144, 1)]])
        XCTAssertTrue(pages.checkCounts(expectSameEntries: false), "THP: one entry per PMD against 512 pages")
        XCTAssertFalse(pages.checkCounts(expectSameEntries: true))
    }
}
