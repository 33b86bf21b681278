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
            throw SystemCallError("open(/proc/\(pid)/pagemap)")
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
    /// `batch` words at a time (constant memory for any range), and only inside the VMAs that
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
        guard fd >= 0 else { throw SystemCallError("open(/proc/\(pid)/maps)") }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = retryingInterrupted { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if got < 0 { throw SystemCallError("read(/proc/\(pid)/maps)") }
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

    /// Words per pagemap read, and the most kpageflags / kpagecount read at once.
    static let batch = 16384

    /// One range inside one VMA, `batch` pagemap words at a time. kpageflags and kpagecount are
    /// read once per run of consecutive PFNs in a batch, not once per page (tools/mm/page-types.c
    /// reads them per page: two preads each; tools/bench's reference reader, in C, does the same
    /// as this). The three buffers are allocated once per reader.
    private func forEachEntryInRange(start: UInt64, end: UInt64, _ body: (PagemapEntry) throws -> Void) throws {
        guard end > start else { return }
        var page = start / pageSize
        let last = (end - 1) / pageSize
        let words = buffers.words, flags = buffers.flags, counts = buffers.counts
        while page <= last {
            let count = Int(min(UInt64(Self.batch), last - page + 1))
            try readWords(pagemap, into: words, at: page, count: count, what: "pagemap")
            var i = 0
            while i < count {
                let word = words[i]
                guard word & (PagemapEntry.present | PagemapEntry.swapped) != 0 else { i += 1; continue }
                var run = 1
                var haveFlags = false, haveCounts = false
                let frame = word & PagemapEntry.frameMask
                if word & PagemapEntry.present != 0, frame != 0 {
                    // the run of consecutive PFNs that starts here
                    while i + run < count, words[i + run] & PagemapEntry.present != 0,
                          words[i + run] & PagemapEntry.frameMask == frame &+ UInt64(run) { run += 1 }
                    let slice = UnsafeMutableBufferPointer(rebasing: flags[i..<(i + run)])
                    haveFlags = (try? readWords(kpageflags, into: slice, at: frame, count: run, what: "kpageflags")) != nil
                    haveCounts = (try? readWords(kpagecount, into: UnsafeMutableBufferPointer(rebasing: counts[i..<(i + run)]),
                                                 at: frame, count: run, what: "kpagecount")) != nil
                }
                for j in i..<(i + run) {
                    try body(PagemapEntry(address: (page + UInt64(j)) * pageSize, word: words[j],
                                          pageFlags: haveFlags ? flags[j] : nil, mapcount: haveCounts ? counts[j] : nil))
                }
                i += run
            }
            page += UInt64(count)
        }
    }

    /// The reader's three word buffers (pagemap, kpageflags, kpagecount), `batch` words each.
    private final class Buffers {
        let words = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: PagemapReader.batch)
        let flags = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: PagemapReader.batch)
        let counts = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: PagemapReader.batch)
        deinit { words.deallocate(); flags.deallocate(); counts.deallocate() }
    }

    private let buffers = Buffers()
    /// Bytes read from the three files so far (the benchmark reports it).
    public private(set) var bytesRead = 0

    private func readWords(_ fd: Int32, into buffer: UnsafeMutableBufferPointer<UInt64>, at index: UInt64, count: Int, what: String) throws {
        guard fd >= 0 else { throw SystemCallError("open(/proc/\(what))", errno: EACCES) }
        let wanted = count * 8
        let got = retryingInterrupted { pread(fd, buffer.baseAddress, wanted, off_t(Int64(bitPattern: index &* 8))) }
        guard got == wanted else {
            throw SystemCallError("pread(\(what))", errno: got < 0 ? errno : EIO)
        }
        bytesRead += got
    }
}
