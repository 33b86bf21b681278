/// A JSON value that keeps object keys in the order they were written, so output reads the way
/// the documentation lists the fields. 64-bit quantities a reader may want in hex (addresses, raw
/// entries) are written as "0x..." strings: JSON numbers lose precision above 2^53.
public indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// JSON text rendered before, inserted as it is (RunReporter renders each scenario once, not
    /// again in every rewrite of `--json-out`). Not indented by `pretty`.
    case raw(String)

    public static func hex(_ value: UInt64) -> JSONValue { .string("0x" + String(value, radix: 16)) }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered() == rhs.rendered() }

    public func rendered(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, depth: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, depth: Int) {
        let newline = pretty ? "\n" + String(repeating: "  ", count: depth + 1) : ""
        let closing = pretty ? "\n" + String(repeating: "  ", count: depth) : ""
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .int(value): out += String(value)
        case let .uint(value): out += String(value)
        case let .string(value): out += Self.quote(value)
        case let .raw(text): out += text
        case let .array(values):
            if values.isEmpty { out += "[]"; return }
            out += "["
            for (i, value) in values.enumerated() {
                out += (i == 0 ? "" : ",") + newline
                value.write(into: &out, pretty: pretty, depth: depth + 1)
            }
            out += closing + "]"
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                out += (i == 0 ? "" : ",") + newline + Self.quote(key) + (pretty ? ": " : ":")
                value.write(into: &out, pretty: pretty, depth: depth + 1)
            }
            out += closing + "}"
        }
    }

    static func quote(_ text: String) -> String {
        // Most strings need no escape: copy them whole (per-scalar appends were a report's cost).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c || $0 == 0x7f }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:   // DEL too: YAML, which reuses this, does not print it
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
