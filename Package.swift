// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "pteinspect",
    products: [
        .executable(name: "pteinspect", targets: ["pteinspect"]),
        .library(name: "PteInspectKit", targets: ["PteInspectKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Scenario files (YAML, with the line and column of every node for error messages).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // libmnl, the netlink socket library (apt: libmnl-dev).
        .systemLibrary(
            name: "CMnl",
            path: "Sources/CMnl",
            pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]
        ),
        // The module's UAPI header (kmod/include/uapi/linux/pteinspect.h, included, not copied)
        // and the netlink constants Swift cannot import from function-like macros.
        .target(name: "CPteInspect", dependencies: ["CMnl"], path: "Sources/CPteInspect"),
        .target(name: "PteInspectKit", dependencies: ["CMnl", "CPteInspect", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "pteinspect",
            dependencies: [
                "PteInspectKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The test cases' base class: each test process writes its counts to a results file.
        .target(name: "TestResults", path: "Tests/TestResults"),
        // Host tests: no module needed.
        .testTarget(name: "PteInspectKitTests", dependencies: ["PteInspectKit", "CPteInspect", "TestResults"]),
        // Module-backed tests: run inside the VM by tools/test (they fail outside it).
        .testTarget(name: "PteInspectVMTests", dependencies: ["PteInspectKit", "CPteInspect", "TestResults"]),
    ]
)
