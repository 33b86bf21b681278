/// Reads little-endian (host order on every Linux target pteinspect supports) integers from a
/// byte slice, checking every bound. Never traps on short input: it throws.
struct ByteReader {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The unsigned integer of `width` bytes at `offset` from the start of the slice.
    func unsigned(at offset: Int, width: Int, what: String) throws -> UInt64 {
        guard offset >= 0, width > 0, width <= 8, offset <= bytes.count - width else {
            throw NetlinkError.malformed("\(what): need \(width) bytes at offset \(offset), have \(bytes.count)")
        }
        var value: UInt64 = 0
        let base = bytes.startIndex + offset
        for i in (0..<width).reversed() {
            value = (value << 8) | UInt64(bytes[base + i])
        }
        return value
    }

    func u16(at offset: Int, _ what: String) throws -> UInt16 {
        UInt16(try unsigned(at: offset, width: 2, what: what))
    }

    func u32(at offset: Int, _ what: String) throws -> UInt32 {
        UInt32(try unsigned(at: offset, width: 4, what: what))
    }

    func s32(at offset: Int, _ what: String) throws -> Int32 {
        Int32(bitPattern: try u32(at: offset, what))
    }
}

/// Appends little-endian integers; the inverse of `ByteReader`, used to build test input and
/// attributes.
extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Netlink's 4-byte alignment (NLMSG_ALIGN / NLA_ALIGN).
@inline(__always)
func netlinkAlign(_ length: Int) -> Int { (length + 3) & ~3 }
