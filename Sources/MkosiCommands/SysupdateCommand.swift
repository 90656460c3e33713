#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// `mkosi sysupdate [-- ARGS…]`: runs `systemd-sysupdate --definitions=SysupdateDirectory=
/// --transfer-source=<output directory>` on this machine, as upstream. A disk image whose
/// partitions were not split at build time (`SplitArtifacts=partitions`) is split first; those
/// files are removed again afterwards. With a tools tree, systemd-sysupdate sees the host's
/// os-release and root device (through /run/systemd/volatile-root), not the tree's.
enum SysupdateCommand {
    static func run(_ loaded: LoadedConfiguration) throws -> Int32 {
        guard let main = loaded.main else { return 0 }
        guard let definitions = main[.sysupdateDirectory] else {
            throw MkosiError.config("No sysupdate definitions directory specified",
                                    hint: "Specify a directory containing systemd-sysupdate transfer definitions with SysupdateDirectory=")
        }
        let tree = main.toolsTree ?? ""
        guard let sysupdate = ["/usr/lib/systemd/systemd-sysupdate", "/usr/bin/systemd-sysupdate"].first(where: { FS.isExecutable(tree + $0) }) else {
            throw MkosiError(.failed, "Could not find systemd-sysupdate\(main.toolsTree.map { " in the tools tree \($0)" } ?? "")")
        }
        guard Privileges.isHostRoot else {
            throw MkosiError(.failed, "'mkosi sysupdate' updates this machine and needs root", hint: "Run it with sudo or as root")
        }
        let output = try RuntimeTools.output(main, cwd: loaded.cwd, verb: .sysupdate)
        let directory = main.outputDirectoryOrDefault(cwd: loaded.cwd)
        var created: [String] = []
        defer { for f in created { unlink(f) } }
        if main.format == .disk && !main[.splitArtifacts].contains(.partitions) {
            let before = Set((try? FS.listDirectory(directory)) ?? [])
            var s = try RuntimeTools.sandbox(main, cwd: loaded.cwd)
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
            try SandboxRunner.current.run(argv, in: s, display: argv.dropLast() + [output])
        }
        var s = try RuntimeTools.sandbox(main, cwd: loaded.cwd, devices: true)
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
        let argv = [sysupdate, "--definitions", definitions, "--transfer-source", directory] + loaded.args.cmdline
        return try RuntimeTools.run(s, argv)
    }
}
