import CPteInspect
import Glibc

/// A generic-netlink family as nlctrl (CTRL_CMD_GETFAMILY) describes it.
public struct GenericFamily: Equatable {
    public let name: String
    public let id: UInt16
    public let version: UInt32
    public let maxAttribute: UInt32

    /// Asks nlctrl for the family called `name`. An unknown family is `.familyNotFound`.
    public static func resolve(_ name: String, on socket: GenericNetlinkSocket) throws -> GenericFamily {
        let request = GenericRequest(
            family: UInt16(GENL_ID_CTRL), command: UInt8(CTRL_CMD_GETFAMILY), version: 1,
            attributes: [.string(UInt16(CTRL_ATTR_FAMILY_NAME), name)])
        let replies: [GenericMessage]
        do {
            replies = try socket.transact(request, operation: "resolve generic netlink family '\(name)'")
        } catch let error as NetlinkError where error.errno == ENOENT {
            throw NetlinkError.familyNotFound(name)
        }
        guard let reply = replies.first else {
            throw NetlinkError.malformed("nlctrl acked without describing family '\(name)'")
        }
        let table = reply.table
        return GenericFamily(
            name: try table.required(UInt16(CTRL_ATTR_FAMILY_NAME), "CTRL_ATTR_FAMILY_NAME").string(),
            id: try table.required(UInt16(CTRL_ATTR_FAMILY_ID), "CTRL_ATTR_FAMILY_ID").u16(),
            version: try table.required(UInt16(CTRL_ATTR_VERSION), "CTRL_ATTR_VERSION").u32(),
            maxAttribute: try table[UInt16(CTRL_ATTR_MAXATTR)]?.u32() ?? 0)
    }
}
