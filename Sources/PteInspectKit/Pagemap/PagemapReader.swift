import Glibc

/// Reads the pagemap files of one process (no module needed). PFNs and kpageflags need
/// CAP_SYS_ADMIN; without it they are nil.
public final class PagemapReader {
    private let pid: Int32
    private let pagemap: Int32
    private let kpageflags: Int32
    private let kpagecount: Int32
    public let pageSize: UInt64 = SystemPage.size

    public init(pid: Int32) throws {
        self.pid = pid
        pagemap = open("/proc/\(pid)/pagemap", O_RDONLY | O_CLOEXEC)
        guard pagemap >= 0 else {
            throw NetlinkError.system(call: "open(/proc/\(pid)/pagemap)", errno: errno)
        }
        kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC)
        kpagecount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC)
    }

    deinit {
        close(pagemap)
        if kpageflags >= 0 { close(kpageflags) }
        if kpagecount >= 0 { close(kpagecount) }
    }

    /// The pages of [start, end) that are present or swapped, in order.
    public func entries(start: UInt64, end: UInt64) throws -> [PagemapEntry] {
        var result: [PagemapEntry] = []
        try forEachEntry(start: start, end: end) { result.append($0) }
        return result
    }

    /// Streams the pages of [start, end) that are present or swapped, in order, reading pagemap
    /// 4096 words at a time (constant memory for any range), and only inside the VMAs that
    /// /proc/PID/maps lists: holes between them are skipped instead of read as zeros (a
    /// 128 TiB range would otherwise be 8 million reads).
    public func forEachEntry(start: UInt64, end: UInt64, _ body: (PagemapEntry) throws -> Void) throws {
        guard end > start else { return }
        for (low, high) in try mappedRanges() where high > start && low < end {
            try forEachEntryInRange(start: max(low, start), end: min(high, end), body)
        }
    }

    /// [start, end) of every VMA, from /proc/PID/maps, in address order.
    private func mappedRanges() throws -> [(UInt64, UInt64)] {
        let fd = open("/proc/\(pid)/maps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError.system(call: "open(/proc/\(pid)/maps)", errno: errno) }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw NetlinkError.system(call: "read(/proc/\(pid)/maps)", errno: errno)
            }
            if got == 0 { break }
            text += chunk[0..<got]
        }
        var ranges: [(UInt64, UInt64)] = []
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let field = line.prefix { $0 != UInt8(ascii: " ") }
            let parts = field.split(separator: UInt8(ascii: "-"))
            guard parts.count == 2, let low = UInt64(String(decoding: parts[0], as: UTF8.self), radix: 16),
                  let high = UInt64(String(decoding: parts[1], as: UTF8.self), radix: 16), high > low else { continue }
            ranges.append((low, high))
        }
        return ranges
    }

    private func forEachEntryInRange(start: UInt64, end: UInt64, _ body: (PagemapEntry) throws -> Void) throws {
        guard end > start else { return }
        let batch: UInt64 = 4096
        var page = start / pageSize
        let last = (end - 1) / pageSize
        while page <= last {
            let count = Int(min(batch, last - page + 1))
            let words = try readWords(pagemap, at: page, count: count, what: "pagemap")
            for (i, word) in words.enumerated() where word & (PagemapEntry.present | PagemapEntry.swapped) != 0 {
                var entry = PagemapEntry(address: (page + UInt64(i)) * pageSize, word: word, pageFlags: nil, mapcount: nil)
                if let pfn = entry.pfn {
                    entry = PagemapEntry(address: entry.address, word: word,
                                         pageFlags: try? readWords(kpageflags, at: pfn, count: 1, what: "kpageflags").first,
                                         mapcount: try? readWords(kpagecount, at: pfn, count: 1, what: "kpagecount").first)
                }
                try body(entry)
            }
            page += UInt64(count)
        }
    }

    private func readWords(_ fd: Int32, at index: UInt64, count: Int, what: String) throws -> [UInt64] {
        guard fd >= 0 else { throw NetlinkError.system(call: "open(/proc/\(what))", errno: EACCES) }
        var words = [UInt64](repeating: 0, count: count)
        let wanted = count * 8
        let got = words.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(Int64(bitPattern: index &* 8))) }
        guard got == wanted else {
            throw NetlinkError.system(call: "pread(\(what))", errno: got < 0 ? errno : EIO)
        }
        return words
    }
}
