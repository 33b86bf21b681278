import Glibc

/// errno values by name and names by value, one table (the CLI's outcome checks, a worker's
/// failure replies, scenario files' `errno: EIO`). Generated from the kernel's UAPI
/// include/uapi/asm-generic/errno-base.h and errno.h (x86-64 uses the generic numbers; Debian's
/// linux-libc-dev ships them as /usr/include/asm-generic/errno*.h), 131 names; the two
/// aliases there (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK) are accepted by name.
public struct ErrnoName: Hashable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(code: Int32) { self.code = code }

    /// nil for a name the kernel does not define.
    public init?(_ name: String) {
        guard let code = ErrnoName.byName[name] else { return nil }
        self.code = code
    }

    /// "EIO"; "errno N" for a value the table lacks.
    public var name: String { ErrnoName.byCode[code] ?? "errno \(code)" }
    public var description: String { name }
    /// The C library's text for it ("Input/output error"): strerror(3), called here only.
    public var message: String { String(cString: strerror(code)) }
    /// "EIO (Input/output error)".
    public var explained: String { "\(name) (\(message))" }

    static let table: [(Int32, String)] = [
        (1, "EPERM"),
        (2, "ENOENT"),
        (3, "ESRCH"),
        (4, "EINTR"),
        (5, "EIO"),
        (6, "ENXIO"),
        (7, "E2BIG"),
        (8, "ENOEXEC"),
        (9, "EBADF"),
        (10, "ECHILD"),
        (11, "EAGAIN"),
        (12, "ENOMEM"),
        (13, "EACCES"),
        (14, "EFAULT"),
        (15, "ENOTBLK"),
        (16, "EBUSY"),
        (17, "EEXIST"),
        (18, "EXDEV"),
        (19, "ENODEV"),
        (20, "ENOTDIR"),
        (21, "EISDIR"),
        (22, "EINVAL"),
        (23, "ENFILE"),
        (24, "EMFILE"),
        (25, "ENOTTY"),
        (26, "ETXTBSY"),
        (27, "EFBIG"),
        (28, "ENOSPC"),
        (29, "ESPIPE"),
        (30, "EROFS"),
        (31, "EMLINK"),
        (32, "EPIPE"),
        (33, "EDOM"),
        (34, "ERANGE"),
        (35, "EDEADLK"),
        (36, "ENAMETOOLONG"),
        (37, "ENOLCK"),
        (38, "ENOSYS"),
        (39, "ENOTEMPTY"),
        (40, "ELOOP"),
        (42, "ENOMSG"),
        (43, "EIDRM"),
        (44, "ECHRNG"),
        (45, "EL2NSYNC"),
        (46, "EL3HLT"),
        (47, "EL3RST"),
        (48, "ELNRNG"),
        (49, "EUNATCH"),
        (50, "ENOCSI"),
        (51, "EL2HLT"),
        (52, "EBADE"),
        (53, "EBADR"),
        (54, "EXFULL"),
        (55, "ENOANO"),
        (56, "EBADRQC"),
        (57, "EBADSLT"),
        (59, "EBFONT"),
        (60, "ENOSTR"),
        (61, "ENODATA"),
        (62, "ETIME"),
        (63, "ENOSR"),
        (64, "ENONET"),
        (65, "ENOPKG"),
        (66, "EREMOTE"),
        (67, "ENOLINK"),
        (68, "EADV"),
        (69, "ESRMNT"),
        (70, "ECOMM"),
        (71, "EPROTO"),
        (72, "EMULTIHOP"),
        (73, "EDOTDOT"),
        (74, "EBADMSG"),
        (75, "EOVERFLOW"),
        (76, "ENOTUNIQ"),
        (77, "EBADFD"),
        (78, "EREMCHG"),
        (79, "ELIBACC"),
        (80, "ELIBBAD"),
        (81, "ELIBSCN"),
        (82, "ELIBMAX"),
        (83, "ELIBEXEC"),
        (84, "EILSEQ"),
        (85, "ERESTART"),
        (86, "ESTRPIPE"),
        (87, "EUSERS"),
        (88, "ENOTSOCK"),
        (89, "EDESTADDRREQ"),
        (90, "EMSGSIZE"),
        (91, "EPROTOTYPE"),
        (92, "ENOPROTOOPT"),
        (93, "EPROTONOSUPPORT"),
        (94, "ESOCKTNOSUPPORT"),
        (95, "EOPNOTSUPP"),
        (96, "EPFNOSUPPORT"),
        (97, "EAFNOSUPPORT"),
        (98, "EADDRINUSE"),
        (99, "EADDRNOTAVAIL"),
        (100, "ENETDOWN"),
        (101, "ENETUNREACH"),
        (102, "ENETRESET"),
        (103, "ECONNABORTED"),
        (104, "ECONNRESET"),
        (105, "ENOBUFS"),
        (106, "EISCONN"),
        (107, "ENOTCONN"),
        (108, "ESHUTDOWN"),
        (109, "ETOOMANYREFS"),
        (110, "ETIMEDOUT"),
        (111, "ECONNREFUSED"),
        (112, "EHOSTDOWN"),
        (113, "EHOSTUNREACH"),
        (114, "EALREADY"),
        (115, "EINPROGRESS"),
        (116, "ESTALE"),
        (117, "EUCLEAN"),
        (118, "ENOTNAM"),
        (119, "ENAVAIL"),
        (120, "EISNAM"),
        (121, "EREMOTEIO"),
        (122, "EDQUOT"),
        (123, "ENOMEDIUM"),
        (124, "EMEDIUMTYPE"),
        (125, "ECANCELED"),
        (126, "ENOKEY"),
        (127, "EKEYEXPIRED"),
        (128, "EKEYREVOKED"),
        (129, "EKEYREJECTED"),
        (130, "EOWNERDEAD"),
        (131, "ENOTRECOVERABLE"),
        (132, "ERFKILL"),
        (133, "EHWPOISON"),
    ]
    static let byCode: [Int32: String] = Dictionary(table.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
    static let byName: [String: Int32] = Dictionary(table.map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first })
        .merging(["EWOULDBLOCK": 11, "EDEADLOCK": 35]) { first, _ in first }

    /// Every name, for an error message that lists them.
    public static var allNames: [String] { table.map(\.1) }

    // The names as values (`.fails(.EINVAL)`), in the kernel's spelling.
    public static let EPERM = ErrnoName(code: 1)
    public static let ENOENT = ErrnoName(code: 2)
    public static let ESRCH = ErrnoName(code: 3)
    public static let EINTR = ErrnoName(code: 4)
    public static let EIO = ErrnoName(code: 5)
    public static let ENXIO = ErrnoName(code: 6)
    public static let E2BIG = ErrnoName(code: 7)
    public static let ENOEXEC = ErrnoName(code: 8)
    public static let EBADF = ErrnoName(code: 9)
    public static let ECHILD = ErrnoName(code: 10)
    public static let EAGAIN = ErrnoName(code: 11)
    public static let ENOMEM = ErrnoName(code: 12)
    public static let EACCES = ErrnoName(code: 13)
    public static let EFAULT = ErrnoName(code: 14)
    public static let ENOTBLK = ErrnoName(code: 15)
    public static let EBUSY = ErrnoName(code: 16)
    public static let EEXIST = ErrnoName(code: 17)
    public static let EXDEV = ErrnoName(code: 18)
    public static let ENODEV = ErrnoName(code: 19)
    public static let ENOTDIR = ErrnoName(code: 20)
    public static let EISDIR = ErrnoName(code: 21)
    public static let EINVAL = ErrnoName(code: 22)
    public static let ENFILE = ErrnoName(code: 23)
    public static let EMFILE = ErrnoName(code: 24)
    public static let ENOTTY = ErrnoName(code: 25)
    public static let ETXTBSY = ErrnoName(code: 26)
    public static let EFBIG = ErrnoName(code: 27)
    public static let ENOSPC = ErrnoName(code: 28)
    public static let ESPIPE = ErrnoName(code: 29)
    public static let EROFS = ErrnoName(code: 30)
    public static let EMLINK = ErrnoName(code: 31)
    public static let EPIPE = ErrnoName(code: 32)
    public static let EDOM = ErrnoName(code: 33)
    public static let ERANGE = ErrnoName(code: 34)
    public static let EDEADLK = ErrnoName(code: 35)
    public static let ENAMETOOLONG = ErrnoName(code: 36)
    public static let ENOLCK = ErrnoName(code: 37)
    public static let ENOSYS = ErrnoName(code: 38)
    public static let ENOTEMPTY = ErrnoName(code: 39)
    public static let ELOOP = ErrnoName(code: 40)
    public static let ENOMSG = ErrnoName(code: 42)
    public static let EIDRM = ErrnoName(code: 43)
    public static let ECHRNG = ErrnoName(code: 44)
    public static let EL2NSYNC = ErrnoName(code: 45)
    public static let EL3HLT = ErrnoName(code: 46)
    public static let EL3RST = ErrnoName(code: 47)
    public static let ELNRNG = ErrnoName(code: 48)
    public static let EUNATCH = ErrnoName(code: 49)
    public static let ENOCSI = ErrnoName(code: 50)
    public static let EL2HLT = ErrnoName(code: 51)
    public static let EBADE = ErrnoName(code: 52)
    public static let EBADR = ErrnoName(code: 53)
    public static let EXFULL = ErrnoName(code: 54)
    public static let ENOANO = ErrnoName(code: 55)
    public static let EBADRQC = ErrnoName(code: 56)
    public static let EBADSLT = ErrnoName(code: 57)
    public static let EBFONT = ErrnoName(code: 59)
    public static let ENOSTR = ErrnoName(code: 60)
    public static let ENODATA = ErrnoName(code: 61)
    public static let ETIME = ErrnoName(code: 62)
    public static let ENOSR = ErrnoName(code: 63)
    public static let ENONET = ErrnoName(code: 64)
    public static let ENOPKG = ErrnoName(code: 65)
    public static let EREMOTE = ErrnoName(code: 66)
    public static let ENOLINK = ErrnoName(code: 67)
    public static let EADV = ErrnoName(code: 68)
    public static let ESRMNT = ErrnoName(code: 69)
    public static let ECOMM = ErrnoName(code: 70)
    public static let EPROTO = ErrnoName(code: 71)
    public static let EMULTIHOP = ErrnoName(code: 72)
    public static let EDOTDOT = ErrnoName(code: 73)
    public static let EBADMSG = ErrnoName(code: 74)
    public static let EOVERFLOW = ErrnoName(code: 75)
    public static let ENOTUNIQ = ErrnoName(code: 76)
    public static let EBADFD = ErrnoName(code: 77)
    public static let EREMCHG = ErrnoName(code: 78)
    public static let ELIBACC = ErrnoName(code: 79)
    public static let ELIBBAD = ErrnoName(code: 80)
    public static let ELIBSCN = ErrnoName(code: 81)
    public static let ELIBMAX = ErrnoName(code: 82)
    public static let ELIBEXEC = ErrnoName(code: 83)
    public static let EILSEQ = ErrnoName(code: 84)
    public static let ERESTART = ErrnoName(code: 85)
    public static let ESTRPIPE = ErrnoName(code: 86)
    public static let EUSERS = ErrnoName(code: 87)
    public static let ENOTSOCK = ErrnoName(code: 88)
    public static let EDESTADDRREQ = ErrnoName(code: 89)
    public static let EMSGSIZE = ErrnoName(code: 90)
    public static let EPROTOTYPE = ErrnoName(code: 91)
    public static let ENOPROTOOPT = ErrnoName(code: 92)
    public static let EPROTONOSUPPORT = ErrnoName(code: 93)
    public static let ESOCKTNOSUPPORT = ErrnoName(code: 94)
    public static let EOPNOTSUPP = ErrnoName(code: 95)
    public static let EPFNOSUPPORT = ErrnoName(code: 96)
    public static let EAFNOSUPPORT = ErrnoName(code: 97)
    public static let EADDRINUSE = ErrnoName(code: 98)
    public static let EADDRNOTAVAIL = ErrnoName(code: 99)
    public static let ENETDOWN = ErrnoName(code: 100)
    public static let ENETUNREACH = ErrnoName(code: 101)
    public static let ENETRESET = ErrnoName(code: 102)
    public static let ECONNABORTED = ErrnoName(code: 103)
    public static let ECONNRESET = ErrnoName(code: 104)
    public static let ENOBUFS = ErrnoName(code: 105)
    public static let EISCONN = ErrnoName(code: 106)
    public static let ENOTCONN = ErrnoName(code: 107)
    public static let ESHUTDOWN = ErrnoName(code: 108)
    public static let ETOOMANYREFS = ErrnoName(code: 109)
    public static let ETIMEDOUT = ErrnoName(code: 110)
    public static let ECONNREFUSED = ErrnoName(code: 111)
    public static let EHOSTDOWN = ErrnoName(code: 112)
    public static let EHOSTUNREACH = ErrnoName(code: 113)
    public static let EALREADY = ErrnoName(code: 114)
    public static let EINPROGRESS = ErrnoName(code: 115)
    public static let ESTALE = ErrnoName(code: 116)
    public static let EUCLEAN = ErrnoName(code: 117)
    public static let ENOTNAM = ErrnoName(code: 118)
    public static let ENAVAIL = ErrnoName(code: 119)
    public static let EISNAM = ErrnoName(code: 120)
    public static let EREMOTEIO = ErrnoName(code: 121)
    public static let EDQUOT = ErrnoName(code: 122)
    public static let ENOMEDIUM = ErrnoName(code: 123)
    public static let EMEDIUMTYPE = ErrnoName(code: 124)
    public static let ECANCELED = ErrnoName(code: 125)
    public static let ENOKEY = ErrnoName(code: 126)
    public static let EKEYEXPIRED = ErrnoName(code: 127)
    public static let EKEYREVOKED = ErrnoName(code: 128)
    public static let EKEYREJECTED = ErrnoName(code: 129)
    public static let EOWNERDEAD = ErrnoName(code: 130)
    public static let ENOTRECOVERABLE = ErrnoName(code: 131)
    public static let ERFKILL = ErrnoName(code: 132)
    public static let EHWPOISON = ErrnoName(code: 133)
}
