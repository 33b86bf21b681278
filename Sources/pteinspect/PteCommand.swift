import ArgumentParser
import Glibc
import PteInspectKit

struct PteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pte",
        abstract: "Show the page-table entries and struct pages of COUNT pages of a process.",
        discussion: """
            Starts at the page that contains ADDR. Unmapped pages (holes) are not listed. A \
            PMD-mapped THP is one row at level pmd, at its 2 MiB-aligned address.
            """)

    @Option(help: "The process to inspect.")
    var pid: Int32

    @Option(help: "An address in the first page (hex with 0x, or decimal).")
    var addr: Address

    @Option(help: "How many pages to cover.")
    var count: UInt64 = 1

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        guard pid > 0 else { throw ValidationError("--pid must be a positive process id") }
    }

    func run() throws {
        do {
            let entries = try PteInspectClient().entries(pid: pid, address: addr.value, count: count)
            if output.json {
                let object: JSONValue = .object([
                    ("pid", .int(Int64(pid))),
                    ("start", .hex(addr.value & ~(UInt64(sysconf(Int32(_SC_PAGESIZE))) - 1))),
                    ("pages", .array(entries.map(\.json))),
                ])
                print(object.rendered(pretty: true))
            } else if entries.isEmpty {
                print("no mapped pages in the range")
            } else {
                print(EntryTable.render(entries))
            }
        } catch {
            throw report(error)
        }
    }
}
