import TestResults
import XCTest
@testable import PteInspectKit

final class OutputTests: ObservedTestCase {
    func testEntryJSONHasEveryDocumentedKey() throws {
        let entry = try Bytes.decodeEntry(Bytes.presentAnonEntry())
        guard case let .object(members) = entry.json else { return XCTFail("not an object") }
        let keys = members.map(\.0)
        for key in ["addr", "raw", "present", "write", "dirty", "young", "special", "soft_dirty", "uffd_wp",
                    "pfn", "anon", "anon_exclusive", "ksm", "swapcache", "mapcount", "refcount", "index", "swap"] {
            XCTAssertTrue(keys.contains(key), "missing \(key)")
        }
        let text = entry.json.rendered()
        XCTAssertTrue(text.contains("\"addr\":\"0x7f0000000000\""), text)
        XCTAssertTrue(text.contains("\"raw\":\"0x8000000006006867\""), text)
        XCTAssertTrue(text.contains("\"anon_exclusive\":true"), text)
        XCTAssertTrue(text.contains("\"mapcount\":1"), text)
        XCTAssertTrue(text.contains("\"swap\":null"), text)
    }

    func testJSONEscapesStrings() {
        XCTAssertEqual(JSONValue.string("a\"b\\c\n\u{1}").rendered(), "\"a\\\"b\\\\c\\n\\u0001\"")
        XCTAssertEqual(JSONValue.object([("k", .array([.null, .bool(false), .int(-1)]))]).rendered(), "{\"k\":[null,false,-1]}")
    }

    func testTableMarksMissingPageStateWithDash() throws {
        var record = Bytes.swapRecord()
        record.raw = 0x2
        record.entry_flags = 0
        record.swap_type = 1
        record.swap_offset = 0x10
        let entry = try Bytes.decodeEntry(Bytes.ptesReply([record]))
        let row = EntryTable.row(entry)
        XCTAssertEqual(row.count, EntryTable.header.count)
        XCTAssertEqual(row[EntryTable.header.firstIndex(of: "PFN/SWAP")!], "swp 1:0x10 X0")
        XCTAssertEqual(row[EntryTable.header.firstIndex(of: "MAP")!], "-")
    }
}

final class PageRangeTests: ObservedTestCase {
    func testRangeStartsAtThePageAndRefusesToWrap() throws {
        let range = try PteInspectClient.pageRange(address: 0x1234, count: 2, pageSize: 4096)
        XCTAssertEqual(range.start, 0x1000)
        XCTAssertEqual(range.end, 0x3000)
        XCTAssertThrowsError(try PteInspectClient.pageRange(address: 0xffff_ffff_ffff_f000, count: 2, pageSize: 4096))
        XCTAssertThrowsError(try PteInspectClient.pageRange(address: 0, count: 0, pageSize: 4096))
    }
}
