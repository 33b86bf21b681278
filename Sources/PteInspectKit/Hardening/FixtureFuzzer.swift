import CPteInspect
import Foundation
import Glibc

/// What the fixture-device fuzzer saw: every call returns (success or an errno); nothing else is
/// acceptable from a device that runs in the kernel of the machine being debugged.
public struct FixtureFuzzReport: CustomStringConvertible {
    public var calls = 0
    public var succeeded = 0
    public var errnos: [String: Int] = [:]
    public var pinsLeftOnClose = 0
    public var mappings = 0
    /// Calls whose result contradicts the device's contract (e.g. a double unpin that succeeded).
    public var contractViolations: [String] = []

    mutating func record(_ call: String, _ result: Int, errno error: Int32 = errno) {
        calls += 1
        if result >= 0 { succeeded += 1 } else { errnos["\(call):\(ErrnoName(code: error).message)", default: 0] += 1 }
    }

    public var description: String {
        var text = "fixture: \(calls) calls, \(succeeded) succeeded, \(mappings) mappings, \(pinsLeftOnClose) files closed with pins held\n"
        text += "  errnos: " + errnos.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        for violation in contractViolations.prefix(10) { text += "\n  ! \(violation)" }
        return text
    }
}

/// The pins one open /dev/pteinspect file holds, as the module keeps them: a pin is known by its
/// exact (address, pages), the same range may be pinned more than once, and an unpin releases one
/// of them (fixture_pin()/fixture_unpin() in kmod/pteinspect_fixture.c).
struct HeldPins {
    private var pins: [(address: UInt64, pages: UInt64)] = []

    var isEmpty: Bool { pins.isEmpty }
    var oldest: (UInt64, UInt64)? { pins.first.map { ($0.address, $0.pages) } }

    func contains(_ address: UInt64, _ pages: UInt64) -> Bool { pins.contains { $0 == (address, pages) } }
    mutating func pinned(_ address: UInt64, _ pages: UInt64) { pins.append((address, pages)) }
    mutating func unpinned(_ address: UInt64, _ pages: UInt64) {
        if let index = pins.firstIndex(where: { $0 == (address, pages) }) { pins.remove(at: index) }
    }
}

