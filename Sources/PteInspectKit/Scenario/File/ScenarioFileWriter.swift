/// Writes a scenario as a scenario file (docs/scenario-format.md): `pteinspect scenario export`.
/// The inverse of `ScenarioFile.parse` — parsing what this writes gives the same scenario (a host
/// test checks it for every scenario of the catalog).
public enum ScenarioFileWriter {
    public static func yaml(_ scenario: Scenario) -> String {
        var out = ""
        out += "name: \(scenario.baseName)\n"
        out += "title: \(scalar(scenario.title))\n"
        out += "summary:" + block(scenario.summary, indent: 2)
        if !scenario.documents.isEmpty { out += "documents: [" + scenario.documents.map { scalar($0, flow: true) }.joined(separator: ", ") + "]\n" }
        if !scenario.requirements.isEmpty {
            out += "requires: [" + scenario.requirements.map(requirementName).joined(separator: ", ") + "]\n"
        }
        if scenario.actors != ["parent"] { out += "actors: [" + scenario.actors.joined(separator: ", ") + "]\n" }
        // One run of a scenario over kinds is written as a scenario over that one kind (its
        // expectations for other kinds were dropped when it was read).
        if let kind = scenario.kind { out += "kinds: [\(kind)]\n" }
        if !scenario.watch.isEmpty { out += "watch: [" + scenario.watch.map(\.description).map(pageRefText).joined(separator: ", ") + "]\n" }
        // Named ranges once at the top, in order of first use (those of the shared library,
        // scenarios/lib/shared.yaml, are named only); unnamed ones are written in place.
        let shared = ((try? ScenarioLibrary.builtIn()) ?? .empty).kernels
        var ranges: [KernelRange] = []
        for step in scenario.steps {
            for expectation in step.expectations {
                for range in [expectation.kernels] + (expectation.knownBug?.kernels ?? []) {
                    guard let name = range.name, shared[name] == nil else { continue }
                    if !ranges.contains(where: { $0.name == name }) { ranges.append(range) }
                }
            }
        }
        if !ranges.isEmpty {
            out += "\nkernels:\n"
            for range in ranges { out += "  \(range.name ?? ""):\n" + rangeBody(range, indent: 4) }
        }
        out += "\nsteps:\n"
        for step in scenario.steps {
            out += "  - \(step.actor): \(scalar(actionText(step.action)))\n"
            if let label = step.label { out += "    label: \(label)\n" }
            guard !step.expectations.isEmpty else { continue }
            out += "    expect:\n"
            for expectation in step.expectations {
                out += "      - summary: \(scalar(expectation.summary))\n"
                if let name = expectation.kernels.name {
                    out += "        kernels: \(name)\n"
                } else {
                    out += "        kernels:\n" + rangeBody(expectation.kernels, indent: 10)
                }
                if !expectation.requirements.isEmpty {
                    out += "        requires: [" + expectation.requirements.map(requirementName).joined(separator: ", ") + "]\n"
                }
                if expectation.everyPage != nil { out += "        every-page: true\n" }
                if let bug = expectation.knownBug {
                    out += "        known-bug:\n          kernels:\n"
                    for range in bug.kernels {
                        if let name = range.name {
                            out += "            - \(name)\n"
                        } else {
                            out += "            -\n" + rangeBody(range, indent: 14)
                        }
                    }
                    out += "          bug: \(scalar(bug.bug))\n"
                }
                out += "        cite:\n" + citationBody(expectation.citation, indent: 10)
                out += "        check:\n"
                for assertion in expectation.assertions { out += "          - \(scalar(checkText(assertion)))\n" }
            }
        }
        return out
    }

    static func rangeBody(_ range: KernelRange, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var out = ""
        if let from = range.from { out += pad + "from: \"\(from)\"\n" }
        if let below = range.below { out += pad + "below: \"\(below)\"\n" }
        if !range.also.isEmpty {
            out += pad + "also: [" + range.also.map { interval in
                "{" + [interval.from.map { "from: \"\($0)\"" }, interval.below.map { "below: \"\($0)\"" }].compactMap { $0 }.joined(separator: ", ") + "}"
            }.joined(separator: ", ") + "]\n"
        }
        out += pad + "basis: \(scalar(range.basis))\n"
        if let note = range.note { out += pad + "note:" + block(note, indent: indent + 2) }
        return out
    }

