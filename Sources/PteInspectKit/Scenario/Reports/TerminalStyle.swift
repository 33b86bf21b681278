import Foundation

/// Colour for the human report on a terminal: verdicts (PASS green, FAIL/HANG/CRASH/ERROR red,
/// SKIP yellow, XFAIL magenta: a known kernel bug) and the `*` that marks a field changed in a step (bold). Applied to text already
/// laid out, so the escape sequences never count towards a column's width. Off unless asked
/// for: `--color auto` enables it when standard output is a terminal and NO_COLOR is unset or
/// empty (https://no-color.org).
public struct TerminalStyle: Sendable {
    public enum Choice: String, CaseIterable, Sendable { case auto, always, never }

    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    public init(_ choice: Choice, isTerminal: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        switch choice {
        case .always: enabled = true
        case .never: enabled = false
        case .auto: enabled = isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
        }
    }

    static let reset = "\u{1B}[0m"
    static let colours: [String: String] = [
        "PASS": "\u{1B}[32m", "FAIL": "\u{1B}[31m", "HANG": "\u{1B}[31m", "CRASH": "\u{1B}[1;31m",
        "ERROR": "\u{1B}[31m", "SKIP": "\u{1B}[33m", "XFAIL": "\u{1B}[35m",
    ]
    static let changedMark = "\u{1B}[1;36m*\u{1B}[0m"

    /// `text` with its verdict words and change marks coloured (unchanged when disabled).
    public func apply(_ text: String) -> String {
        guard enabled else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var line = String(line)
            // A page row of a step's table: "   parent:P  0x7f...  present* ..." (a ref, then values).
            if line.hasPrefix("   "), let first = line.split(separator: " ").first, first.contains(":"), line.contains("*") {
                line = Self.markChanges(line)
            }
            return Self.colourVerdicts(line)
        }.joined(separator: "\n")
    }

    /// Every `*` that ends a value (a non-space before it).
    static func markChanges(_ line: String) -> String {
        var out = ""
        var previous: Character = " "
        for character in line {
            if character == "*" && previous != " " { out += changedMark } else { out.append(character) }
            previous = character
        }
        return out
    }

    /// Whole words PASS, FAIL, SKIP, XFAIL, HANG, CRASH, ERROR.
    static func colourVerdicts(_ line: String) -> String {
        var out = ""
        var word = ""
        func flush() {
            if let colour = colours[word] { out += colour + word + reset } else { out += word }
            word = ""
        }
        for character in line {
            if character.isLetter || character.isNumber || character == "_" { word.append(character) } else { flush(); out.append(character) }
        }
        flush()
        return out
    }
}
