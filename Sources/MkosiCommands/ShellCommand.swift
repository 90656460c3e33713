#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiVM

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
        if loaded.args.force > 0 { try BuildCommand.beforeToolsTree(loaded) }
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
        guard Privileges.isHostRoot else {
            throw MkosiError(.failed, "'\(loaded.args.verb.rawValue)' needs root (systemd-nspawn)",
                             hint: "Run it with sudo or as root")
        }

        // systemd-nspawn --image needs udev, which hosts like these lack: the root partition is
        // mounted through a loop device in a private mount namespace instead, which vanishes
        // (and with it the mount and the loop device) when nspawn exits.
        var setup: [String] = []
        var loop = ["", "", "", ""]
        var directory = output
        var mountpoint: String? = nil
        defer { if let mountpoint { rmdir(mountpoint) } }
        if main.format == .disk {
            guard let root = try PartitionTable.rootPartition(of: output) else {
                throw MkosiError(.unsupported, "\(output) has no plain root partition to boot with systemd-nspawn",
                                 hint: "Verity-protected or encrypted roots can be booted with 'mkosi vm'")
            }
            let dir = try temporaryDirectory(for: main, prefix: "mkosi-nspawn-root")
            mountpoint = dir
            directory = dir
            setup.append("mount -o loop,offset=$1,sizelimit=$2 \"$3\" \"$4\"")
            loop = [String(root.offset), String(root.size), output, dir]
        }
        // nspawn keeps per-machine state in /run/systemd/nspawn and, on exit, refuses to remove it
        // from a /run that is not a tmpfs (hosts whose PID 1 is not systemd), complaining about a
        // "disk file system": it gets a tmpfs of its own there, which vanishes with it.
        if !FS.isOnTmpfs("/run") {
            setup.insert("mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn", at: 0)
        }
        let prefix = setup.isEmpty ? [] : ["unshare", "--mount", "--propagation=private", "sh", "-c",
                                           (setup + ["shift 4", "exec \"$@\""]).joined(separator: " && "), "sh"] + loop
        var argv = ["systemd-nspawn", "--quiet", "--directory=\(directory)", "--machine=\(machineName(main))",
                    "--link-journal=no", "--suppress-sync=yes"]
        switch main[.runtimeNetwork] {
        case .user: argv.append("--resolv-conf=auto")
        case .interface: argv += ["--private-network", "--network-veth"]
        case .none: argv.append("--private-network")
        }
        argv += try registration(main[.register])
        if main[.ephemeral] { argv.append("--ephemeral") }

        let temp = try temporaryDirectory(for: main, prefix: "mkosi-nspawn")
        let owned = Teardown()
        owned.onTeardown { FS.removeTree(temp) }
        defer { owned.teardown() }
        let helper = FS.readlink("/proc/self/exe") ?? CommandLine.arguments[0]
        for (n, credential) in try RuntimeCredentials.collect(main, helper: helper).enumerated() {
            let file = temp + "/credential-\(n)"
            try FS.writeAtomically(file, String(decoding: credential.value, as: UTF8.self), mode: 0o600)
            argv.append("--load-credential=\(credential.name):\(file)")
        }
        for share in Qemu.runtimeShares(main) {
            let owner = FS.ownerID(share.source) ?? 0
            argv.append("--bind=\(share.source):\(share.target):norbind,\(owner != 0 ? "rootidmap" : "noidmap")")
        }
        if main[.bindUser] {
            guard let user = Privileges.invokingUserName, user != "root" else {
                throw MkosiError.config("BindUser=yes binds the invoking user, but mkosi runs as root without SUDO_USER",
                                        hint: "Run mkosi through sudo as a regular user, or drop BindUser=")
            }
            argv.append("--bind-user=\(user)")
        }
        if boot, let journal = main[.forwardJournal] {
            let remote = try JournalRemote.start(forwardJournal: journal, listen: "/work/vm/journal.sock", toolsTree: main.toolsTree,
                                                 temp: temp, helper: helper, ready: { FS.exists(temp + "/journal.sock") })
            owned.own(remote.process)
            argv += ["--bind=\(temp)/journal.sock:/run/host/journal/socket",
                     "--set-credential=journal.forward_to_socket:/run/host/journal/socket"]
        }
        if let settings = main[.nspawnSettings] { argv.append("--settings=trusted"); argv.append("--settings=\(settings)") }
        if boot {
            // Options first: nspawn takes everything after the first argument as pid1's. Kernel
            // command line entries without a dot in the key become environment variables, as
            // the kernel passes them to pid1.
            argv.append("--boot")
            var pid1: [String] = []
            for arg in main[.kernelCommandLine] + Qemu.commandLineExtra(main, forContainer: true) {
                if let eq = arg.firstIndex(of: "="), !arg[..<eq].contains(".") {
                    argv += ["--setenv", String(arg[..<eq]).replacingOccurrences(of: "-", with: "_") + String(arg[eq...])]
                } else {
                    pid1.append(arg)
                }
            }
            argv += loaded.args.cmdline + pid1
        } else {
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
            func format(_ v: rlim_t) -> String { v == rlim_t.max ? "infinity" : String(v) }
            argv += ["--rlimit=RLIMIT_CORE=\(format(limit.rlim_cur)):\(format(limit.rlim_max))", "--console=autopipe"]
            if !loaded.args.cmdline.isEmpty { argv += ["--"] + loaded.args.cmdline }
        }
        return try HostCommand.run(prefix + argv, display: argv, check: false)
    }

    static func machineName(_ config: Config) -> String {
        (config[.machine] ?? config.image).replacingOccurrences(of: "_", with: "-")
    }

    /// `Register=`: nspawn registers with machined (and makes a scope unit) only where PID 1 is
    /// systemd and the system bus is up; `auto` registers exactly there, `yes` elsewhere is an
    /// error.
    static func registration(_ setting: ConfigFeature) throws -> [String] {
        let possible = ServiceManager.canAllocateScope(system: true)
        switch setting {
        case .disabled: return possible ? ["--register=no"] : ["--register=no", "--keep-unit"]
        case .auto: return possible ? ["--register=yes"] : ["--register=no", "--keep-unit"]
        case .enabled:
            guard possible else {
                throw MkosiError(.failed, "Register=yes, but this host has no systemd-machined (PID 1 is not systemd or there is no system bus)",
                                 hint: "Use Register=auto or Register=no")
            }
            return ["--register=yes"]
        }
    }
}
