import Glibc

/// A system call that failed: the call, with what it was called on ("open(/proc/1/pagemap)"),
/// and its errno. The one error for every call this package makes outside the netlink protocol's
/// own refusals (NetlinkError.kernel), as swift-system's `Errno` is for its calls: the value read
/// right after the call, its name and its text from one table (`ErrnoName`).
public struct SystemCallError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    /// errno as the failed call left it: read here, right after it.
    public init(_ call: String) { self.init(call, errno: Glibc.errno) }

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// "open(/proc/1/pagemap) failed: EACCES (Permission denied)".
    public var description: String { "\(call) failed: \(ErrnoName(code: errno).explained)" }
}

/// `body` called again while it fails with EINTR (a signal arrived before it did anything), as
/// `valueOrErrno(retryOnInterrupt:_:)` in swift-system's Sources/System/Util.swift does for its
/// own calls: a result of -1 with errno EINTR is retried, any other result returned.
func retryingInterrupted<I: FixedWidthInteger>(_ body: () -> I) -> I {
    while true {
        let result = body()
        if result != -1 || Glibc.errno != EINTR { return result }
    }
}
