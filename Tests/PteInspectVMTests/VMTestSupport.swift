import Foundation
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// Shared setup for the module-backed tests. They need the loaded module and root: tools/test
/// runs them inside the VM. Elsewhere they fail with the reason instead of passing vacuously.
class ModuleTestCase: ObservedTestCase {
    var client: PteInspectClient!
    let pageSize: UInt64 = SystemPage.size

    override func setUpWithError() throws {
        do {
            client = try PteInspectClient()
        } catch {
            XCTFail("cannot reach the pteinspect module (run these tests with tools/test, which loads it in a VM): \(error)")
            throw error
        }
    }

    /// The pteinspect binary built next to this test bundle.
    static var pteinspectBinary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("pteinspect").path
    }

    func makeWorker() throws -> WorkerProcess {
        let worker = try WorkerProcess(executable: Self.pteinspectBinary)
        addTeardownBlock { worker.stop() }
        return worker
    }

    func entry(pid: Int32, at address: UInt64, file: StaticString = #filePath, line: UInt = #line) throws -> PageTableEntry {
        let entries = try client.entries(pid: pid, start: address, end: address + pageSize)
        XCTAssertEqual(entries.count, 1, "expected one entry at 0x\(String(address, radix: 16))", file: file, line: line)
        return try XCTUnwrap(entries.first, file: file, line: line)
    }

    /// Sends GET_PTES with exactly these attributes and returns the kernel's refusal.
    func refusal(_ attributes: [RequestAttribute], command: UInt8 = Command.getPtes, dump: Bool = true,
                 file: StaticString = #filePath, line: UInt = #line) -> NetlinkError? {
        let request = client.request(command, attributes)
        do {
            if dump {
                try client.socket.dump(request, operation: "test") { _ in }
            } else {
                _ = try client.socket.transact(request, operation: "test")
            }
            XCTFail("the kernel accepted \(attributes)", file: file, line: line)
            return nil
        } catch let error as NetlinkError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    func assertRefused(_ attributes: [RequestAttribute], errno expected: Int32, message fragment: String?,
                       command: UInt8 = Command.getPtes, dump: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let error = refusal(attributes, command: command, dump: dump, file: file, line: line) else { return }
        guard case let .kernel(_, errno, message, _) = error else {
            return XCTFail("not a kernel refusal: \(error)", file: file, line: line)
        }
        XCTAssertEqual(ErrnoName(code: errno).name, ErrnoName(code: expected).name, "\(error)", file: file, line: line)
        if let fragment {
            XCTAssertTrue(message?.contains(fragment) ?? false, "extack '\(message ?? "<none>")' lacks '\(fragment)'", file: file, line: line)
        }
    }

    /// Whether the running kernel is at least major.minor (from GET_INFO's release string).
    func kernelIsAtLeast(_ major: Int, _ minor: Int) throws -> Bool {
        let parts = try client.info().kernelRelease.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return (parts[0], parts[1]) >= (major, minor)
    }

    /// The whole of a /proc file (their size is 0 to stat, so read until EOF).
    func readProcFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SystemCallError("open(\(path))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { throw SystemCallError("read(\(path))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs a command and returns (status, stdout, stderr).
    func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
