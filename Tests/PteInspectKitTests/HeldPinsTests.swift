import TestResults
import XCTest
@testable import PteInspectKit

/// The fixture fuzzer's model of one file's pins must match fixture_pin()/fixture_unpin() in
/// kmod/pteinspect_fixture.c, or the fuzzer reports contract violations the module did not commit.
final class HeldPinsTests: ObservedTestCase {
    /// Seed 1795974298: a random unpin request was exactly a held 3-page pin. The module released
    /// it (correctly); the fuzzer still counted it as held and called the next unpin a violation.
    func testAnUnpinOfAHeldRangeReleasesItWhicheverPathMadeIt() {
        var held = HeldPins()
        held.pinned(0x7fd0_1dea_a000, 3)
        held.pinned(0x7fd0_1dea_b000, 1)
        XCTAssertTrue(held.contains(0x7fd0_1dea_a000, 3))
        held.unpinned(0x7fd0_1dea_a000, 3)
        XCTAssertFalse(held.contains(0x7fd0_1dea_a000, 3))
        XCTAssertEqual(held.oldest?.0, 0x7fd0_1dea_b000)
    }

    /// A pin is known by its exact range: same address, other length is another pin.
    func testARangeIsItsAddressAndLength() {
        var held = HeldPins()
        held.pinned(0x1000, 2)
        XCTAssertFalse(held.contains(0x1000, 1))
        XCTAssertFalse(held.contains(0x2000, 2))
        held.unpinned(0x1000, 1)
        XCTAssertTrue(held.contains(0x1000, 2))
    }

    /// The same range pinned twice needs two unpins (session 3's false violation, 28d27d0).
    func testTheSameRangePinnedTwiceIsHeldUntilTheSecondUnpin() {
        var held = HeldPins()
        held.pinned(0x1000, 1)
        held.pinned(0x1000, 1)
        held.unpinned(0x1000, 1)
        XCTAssertTrue(held.contains(0x1000, 1))
        XCTAssertFalse(held.isEmpty)
        held.unpinned(0x1000, 1)
        XCTAssertFalse(held.contains(0x1000, 1))
        XCTAssertTrue(held.isEmpty)
        XCTAssertNil(held.oldest)
    }
}
