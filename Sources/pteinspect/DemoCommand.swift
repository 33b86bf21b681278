import ArgumentParser
import PteInspectKit

/// A short guided look at the kernel's state: a write fault, a read fault, then fork.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show a small process's pages before and after it forks (needs the module).")

    func run() throws {
        do {
            let client = try PteInspectClient()
            let info = try client.info()
            print("== pteinspect \(info.moduleVersion) on \(info.kernelRelease), page size \(info.pageSize), features: \(info.features.names.joined(separator: " "))\n")

            let worker = try WorkerProcess()
            defer { worker.stop() }
            let base = try worker.map(pages: 3)
            let page = UInt64(info.pageSize)
            try worker.write(base)
            try worker.read(base + page)
            let show = { (title: String, pid: Int32) in
                print("== \(title) (pid \(pid))")
                print(EntryTable.render(try client.entries(pid: pid, start: base, end: base + 3 * page)))
                print()
            }
            print("A worker process mapped 3 private anonymous pages at 0x\(String(base, radix: 16)) (MADV_NOHUGEPAGE, guard pages around),")
            print("wrote page 0 and read page 1; page 2 is untouched, so it has no entry.\n")
            try show("after the write and the read", worker.pid)
            print("Page 0: a new exclusive anon page (PageAnonExclusive, mapcount 1), writable and dirty.")
            print("Page 1: the shared zero page, a special PTE, no anon page (mm/memory.c do_anonymous_page).\n")

            let child = try worker.fork()
            try show("parent after fork", worker.pid)
            try show("child after fork", child)
            print("fork write-protected the parent's PTE and cleared PageAnonExclusive; parent and child map")
            print("the same PFN with mapcount 2 (mm/memory.c copy_present_pte, include/linux/rmap.h page_try_dup_anon_rmap).\n")

            try worker.write(base)
            try show("parent after writing page 0 again", worker.pid)
            print("The parent's write fault copied the page: the child still maps the old PFN")
            print("(do_wp_page: not exclusive and refcount > 1, so wp_page_copy).")
            try worker.release(child: child)
        } catch {
            throw report(error)
        }
    }
}
