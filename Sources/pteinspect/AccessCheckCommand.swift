import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// `pteinspect access-check`: as whoever runs it, try every command and the fixture device and
/// report what each answered. Run by the permission tests as a non-root user, as root in a user
/// namespace and as root without CAP_SYS_ADMIN: everything must be refused (EPERM; opening the
/// root-only device node may also be EACCES).
struct AccessCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-check",
        abstract: "Internal: try every command and /dev/pteinspect; exit 0 only if all were refused.",
        shouldDisplay: false)

    func run() throws {
        var refused = 0, allowed: [String] = []
        func expectRefusal(_ what: String, _ body: () throws -> Void) {
            do {
                try body()
                allowed.append(what)
                print("\(what): ALLOWED")
            } catch let NetlinkError.kernel(_, errno, message, _) where errno == EPERM {
                refused += 1
                print("\(what): EPERM" + (message.map { " (\($0))" } ?? ""))
            } catch {
                allowed.append(what)
                print("\(what): unexpected \(error)")
            }
        }
        let client: PteInspectClient
        do {
            client = try PteInspectClient()   // resolving the family is open to everyone
        } catch {
            print("cannot reach the family: \(error)")
            throw ExitStatus.cannotRun
        }
        let me = UInt32(getpid())
        let stackish = UInt64(UInt(bitPattern: withUnsafePointer(to: &refused) { UnsafeRawPointer($0) })) & ~4095
        expectRefusal("GET_INFO") { _ = try client.info() }
        expectRefusal("GET_PTES") { _ = try client.entries(pid: Int32(me), start: stackish, end: stackish + 4096) }
        expectRefusal("GET_VMAS") { _ = try client.vmas(pid: Int32(me)) }
        expectRefusal("GET_RMAP") { _ = try client.rmap(pid: Int32(me), address: stackish) }
        let fd = open("/dev/pteinspect", O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            allowed.append("open(/dev/pteinspect)")
            print("open(/dev/pteinspect): ALLOWED")
        } else if errno == EPERM || errno == EACCES {
            refused += 1
            print("open(/dev/pteinspect): \(errno == EPERM ? "EPERM" : "EACCES")")
        } else {
            allowed.append("open(/dev/pteinspect)")
            print("open(/dev/pteinspect): unexpected \(ErrnoName(code: errno).message)")
        }
        print("access-check: \(refused) refused, \(allowed.count) not refused")
        if !allowed.isEmpty { throw ExitStatus.failure }
    }
}
