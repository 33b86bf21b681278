import ArgumentParser
import PteInspectKit

struct VmasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmas",
        abstract: "Show a process's VMAs: range, vm_pgoff, flags, anon_vma and its chain, name.",
        discussion: """
            anon_vma identities are keyed hashes of kernel addresses, stable while the module \
            stays loaded; equal hashes mean the same anon_vma. In a page's row (`pte`) the same \
            hash appears as its mapping.
            """)

    @Option(help: "The process to inspect.")
    var pid: Int32

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard pid > 0 else { throw ValidationError("--pid must be a positive process id") }
    }

    func run() throws {
        do {
            let vmas = try PteInspectClient().vmas(pid: pid)
            if output.json {
                print(JSONValue.object([("pid", .int(Int64(pid))), ("vmas", .array(vmas.map(\.json)))]).rendered(pretty: true))
            } else {
                print(VmaTable.render(vmas))
            }
        } catch {
            throw report(error)
        }
    }
}
