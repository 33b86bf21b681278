import TestResults
import XCTest
@testable import PteInspectKit

/// The fuzzer's "no kernel pointer in any reply" check must see pointers of either paging mode.
final class PointerCheckTests: ObservedTestCase {
    func testKernelAddressesOfBothPagingModesAreCaught() {
        XCTAssertTrue(NetlinkFuzzer.looksLikeKernelAddress(0xff11_0000_0106_20a8))   // 5-level direct map (the VM's stock kernel)
        XCTAssertTrue(NetlinkFuzzer.looksLikeKernelAddress(0xffd4_0000_0000_0040))   // 5-level vmemmap: a struct page
        XCTAssertTrue(NetlinkFuzzer.looksLikeKernelAddress(0xffff_8880_0100_0000))   // 4-level direct map
        XCTAssertTrue(NetlinkFuzzer.looksLikeKernelAddress(0xffff_ffff_8100_0000))   // kernel text
    }

    func testValuesTheModuleLegitimatelySendsAreNot() {
        XCTAssertFalse(NetlinkFuzzer.looksLikeKernelAddress(0x7fff_ffff_f000))           // highest 4-level user page
        XCTAssertFalse(NetlinkFuzzer.looksLikeKernelAddress(0x00ff_ffff_ffff_f000))      // highest 5-level user page
        XCTAssertFalse(NetlinkFuzzer.looksLikeKernelAddress(0xf800_0001_2345_6067))      // present PTE: NX + protection key 15
        XCTAssertFalse(NetlinkFuzzer.looksLikeKernelAddress(0xf7ff_ffff_ffff_fe00))      // swap PTE of type 30 (device-private), inverted offset
    }

    private func tally(distinct: Int, inKernelHalf: Int, repeats: Int = 1) -> HashTally {
        var tally = HashTally()
        for i in 0..<distinct {
            let value = i < inKernelHalf ? 0xff11_0000_0000_0000 + UInt64(i) * 64 : 0x1234_5678_0000 + UInt64(i)
            for _ in 0..<repeats { tally.add(value) }
        }
        return tally
    }

    func testAnIdentityAttributeIsJudgedOnItsDistinctValues() {
        var report = FuzzReport()
        report.hashes[Attr.mmID] = tally(distinct: 1, inKernelHalf: 1, repeats: 5_000)       // one mm in every record, hash happens to be high
        report.hashes[Attr.vmaID] = tally(distinct: 400, inKernelHalf: 2, repeats: 3)         // ~1/256: keyed hashes
        report.hashes[Attr.anonVmaRootID] = tally(distinct: 5, inKernelHalf: 5, repeats: 10)  // raw pointers
        XCTAssertFalse(report.hashes[Attr.mmID]!.judged)
        XCTAssertEqual(report.hashAttributesLikePointers, [Attr.anonVmaRootID])
        XCTAssertEqual(report.hashValues, 5_000 + 1_200 + 50)
    }

    func testMergingCountsAValueSeenByTwoSocketsOnce() {
        var one = FuzzReport(), two = FuzzReport()
        one.hashes[Attr.anonVmaID] = tally(distinct: 3, inKernelHalf: 3)
        two.hashes[Attr.anonVmaID] = tally(distinct: 3, inKernelHalf: 3)
        var merged = FuzzReport()
        merged.merge(one)
        merged.merge(two)
        XCTAssertEqual(merged.hashes[Attr.anonVmaID]?.distinct.count, 3)
        XCTAssertEqual(merged.hashes[Attr.anonVmaID]?.values, 6)
        XCTAssertEqual(merged.hashAttributesLikePointers, [])   // 3 distinct: too few to judge
    }
}
