import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// The worker protocol (WorkerProtocol.swift): one encoder and one decoder per message, and a real
/// worker's refusals carrying the errno of the call that failed.
final class WorkerProtocolTests: ObservedTestCase {
    /// One value of every command, with arguments away from their defaults.
    static let everyCommand: [WorkerCommand] = [
        .ping, .map(pages: 3, .read, .shared), .map(pages: 1, .readWrite, .private), .map(pages: 2, .none, .private),
        .mapFile(name: "shm-a", pages: 4, .read, .shared), .mapTHP(), .mapTHP(sharing: .shared), .write(0x7f00_0000_1000), .write(0x1000, value: 0x5a01_2000), .read(0x1000),
        .fill(0x7f00_0000_0000, pages: 512), .fill(0x1000, pages: 2, first: 0x5a00_1000), .mremap(0x7f12_3456_7000, pages: 2), .mprotect(0x7000, pages: 1, .none),
        .mapFixture(pages: 8, .shared), .pin(0x7000, pages: 2, write: true, longterm: true),
        .pin(0x7000, pages: 1, write: false, longterm: true), .pin(0x7000, pages: 1, write: false, longterm: false),
        .unpin(0x7000, pages: 2), .madvise(0x7000, pages: 512, .pageout), .madvise(0x7000, pages: 1, .wipeonfork), .drain,
        .uffdOpen(move: true), .uffdOpen(move: false), .uffdRegister(0x7000, pages: 3, [.missing, .wp]),
        .uffdRegister(0x7000, pages: 1, .minor), .uffdCopy(0x7000, pages: 1, writeProtect: true),
        .uffdCopy(0x7000, pages: 2, writeProtect: false),
        .uffdCopy(0x7000, pages: 2, writeProtect: true, first: 0x5a00_3000), .uffdCopy(0x7000, pages: 1, writeProtect: false, first: 0), .uffdZeropage(0x7000, pages: 1), .uffdContinue(0x7000, pages: 1),
        .uffdWriteProtect(0x7000, pages: 1, on: true), .uffdWriteProtect(0x7000, pages: 1, on: false),
        .uffdReadWriteProtect(0x7000, pages: 2, on: true), .uffdReadWriteProtect(0x7000, pages: 1, on: false),
        WorkerCommand(UffdOpen(move: false, rwp: true, async: true)), .uffdRegister(0x7000, pages: 1, [.missing, .rwp]),
        .uffdMove(from: 0x7000, to: 0x9000, pages: 4), .churn(seconds: 2.5, seed: 77), .memWrite(pid: 123, 0x7000), .memWrite(pid: 123, 0x7000, value: 0xffff_ffff),
        .memRead(pid: 9, 0xffff_f000), .fork, .forkWorker(input: "/tmp/x/fork-1.in", output: "/tmp/x/fork-1.out"),
        .release(pid: 4242), .exit, WorkerCommand(ClearRefs()), WorkerCommand(ClearRefs(kind: .all)),
        WorkerCommand(Mlock(at: Address(0x7000), pages: 2, mode: .populate)), WorkerCommand(Mlock(at: Address(0x7000), pages: 1, mode: .onfault)),
        WorkerCommand(Munlock(at: Address(0x7000), pages: 3)),
        WorkerCommand(Vmsplice(at: Address(0x7000), pages: 16)), WorkerCommand(VmspliceDrop(at: Address(0x7000))),
    ]

    func testEveryCommandDecodesToItself() throws {
        var verbs = Set<String>()
        for command in Self.everyCommand {
            XCTAssertEqual(try WorkerCommand(line: command.line), command, command.line)
            verbs.insert(command.name)
        }
        // every verb the decoder knows has a command above
        XCTAssertEqual(verbs, Set(WorkerCommand.usage.keys))
    }

