import CPteInspect
import XCTest
@testable import PteInspectKit

final class CodecTests: XCTestCase {
    /// Encode with libmnl, decode with the Swift parser: every attribute type comes back as sent.
    func testRequestRoundTrip() throws {
        let request = GenericRequest(family: 0x1c, command: Command.getPtes, version: 1, attributes: [
            .u8(1, 0xab), .u16(2, 0xbeef), .u32(3, 0xdead_beef), .u64(4, 0x0123_4567_89ab_cdef),
            .string(5, "pteinspect"), .raw(6, [1, 2, 3]),
        ])
        let bytes = try request.encode(flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP), sequence: 42)
        let messages = try NetlinkMessage.split(bytes[...])
        XCTAssertEqual(messages.count, 1)
        let message = try XCTUnwrap(messages.first)
        XCTAssertEqual(message.type, 0x1c)
        XCTAssertEqual(message.flags, UInt16(NLM_F_REQUEST | NLM_F_DUMP))
        XCTAssertEqual(message.sequence, 42)
        let generic = try GenericMessage(message)
        XCTAssertEqual(generic.command, Command.getPtes)
        XCTAssertEqual(generic.version, 1)
        let table = generic.table
        XCTAssertEqual(try table[1]?.u8(), 0xab)
        XCTAssertEqual(try table[2]?.u16(), 0xbeef)
        XCTAssertEqual(try table[3]?.u32(), 0xdead_beef)
        XCTAssertEqual(try table[4]?.u64(), 0x0123_4567_89ab_cdef)
        XCTAssertEqual(try table[5]?.string(), "pteinspect")
        XCTAssertEqual(table[6].map { Array($0.payload) }, [1, 2, 3])
    }

    func testAttributeTableKeepsTheLastDuplicateAndLargeTypes() throws {
        let attributes = try NetlinkAttribute.parse((Bytes.u32(3, 1) + Bytes.u32(3, 2) + Bytes.u32(300, 7) + Bytes.u32(63, 9))[...])
        let table = AttributeTable(attributes)
        XCTAssertEqual(try table[3]?.u32(), 2, "the last duplicate wins, as in nla_parse")
        XCTAssertEqual(try table[300]?.u32(), 7)
        XCTAssertEqual(try table[63]?.u32(), 9)
        XCTAssertNil(table[64])
        XCTAssertThrowsError(try table.required(5, "X"))
    }

    func testOversizedRequestIsAnErrorNotAnOverflow() {
        let request = GenericRequest(family: 0x1c, command: 1, version: 1, attributes: [.raw(1, [UInt8](repeating: 7, count: 9000))])
        XCTAssertThrowsError(try request.encode(flags: 0, sequence: 1)) { error in
            guard case NetlinkError.malformed = error else { return XCTFail("\(error)") }
        }
    }

    func testEntryDecodes() throws {
        let message = try XCTUnwrap(NetlinkMessage.split(Bytes.presentAnonEntry()[...]).first)
        let entry = try PageTableEntry(GenericMessage(message))
        XCTAssertEqual(entry.address, 0x7f00_0000_0000)
        XCTAssertEqual(entry.level, .pte)
        XCTAssertEqual(entry.kind, .present)
        XCTAssertEqual(entry.raw, 0x8000_0000_0600_6867)
        XCTAssertTrue(entry.flags.isSuperset(of: [.present, .write, .dirty, .young, .softDirty]))
        XCTAssertFalse(entry.flags.contains(.special))
        XCTAssertEqual(entry.pfn, 0x6006)
        XCTAssertNil(entry.swap)
        XCTAssertEqual(entry.page, PageState(flags: [.anon, .anonExclusive], mapcount: 1, refcount: 2, index: 0x7f00_0000_0000 >> 12,
                                             mappingKind: .anon, mappingID: 0xa11c_e000))
        XCTAssertEqual(entry.normalPage, .page)
        XCTAssertEqual(entry.pfnLinear, false)
        XCTAssertEqual(entry.indexIsLinear, true)
    }

    func testOnePassDecoderMatchesTheTableDecoder() throws {
        for bytes in [Bytes.presentAnonEntry(), Bytes.presentAnonEntry(extra: [Bytes.u64(200, 1)])] {
            let message = try XCTUnwrap(NetlinkMessage.split(bytes[...]).first)
            XCTAssertEqual(try PageTableEntry.decode(message), try PageTableEntry(GenericMessage(message)))
        }
        let truncated = Bytes.generic(command: Command.getPtes, attributes: [Bytes.u64(Attr.address, 1)])
        XCTAssertThrowsError(try PageTableEntry.decode(XCTUnwrap(NetlinkMessage.split(truncated[...]).first)))
    }

    func testSwapEntryDecodes() throws {
        let bytes = Bytes.generic(command: Command.getPtes, attributes: [
            Bytes.u64(Attr.address, 0x1000), Bytes.u8(Attr.level, 0), Bytes.u64(Attr.raw, 0x7ff_ffff_fff7_ffe0a),
            Bytes.u8(Attr.entryKind, 1),
            Bytes.u64(Attr.entryFlags, UInt64(PTEINSPECT_EF_SWP_EXCLUSIVE | PTEINSPECT_EF_SOFT_DIRTY)),
            Bytes.u32(Attr.swapType, 0), Bytes.u64(Attr.swapOffset, 0x4000),
        ])
        let entry = try PageTableEntry(GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first)))
        XCTAssertEqual(entry.kind, .swap)
        XCTAssertEqual(entry.swap, SwapEntry(type: 0, offset: 0x4000, exclusive: true))
        XCTAssertNil(entry.page)
        XCTAssertNil(entry.pfn)
        XCTAssertFalse(entry.isPresent)
    }

    func testVmaDecodesWithItsChain() throws {
        let bytes = Bytes.generic(command: Command.getVmas, attributes: [
            Bytes.u64(Attr.vmaStart, 0x7f00_0000_0000), Bytes.u64(Attr.vmaEnd, 0x7f00_0000_4000),
            Bytes.u64(Attr.vmaPgoff, 0x7f00_0000_0), Bytes.u64(Attr.vmaFlags, 0x4810_0073),
            Bytes.u64(Attr.vmaFlagsDecoded, UInt64(PTEINSPECT_VMF_READ | PTEINSPECT_VMF_WRITE | PTEINSPECT_VMF_NOHUGEPAGE)),
            Bytes.u64(Attr.vmaID, 0x1), Bytes.u64(Attr.anonVmaID, 0xc), Bytes.u64(Attr.anonVmaRootID, 0xa),
            Bytes.nested(Attr.anonVmaChain, [Bytes.u64(Attr.anonVmaID, 0xc), Bytes.u64(Attr.anonVmaID, 0xa)]),
            Bytes.u32(Attr.anonVmaChainLength, 2),
        ])
        let vma = try VmaRecord(GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first)))
        XCTAssertEqual(vma.anonVmaChain, [0xc, 0xa])
        XCTAssertEqual(vma.anonVma, 0xc)
        XCTAssertEqual(vma.anonVmaRoot, 0xa)
        XCTAssertNil(vma.name)
        XCTAssertEqual(vma.flags.names, ["read", "write", "nohugepage"])
        XCTAssertEqual(vma.linearIndex(of: 0x7f00_0000_2000), 0x7f00_0000_2)
        XCTAssertTrue(vma.contains(0x7f00_0000_3fff))
        XCTAssertFalse(vma.contains(0x7f00_0000_4000))
    }

    func testVmaWithEndBelowStartIsMalformed() throws {
        let bytes = Bytes.generic(command: Command.getVmas, attributes: [
            Bytes.u64(Attr.vmaStart, 0x2000), Bytes.u64(Attr.vmaEnd, 0x1000), Bytes.u64(Attr.vmaPgoff, 0),
            Bytes.u64(Attr.vmaFlags, 0), Bytes.u64(Attr.vmaFlagsDecoded, 0), Bytes.u64(Attr.vmaID, 1),
        ])
        XCTAssertThrowsError(try VmaRecord(GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first))))
    }

    func testUnknownAttributesAreIgnoredForForwardCompatibility() throws {
        let bytes = Bytes.presentAnonEntry(extra: [Bytes.u64(200, 1), Bytes.attribute(201, [])])
        let entry = try PageTableEntry(GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first)))
        XCTAssertEqual(entry.pfn, 0x6006)
    }

    func testMissingRequiredAttributeIsNamed() throws {
        let bytes = Bytes.generic(command: Command.getPtes, attributes: [Bytes.u64(Attr.address, 0x1000)])
        let message = try GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first))
        XCTAssertThrowsError(try PageTableEntry(message)) { error in
            XCTAssertTrue("\(error)".contains("PTEINSPECT_A_LEVEL"), "\(error)")
        }
    }

    func testWrongAttributeSizesAreErrors() throws {
        let cases: [[UInt8]] = [
            Bytes.attribute(Attr.address, [1, 2, 3, 4]),          // u64 sent as 4 bytes
            Bytes.attribute(Attr.address, [UInt8](repeating: 0, count: 12)), // u64 sent as 12 bytes
        ]
        for bad in cases {
            let bytes = Bytes.presentAnonEntry(extra: [bad])  // the later duplicate wins
            let message = try GenericMessage(XCTUnwrap(NetlinkMessage.split(bytes[...]).first))
            XCTAssertThrowsError(try PageTableEntry(message))
        }
        XCTAssertThrowsError(try NetlinkAttribute(type: 1, isNested: false, payload: [0, 0, 0][...]).u32())
        XCTAssertThrowsError(try NetlinkAttribute(type: 1, isNested: false, payload: [0xff, 0xfe][...]).string())
    }

    func testMalformedAttributeStreams() {
        let cases: [(String, [UInt8])] = [
            ("nla_len below the header", [2, 0, 1, 0]),
            ("nla_len past the end", [12, 0, 1, 0, 0, 0, 0, 0]),
            ("trailing bytes", [8, 0, 1, 0, 0, 0, 0, 0, 9, 9]),
            ("zero length", [0, 0, 0, 0]),
            ("huge length", [0xff, 0xff, 1, 0]),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try NetlinkAttribute.parse(bytes[...]), name)
        }
        // The last attribute's padding may be missing.
        XCTAssertEqual(try NetlinkAttribute.parse([5, 0, 1, 0, 7][...]).first?.payload.first, 7)
    }

    func testMalformedMessages() {
        let valid = Bytes.presentAnonEntry()
        var tooLong = valid
        tooLong[0] = UInt8(valid.count + 4)
        var tooShort = valid
        tooShort[0] = 8; tooShort[1] = 0; tooShort[2] = 0; tooShort[3] = 0
        for (name, bytes) in [("nlmsg_len past the end", tooLong), ("nlmsg_len below the header", tooShort), ("short header", [UInt8](valid.prefix(10)))] {
            XCTAssertThrowsError(try NetlinkMessage.split(bytes[...]), name)
        }
        let noGenlHeader = Bytes.message(type: 0x20, payload: [1, 1])
        XCTAssertThrowsError(try GenericMessage(XCTUnwrap(NetlinkMessage.split(noGenlHeader[...]).first)))
    }

    /// Every truncation of a valid two-message datagram either parses or throws; none traps.
    func testEveryTruncationIsHandled() {
        let datagram = Bytes.presentAnonEntry() + Bytes.presentAnonEntry(address: 0x2000)
        for length in 0...datagram.count {
            let prefix = datagram[0..<length]
            if let messages = try? NetlinkMessage.split(prefix) {
                for message in messages {
                    if let generic = try? GenericMessage(message) { _ = try? PageTableEntry(generic) }
                }
            }
        }
        XCTAssertEqual(try NetlinkMessage.split(datagram[...]).count, 2)
    }

    /// Random and bit-flipped input through every decoder: errors, never traps (deterministic).
    func testRandomAndMutatedInputNeverTraps() {
        var rng = SplitMix64(seed: 0x5eed)
        let valid = Bytes.presentAnonEntry()
        var decoded = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(rng.next() % 96)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                bytes = valid
                for _ in 0..<(1 + rng.next() % 4) {
                    let position = Int(rng.next() % UInt64(bytes.count))
                    bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                }
            }
            guard let messages = try? NetlinkMessage.split(bytes[...]) else { continue }
            for message in messages {
                _ = try? KernelStatus.fromError(message)
                _ = try? KernelStatus.fromDone(message)
                let slow = (try? GenericMessage(message)).flatMap { try? PageTableEntry($0) }
                let fast = try? PageTableEntry.decode(message)
                XCTAssertEqual(slow, fast, "the one-pass decoder and the table decoder agree (round \(round))")
                if slow != nil { decoded += 1 }
                if let generic = try? GenericMessage(message) { _ = try? ModuleInfo(generic); _ = try? VmaRecord(generic) }
            }
        }
        XCTAssertGreaterThan(decoded, 0, "some mutations only touch values and still decode")
    }
}

/// A small deterministic PRNG for reproducible fuzzing.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
