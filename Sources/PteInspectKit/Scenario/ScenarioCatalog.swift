import Foundation

/// The built-in scenarios: the files of the `scenarios/` folder (docs/scenario-format.md), in the
/// order of their names (`NN-name.yaml`: the order `scenario run` runs them). Found without
/// configuration where this binary was built or installed:
///   1. $PTEINSPECT_SCENARIOS, if set (a folder);
///   2. PREFIX/share/pteinspect/scenarios next to an installed PREFIX/bin/pteinspect (tools/install);
///   3. the source tree the binary was built from (this file's path, known at compile time):
///      `swift build` in a checkout, and the test VM, which shares the tree at the same path.
public enum ScenarioCatalog {
    public enum Failure: Error, CustomStringConvertible {
        case notFound(searched: [String])

        public var description: String {
            switch self {
            case let .notFound(searched):
                return "the built-in scenarios are not installed where this pteinspect looks for them (" + searched.joined(separator: ", ")
                    + "): reinstall with tools/install, or point PTEINSPECT_SCENARIOS at a scenarios/ folder"
            }
        }
    }

    /// Where the built-in scenario files are looked for, in order.
    public static var searchPath: [String] {
        var paths: [String] = []
        if let folder = ProcessInfo.processInfo.environment["PTEINSPECT_SCENARIOS"], !folder.isEmpty { paths.append(folder) }
        let executable = URL(fileURLWithPath: WorkerProcess.currentExecutable()).resolvingSymlinksInPath()
        paths.append(executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/pteinspect/scenarios").path)
        // Sources/PteInspectKit/Scenario/ScenarioCatalog.swift -> the checkout's scenarios/
        let tree = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        paths.append(tree.appendingPathComponent("scenarios").path)
        return paths
    }

    /// The folder the catalog is read from. PTEINSPECT_SCENARIOS, when set, must be one.
    public static func folder() throws -> String {
        if let folder = ProcessInfo.processInfo.environment["PTEINSPECT_SCENARIOS"], !folder.isEmpty {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw Failure.notFound(searched: [folder + " (PTEINSPECT_SCENARIOS)"])
            }
            return folder
        }
        let searched = searchPath
        var isFolder: ObjCBool = false
        guard let found = searched.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && isFolder.boolValue }) else {
            throw Failure.notFound(searched: searched)
        }
        return found
    }

    private static let loaded: Result<[Scenario], Error> = Result { try ScenarioFile.load(path: try folder()) }

    /// Every built-in scenario; a missing folder or a file with a mistake is an error, never an
    /// empty catalog.
    public static func load() throws -> [Scenario] { try loaded.get() }

    /// The built-in scenario called `name`.
    public static func named(_ name: String) throws -> Scenario? { try load().first { $0.name == name } }

    /// The names for shell completion (empty where the catalog cannot be read: completion is no
    /// place for an error).
    public static var namesForCompletion: [String] { ((try? load()) ?? []).map(\.name) }
}
