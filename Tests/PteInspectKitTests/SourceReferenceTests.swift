import Foundation
import PteInspectKit
import TestResults
import XCTest

/// Comments and docs that name a file or a function of this repository name one that exists
/// (copies drift: a comment that still placed pteinspect_id() in pteinspect_dump.c after it moved).
/// What a machine can check: `NAME() in kmod/FILE` / `NAME(), kmod/FILE` is defined in FILE;
/// a path under Sources/, Tests/, kmod/, docs/ or a scenario file exists; a bare Swift file name
/// is a file of the package. Another project's paths are written with its name before them
/// ("swift-system's Sources/System/Util.swift") and are not this repository's.
final class SourceReferenceTests: ObservedTestCase {
    static let top = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Every text file of the places that hold comments and docs, with its text.
    static func texts() throws -> [(path: String, text: String)] {
        var out: [(String, String)] = []
        let manager = FileManager.default
        for folder in ["Sources", "Tests", "tools", "kmod", "docs"] {
            guard let walker = manager.enumerator(atPath: top + "/" + folder) else { continue }
            for case let relative as String in walker {
                let path = folder + "/" + relative
                guard [".swift", ".c", ".h", ".md", ".py", ".yaml"].contains(where: path.hasSuffix) || !relative.contains(".") else { continue }
                var isFolder: ObjCBool = false
                guard manager.fileExists(atPath: top + "/" + path, isDirectory: &isFolder), !isFolder.boolValue,
                      let text = try? String(contentsOfFile: top + "/" + path, encoding: .utf8) else { continue }
                out.append((path, text))
            }
        }
        out.append(("README.md", try String(contentsOfFile: top + "/README.md", encoding: .utf8)))
        return out
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (0..<match.numberOfRanges).map { i in Range(match.range(at: i), in: text).map { String(text[$0]) } ?? "" }
        }
    }

    func testFunctionsAreWhereCommentsSayTheyAre() throws {
        var checked = 0
        for (path, text) in try Self.texts() {
            for match in Self.matches(#"\b([a-z_][a-z0-9_]*)\(\)(?:,| in) (kmod/[a-z_0-9]+\.[ch])\b"#, in: text) {
                let (function, file) = (match[1], match[2])
                let source = try String(contentsOfFile: Self.top + "/" + file, encoding: .utf8)
                let defined = source.split(separator: "\n").contains { line in
                    line.first.map { !$0.isWhitespace && $0 != "#" && $0 != "*" && $0 != "/" } == true
                        && line.contains(function + "(") && !line.hasSuffix(";")
                }
                XCTAssertTrue(defined, "\(path): \(function)() is not defined in \(file)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    func testFilesThatCommentsNameExist() throws {
        let manager = FileManager.default
        let swiftFiles = Set((manager.enumerator(atPath: Self.top + "/Sources")?.allObjects as? [String] ?? [])
            .map { URL(fileURLWithPath: $0).lastPathComponent } + (manager.enumerator(atPath: Self.top + "/Tests")?.allObjects as? [String] ?? [])
            .map { URL(fileURLWithPath: $0).lastPathComponent })
        var checked = 0
        for (path, text) in try Self.texts() {
            let paths = #"(\S*'s )?\b((?:Sources|Tests)/[A-Za-z0-9_/]+\.swift|kmod/pteinspect[a-z_0-9]*\.[ch]|docs/[a-z0-9-]+\.md|scenarios/[0-9][0-9]-[a-z0-9-]+\.yaml|scenarios/lib/[a-z]+\.yaml)\b"#
            for match in Self.matches(paths, in: text) where match[1].isEmpty {
                XCTAssertTrue(manager.fileExists(atPath: Self.top + "/" + match[2]), "\(path) names \(match[2]), which does not exist")
                checked += 1
            }
            for match in Self.matches(#"(\S*'s (?:Sources/\S+/)?)?\b([A-Z][A-Za-z0-9]+\.swift)\b"#, in: text) where match[1].isEmpty {
                XCTAssertTrue(swiftFiles.contains(match[2]), "\(path) names \(match[2]), which is no file of the package")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }
}

/// tools/exit-statuses, the table the scripts share, agrees with the CLI's own statuses.
final class ExitStatusTableTests: ObservedTestCase {
    func testTheScriptsTableHasTheCLIsNumbers() throws {
        let text = try String(contentsOfFile: SourceReferenceTests.top + "/tools/exit-statuses", encoding: .utf8)
        var table: [String: Int32] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int32(parts[1].split(separator: " ").first ?? "") else { continue }
            table[String(parts[0])] = value
        }
        XCTAssertEqual(table["EXIT_OK"], ExitCodes.success)
        XCTAssertEqual(table["EXIT_FAILED"], ExitCodes.failure)
        XCTAssertEqual(table["EXIT_USAGE"], ExitCodes.cannotRun)
        XCTAssertEqual(table["PTEINSPECT_HANG"], ExitCodes.hang)
        XCTAssertEqual(table["PTEINSPECT_CRASH"], ExitCodes.crash)
        XCTAssertEqual(table["PTEINSPECT_SKIPPED"], ExitCodes.skipped)
        XCTAssertEqual(table["PTEINSPECT_COMPROMISED"], ExitCodes.compromised)
        XCTAssertEqual(Set(table.values).count, table.count - 1, "one number means one thing (EXIT_VM_SPLATS is tools/vm's, PTEINSPECT_HANG the CLI's)")
    }
}
