#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore

/// `mkosi shell` and `mkosi boot`: the built image in a systemd-nspawn container; `shell` runs
/// a shell (or the command after `--`), `boot` boots the image's init.
///
/// The image must have been built (or `-f` builds it first). On hosts whose PID 1 is not
/// systemd or that have no system bus, the container is not registered with machined.
enum ShellCommand {
    static func run(_ loaded: LoadedConfiguration, boot: Bool) throws -> Int32 {
        // Configure scripts run (in the tools tree) for every verb that uses the image, built
        // now or earlier.
        let buildLock = loaded.args.force > 0 ? try BuildCommand.lockOutputDirectory(loaded) : nil
        try ToolsTree.prepare(loaded)
        let loaded = try ConfigureScripts.run(loaded)
        guard let main = loaded.main else { return 0 }
        if loaded.args.force > 0 { try BuildCommand.build(loaded) }
        buildLock?.release()
        let output = Path.join(main.outputDirectoryOrDefault(cwd: loaded.cwd), main.outputWithCompression)
        guard FS.exists(output) else {
            throw MkosiError(.failed, "Image '\(main.image)' has not been built yet",
                             hint: "Run 'mkosi build' first, or use 'mkosi -f \(loaded.args.verb.rawValue)' to build it")
        }
        let lock = main[.ephemeral] ? nil : try BuildCommand.lockImage(main, cwd: loaded.cwd)
        defer { lock?.release() }
        guard main.format == .directory || (main.format == .disk && main.compression == .none) else {
            throw MkosiError(.unsupported, "'\(loaded.args.verb.rawValue)' works on directory and uncompressed disk images (Format=\(main.format.rawValue))")
        }
        guard getuid() == 0 else {
            throw MkosiError(.failed, "'\(loaded.args.verb.rawValue)' needs root (systemd-nspawn)",
                             hint: "Run it with sudo or as root")
        }

        // systemd-nspawn --image needs udev, which hosts like these lack: the root partition is
        // mounted through a loop device in a private mount namespace instead, which vanishes
        // (and with it the mount and the loop device) when nspawn exits.
        var prefix: [String] = []
        var directory = output
        var mountpoint: String? = nil
        defer { if let mountpoint { rmdir(mountpoint) } }
        if main.format == .disk {
            guard let root = try Disk.rootPartition(of: output) else {
                throw MkosiError(.unsupported, "\(output) has no plain root partition to boot with systemd-nspawn",
                                 hint: "Verity-protected or encrypted roots can be booted with 'mkosi vm'")
            }
            let dir = try temporaryDirectory(for: main, prefix: "mkosi-nspawn-root")
            mountpoint = dir
            directory = dir
            prefix = ["unshare", "--mount", "--propagation=private", "sh", "-c",
                      "mount -o loop,offset=$1,sizelimit=$2 \"$3\" \"$4\" && shift 4 && exec \"$@\"", "sh",
                      String(root.offset), String(root.size), output, dir]
        }
        var argv = ["systemd-nspawn", "--quiet", "--directory=\(directory)", "--machine=\(main[.machine] ?? main.image)",
                    "--link-journal=no", "--resolv-conf=auto"]
        if !hostHasSystemdAndBus() { argv += ["--register=no", "--keep-unit"] }
        if main[.ephemeral] { argv.append("--ephemeral") }
        for tree in main[.runtimeTrees] {
            argv.append("--bind=\(tree.source):\(tree.target ?? Path.join("/root/src", Path.basename(tree.source)))")
        }
        for cred in main[.credentials] {
            if let value = cred.value { argv.append("--set-credential=\(cred.name):\(value)") }
        }
        if let settings = main[.nspawnSettings] { argv.append("--settings=trusted"); argv.append("--settings=\(settings)") }
        if boot {
            argv.append("--boot")
            argv += loaded.args.cmdline
            argv += main[.kernelCommandLineExtra]
        } else {
            argv += ["--console=autopipe"]
            if !loaded.args.cmdline.isEmpty { argv += ["--"] + loaded.args.cmdline }
        }
        return try HostCommand.run(prefix + argv, display: argv, check: false)
    }

    /// systemd-nspawn registers with machined and creates a scope unit only where PID 1 is
    /// systemd and the system bus is up.
    static func hostHasSystemdAndBus() -> Bool {
        FS.isDirectory("/run/systemd/system") && FS.exists("/run/dbus/system_bus_socket")
    }
}
