import Glibc

/// Everything that can go wrong in the netlink exchange itself, each case carrying what a person
/// needs to act on it (a system call of the socket's that fails is a `SystemCallError`).
public enum NetlinkError: Error, Equatable, CustomStringConvertible {
    /// The kernel refused a request: its errno and, when it sent one, its extack message.
    case kernel(operation: String, errno: Int32, message: String?, missingAttribute: UInt32?)
    /// A reply did not parse: a length out of bounds, a missing attribute, a wrong size.
    case malformed(String)
    /// A reply that does not belong to our request (sequence or port mismatch).
    case unexpectedReply(String)
    /// nlctrl does not know the family: its module is not loaded.
    case familyNotFound(String)

    public var errno: Int32? {
        switch self {
        case .kernel(_, let errno, _, _): return errno
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .kernel(operation, errno, message, missing):
            var text = "\(operation): \(ErrnoName(code: errno).explained)"
            if let message { text += ": \(message)" }
            if let missing { text += " [missing attribute \(missing)]" }
            return text
        case let .malformed(what):
            return "malformed netlink reply: \(what)"
        case let .unexpectedReply(what):
            return "unexpected netlink reply: \(what)"
        case let .familyNotFound(name):
            return "generic netlink family '\(name)' is not registered"
        }
    }
}
