import ArgumentParser

/// --json, shared by every command that prints results.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false
}

/// A number given in hex (0x...) or decimal.
struct Address: ExpressibleByArgument {
    let value: UInt64

    init?(argument: String) {
        let text = argument.lowercased()
        if text.hasPrefix("0x") {
            guard let value = UInt64(text.dropFirst(2), radix: 16) else { return nil }
            self.value = value
        } else {
            guard let value = UInt64(text) else { return nil }
            self.value = value
        }
    }
}
