/// The step graphs of saved reports as Graphviz DOT (`pteinspect report dot`): one digraph per
/// step, for people who render or diff them themselves (`dot -Tsvg`).
public enum DOTReport {
    public static func render(_ reports: [SavedReport]) -> String {
        var out = ""
        for report in reports {
            for scenario in report.scenarios {
                for step in scenario.steps {
                    out += digraph(StepGraph(step: step), name: "\(report.kernel) \(scenario.name) step \(step.number)",
                                   caption: "\(scenario.name) step \(step.number): \(step.actor): \(step.action) (\(report.kernel))")
                }
            }
        }
        return out
    }

    static let shapes: [StepGraph.Kind: String] = [
        .process: "shape=ellipse", .mapping: "shape=box", .anonVma: "shape=hexagon",
        .page: "shape=box, style=\"rounded,filled\", fillcolor=\"#eef3ff\"", .swapEntry: "shape=note",
    ]

    public static func digraph(_ graph: StepGraph, name: String, caption: String) -> String {
        var out = "digraph \(quote(name)) {\n  rankdir=LR;\n  label=\(quote(caption));\n  node [fontname=\"monospace\", fontsize=10];\n"
        for node in graph.nodes {
            out += "  \(quote(node.id)) [label=\(quote(node.label.joined(separator: "\n"))), \(shapes[node.kind] ?? "")];\n"
        }
        for edge in graph.edges {
            var attributes = ["label=" + quote(edge.relation.rawValue + (edge.note.map { " (\($0))" } ?? ""))]
            if edge.relation == .chain || edge.relation == .rmap { attributes.append("style=dashed") }
            out += "  \(quote(edge.from)) -> \(quote(edge.to)) [\(attributes.joined(separator: ", "))];\n"
        }
        return out + "}\n"
    }

    /// A DOT ID in double quotes: backslash and quote escaped, a line break as \n.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
