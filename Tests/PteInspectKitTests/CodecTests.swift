import CPteInspect
import TestResults
import XCTest
@testable import PteInspectKit

final class CodecTests: ObservedTestCase {
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
        let entry = try Bytes.decodeEntry(Bytes.presentAnonEntry())
        XCTAssertEqual(entry.address, 0x7f00_0000_0000)
        XCTAssertEqual(entry.level, .pte)
        XCTAssertEqual(entry.kind, .present)
        XCTAssertEqual(entry.raw, 0x8000_0000_0600_6867)
        XCTAssertTrue(entry.flags.isSuperset(of: [.present, .write, .dirty, .young, .softDirty]))
        XCTAssertFalse(entry.flags.contains(.special))
        XCTAssertEqual(entry.pfn, 0x6006)
        XCTAssertNil(entry.swap)
        XCTAssertEqual(entry.page, PageState(flags: [.anon, .anonExclusive], mapcount: 1, refcount: 2, index: 0x7f00_0000_0000 >> 12,
                                             mappingKind: .anon, mappingID: 0xa11c_e000, folioOrder: 0, folioMapcount: 1))
        XCTAssertEqual(entry.normalPage, .page)
        XCTAssertEqual(entry.pfnLinear, false)
        XCTAssertEqual(entry.indexIsLinear, true)
        XCTAssertNil(entry.marker)
    }

    /// The wire struct is the UAPI header's: 104 bytes, 108 with its attribute header, and the
    /// offsets ynl's spec (kmod/pteinspect.yaml, struct entry) and the module agree on.
    func testEntryLayoutIsTheHeaders() {
        XCTAssertEqual(PageTableEntry.wireSize, 104)
        XCTAssertEqual(MemoryLayout<pteinspect_entry>.offset(of: \.raw_step), 56)
        XCTAssertEqual(MemoryLayout<pteinspect_entry>.offset(of: \.entry_flags), 64)
        XCTAssertEqual(MemoryLayout<pteinspect_entry>.offset(of: \.count), 88)
        XCTAssertEqual(MemoryLayout<pteinspect_entry>.offset(of: \.has), 92)
        XCTAssertEqual(MemoryLayout<pteinspect_entry>.offset(of: \.data), 100)
    }

    /// Protocol 2: a message holds many entries, in order; other attribute types are skipped.
    func testManyEntriesInOneMessage() throws {
        let records = [Bytes.anonRecord(address: 0x1000), Bytes.swapRecord(address: 0x2000), Bytes.anonRecord(address: 0x3000)]
        let bytes = Bytes.generic(command: Command.getPtes, attributes: [Bytes.entry(records[0]), Bytes.u64(200, 1),
                                                                         Bytes.entry(records[1]), Bytes.attribute(201, []), Bytes.entry(records[2])])
        let entries = try Bytes.decodeEntries(bytes)
        XCTAssertEqual(entries.map(\.address), [0x1000, 0x2000, 0x3000])
        XCTAssertEqual(entries.map(\.kind), [.present, .swap, .present])
        XCTAssertEqual(try Bytes.decodeEntries(Bytes.ptesReply([])), [], "a reply without entries is empty, not an error")
    }

    /// A field whose group `has` does not name is not reported, whatever the bytes say.
    func testFieldsOutsideHasAreLeftOut() throws {
        var record = Bytes.anonRecord()
        record.has = UInt8(PTEINSPECT_HAS_PFN)
        let entry = try Bytes.decodeEntry(Bytes.ptesReply([record]))
        XCTAssertEqual(entry.pfn, 0x6006)
        XCTAssertNil(entry.page)
        XCTAssertNil(entry.normalPage)
        XCTAssertNil(entry.pfnLinear)
        XCTAssertNil(entry.swap)
        var noIndex = Bytes.anonRecord()
        noIndex.has &= ~UInt8(PTEINSPECT_HAS_INDEX | PTEINSPECT_HAS_MAPPING_ID)
        let page = try XCTUnwrap(try Bytes.decodeEntry(Bytes.ptesReply([noIndex])).page)
        XCTAssertNil(page.index)
        XCTAssertNil(page.mappingID)
    }

    /// A run expands to its entries: addr, raw (by raw_step), pfn, index and linear index
    /// advance; everything else is the first entry's (the UAPI header's rule).
    func testRunExpandsToItsEntries() throws {
        var run = Bytes.anonRecord(address: 0x7f00_0000_0000)
        run.count = 3
        run.raw_step = 0x1000
        let entries = try Bytes.decodeEntries(Bytes.ptesReply([run, Bytes.swapRecord(address: 0x7f00_0000_3000)]))
        XCTAssertEqual(entries.map(\.address), [0x7f00_0000_0000, 0x7f00_0000_1000, 0x7f00_0000_2000, 0x7f00_0000_3000])
        XCTAssertEqual(entries.prefix(3).map(\.raw), [0x8000_0000_0600_6867, 0x8000_0000_0600_7867, 0x8000_0000_0600_8867])
        XCTAssertEqual(entries.prefix(3).map(\.pfn), [0x6006, 0x6007, 0x6008])
        XCTAssertEqual(entries.prefix(3).map { $0.page?.index }, [0x7f00_0000_0, 0x7f00_0000_1, 0x7f00_0000_2])
        XCTAssertEqual(entries.prefix(3).map(\.linearIndex), [0x7f00_0000_0, 0x7f00_0000_1, 0x7f00_0000_2])
        XCTAssertEqual(Set(entries.prefix(3).map { $0.page?.mappingID }), [0xa11c_e000])
        XCTAssertEqual(Set(entries.prefix(3).map { $0.page?.mapcount }), [1])
        // a swap run: the offset advances, raw by a negative step (x86 stores the offset inverted)
        var swaps = Bytes.swapRecord(address: 0x1000)
        swaps.count = 2
        swaps.raw_step = -0x200
        let swapped = try Bytes.decodeEntries(Bytes.ptesReply([swaps]))
        XCTAssertEqual(swapped.map { $0.swap?.offset }, [0x4000, 0x4001])
        XCTAssertEqual(swapped.map(\.raw), [0x7ff_ffff_fff7_ffe0a, 0x7ff_ffff_fff7_ffe0a - 0x200])
        XCTAssertNil(swapped[1].pfn, "a field outside has stays out in every entry of the run")
    }

    /// Runs that cannot be: of 0 entries, of PMD records, or past the end of the address space.
    func testImpossibleRunsAreErrors() throws {
        var empty = Bytes.anonRecord()
        empty.count = 0
        var pmds = Bytes.anonRecord()
        pmds.level = UInt8(PTEINSPECT_LEVEL_PMD.rawValue)
        pmds.count = 2
        var wrapping = Bytes.anonRecord(address: 0xffff_ffff_ffff_f000)
        wrapping.count = 2
        var long = Bytes.anonRecord()
        long.count = UInt32(PTEINSPECT_RUN_MAX) + 1
        for (record, words) in [(empty, "run of 0"), (pmds, "pmd record with a run of 2"), (wrapping, "wraps"), (long, "above PTEINSPECT_RUN_MAX")] {
            XCTAssertThrowsError(try Bytes.decodeEntries(Bytes.ptesReply([record]))) { XCTAssertTrue("\($0)".contains(words), "\($0)") }
        }
    }

    func testSwapEntryDecodes() throws {
        let entry = try Bytes.decodeEntry(Bytes.ptesReply([Bytes.swapRecord()]))
        XCTAssertEqual(entry.kind, .swap)
        XCTAssertEqual(entry.swap, SwapEntry(type: 0, offset: 0x4000, exclusive: true))
        XCTAssertNil(entry.page)
        XCTAssertNil(entry.pfn)
        XCTAssertFalse(entry.isPresent)
    }

    func testMarkerEntryDecodes() throws {
        var record = Bytes.swapRecord()
        record.kind = UInt8(PTEINSPECT_KIND_PTE_MARKER.rawValue)
        record.pte_marker = UInt8(PTEINSPECT_MARKER_UFFD_WP)
        record.has |= UInt8(PTEINSPECT_HAS_MARKER)
        let entry = try Bytes.decodeEntry(Bytes.ptesReply([record]))
        XCTAssertEqual(entry.kind, .pteMarker)
        XCTAssertEqual(entry.marker, .uffdWP)
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
        let entry = try Bytes.decodeEntry(Bytes.presentAnonEntry(extra: [Bytes.u64(200, 1), Bytes.attribute(201, [])]))
        XCTAssertEqual(entry.pfn, 0x6006)
    }

    /// An entry of any length but sizeof(struct pteinspect_entry) is an error that says both.
    func testWrongEntrySizesAreErrors() throws {
        let record = Bytes.entry(Bytes.anonRecord())
        let payload = Array(record[4...])
        for bad in [Array(payload.prefix(103)), Array(payload.prefix(88)), payload + [0, 0, 0, 0], []] {
            let bytes = Bytes.generic(command: Command.getPtes, attributes: [Bytes.attribute(Attr.entry, bad)])
            XCTAssertThrowsError(try Bytes.decodeEntries(bytes)) { error in
                XCTAssertTrue("\(error)".contains("\(bad.count) bytes, struct pteinspect_entry has 104"), "\(error)")
            }
        }
        XCTAssertThrowsError(try NetlinkAttribute(type: 1, isNested: false, payload: [0, 0, 0][...]).u32())
        XCTAssertThrowsError(try NetlinkAttribute(type: 1, isNested: false, payload: [0xff, 0xfe][...]).string())
    }

    func testUnknownLevelAndDecisionAreErrors() throws {
        var level = Bytes.anonRecord()
        level.level = 7
        XCTAssertThrowsError(try Bytes.decodeEntries(Bytes.ptesReply([level]))) { XCTAssertTrue("\($0)".contains("level 7"), "\($0)") }
        var normal = Bytes.anonRecord()
        normal.normal_page = 200
        XCTAssertThrowsError(try Bytes.decodeEntries(Bytes.ptesReply([normal]))) { XCTAssertTrue("\($0)".contains("decision 200"), "\($0)") }
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
                    _ = try? PageTableEntry.entries(in: message)
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
                if let entries = try? PageTableEntry.entries(in: message), !entries.isEmpty { decoded += 1 }
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
