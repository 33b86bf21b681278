import CPteInspect
import Glibc

/// The worker's userfaultfd commands (see WorkerLoop). One context per worker; ranges are
/// registered explicitly. A fault on a registered page that nobody resolves would block the
/// worker, so scenarios fill MISSING ranges with COPY/ZEROPAGE before touching them and resolve
/// write protection before writing.
enum Userfault {
    static func run(_ words: [String], fd: inout Int32) -> String {
        let pageSize = SystemPage.size
        func address(_ i: Int) -> UInt64? {
            guard words.count > i else { return nil }
            let text = words[i]
            return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        func length(_ i: Int) -> UInt64? {
            guard words.count > i, let pages = UInt64(words[i]), pages > 0, pages < (1 << 30) else { return nil }
            return pages * pageSize
        }
        if words[0] == "uffd-open" {
            guard words.count <= 2, words.count == 1 || words[1] == "move" else { return "error usage: uffd-open [move]" }
            if fd >= 0 { close(fd); fd = -1 }
            var features: UInt64 = 0, ioctls: UInt64 = 0
            let wanted: UInt64 = words.count == 2 ? UInt64(PTI_UFFD_FEATURE_MOVE) : 0
            let opened = pti_uffd_open(wanted, &features, &ioctls)
            guard opened >= 0 else { return WorkerLoop.failure("userfaultfd/UFFDIO_API(features 0x\(String(wanted, radix: 16)))") }
            fd = opened
            return "ok features=0x\(String(features, radix: 16)) ioctls=0x\(String(ioctls, radix: 16))"
        }
        guard fd >= 0 else { return "error no userfaultfd: send uffd-open first" }
        switch words[0] {
        case "uffd-register":
            let modes: [String: UInt64] = [
                "missing": UInt64(UFFDIO_REGISTER_MODE_MISSING), "wp": UInt64(UFFDIO_REGISTER_MODE_WP),
                "minor": UInt64(UFFDIO_REGISTER_MODE_MINOR),
            ]
            guard words.count == 4, let start = address(1), let len = length(2) else {
                return "error usage: uffd-register ADDR PAGES missing|wp|minor[,...]"
            }
            var mode: UInt64 = 0
            for name in words[3].split(separator: ",") {
                guard let bit = modes[String(name)] else { return "error unknown register mode '\(name)'" }
                mode |= bit
            }
            var ioctls: UInt64 = 0
            guard pti_uffd_register(fd, start, len, mode, &ioctls) == 0 else { return WorkerLoop.failure("UFFDIO_REGISTER") }
            return "ok ioctls=0x\(String(ioctls, radix: 16))"
        case "uffd-copy":
            guard words.count == 3 || (words.count == 4 && words[3] == "wp"), let start = address(1), let len = length(2) else {
                return "error usage: uffd-copy ADDR PAGES [wp]"
            }
            let source = [UInt8](repeating: 0xa5, count: Int(len))
            var copied: Int64 = 0
            let mode: UInt64 = words.count == 4 ? UInt64(UFFDIO_COPY_MODE_WP) : 0
            let result = source.withUnsafeBytes {
                pti_uffd_copy(fd, start, UInt64(UInt(bitPattern: $0.baseAddress)), len, mode, &copied)
            }
            return result == 0 ? "ok \(copied)" : WorkerLoop.failure("UFFDIO_COPY")
        case "uffd-zeropage":
            guard words.count == 3, let start = address(1), let len = length(2) else { return "error usage: uffd-zeropage ADDR PAGES" }
            var zeroed: Int64 = 0
            return pti_uffd_zeropage(fd, start, len, 0, &zeroed) == 0 ? "ok \(zeroed)" : WorkerLoop.failure("UFFDIO_ZEROPAGE")
        case "uffd-continue":
            guard words.count == 3, let start = address(1), let len = length(2) else { return "error usage: uffd-continue ADDR PAGES" }
            var mapped: Int64 = 0
            return pti_uffd_continue(fd, start, len, 0, &mapped) == 0 ? "ok \(mapped)" : WorkerLoop.failure("UFFDIO_CONTINUE")
        case "uffd-wp":
            guard words.count == 4, words[3] == "on" || words[3] == "off", let start = address(1), let len = length(2) else {
                return "error usage: uffd-wp ADDR PAGES on|off"
            }
            let mode: UInt64 = words[3] == "on" ? UInt64(UFFDIO_WRITEPROTECT_MODE_WP) : 0
            return pti_uffd_writeprotect(fd, start, len, mode) == 0 ? "ok" : WorkerLoop.failure("UFFDIO_WRITEPROTECT")
        case "uffd-move":
            guard words.count == 4, let source = address(1), let destination = address(2), let len = length(3) else {
                return "error usage: uffd-move SRC DST PAGES"
            }
            var moved: Int64 = 0
            return pti_uffd_move(fd, destination, source, len, 0, &moved) == 0 ? "ok \(moved)" : WorkerLoop.failure("UFFDIO_MOVE")
        default:
            return "error unknown command '\(words[0])'"
        }
    }
}
