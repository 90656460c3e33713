// swift-tools-version: 6.2
import PackageDescription

// The commit the binary is built from, passed by `make` and `scripts/deb` as MKOSI_COMMIT and
// compiled into the C target only (changing it rebuilds one C file); `mkosi --version` shows it.
// Without it (a plain `swift build`, a tarball without .git) the version says "commit unknown".
let commit = (Context.environment["MKOSI_COMMIT"] ?? "").filter { $0.isLetter || $0.isNumber || "+-.~".contains($0) }

let package = Package(
    name: "mkosi-swift",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "mkosi", targets: ["mkosi"])],
    targets: [
        // C only where Swift cannot reach: unshare, pivot_root, prctl, flag-setting signal handlers.
        .target(name: "CLinux", cSettings: commit.isEmpty ? [] : [.define("MKOSI_COMMIT", to: "\"\(commit)\"")]),
        // Shared error type, logging, syscall wrappers, the host-command runner, small utilities.
        .target(name: "MkosiCore", dependencies: ["CLinux"]),
        // Partition tables read, never written: repart's JSON and a GPT disk's root partition and
        // disk GUID. A leaf both the build and the runtime import.
        .target(name: "MkosiGPT", dependencies: ["MkosiCore"]),
        // Namespaces and mounts as typed operations, and the helper that applies them; knows no config.
        .target(name: "MkosiSandbox", dependencies: ["CLinux", "MkosiCore"]),
        // Pure configuration engine: INI dialect, the settings table, match/include/profiles/
        // subimages, specifiers, finalisation, JSON and summary output.
        .target(name: "MkosiConfig", dependencies: ["MkosiCore"]),
        // Package managers behind one protocol (apt now; dnf, zypper, pacman, apk next) and the
        // distributions' descriptions; they see the build only through InstallerContext.
        .target(name: "MkosiInstaller", dependencies: ["MkosiCore", "MkosiConfig", "MkosiSandbox"]),
        // The build pipeline: steps, outputs.
        .target(name: "MkosiBuild", dependencies: ["MkosiCore", "MkosiConfig", "MkosiSandbox", "MkosiInstaller", "MkosiGPT"]),
        // Running built images: virtual machines (qemu, vmspawn) and containers (nspawn).
        // Imports no build code.
        .target(name: "MkosiVM", dependencies: ["MkosiCore", "MkosiConfig", "MkosiSandbox", "MkosiGPT"]),
        // Our Markdown manuals as man pages (roff); pure text, no I/O.
        .target(name: "MkosiDocs"),
        // One file per verb.
        .target(name: "MkosiCommands", dependencies: ["MkosiCore", "MkosiConfig", "MkosiDocs", "MkosiBuild", "MkosiInstaller", "MkosiVM", "MkosiSandbox", "MkosiGPT"]),
        .executableTarget(name: "mkosi", dependencies: ["MkosiCommands", "MkosiCore", "MkosiSandbox"]),
        .testTarget(name: "MkosiCoreTests", dependencies: ["MkosiCore"]),
        .testTarget(name: "MkosiConfigTests", dependencies: ["MkosiConfig", "MkosiCore"]),
        .testTarget(name: "MkosiInstallerTests", dependencies: ["MkosiInstaller", "MkosiConfig", "MkosiCore"]),
        .testTarget(name: "MkosiBuildTests", dependencies: ["MkosiBuild", "MkosiConfig"]),
        .testTarget(name: "MkosiDocsTests", dependencies: ["MkosiDocs", "MkosiCommands", "MkosiConfig", "MkosiCore", "TestSupport"]),
        .testTarget(name: "MkosiGPTTests", dependencies: ["MkosiGPT", "MkosiCore"]),
        .testTarget(name: "MkosiVMTests", dependencies: ["MkosiVM", "MkosiConfig", "MkosiCore"]),
        // Verbs and the companion commands (mkosi-initrd, mkosi-addon, mkosi-sandbox), the manual.
        .testTarget(name: "MkosiCommandsTests", dependencies: ["MkosiCommands", "MkosiBuild", "MkosiSandbox", "MkosiConfig", "MkosiCore"]),
        // Helpers shared by the tests that run the built binary.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ConformanceTests", dependencies: ["MkosiCore", "TestSupport"]),
        // Real image builds: root, the real Debian mirror; skipped elsewhere.
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