    func testEveryAdviceAndModeSetRoundTrips() throws {
        for advice in Advice.allCases {
            XCTAssertEqual(try WorkerCommand(line: "madvise 0x1000 1 \(advice.rawValue)"), .madvise(0x1000, pages: 1, advice))
        }
        for bits in 1...7 {
            let modes = UffdModes(rawValue: UInt8(bits))
            XCTAssertEqual(UffdModes(names: modes.description), modes, modes.description)
        }
        XCTAssertEqual(Advice.pageout.constantName, "MADV_PAGEOUT")
        XCTAssertEqual(Advice.pageout.value, MADV_PAGEOUT)
        // not in bookworm's glibc: the kernel's values (7.3 include/uapi/asm-generic/mman-common.h L82-83)
        XCTAssertEqual(Advice(rawValue: "guard-install"), .guardInstall)
        XCTAssertEqual(Advice.guardInstall.constantName, "MADV_GUARD_INSTALL")
        XCTAssertEqual(Advice.guardRemove.constantName, "MADV_GUARD_REMOVE")
        XCTAssertEqual(Advice.guardInstall.value, 102)
        XCTAssertEqual(Advice.guardRemove.value, 103)
    }

    /// What a malformed line gets back: the verb's usage, no system call made.
    func testMalformedCommandsAreRefusedWithTheirUsage() {
        let malformed: [(line: String, says: String)] = [
            ("frobnicate 1", "unknown command 'frobnicate'"),
            ("map", "usage: map PAGES"), ("map 0", "usage: map PAGES"), ("map -1", "usage: map PAGES"),
            ("map 1 rwx", "usage: map PAGES"), ("map 1 rw public", "usage: map PAGES"), ("map 1 rw shared extra", "usage: map PAGES"),
            ("map \(WorkerCommand.maximumPages + 1)", "usage: map PAGES"),
            ("write", "usage: write ADDR"), ("write 0xzz", "usage: write ADDR"), ("read 0x1000 2", "usage: read ADDR"),
            ("write 0x1000 5a", "usage: write ADDR"), ("write 0x1000 0x100000000", "usage: write ADDR"),
            ("fill 0x1000 1 0x1 0x2", "usage: fill"), ("uffd-copy 0x1000 1 wp 0x1 0x2", "usage: uffd-copy"),
            ("uffd-copy 0x1000 1 0x1 wp", "usage: uffd-copy"), ("mem-write 1 0x1000 12", "usage: mem-write"),
            ("madvise 0x1000 1 pagein", "usage: madvise ADDR PAGES pageout|cold|"), ("madvise 0x1000 1", "usage: madvise"),
            ("uffd-register 0x1000 1 missing,wq", "usage: uffd-register"), ("uffd-register 0x1000 1 ,", "usage: uffd-register"),
            ("uffd-copy 0x1000 1 ro", "usage: uffd-copy"), ("uffd-wp 0x1000 1 maybe", "usage: uffd-wp"),
            ("uffd-open copy", "usage: uffd-open"), ("pin 0x1000 1 x", "usage: pin"), ("pin 0x1000 1 ww", "usage: pin"),
            ("mprotect 0x1000 1 rwx", "usage: mprotect"), ("map-pfn 1", "usage: map-pfn"), ("churn 0 1", "usage: churn"),
            ("churn 5000 1", "usage: churn"), ("mem-read -3 0x1000", "usage: mem-read"), ("fork /tmp/in", "usage: fork"),
            ("release 0", "usage: release"), ("exit now", "usage: exit"),
        ]
        for (line, says) in malformed {
            XCTAssertThrowsError(try WorkerCommand(line: line), line) { error in
                guard let failure = error as? WorkerFailure else { return XCTFail("\(line): \(error)") }
                XCTAssertTrue(WorkerReply.failed(failure).line.hasPrefix("error " + says), "\(line) -> \(WorkerReply.failed(failure).line)")
                XCTAssertNil(failure.errno, line)
            }
        }
    }

