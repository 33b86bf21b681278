import Foundation
import Yams

/// The kernel ranges and citations every scenario file may name (`scenarios/lib/shared.yaml`,
/// docs/scenario-format.md "Shared kernel ranges and citations"): a fact several scenarios rely
/// on, written once. Read from the built-in catalog's folder (ScenarioCatalog), so a file of the
/// user's own can name them too.
struct ScenarioLibrary {
    /// Where the names come from, for messages ("scenarios/lib/shared.yaml").
    let file: String?
    let kernels: [String: KernelRange]
    let citations: [String: Citation]

    static let empty = ScenarioLibrary(file: nil, kernels: [:], citations: [:])

    /// The library of the built-in catalog; empty where the catalog or its lib/shared.yaml is not
    /// found (then only a file's own names exist), an error where the file has a mistake.
    static func builtIn() throws -> ScenarioLibrary { try loadedBuiltIn.get() }

    private static let loadedBuiltIn: Result<ScenarioLibrary, Error> = Result {
        guard let folder = try? ScenarioCatalog.folder() else { return .empty }
        let path = (folder as NSString).appendingPathComponent("lib/shared.yaml")
        guard FileManager.default.fileExists(atPath: path) else { return .empty }
        return try load(path)
    }

    static func load(_ path: String) throws -> ScenarioLibrary { try parse(ScenarioFileError.contents(of: path), file: path) }

    static func parse(_ text: String, file: String) throws -> ScenarioLibrary {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ScenarioFileReader.yamlError(error, file: file)
        }
        let reader = ScenarioFileReader(file: file, library: .empty)
        guard let node else { return ScenarioLibrary(file: file, kernels: [:], citations: [:]) }
        let entries = try reader.mapping(node, "the shared library", allowed: ["kernels", "citations"], required: [])
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        return ScenarioLibrary(file: file, kernels: try value("kernels").map { try reader.namedRanges($0) } ?? [:],
                               citations: try value("citations").map { try reader.namedCitations($0) } ?? [:])
    }

    /// "lib/shared.yaml" as a person finds it from the catalog.
    var shortName: String { file.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent + "/" + URL(fileURLWithPath: $0).lastPathComponent } ?? "lib/shared.yaml" }
}
