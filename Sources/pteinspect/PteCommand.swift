import ArgumentParser
import Glibc
import PteInspectKit

extension BackendChoice: ExpressibleByArgument {}

struct PteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pte",
        abstract: "Show the page-table entries and struct pages of COUNT pages of a process.",
        discussion: """
            Starts at the page that contains ADDR. Unmapped pages (holes) are not listed. A \
            PMD-mapped THP is one row at level pmd, at its 2 MiB-aligned address (module backend). \
            The pagemap backend needs no module (/proc/PID/pagemap, /proc/kpageflags, \
            /proc/kpagecount) and leaves out what those files cannot tell; --cross-check reads \
            both and lists every field on which they disagree (exit status 1 if any).
            """)

    @Option(help: "The process to inspect.")
    var pid: Int32

    @Option(help: "An address in the first page (hex with 0x, or decimal).")
    var addr: Address

    @Option(help: "How many pages to cover.")
    var count: UInt64 = 1

    @Option(help: "Where to read from: auto (the module if loaded, else pagemap), module, pagemap.")
    var backend: BackendChoice = .auto

    @Flag(help: "Read through both backends and report every field they disagree on.")
    var crossCheck = false

    @Flag(help: ArgumentHelp(
        "Also show each anonymous page's first 4 bytes (module 0.4.0).",
        discussion: "The module reads them through the kernel's own mapping of the page, so the target's accessed bit is not touched and nothing faults in."))
    var data = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        guard pid > 0 else { throw ValidationError("--pid must be a positive process id") }
        if data && backend == .pagemap {
            throw ValidationError("--data needs the module (the pagemap files hold no page contents): leave --backend at auto or module")
        }
        if crossCheck && backend == .pagemap {
            throw ValidationError("--cross-check compares the module with pagemap: leave --backend at auto or module")
        }
    }

    private var pageSize: UInt64 { SystemPage.size }

    func run() throws {
        do {
            let (start, end) = try PteInspectClient.pageRange(address: addr.value, count: count, pageSize: pageSize)
            guard let client = try backend.resolve(requireModule: crossCheck || data) else {
                try showPagemap(start: start, end: end)
                return
            }
            if data, try !client.info().features.contains(.pageData) {
                throw ValidationError("--data: this pteinspect module cannot read page data (feature page_data, module 0.4.0): load the module built from this source")
            }
            let entries = try client.entries(pid: pid, start: start, end: end, readData: data)
            var disagreements: [Disagreement] = []
            if crossCheck {
                let pagemap = try PagemapReader(pid: pid).entries(start: start, end: end)
                disagreements = CrossCheck.compare(module: entries, pagemap: pagemap,
                                                   vmas: try client.vmas(pid: pid, start: start, end: end), pageSize: pageSize)
            }
            if output.json {
                var members: [(String, JSONValue)] = [("pid", .int(Int64(pid))), ("start", .hex(start)), ("backend", .string(Backend.module.rawValue)),
                                                      ("pages", .array(entries.map(\.json)))]
                if crossCheck {
                    members.append(("disagreements", .array(disagreements.map { .string($0.description) })))
                    members.append(("known_kernel_bugs", .array(PagemapQuirks.current.notes.map { .string($0) })))
                }
                print(JSONValue.object(members).rendered(pretty: true))
            } else {
                print(entries.isEmpty ? "no mapped pages in the range" : EntryTable.render(entries, withData: data))
                if crossCheck {
                    print(disagreements.isEmpty ? "cross-check: module and pagemap agree on \(entries.count) entries"
                                                : "cross-check: \(disagreements.count) disagreements\n" + disagreements.map { "  \($0)" }.joined(separator: "\n"))
                    for note in PagemapQuirks.current.notes { print("cross-check: known kernel bug: \(note)") }
                }
            }
            if !disagreements.isEmpty { throw ExitStatus.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw report(error)
        }
    }

    private func showPagemap(start: UInt64, end: UInt64) throws {
        let entries = try PagemapReader(pid: pid).entries(start: start, end: end)
        if output.json {
            print(JSONValue.object([("pid", .int(Int64(pid))), ("start", .hex(start)), ("backend", .string(Backend.pagemap.rawValue)),
                                    ("pages", .array(entries.map(\.json)))]).rendered(pretty: true))
        } else {
            print(entries.isEmpty ? "no mapped pages in the range" : PagemapTable.render(entries))
        }
    }
}
