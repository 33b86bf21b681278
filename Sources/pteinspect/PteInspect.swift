import ArgumentParser
import PteInspectKit

@main
struct PteInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pteinspect",
        abstract: "Inspect what the kernel holds in a process's page tables and struct pages.",
        discussion: """
            Needs the pteinspect kernel module loaded (sudo modprobe pteinspect once DKMS installed \
            it) and root; without the module, `scenario run --backend pagemap` reads \
            /proc/PID/pagemap instead. \(ExitStatus.text) The scenario report's JSON schema: \
            docs/scenario-report.md in the source tree. See README.md.
            """,
        subcommands: [InfoCommand.self, PteCommand.self, VmasCommand.self, RmapCommand.self, ScenarioCommand.self, ReportCommand.self, DemoCommand.self, BenchCommand.self, BenchReadCommand.self, FuzzCommand.self, StressCommand.self, AccessCheckCommand.self, KernelLogCommand.self, WorkerCommand.self])

    @Flag(help: "Print the CLI's version and protocol and, when the module is loaded, its version and protocol.")
    var version = false

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        do {
            let client = try PteInspectClient()
            print(PteInspectVersion.describe(module: try client.info(), problem: nil))
        } catch PteInspectError.moduleNotLoaded {
            print(PteInspectVersion.describe(module: nil, problem: "not loaded (sudo modprobe pteinspect, or insmod kmod/pteinspect.ko)"))
        } catch {
            print(PteInspectVersion.describe(module: nil, problem: "\(error)"))
        }
    }
}
