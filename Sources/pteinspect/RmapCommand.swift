import ArgumentParser
import PteInspectKit

struct RmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmap",
        abstract: "Show every (process, address) where the kernel's reverse map finds the page at ADDR.",
        discussion: """
            Walks the folio's anon_vma (or the file's i_mmap) tree as rmap_walk() does and \
            computes each address from folio->index and the VMA's vm_pgoff. MAPPED says whether \
            the entry there really maps the folio: a VMA can be visited without mapping it \
            (e.g. a child that has since copied the page).
            """)

    @Option(help: "The process that maps the page.")
    var pid: Int32

    @Option(help: "An address in the page (hex with 0x, or decimal).")
    var addr: Address

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard pid > 0 else { throw ValidationError("--pid must be a positive process id") }
    }

    func run() throws {
        do {
            let hits = try PteInspectClient().rmap(pid: pid, address: addr.value)
            if output.json {
                print(JSONValue.object([("pid", .int(Int64(pid))), ("addr", .hex(addr.value)), ("rmap", .array(hits.map(\.json)))]).rendered(pretty: true))
            } else {
                print(RmapTable.render(hits))
            }
        } catch {
            throw report(error)
        }
    }
}
