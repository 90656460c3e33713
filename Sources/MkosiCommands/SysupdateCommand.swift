#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox
import MkosiVM

/// `mkosi sysupdate [-- ARGS…]`: runs `systemd-sysupdate --definitions=SysupdateDirectory=
/// --transfer-source=<output directory>` on this machine, as upstream. A disk image whose
/// partitions were not split at build time (`SplitArtifacts=partitions`) is split first; those
/// files are removed again afterwards. With a tools tree, systemd-sysupdate sees the host's
/// os-release and root device (through /run/systemd/volatile-root), not the tree's.
enum SysupdateCommand {
    static func run(_ runtime: RuntimeContext, arguments: [String]) throws -> Int32 {
        let main = runtime.config
        guard let definitions = main[.sysupdateDirectory] else {
            throw MkosiError.config("No sysupdate definitions directory specified",
                                    hint: "Specify a directory containing systemd-sysupdate transfer definitions with SysupdateDirectory=")
        }
        guard let sysupdate = runtime.tool("/usr/lib/systemd/systemd-sysupdate", "/usr/bin/systemd-sysupdate") else {
            throw runtime.missingTool("systemd-sysupdate", packages: "systemd-container (or systemd-sysupdate)")
        }
        try runtime.requireRoot("updates this machine")
        let output = try runtime.builtOutput()
        let directory = runtime.outputDirectory
        var created: [String] = []
        defer { for f in created { unlink(f) } }
        if main.format == .disk && !main[.splitArtifacts].contains(.partitions) {
            let before = Set((try? FS.listDirectory(directory)) ?? [])
            var s = try runtime.toolsSandbox()
            s.bind(directory, "/work/output")
            var argv = ["systemd-repart", "--no-pager", "--pretty=no", "--split=yes"]
            for (n, dir) in main[.repartDirectories].enumerated() {
                s.bind(dir, "/work/repart-\(n)", readOnly: true)
                argv.append("--definitions=/work/repart-\(n)")
            }
            argv.append("/work/output/" + Path.basename(output))
            defer {
                for name in (try? FS.listDirectory(directory)) ?? [] where !before.contains(name) && FS.isFile(Path.join(directory, name)) {
                    created.append(Path.join(directory, name))
                }
            }
            try runtime.runner.run(argv, in: s, display: argv.dropLast() + [output])
        }
        var s = try runtime.toolsSandbox(devices: true)
        s.bind(directory, readOnly: true)
        s.bind(definitions, readOnly: true)
        for dir in ["/boot", "/efi"] where FS.isDirectory(dir) { s.bind(dir) }
        // sysupdate updates the host: it must read the host's os-release and find its root device.
        s.bind("/usr/lib/os-release", "/usr/lib/os-release", readOnly: true, optional: true)
        s.bind("/etc/os-release", "/etc/os-release", readOnly: true, optional: true)
        let temp = try temporaryDirectory(for: main, prefix: "mkosi-sysupdate")
        defer { FS.removeTree(temp) }
        if main.toolsTree != nil,
           let device = try? HostCommand.capture(["bootctl", "--print-root-device"], check: false).output
               .split(separator: "\n").first, !device.isEmpty {
            try FS.makeDirectories(temp + "/systemd")
            symlink(String(device), temp + "/systemd/volatile-root")
            s.bind(temp + "/systemd", "/run/systemd")
        }
        let argv = [sysupdate, "--definitions", definitions, "--transfer-source", directory] + arguments
        return try runtime.runInteractive(argv, in: s)
    }
}
