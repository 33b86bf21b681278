import CPteInspect
import Glibc

/// The worker's userfaultfd commands (see WorkerLoop). One context per worker; ranges are
/// registered explicitly. A fault on a registered page that nobody resolves would block the
/// worker, so scenarios fill MISSING ranges with COPY/ZEROPAGE before touching them and resolve
/// write protection before writing.
enum Userfault {
    /// The value of the reply to a userfaultfd command; a failed ioctl throws with its errno.
    static func run(_ command: WorkerCommand, fd: inout Int32) throws(WorkerFailure) -> String {
        let pageSize = SystemPage.size
        func length(_ pages: Int) -> UInt64 { UInt64(pages) * pageSize }
        if case let .uffdOpen(move) = command {
            if fd >= 0 { close(fd); fd = -1 }
            var features: UInt64 = 0, ioctls: UInt64 = 0
            let wanted: UInt64 = move ? UInt64(PTI_UFFD_FEATURE_MOVE) : 0
            let opened = pti_uffd_open(wanted, &features, &ioctls)
            guard opened >= 0 else { throw .system("userfaultfd/UFFDIO_API(features=0x\(String(wanted, radix: 16)))") }
            fd = opened
            return "features=0x\(String(features, radix: 16)) ioctls=0x\(String(ioctls, radix: 16))"
        }
        guard fd >= 0 else { throw WorkerFailure(message: "no userfaultfd: send uffd-open first") }
        switch command {
        case let .uffdRegister(start, pages, modes):
            var mode: UInt64 = 0
            if modes.contains(.missing) { mode |= UInt64(UFFDIO_REGISTER_MODE_MISSING) }
            if modes.contains(.wp) { mode |= UInt64(UFFDIO_REGISTER_MODE_WP) }
            if modes.contains(.minor) { mode |= UInt64(UFFDIO_REGISTER_MODE_MINOR) }
            var ioctls: UInt64 = 0
            guard pti_uffd_register(fd, start, length(pages), mode, &ioctls) == 0 else { throw .system("UFFDIO_REGISTER") }
            return "ioctls=0x\(String(ioctls, radix: 16))"
        case let .uffdCopy(start, pages, writeProtect, first):
            var source = [UInt8](repeating: 0xa5, count: Int(length(pages)))
            if let first {
                let size = Int(length(1))
                source.withUnsafeMutableBytes { bytes in
                    for i in 0..<pages { bytes.storeBytes(of: first &+ UInt32(truncatingIfNeeded: i), toByteOffset: i * size, as: UInt32.self) }
                }
            }
            var copied: Int64 = 0
            let mode: UInt64 = writeProtect ? UInt64(UFFDIO_COPY_MODE_WP) : 0
            let result = source.withUnsafeBytes {
                pti_uffd_copy(fd, start, UInt64(UInt(bitPattern: $0.baseAddress)), length(pages), mode, &copied)
            }
            guard result == 0 else { throw .system("UFFDIO_COPY") }
            return "\(copied)"
        case let .uffdZeropage(start, pages):
            var zeroed: Int64 = 0
            guard pti_uffd_zeropage(fd, start, length(pages), 0, &zeroed) == 0 else { throw .system("UFFDIO_ZEROPAGE") }
            return "\(zeroed)"
        case let .uffdContinue(start, pages):
            var mapped: Int64 = 0
            guard pti_uffd_continue(fd, start, length(pages), 0, &mapped) == 0 else { throw .system("UFFDIO_CONTINUE") }
            return "\(mapped)"
        case let .uffdWriteProtect(start, pages, on):
            let mode: UInt64 = on ? UInt64(UFFDIO_WRITEPROTECT_MODE_WP) : 0
            guard pti_uffd_writeprotect(fd, start, length(pages), mode) == 0 else { throw .system("UFFDIO_WRITEPROTECT") }
            return ""
        case let .uffdMove(source, destination, pages):
            var moved: Int64 = 0
            guard pti_uffd_move(fd, destination, source, length(pages), 0, &moved) == 0 else { throw .system("UFFDIO_MOVE") }
            return "\(moved)"
        default:
            throw WorkerFailure(message: "'\(command.verb)' is not a userfaultfd command")
        }
    }
}
