import Glibc

/// Everything that can go wrong talking to the kernel, each case carrying what a person needs to
/// act on it.
public enum NetlinkError: Error, Equatable, CustomStringConvertible {
    /// The kernel refused a request: its errno and, when it sent one, its extack message.
    case kernel(operation: String, errno: Int32, message: String?, missingAttribute: UInt32?)
    /// A system call failed before the kernel could answer the request itself.
    case system(call: String, errno: Int32)
    /// A reply did not parse: a length out of bounds, a missing attribute, a wrong size.
    case malformed(String)
    /// A reply that does not belong to our request (sequence or port mismatch).
    case unexpectedReply(String)
    /// nlctrl does not know the family: its module is not loaded.
    case familyNotFound(String)

    public var errno: Int32? {
        switch self {
        case .kernel(_, let errno, _, _), .system(_, let errno): return errno
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .kernel(operation, errno, message, missing):
            var text = "\(operation): \(errnoName(errno)) (\(String(cString: strerror(errno))))"
            if let message { text += ": \(message)" }
            if let missing { text += " [missing attribute \(missing)]" }
            return text
        case let .system(call, errno):
            return "\(call) failed: \(errnoName(errno)) (\(String(cString: strerror(errno))))"
        case let .malformed(what):
            return "malformed netlink reply: \(what)"
        case let .unexpectedReply(what):
            return "unexpected netlink reply: \(what)"
        case let .familyNotFound(name):
            return "generic netlink family '\(name)' is not registered"
        }
    }
}

/// Symbolic errno names for the values this protocol uses; others print as numbers.
public func errnoName(_ value: Int32) -> String {
    switch value {
    case EPERM: return "EPERM"
    case ENOENT: return "ENOENT"
    case ESRCH: return "ESRCH"
    case EINTR: return "EINTR"
    case ENOMEM: return "ENOMEM"
    case EFAULT: return "EFAULT"
    case EBUSY: return "EBUSY"
    case EINVAL: return "EINVAL"
    case ERANGE: return "ERANGE"
    case EMSGSIZE: return "EMSGSIZE"
    case EOPNOTSUPP: return "EOPNOTSUPP"
    case ENOBUFS: return "ENOBUFS"
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT"
    default: return "errno \(value)"
    }
}
