import ArgumentParser
import PteInspectKit

/// The helper process the CLI and the tests drive over pipes (see WorkerLoop).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Internal: a helper process that maps, touches and forks on command (stdin/stdout).",
        shouldDisplay: false)

    func run() throws {
        WorkerLoop.run()
    }
}
