import CPteInspect
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

final class KernelStatusTests: ObservedTestCase {
    private func errorMessage(errno: Int32, capped: Bool, tlvs: [[UInt8]]) -> NetlinkMessage {
        var payload: [UInt8] = []
        payload.appendLittleEndian(Int32(-errno))
        // the echoed request header (and, uncapped, its 4-byte payload)
        let echoedPayload: [UInt8] = capped ? [] : [1, 2, 3, 4]
        payload.appendLittleEndian(UInt32(16 + echoedPayload.count))
        payload += [UInt8](repeating: 0, count: 12) + echoedPayload
        payload += tlvs.flatMap { $0 }
        var flags: UInt16 = tlvs.isEmpty ? 0 : UInt16(NLM_F_ACK_TLVS)
        if capped { flags |= UInt16(NLM_F_CAPPED) }
        let bytes = Bytes.message(type: UInt16(NLMSG_ERROR), flags: flags, payload: payload)
        return try! NetlinkMessage.split(bytes[...])[0]
    }

    func testCappedErrorWithExtack() throws {
        let status = try KernelStatus.fromError(errorMessage(errno: ESRCH, capped: true, tlvs: [
            Bytes.string(1, "no such process"), Bytes.u32(5, 7),
        ]))
        XCTAssertEqual(status, KernelStatus(errno: ESRCH, message: "no such process", missingAttribute: 7))
    }

    func testUncappedErrorSkipsTheEchoedRequest() throws {
        let status = try KernelStatus.fromError(errorMessage(errno: EINVAL, capped: false, tlvs: [Bytes.string(1, "start is not page aligned")]))
        XCTAssertEqual(status.errno, EINVAL)
        XCTAssertEqual(status.message, "start is not page aligned")
    }

    func testAckIsZero() throws {
        XCTAssertEqual(try KernelStatus.fromError(errorMessage(errno: 0, capped: true, tlvs: [])).errno, 0)
    }

    /// libmnl 1.0.4 drops this error; the client must not.
    func testDoneCarriesTheDumpError() throws {
        var payload: [UInt8] = []
        payload.appendLittleEndian(Int32(-ESRCH))
        payload += Bytes.string(1, "the target process exited during the dump")
        let bytes = Bytes.message(type: UInt16(NLMSG_DONE), flags: UInt16(NLM_F_MULTI | NLM_F_ACK_TLVS), payload: payload)
        let status = try KernelStatus.fromDone(NetlinkMessage.split(bytes[...])[0])
        XCTAssertEqual(status.errno, ESRCH)
        XCTAssertEqual(status.message, "the target process exited during the dump")
    }

    func testPositiveStatusAndTruncatedErrorsAreMalformed() throws {
        var payload: [UInt8] = []
        payload.appendLittleEndian(Int32(5))
        let positive = Bytes.message(type: UInt16(NLMSG_DONE), payload: payload)
        XCTAssertThrowsError(try KernelStatus.fromDone(NetlinkMessage.split(positive[...])[0]))
        let truncated = Bytes.message(type: UInt16(NLMSG_ERROR), payload: [0xfe, 0xff])
        XCTAssertThrowsError(try KernelStatus.fromError(NetlinkMessage.split(truncated[...])[0]))
        // TLV flag set but the TLV offset lies beyond the payload
        let lying = Bytes.message(type: UInt16(NLMSG_ERROR), flags: UInt16(NLM_F_ACK_TLVS), payload: [0xea, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0])
        XCTAssertThrowsError(try KernelStatus.fromError(NetlinkMessage.split(lying[...])[0]))
    }

    func testKernelErrorDescriptionCarriesErrnoAndMessage() {
        let error = NetlinkError.kernel(operation: "GET_PTES pid 7", errno: ESRCH, message: "no such process", missingAttribute: nil)
        XCTAssertEqual(error.description, "GET_PTES pid 7: ESRCH (No such process): no such process")
    }
}

/// A hang report says where the helper was; when /proc/PID/stack cannot be read it says why
/// (the errno), never a guess ("needs root" while running as root).
final class ProcessDiagnosticsTests: ObservedTestCase {
    func testTheStackOfASleepingProcessOrWhyNot() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        usleep(200_000)
        let found = ProcessDiagnostics(pid: sleeper.processIdentifier)
        XCTAssertNotNil(found.state)
        if found.stack.isEmpty {
            let problem = try XCTUnwrap(found.stackProblem)
            XCTAssertTrue(problem.contains("failed with E") || problem.contains("read back empty"), problem)
            if geteuid() == 0 { XCTAssertFalse(problem.contains("it needs root"), problem) }
            XCTAssertTrue(found.summary.contains(problem))
        } else {
            XCTAssertNil(found.stackProblem)
            XCTAssertTrue(found.summary.contains("kernel stack: "), found.summary)
        }
        let gone = ProcessDiagnostics(pid: Int32.max - 1)
        XCTAssertEqual(gone.summary, "pid \(Int32.max - 1) is gone")
        XCTAssertEqual(gone.stackProblem, "reading /proc/\(Int32.max - 1)/stack failed with ENOENT (the task is gone)")
    }
}
