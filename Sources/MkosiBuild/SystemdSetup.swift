import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What upstream does to a finished tree with systemd's own tools: system users, tmpfiles,
/// unit presets and the hardware database. The image's own tools are used (inside the image),
/// so their version matches its units; images without systemd are left alone.
enum SystemdSetup {
    static func run(_ context: BuildContext) throws {
        // Overlays and extensions leave this to the image they extend.
        guard !context.config[.overlay], !context.config.format.isExtension else { return }
        let root = context.root
        func has(_ tool: String) -> Bool { FS.isExecutable(Path.join(root, "usr/bin/\(tool)")) }
        guard has("systemctl") else { return }

        let s = context.imageSandbox()
        var env = context.baseEnvironment()
        env["SYSTEMD_OFFLINE"] = "1"

        if has("systemd-sysusers") { try context.run(["systemd-sysusers"], in: s, environment: env) }
        if has("systemd-tmpfiles") {
            // 65 (data error) and 73 (cannot create) concern paths that only exist at runtime.
            let excludes = ["/tmp", "/var/tmp", "/run", "/proc", "/sys", "/dev"].map { "--exclude-prefix=\($0)" }
            let argv = ["systemd-tmpfiles", "--boot", "--create", "--remove"] + excludes
            let status = try context.runner.run(argv, in: s, environment: env, check: false)
            if ![0, 65, 73].contains(status) {
                throw MkosiError(.command(status: status), "\"\(argv.joined(separator: " "))\" failed with exit status \(status)")
            }
        }
        try context.run(["systemctl", "preset-all"], in: s, environment: env)
        try context.run(["systemctl", "--global", "preset-all"], in: s, environment: env)
        if has("systemd-hwdb") {
            try context.run(["systemd-hwdb", "--usr", "--strict", "update"], in: s, environment: env)
            unlink(Path.join(root, "etc/udev/hwdb.bin"))
        }
        FS.removeTree(Path.join(root, "work"))
    }
}

#if canImport(Glibc)
import Glibc
#endif
