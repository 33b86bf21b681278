import Foundation
import TestResults
import XCTest

/// The YNL spec (kmod/pteinspect.yaml) and the UAPI header (kmod/include/uapi/linux/pteinspect.h)
/// describe the same protocol: same names, same numbers. Both files are parsed here; no number is
/// written in this test.
final class SpecAgreementTests: ObservedTestCase {
    private static let kmod = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("kmod")

    private func header() throws -> String {
        try String(contentsOf: Self.kmod.appendingPathComponent("include/uapi/linux/pteinspect.h"), encoding: .utf8)
    }

    private func spec() throws -> [String] {
        try String(contentsOf: Self.kmod.appendingPathComponent("pteinspect.yaml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// C enum `name`: constant -> value (implicit values count up from the previous one).
    private func cEnum(_ name: String) throws -> [String: Int] {
        let text = try header()
        guard let open = text.range(of: "enum \(name) {"), let close = text.range(of: "};", range: open.upperBound..<text.endIndex) else {
            throw XCTSkip("enum \(name) not in header")
        }
        var values: [String: Int] = [:]
        var next = 0
        for rawLine in text[open.upperBound..<close.lowerBound].split(separator: "\n") {
            let line = rawLine.split(separator: "/").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            guard line.hasPrefix("PTEINSPECT_"), !line.hasPrefix("__") else { continue }
            let parts = line.trimmingCharacters(in: CharacterSet(charactersIn: ",")).split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let explicit = Int(parts[1]) { next = explicit } else if parts.count == 2 { continue }
            values[parts[0]] = next
            next += 1
        }
        return values
    }

    /// `#define PREFIX<NAME> (1ULL << n)` -> NAME: n
    private func cFlags(_ prefix: String) throws -> [String: Int] {
        var bits: [String: Int] = [:]
        for line in try header().split(separator: "\n") where line.hasPrefix("#define \(prefix)") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 4, let shift = words.firstIndex(of: "<<"), shift + 1 < words.count,
                  let bit = Int(words[shift + 1].trimmingCharacters(in: CharacterSet(charactersIn: ")"))) else { continue }
            bits[String(words[1])] = bit
        }
        return bits
    }

    /// The `entries` of the definition called `name`, in order (inline list or one per line).
    private func specEntries(_ name: String) throws -> [String] {
        let lines = try spec()
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "name: \(name)" }) else {
            XCTFail("definition \(name) missing from the spec"); return []
        }
        var i = start + 1
        while i < lines.count, !lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("entries:") { i += 1 }
        guard i < lines.count else { return [] }
        let inline = lines[i].trimmingCharacters(in: .whitespaces).dropFirst("entries:".count).trimmingCharacters(in: .whitespaces)
        if inline.hasPrefix("[") {
            return inline.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var entries: [String] = []
        i += 1
        let itemIndent = i < lines.count ? lines[i].prefix(while: { $0 == " " }).count : 0
        while i < lines.count, lines[i].prefix(while: { $0 == " " }).count == itemIndent,
              lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("- ") {
            let item = lines[i].trimmingCharacters(in: .whitespaces).dropFirst(2)
            entries.append(String(item.hasPrefix("name: ") ? item.dropFirst("name: ".count) : item))
            i += 1
            // an entry written as an object: its other keys (doc...) are indented deeper
            while i < lines.count, lines[i].prefix(while: { $0 == " " }).count > itemIndent { i += 1 }
        }
        return entries
    }

    /// Named items of a list section (attributes or operations): name -> value, implicit values
    /// counting up from the previous one (YNL's rule).
    private func specItems(after marker: String) throws -> [String: Int] {
        let lines = try spec()
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == marker }) else {
            XCTFail("\(marker) missing from the spec"); return [:]
        }
        let indent = lines[start + 1].prefix(while: { $0 == " " }).count
        var items: [String: Int] = [:]
        var next = 1
        var current: String?
        for line in lines[(start + 1)...] {
            let depth = line.prefix(while: { $0 == " " }).count
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if depth < indent || (depth == indent && !text.hasPrefix("- ")) { break }
            if depth == indent, text.hasPrefix("- name: ") {
                current = String(text.dropFirst("- name: ".count))
                items[current!] = next
                next += 1
            } else if depth == indent + 2, text.hasPrefix("value: "), let name = current, let value = Int(text.dropFirst("value: ".count)) {
                items[name] = value
                next = value + 1
            }
        }
        return items
    }

    private func cName(_ prefix: String, _ specName: String) -> String {
        prefix + specName.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    func testAttributesAgree() throws {
        let header = try cEnum("pteinspect_attr")
        let spec = try specItems(after: "attributes:")
        XCTAssertFalse(spec.isEmpty)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: spec.map { (cName("PTEINSPECT_A_", $0.key), $0.value) }), header)
    }

    func testCommandsAgree() throws {
        let header = try cEnum("pteinspect_cmd")
        let spec = try specItems(after: "list:")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: spec.map { (cName("PTEINSPECT_CMD_", $0.key), $0.value) }), header)
    }

    func testEnumsAgree() throws {
        for (definition, cEnumName, prefix) in [("level", "pteinspect_level", "PTEINSPECT_LEVEL_"), ("entry-kind", "pteinspect_entry_kind", "PTEINSPECT_KIND_"),
                                                ("normal", "pteinspect_normal", "PTEINSPECT_NORMAL_"), ("mapping-kind", "pteinspect_mapping_kind", "PTEINSPECT_MAPPING_")] {
            let entries = try specEntries(definition)
            let spec = Dictionary(uniqueKeysWithValues: entries.enumerated().map { (cName(prefix, $0.element), $0.offset) })
            XCTAssertEqual(spec, try cEnum(cEnumName), definition)
        }
    }

    func testFlagsAgree() throws {
        for (definition, prefix) in [("feature", "PTEINSPECT_FEAT_"), ("entry-flags", "PTEINSPECT_EF_"), ("page-flags", "PTEINSPECT_PF_"), ("vm-flags", "PTEINSPECT_VMF_"),
                                    ("pte-marker", "PTEINSPECT_MARKER_"), ("has", "PTEINSPECT_HAS_")] {
            let entries = try specEntries(definition)
            let spec = Dictionary(uniqueKeysWithValues: entries.enumerated().map { (cName(prefix, $0.element), $0.offset) })
            XCTAssertEqual(spec, try cFlags(prefix), definition)
        }
    }

    /// struct pteinspect_entry (the header) and the spec's struct entry: the same members, in
    /// the same order, of the same types, so ynl decodes every field at the module's offset.
    func testEntryStructAgrees() throws {
        let text = try header()
        guard let open = text.range(of: "struct pteinspect_entry {"), let close = text.range(of: "};", range: open.upperBound..<text.endIndex) else {
            return XCTFail("struct pteinspect_entry not in the header")
        }
        var cMembers: [String] = []
        for rawLine in text[open.upperBound..<close.lowerBound].split(separator: "\n") {
            let words = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0].hasPrefix("__"), words[1].hasSuffix(";") else { continue }
            let name = words[1].dropLast().replacingOccurrences(of: "_", with: "-")
            if let bracket = name.firstIndex(of: "[") {   // an array member: binary in the spec
                cMembers.append("binary \(name[..<bracket])")
            } else {
                cMembers.append("\(words[0].dropFirst(2)) \(name)")
            }
        }
        let lines = try spec()
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "name: entry" }),
              let membersLine = lines[start...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "members:" }) else {
            return XCTFail("struct entry missing from the spec")
        }
        var specMembers: [String] = []
        var name: String?
        let indent = lines[membersLine + 1].prefix(while: { $0 == " " }).count
        for line in lines[(membersLine + 1)...] {
            let depth = line.prefix(while: { $0 == " " }).count
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if depth < indent { break }
            if depth == indent, text.hasPrefix("- name: ") { name = String(text.dropFirst("- name: ".count)) }
            if depth == indent + 2, text.hasPrefix("type: "), let current = name { specMembers.append("\(text.dropFirst("type: ".count)) \(current)") }
        }
        XCTAssertEqual(cMembers.count, 24)
        XCTAssertEqual(specMembers, cMembers)
    }
}
