import ArgumentParser
import PteInspectKit

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the loaded module's version, the kernel release, page size and features.")

    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let info = try PteInspectClient().info()
            if output.json {
                print(info.json.rendered(pretty: true))
            } else {
                print("""
                    module version  \(info.moduleVersion) (protocol \(info.protocolVersion))
                    kernel release  \(info.kernelRelease)
                    page size       \(info.pageSize)
                    features        \(info.features.names.joined(separator: " ")) (0x\(String(info.features.rawValue, radix: 16)))
                    """)
            }
        } catch {
            throw report(error)
        }
    }
}
