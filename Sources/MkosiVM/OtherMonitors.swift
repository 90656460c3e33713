import MkosiConfig
import MkosiCore

/// systemd-vmspawn's command line for a machine (`Vmspawn.arguments`); every host path
/// vmspawn and its helpers open is bound at the same path.
public enum VmspawnMonitor: MachineMonitor {
    public static func commandLine(for m: Machine, launch: LaunchResources) -> MonitorCommand {
        var c = MonitorCommand()
        c.bind(launch.temp)
        c.optionalBinds = ["/dev/kvm", "/dev/vhost-vsock", "/dev/vhost-net", "/dev/net/tun"]
        var plan = Vmspawn.Plan(cpus: m.cpus, ram: m.ram, kvm: m.kvm, vsock: m.vsockSetting, tpm: m.tpm, console: m.console,
                                register: m.register, network: m.network, ephemeral: m.ephemeral, diskType: m.diskType)
        plan.keepUnit = m.keepUnit
        plan.userScope = m.userScope
        plan.firmwareFeatures = m.firmwareFeatures
        plan.nvramTemplate = launch.variables
        plan.growImage = m.runtimeSize
        plan.bindUser = m.bindUser
        plan.credentials = launch.credentials
        plan.binds = m.shares.map { ($0.source, $0.target) }
        for share in m.shares { c.bind(share.source) }
        var qemuArguments = m.qemuArguments
        for (n, drives) in m.drives.enumerated() where n < launch.driveFiles.count {
            c.bind(launch.driveFiles[n])
            for drive in drives { qemuArguments += QemuMonitor.driveArguments(drive, path: launch.driveFiles[n]) }
        }
        if let kernel = m.kernel {
            c.bind(kernel, readOnly: true)
            plan.linux = kernel
            if let initrd = launch.initrd { c.bind(initrd, readOnly: true); plan.initrd = initrd }
        }
        if m.format == .directory { plan.directory = launch.image } else if m.format != .uki { plan.image = launch.image }
        c.bind(launch.image)
        if let journal = m.forwardJournal {
            c.bind(journal.hasSuffix(".journal") ? Path.dirname(journal) : journal)
            plan.forwardJournal = journal
        }
        plan.kernelArguments = m.kernelArguments
        if !qemuArguments.isEmpty {
            c.environment.append(("SYSTEMD_VMSPAWN_QEMU_EXTRA", qemuArguments.map(ShellLexer.quote).joined(separator: " ")))
        }
        if m.userScope { c.environment.append(("XDG_RUNTIME_DIR", launch.temp + "/runtime")) }
        c.workingDirectory = launch.temp
        // The shell moves itself into the scope, then becomes the sandbox and vmspawn.
        if let procs = launch.scopeProcs { c.prefix = ["/bin/sh", "-c", "echo 0 > \"$0\" && exec \"$@\"", procs] }
        c.argv = Vmspawn.arguments(plan)
        return c
    }
}

/// systemd-nspawn's command line for a machine (`shell`, `boot`), run on the host. A disk's
/// root partition is mounted through a loop device in a private mount namespace (nspawn's
/// `--image` needs udev), which vanishes with it; where /run is no tmpfs nspawn gets one of its
/// own at /run/systemd/nspawn (it refuses to clean up its state on a disk file system).
public enum NspawnMonitor: MachineMonitor {
    public static func commandLine(for m: Machine, launch: LaunchResources) -> MonitorCommand {
        var c = MonitorCommand()
        c.onHost = true
        c.prefix = prefix(m, launch)
        c.argv = ["systemd-nspawn", "--quiet", "--directory=\(launch.mountpoint ?? launch.image)", "--machine=\(m.hostName)",
                  "--link-journal=no", "--suppress-sync=yes"]
        switch m.network {
        case .user: c.argv.append("--resolv-conf=auto")
        case .interface: c.argv += ["--private-network", "--network-veth"]
        case .none: c.argv.append("--private-network")
        }
        c.argv += m.register ? ["--register=yes"] : m.keepUnit ? ["--register=no", "--keep-unit"] : ["--register=no"]
        if m.ephemeral { c.argv.append("--ephemeral") }
        c.argv += launch.credentials.map { "--load-credential=\($0.name):\($0.path)" }
        for (n, share) in m.shares.enumerated() {
            let user = n < launch.shareOwnedByUser.count && launch.shareOwnedByUser[n]
            c.argv.append("--bind=\(share.source):\(share.target):norbind,\(user ? "rootidmap" : "noidmap")")
        }
        if let user = m.bindUser { c.argv.append("--bind-user=\(user)") }
        if let socket = launch.journalSocket {
            c.argv += ["--bind=\(socket):/run/host/journal/socket", "--set-credential=journal.forward_to_socket:/run/host/journal/socket"]
        }
        if let settings = m.nspawnSettings { c.argv += ["--settings=trusted", "--settings=\(settings)"] }
        c.argv += m.boot == .container ? bootArguments(m) : shellArguments(m, launch)
        return c
    }

    static func prefix(_ m: Machine, _ launch: LaunchResources) -> [String] {
        var setup: [String] = []
        var loop = ["", "", "", ""]
        if m.privateNspawnRun { setup.append("mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn") }
        if let root = m.rootPartition, let mountpoint = launch.mountpoint {
            setup.append("mount -o loop,offset=$1,sizelimit=$2 \"$3\" \"$4\"")
            loop = [String(root.offset), String(root.size), launch.image, mountpoint]
        }
        guard !setup.isEmpty else { return [] }
        return ["unshare", "--mount", "--propagation=private", "sh", "-c", (setup + ["shift 4", "exec \"$@\""]).joined(separator: " && "), "sh"] + loop
    }

    /// Options first: nspawn takes everything after the first argument as pid1's. Kernel
    /// command line entries without a dot in the key become environment variables, as the
    /// kernel passes them to pid1.
    static func bootArguments(_ m: Machine) -> [String] {
        var argv = ["--boot"]
        var pid1: [String] = []
        for arg in m.kernelArguments {
            if let eq = arg.firstIndex(of: "="), !arg[..<eq].contains(".") {
                argv += ["--setenv", String(arg[..<eq]).replacingOccurrences(of: "-", with: "_") + String(arg[eq...])]
            } else {
                pid1.append(arg)
            }
        }
        return argv + m.verbArguments + pid1
    }

    static func shellArguments(_ m: Machine, _ launch: LaunchResources) -> [String] {
        var argv = ["--rlimit=RLIMIT_CORE=\(launch.coreLimit ?? "infinity:infinity")", "--console=autopipe"]
        if !m.verbArguments.isEmpty { argv += ["--"] + m.verbArguments }
        return argv
    }
}