    func testRepliesRoundTrip() {
        let replies: [WorkerReply] = [
            .ok(""), .ok("0x7f0000001000"), .ok("features=0x1 ioctls=0x2"),
            .failed(WorkerFailure(call: "mremap", message: "Bad address", errno: EFAULT)),
            .failed(WorkerFailure(call: "mmap(/dev/pteinspect)", message: "No such device", errno: ENODEV)),
            .failed(WorkerFailure(call: "usage", message: "map PAGES [r|rw|none] [private|shared]")),
            .failed(WorkerFailure(message: "no userfaultfd: send uffd-open first")),
        ]
        for reply in replies { XCTAssertEqual(WorkerReply(line: reply.line), reply, reply.line) }
        XCTAssertEqual(WorkerReply.failed(WorkerFailure(call: "UFFDIO_COPY", message: "File exists", errno: EEXIST)).line,
                       "error UFFDIO_COPY: File exists [errno 17]")
        XCTAssertNil(WorkerReply(line: "okay"))
        XCTAssertNil(WorkerReply(line: "Segmentation fault"))
        XCTAssertEqual(WorkerReply.address("0x7f00"), 0x7f00)
        XCTAssertNil(WorkerReply.address("7f00"))
    }

    func testErrnoNamesComeFromTheKernelTable() {
        XCTAssertEqual(ErrnoName("EIO")?.code, EIO)
        XCTAssertEqual(ErrnoName("EWOULDBLOCK")?.code, EAGAIN)
        XCTAssertEqual(ErrnoName(code: EAGAIN).name, "EAGAIN")
        XCTAssertEqual(ErrnoName(code: EHWPOISON).name, "EHWPOISON")
        XCTAssertEqual(ErrnoName.EEXIST.code, EEXIST)
        XCTAssertNil(ErrnoName("EIOO"))
        XCTAssertEqual(ErrnoName(code: 9999).name, "errno 9999")
        // every name maps back to its own number (no duplicates shadowing one another)
        for name in ErrnoName.allNames { XCTAssertEqual(ErrnoName(name).map { ErrnoName(code: $0.code).name }, name) }
    }

    /// Every failing system call of a real worker answers with its errno (issue 13: mremap,
    /// mprotect, pin, map-pfn... used to answer without one, so no step could expect it).
    func testAWorkersFailedCallsCarryTheirErrno() throws {
        let worker = try WorkerProcess(executable: ScenarioEngineTests.pteinspectBinary, replyTimeout: 30)
        defer { worker.stop() }
        let unmapped: UInt64 = 0x10000   // below vm.mmap_min_addr: never mapped
        let expected: [(WorkerCommand, Int32)] = [
            (.mremap(unmapped, pages: 1), EFAULT),               // mm/mremap.c: no VMA at the old address
            (.mprotect(unmapped, pages: 1, .read), ENOMEM),      // mm/mprotect.c: the range is not mapped
            (.madvise(unmapped, pages: 1, .dontneed), ENOMEM),   // mm/madvise.c: unmapped range
            (.memRead(pid: Int32.max, 0x1000), ENOENT),          // no such /proc entry
            (.uffdWriteProtect(unmapped, pages: 1, on: true), -1),
        ]
        for (command, errno) in expected {
            XCTAssertThrowsError(try worker.send(command), command.line) { error in
                guard case let .refused(_, reply)? = error as? WorkerProcess.Failure else { return XCTFail("\(command.line): \(error)") }
                if errno == -1 {
                    XCTAssertNil(reply.errno, "no userfaultfd yet: a refusal of the worker's own, \(reply)")
                } else {
                    XCTAssertEqual(reply.errno, errno, "\(command.line): \(reply)")
                    XCTAssertNotNil(reply.call, "\(command.line): \(reply)")
                }
            }
        }
        if access("/dev/pteinspect", F_OK) != 0 {
            for command in [WorkerCommand.mapFixture(pages: 1, .private), .pin(unmapped, pages: 1, write: false, longterm: false)] {
                XCTAssertThrowsError(try worker.send(command)) { error in
                    XCTAssertEqual((error as? WorkerProcess.Failure)?.errno, ENOENT, "\(command.line): \(error)")
                }
            }
        }
        // the worker is still there and answers
        let address = try worker.map(pages: 1)
        try worker.write(address)
        XCTAssertEqual(try worker.send(.read(address)), "90")   // 0x5a
    }
}