/// Random and hostile use of /dev/pteinspect from this process: ioctls with any command number
/// and argument (bad pointers included), pins of valid, unmapped, kernel and unaligned addresses
/// with any page count and flags, double unpins, closes with pins held, and mmaps of every size,
/// offset, protection and sharing.
public enum FixtureFuzzer {
    public static func run(rounds: Int, seed: UInt64) throws -> FixtureFuzzReport {
        let pageSize = Int(SystemPage.size)
        // Our own pages to pin: 32 written pages between guard pages.
        guard let base = mmap(nil, 34 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            throw SystemCallError("mmap")
        }
        defer { munmap(base, 34 * pageSize) }
        mprotect(base, pageSize, PROT_NONE)
        mprotect(base + 33 * pageSize, pageSize, PROT_NONE)
        for i in 1...32 { base.storeBytes(of: UInt8(i), toByteOffset: i * pageSize, as: UInt8.self) }
        var fuzzing = Fuzzing(seed: seed, buffer: UInt64(UInt(bitPattern: base)) + UInt64(pageSize), pageSize: pageSize)
        for _ in 0..<rounds {
            let fd = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw SystemCallError("open(/dev/pteinspect)") }
            fuzzing.round(fd)
            close(fd)   // releases whatever is still pinned
        }
        fuzzing.checkStillWorks()
        return fuzzing.report
    }

    /// One fuzz run's state: the seeded choices, the pages it pins, what it saw.
    private struct Fuzzing {
        var rng: SplitMix64
        var report = FixtureFuzzReport()
        /// The first of our 32 pages (between guard pages).
        let buffer: UInt64
        let pageSize: Int

        init(seed: UInt64, buffer: UInt64, pageSize: Int) {
            rng = SplitMix64(seed: seed)
            self.buffer = buffer
            self.pageSize = pageSize
        }

        /// 1 to 12 random calls on one open file.
        mutating func round(_ fd: Int32) {
            var held = HeldPins()
            for _ in 0..<Int(1 + rng.next() % 12) {
                switch rng.next() % 6 {
                case 0: anyIoctl(fd)
                case 1, 2: pin(fd, held: &held)
                case 3: unpin(fd, held: &held)
                default: anyMmap(fd)
                }
            }
            if !held.isEmpty { report.pinsLeftOnClose += 1 }
        }

        /// Any ioctl number, any argument: only PIN and UNPIN may succeed.
        mutating func anyIoctl(_ fd: Int32) {
            let known: [UInt] = [UInt(PTI_IOC_PIN), UInt(PTI_IOC_UNPIN), 0, 0x5401]
            let command = rng.next() % 2 == 0 ? UInt(rng.next() & 0xffff_ffff) : FixtureFuzzer.pick(known, &rng)
            let bad: [UInt] = [0, 1, 0xffff_ffff_ffff_f000]
            let argument = rng.next() % 2 == 0 ? UInt(truncatingIfNeeded: rng.next()) : FixtureFuzzer.pick(bad, &rng)
            let result = pti_ioctl_raw(fd, command, argument)
            report.record("ioctl", Int(result))
            if result >= 0 && command != UInt(PTI_IOC_UNPIN) && command != UInt(PTI_IOC_PIN) {
                report.contractViolations.append("ioctl 0x\(String(command, radix: 16)) succeeded")
            }
        }

        /// A pin, valid or not.
        mutating func pin(_ fd: Int32, held: inout HeldPins) {
            let (address, pages, flags) = FixtureFuzzer.pinRequest(buffer: buffer, pageSize: UInt64(pageSize), &rng)
            let result = pti_fixture_pin(fd, 0, address, pages, flags)
            report.record("pin", Int(result))
            if result == 0 { held.pinned(address, pages) }
        }

        /// Unpin something pinned, then the same again; or a random request.
        mutating func unpin(_ fd: Int32, held: inout HeldPins) {
            if let (address, pages) = held.oldest, rng.next() % 3 != 0 {
                FixtureFuzzer.unpin(fd, address, pages, as: "unpin", held: &held, into: &report)
                FixtureFuzzer.unpin(fd, address, pages, as: "unpin-twice", held: &held, into: &report)
            } else {
                // Random, so now and then exactly a range that is held (seed 1795974298
                // drew a held 3-page pin): then it must succeed, and otherwise fail.
                let (address, pages, _) = FixtureFuzzer.pinRequest(buffer: buffer, pageSize: UInt64(pageSize), &rng)
                FixtureFuzzer.unpin(fd, address, pages, as: "unpin-random", held: &held, into: &report)
            }
        }

        /// mmap with any size, offset, protection, sharing: only up to PTEINSPECT_FIXTURE_MAX_PAGES
        /// at offset 0 may succeed, and such a mapping may never grow (VM_DONTEXPAND).
        mutating func anyMmap(_ fd: Int32) {
            let sizes = [0, 1, 2, 63, 64, 65, 1000]
            let pages = FixtureFuzzer.pick(sizes, &rng)
            let offsets: [off_t] = [0, 0, 0, 4096, 1, -4096]
            let offset = FixtureFuzzer.pick(offsets, &rng)
            let prot = FixtureFuzzer.pick([PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC, PROT_WRITE], &rng)
            let flags = FixtureFuzzer.pick([MAP_PRIVATE, MAP_SHARED, MAP_SHARED | MAP_POPULATE, MAP_PRIVATE | MAP_POPULATE], &rng)
            let length = max(pages, 0) * pageSize
            guard let mapped = mmap(nil, length, prot, flags, fd, offset), mapped != MAP_FAILED else {
                report.record("mmap", -1)
                return
            }
            report.record("mmap", 0)
            report.mappings += 1
            if pages > Int(PTEINSPECT_FIXTURE_MAX_PAGES) || offset != 0 {
                report.contractViolations.append("mmap of \(pages) pages at offset \(offset) succeeded")
            }
            if prot & PROT_READ != 0 { _ = mapped.load(as: UInt8.self) }
            if rng.next() % 2 == 0, let grown = FixtureFuzzer.mremapGrow(mapped, length, pageSize) {   // VM_DONTEXPAND: must fail
                report.contractViolations.append("mremap grew a fixture mapping")
                munmap(grown, length + pageSize)
            } else {
                munmap(mapped, length)
            }
        }

        /// Still working afterwards: pin and unpin one page.
        mutating func checkStillWorks() {
            let fd = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
            defer { if fd >= 0 { close(fd) } }
            guard fd >= 0, pti_fixture_pin(fd, 0, buffer, 1, 0) == 0, pti_fixture_pin(fd, 1, buffer, 1, 0) == 0 else {
                report.contractViolations.append("after the fuzz, a plain pin/unpin failed: \(ErrnoName(code: errno).message)")
                return
            }
        }
    }

    /// An unpin succeeds exactly when the file holds a pin of that range (fixture_unpin() in
    /// kmod/pteinspect_fixture.c), and then releases one such pin.
    fileprivate static func unpin(_ fd: Int32, _ address: UInt64, _ pages: UInt64, as call: String, held: inout HeldPins, into report: inout FixtureFuzzReport) {
        let result = pti_fixture_pin(fd, 1, address, pages, 0)
        let error = errno
        report.record(call, Int(result), errno: error)
        let range = "0x\(String(address, radix: 16)) (\(pages) pages)"
        switch (held.contains(address, pages), result == 0) {
        case (true, true): held.unpinned(address, pages)
        case (true, false): report.contractViolations.append("\(call) of a held pin \(range) failed: \(ErrnoName(code: error).message)")
        case (false, true): report.contractViolations.append("\(call) of \(range), which this file does not hold, succeeded")
        case (false, false): break
        }
    }

    fileprivate static func pick<T>(_ values: [T], _ rng: inout SplitMix64) -> T { values[Int(rng.next() % UInt64(values.count))] }

    fileprivate static func pinRequest(buffer: UInt64, pageSize: UInt64, _ rng: inout SplitMix64) -> (UInt64, UInt64, UInt32) {
        let address: UInt64
        switch rng.next() % 8 {
        case 0:
            let hostile: [UInt64] = [0, 1, pageSize - 1, 0xffff_8880_0000_0000, 0xff11_0000_0000_0000, 0xffff_ffff_8100_0000, UInt64.max & ~(pageSize - 1), 1 << 47]
            address = pick(hostile, &rng)
        case 1: address = buffer - pageSize            // the guard page
        case 2: address = buffer + 1 + rng.next() % pageSize   // unaligned
        default: address = buffer + (rng.next() % 32) * pageSize
        }
        let counts: [UInt64] = [0, 33, 512, 513, UInt64.max, 1 << 40]
        let pages: UInt64 = rng.next() % 10 == 0 ? pick(counts, &rng) : 1 + rng.next() % 4
        let flags: UInt32 = rng.next() % 8 == 0 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.next() % 4)
        return (address, pages, flags)
    }

    fileprivate static func mremapGrow(_ old: UnsafeMutableRawPointer, _ length: Int, _ pageSize: Int) -> UnsafeMutableRawPointer? {
        guard let grown = pti_mremap_grow(old, length, length + pageSize), grown != MAP_FAILED else { return nil }
        return grown
    }
}