    static func citationBody(_ citation: Citation, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var out = pad + "file: \(scalar(citation.file))\n" + pad + "function: \(scalar(citation.function))\n"
        if let detail = citation.detail { out += pad + "detail: \(scalar(detail))\n" }
        if let document = citation.document { out += pad + "document: \(scalar(document))\n" }
        return out
    }

    static func requirementName(_ requirement: Requirement) -> String {
        ScenarioFileReader.requirementNames.first { $0.value == requirement }?.key ?? "\(requirement)"
    }

    static func pageRefText(_ text: String) -> String { text }

    // MARK: The one-line forms (ScenarioGrammar's inverses)

    static func actionText(_ action: Action) -> String { action.text }

    static func checkText(_ assertion: Assertion) -> String {
        func operand(_ page: PageRef, _ field: PageField?, _ label: String?) -> String {
            page.description + (field.map { "." + $0.description } ?? "") + (label.map { "@" + $0 } ?? "")
        }
        switch assertion {
        case .outcome(.succeeds): return "succeeds"
        case let .outcome(.fails(errno)): return "fails \(errno.name)"
        case let .field(page, field, expected):
            let lhs = "\(page).\(field)"
            switch expected {
            case let .value(value): return "\(lhs) == \(literal(value))"
            case .notAbsent: return "\(lhs) is set"
            case let .same(other, otherField, label): return "\(lhs) == \(operand(other, otherField, label))"
            case let .differs(other, otherField, label): return "\(lhs) != \(operand(other, otherField, label))"
            case let .contains(other, otherField, label): return "\(lhs) contains \(operand(other, otherField, label))"
            case let .rmapFinds(pages): return "\(lhs) finds {" + pages.map(\.description).joined(separator: ", ") + "}"
            case let .oneOf(pages, label): return "\(lhs) in {" + pages.map(\.description).joined(separator: ", ") + "}" + (label.map { "@" + $0 } ?? "")
            }
        }
    }

    static func literal(_ value: FieldValue) -> String {
        switch value {
        case let .bool(bit): return bit ? "1" : "0"
        case let .number(number): return "\(number)"
        case let .hex(number): return "0x" + String(number, radix: 16)
        case let .text(text): return text
        case let .set(items): return "{" + items.joined(separator: ", ") + "}"
        case .absent: return "absent"
        }
    }

    // MARK: YAML scalars

    /// A plain scalar where YAML reads it back as the same text, else a double-quoted one.
    /// `flow`: an item of a [a, b] list, where a comma ends the item.
    static func scalar(_ text: String, flow: Bool) -> String {
        if flow && text.contains(",") { return quoted(text) }
        return scalar(text)
    }

    /// A double-quoted scalar. A JSON string is one (YAML 1.2 reads all of JSON's escapes, the
    /// four-hex-digit \u form included), so the JSON encoder's quoting serves: quote, backslash
    /// and control characters escaped.
    static func quoted(_ text: String) -> String { JSONValue.quote(text) }

    static func scalar(_ text: String) -> String {
        let indicators = Set("-?:,[]{}#&*!|>'\"%@`")
        let plain = !text.isEmpty && !indicators.contains(text.first!) && !text.contains(": ") && !text.contains(" #")
            && !text.hasSuffix(":") && !text.contains(where: { "{}[]\"\\\t\n".contains($0) })
            && text.trimmingCharacters(in: .whitespaces) == text && !["true", "false", "null", "yes", "no", "~"].contains(text.lowercased())
            && Double(text) == nil
        return plain ? text : quoted(text)
    }

    /// The value after "key:": a folded block (`>`) of `text`, wrapped at spaces near 100 columns;
    /// text a folded block would not give back (line breaks, runs of spaces, control characters)
    /// as one quoted scalar instead.
    static func block(_ text: String, indent: Int) -> String {
        if text.isEmpty || text.contains("  ") || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
            || text.hasPrefix(" ") || text.hasSuffix(" ") {
            return " " + quoted(text) + "\n"
        }
        return " >\n" + folded(text, indent: indent)
    }

    static func folded(_ text: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty && pad.count + line.count + 1 + word.count > 100 {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.map { pad + $0 + "\n" }.joined()
    }
}

import Foundation
