import ArgumentParser

@main
struct PteInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pteinspect",
        abstract: "Inspect what the kernel holds in a process's page tables and struct pages.",
        discussion: "Needs the pteinspect kernel module loaded and root. See README.md.",
        subcommands: [InfoCommand.self, PteCommand.self, VmasCommand.self, RmapCommand.self, ScenarioCommand.self, ReportCommand.self, DemoCommand.self, BenchCommand.self, FuzzCommand.self, StressCommand.self, AccessCheckCommand.self, KernelLogCommand.self, WorkerCommand.self])
}
