// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "mkosi-swift",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "mkosi", targets: ["mkosi"])],
    targets: [
        // Shared error type, logging, syscall wrappers, the host-command runner, small utilities.
        .target(name: "MkosiCore"),
        // Pure configuration engine: INI dialect, the settings table, match/include/profiles/
        // subimages, specifiers, finalisation, JSON and summary output.
        .target(name: "MkosiConfig", dependencies: ["MkosiCore"]),
        // One file per verb.
        .target(name: "MkosiCommands", dependencies: ["MkosiCore", "MkosiConfig"]),
        .executableTarget(name: "mkosi", dependencies: ["MkosiCommands", "MkosiCore"]),
        .testTarget(name: "MkosiCoreTests", dependencies: ["MkosiCore"]),
        .testTarget(name: "MkosiConfigTests", dependencies: ["MkosiConfig", "MkosiCore"]),
        .testTarget(name: "ConformanceTests", dependencies: ["MkosiCore"]),
    ],
    swiftLanguageModes: [.v6]
)
