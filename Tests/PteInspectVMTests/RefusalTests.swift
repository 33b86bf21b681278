import CPteInspect
import Glibc
import XCTest
@testable import PteInspectKit

/// Every bad request gets an errno and an extack message a person can act on.
final class RefusalTests: ModuleTestCase {
    private var ownPid: UInt32 { UInt32(getpid()) }

    func testMissingAttributes() {
        assertRefused([.u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: EINVAL, message: "missing PTEINSPECT_A_PID")
        assertRefused([.u32(Attr.pid, ownPid), .u64(Attr.end, 4096)], errno: EINVAL, message: "missing PTEINSPECT_A_START")
        assertRefused([.u32(Attr.pid, ownPid), .u64(Attr.start, 0)], errno: EINVAL, message: "missing PTEINSPECT_A_END")
        // NLMSGERR_ATTR_MISS_TYPE reaches the client only where the dump's start() has an extack
        // (v6.5+, see begin_dump() in kmod/pteinspect_dump.c); before, the message says it.
        if case let .kernel(_, _, _, missing)? = refusal([.u64(Attr.start, 0), .u64(Attr.end, 4096)]) {
            XCTAssertEqual(missing, try kernelIsAtLeast(6, 5) ? UInt32(Attr.pid) : nil)
        }
    }

    func testNoSuchProcess() {
        // pid_max is at most 2^22 on 64-bit (PID_MAX_LIMIT): this pid cannot exist.
        assertRefused([.u32(Attr.pid, 4_194_304 + 7), .u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: ESRCH, message: "no such process")
    }

    func testKernelThreadHasNoMemory() {
        // pid 2 is kthreadd on every Linux boot (kernel/kthread.c, rest_init()).
        assertRefused([.u32(Attr.pid, 2), .u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: EINVAL, message: "kernel thread")
    }

    func testBadRanges() {
        let pid = ownPid
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0x1001), .u64(Attr.end, 0x3000)], errno: EINVAL, message: "start is not page aligned")
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0x1000), .u64(Attr.end, 0x3001)], errno: EINVAL, message: "end is not page aligned")
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0x3000), .u64(Attr.end, 0x3000)], errno: EINVAL, message: "empty range")
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0xffff_ffff_ffff_f000), .u64(Attr.end, 0x1000)], errno: EINVAL, message: "range wraps")
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0xffff_8880_0000_0000), .u64(Attr.end, 0xffff_8880_0001_0000)], errno: EINVAL, message: "highest user address")
    }

    /// The policy is strict: attributes of the wrong size, reply-only attributes and unknown
    /// attributes are refused by the netlink core with the attribute named.
    func testPolicyViolations() {
        let pid = ownPid
        // lib/nlattr.c validate_nla() / __nla_validate_parse() (6.1): the messages are the core's.
        assertRefused([.u64(Attr.pid, UInt64(pid)), .u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: EINVAL, message: "invalid attribute length")
        assertRefused([.u32(Attr.pid, pid), .u32(Attr.start, 0), .u64(Attr.end, 4096)], errno: EINVAL, message: "invalid attribute length")
        assertRefused([.u32(Attr.pid, 0), .u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: ERANGE, message: "integer out of range")
        // A reply-only attribute (between END and READ_DATA) is refused by name, not as unknown.
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .u64(Attr.end, 4096), .u64(Attr.address, 0)], errno: EINVAL,
                      message: "GET_PTES takes only PID, START, END and READ_DATA")
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .u64(Attr.end, 4096), .u64(Attr.pageSize, 0)], errno: EINVAL,
                      message: "GET_PTES takes only PID, START, END and READ_DATA")
        // READ_DATA (module 0.4.0): a flag, and GET_PTES's only.
        // validate_nla(): a flag with a payload is "goto out_err" with err still -ERANGE (lib/nlattr.c, 6.12.117 L448-450, L598-600)
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .u64(Attr.end, 4096), .u32(Attr.readData, 1)], errno: ERANGE,
                      message: "Attribute failed policy validation")
        assertRefused([.u32(Attr.pid, pid), .flag(Attr.readData)], errno: EINVAL,
                      message: "READ_DATA is a GET_PTES flag: VMAs have no page data", command: Command.getVmas)
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .flag(Attr.readData)], errno: EINVAL,
                      message: "READ_DATA is a GET_PTES flag, not GET_RMAP's", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.pageSize, 0)], errno: EINVAL, message: "GET_VMAS takes only PID, START and END", command: Command.getVmas)
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .u64(Attr.pageSize, 0)], errno: EINVAL, message: "GET_RMAP takes only PID and START", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0), .u64(Attr.end, 4096), .u32(200, 1)], errno: EINVAL, message: "Unknown attribute type")
        // GET_INFO's own policy (module 0.6.0): every request attribute is refused with its message,
        // one above READ_DATA as by the other commands (7.3's reject-all policy answered
        // "Unsupported attribute", read past a one-entry array: kmod/pteinspect_main.c).
        assertRefused([.u32(Attr.pid, pid)], errno: EINVAL, message: "GET_INFO takes no attributes", command: Command.getInfo, dump: false)
        assertRefused([.u32(200, 1)], errno: EINVAL, message: "Unknown attribute type", command: Command.getInfo, dump: false)
    }

    /// Each command has its own policy and its own required attributes (kmod/pteinspect_main.c,
    /// kmod/pteinspect_dump.c): GET_RMAP's request is one address, so END is refused, not ignored.
    func testPerCommandRequests() {
        let pid = ownPid
        assertRefused([.u32(Attr.pid, pid), .u64(Attr.start, 0x1000), .u64(Attr.end, 0x2000)], errno: EINVAL,
                      message: "GET_RMAP takes one address", command: Command.getRmap)
        assertRefused([.u32(Attr.pid, pid)], errno: EINVAL, message: "missing PTEINSPECT_A_START: the address of the page", command: Command.getRmap)
        assertRefused([.u64(Attr.start, 0x1000)], errno: EINVAL, message: "missing PTEINSPECT_A_PID", command: Command.getRmap)
        assertRefused([.u64(Attr.start, 0x1000)], errno: EINVAL, message: "missing PTEINSPECT_A_PID", command: Command.getVmas)
    }

    /// A dump request for a doit-only command and a plain request for a dump-only one.
    func testWrongRequestShape() {
        assertRefused([], errno: EOPNOTSUPP, message: nil, command: Command.getInfo, dump: true)
        assertRefused([.u32(Attr.pid, ownPid), .u64(Attr.start, 0), .u64(Attr.end, 4096)], errno: EOPNOTSUPP, message: nil, command: Command.getPtes, dump: false)
        assertRefused([], errno: EOPNOTSUPP, message: nil, command: 99, dump: false)
    }

    /// A target that exits while its dump is in progress: the entries already sent arrive, then
    /// the dump ends with ESRCH and a message in NLMSG_DONE. Three batches' worth of entries: a
    /// batch reads at most PTEINSPECT_RUN_MAX of them, and with runs (protocol 2) 4,000 populated
    /// pages fit in one batch, which ended before the kill could matter.
    func testTargetExitingMidDumpEndsWithESRCH() throws {
        let worker = try makeWorker()
        let pages = 3 * UInt64(PTEINSPECT_RUN_MAX)
        let base = try worker.map(pages: Int(pages))
        try worker.fill(base, pages: pages)
        var received = 0
        do {
            try client.forEachEntry(pid: worker.pid, start: base, end: base + pages * pageSize) { _ in
                received += 1
                if received == 1 { worker.kill() }
            }
            XCTFail("the dump finished although its target was killed after the first batch (\(received) entries)")
        } catch let NetlinkError.kernel(_, errno, message, _) {
            XCTAssertEqual(ErrnoName(code: errno).name, "ESRCH")
            XCTAssertEqual(message, "the target process exited during the dump")
            XCTAssertGreaterThan(received, 0)
            XCTAssertLessThan(received, Int(pages))
        }
        // The socket is still usable after the failed dump.
        XCTAssertNoThrow(try client.info())
    }

    /// Non-root callers are refused, for every command, by the kernel (not just by the CLI).
    func testNonRootCallerGetsEPERM() throws {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { throw XCTSkip("setpriv (util-linux) not installed") }
        let drop = ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", Self.pteinspectBinary]
        for arguments in [["info"], ["pte", "--pid", "1", "--addr", "0x400000"]] {
            let (status, _, stderr) = try run(setpriv, drop + arguments)
            XCTAssertEqual(status, 1, "pteinspect \(arguments) as nobody: \(stderr)")
            XCTAssertTrue(stderr.contains("EPERM"), stderr)
            XCTAssertTrue(stderr.contains("requires CAP_SYS_ADMIN in the initial user namespace"), stderr)
        }
    }
}
