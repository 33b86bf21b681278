import Foundation
import PteInspectKit
import TestResults
import XCTest

/// The CLI, the module and its DKMS package carry one version.
final class VersionTests: ObservedTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func value(in file: String, after prefix: String) throws -> String {
        let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(prefix) }, "no '\(prefix)' line in \(file)")
        return String(line.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
    }

    func testTheCLITheModuleAndTheDKMSPackageHaveOneVersion() throws {
        XCTAssertEqual(try value(in: "kmod/pteinspect.h", after: "#define PTEINSPECT_MODULE_VERSION "), PteInspectVersion.cli)
        XCTAssertEqual(try value(in: "kmod/dkms.conf", after: "PACKAGE_VERSION="), PteInspectVersion.cli)
    }

    func testVersionSaysWhatTheModuleIsOrWhyItCannotTell() throws {
        XCTAssertEqual(PteInspectVersion.describe(module: nil, problem: nil),
                       "pteinspect \(PteInspectVersion.cli) (protocol \(PteInspectClient.protocolVersion))\nmodule: not loaded")
        XCTAssertTrue(PteInspectVersion.describe(module: nil, problem: "EPERM").hasSuffix("\nmodule: EPERM"))
    }

    func testAProtocolMismatchNamesBothSides() {
        let text = PteInspectError.protocolMismatch(module: 2, client: 1).description
        XCTAssertTrue(text.contains("protocol 2"), text)
        XCTAssertTrue(text.contains("(\(PteInspectVersion.cli)) speaks 1"), text)
    }

    func testTheCLIPrintsItsVersion() throws {
        let cli = Process(), output = Pipe()
        cli.executableURL = URL(fileURLWithPath: ScenarioEngineTests.pteinspectBinary)
        cli.arguments = ["--version"]
        cli.standardOutput = output
        cli.standardError = FileHandle.nullDevice
        try cli.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        XCTAssertEqual(cli.terminationStatus, 0)
        XCTAssertTrue(text.hasPrefix("pteinspect \(PteInspectVersion.cli) (protocol \(PteInspectClient.protocolVersion))\nmodule: "), text)
    }
}
