#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// `mkosi vm` with `VirtualMachineMonitor=vmspawn`: boots the image with systemd-vmspawn (from
/// the tools tree, or the host), which runs qemu, virtiofsd and swtpm itself. As upstream:
/// the firmware (and its variables template) comes from `systemd-vmspawn --firmware=describe`,
/// `FirmwareVariables=` is applied to a copy, credentials are loaded from files, build sources
/// and runtime trees are bound (`--bind`), `Drives=` and `QemuArgs=` reach qemu through
/// `$SYSTEMD_VMSPAWN_QEMU_EXTRA`, and the kernel command line additions are upstream's for vmspawn.
///
/// Decided here rather than left to vmspawn's own detection: `KVM=auto` is KVM only where
/// `/dev/kvm` opens and the CPU offers vmx/svm (vmspawn would take a `/dev/kvm` whose guests hang),
/// `TPM=auto` as for qemu (not under TCG), and `Register=auto` registers only where machined's
/// socket is there (vmspawn's `--register=yes` fails without machined). Where PID 1 is not
/// systemd or its bus is down, `--keep-unit` keeps vmspawn from asking for a scope unit.
public struct Vmspawn {
    let qemu: Qemu

    public init(config: Config, cwd: String, helper: String, extraArguments: [String]) {
        qemu = Qemu(config: config, cwd: cwd, helper: helper, extraArguments: extraArguments)
    }

    var config: Config { qemu.config }

    /// What the command line is made of, worked out from the configuration and the host.
    struct Plan {
        var cpus: Int
        var ram: Int
        var kvm: Bool
        var vsock: ConfigFeature
        var tpm: Bool
        var console: ConsoleMode
        var register: Bool
        /// No scope unit of vmspawn's own (`--keep-unit`), where systemd cannot make one.
        var keepUnit: Bool = false
        /// vmspawn in the user's scope (`--user`), which opens no bus with `--keep-unit` and
        /// `--register=no`: root's default, the system scope, always opens the system bus.
        var userScope: Bool = false
        var firmwareFeatures: [String] = []
        var nvramTemplate: String? = nil
        var growImage: Int? = nil
        var bindUser: String? = nil
        var network: Network
        var credentials: [(name: String, path: String)] = []
        var ephemeral: Bool
        var binds: [(source: String, target: String)] = []
        var linux: String? = nil
        var initrd: String? = nil
        var directory: String? = nil
        var image: String? = nil
        var diskType: DiskType
        var forwardJournal: String? = nil
        var kernelArguments: [String] = []
    }

    /// systemd-vmspawn's command line for `plan`, in upstream's order.
    static func arguments(_ plan: Plan) -> [String] {
        func tristate(_ f: ConfigFeature) -> String { f == .enabled ? "yes" : f == .disabled ? "no" : "auto" }
        var argv = ["systemd-vmspawn", "--cpus", String(plan.cpus), "--ram", String(plan.ram), "--kvm", plan.kvm ? "yes" : "no",
                    "--vsock", tristate(plan.vsock), "--tpm", plan.tpm ? "yes" : "no", "--tpm-state=off",
                    "--console", plan.console.rawValue, "--register", plan.register ? "yes" : "no"]
        if plan.keepUnit { argv.append("--keep-unit") }
        if plan.userScope { argv.append("--user") }
        if !plan.firmwareFeatures.isEmpty { argv += ["--firmware-features", plan.firmwareFeatures.joined(separator: ",")] }
        if let size = plan.growImage { argv += ["--grow-image", String(size)] }
        if let user = plan.bindUser { argv += ["--bind-user", user, "--bind-user-group=wheel"] }
        switch plan.network {
        case .user: argv.append("--network-user-mode")
        case .interface: argv.append("--network-tap")
        case .none: break
        }
        if let template = plan.nvramTemplate { argv += ["--efi-nvram-template", template] }
        for c in plan.credentials { argv.append("--load-credential=\(c.name):\(c.path)") }
        if plan.ephemeral { argv.append("--ephemeral") }
        for b in plan.binds { argv += ["--bind", "\(b.source):\(b.target)"] }
        if let linux = plan.linux {
            argv += ["--linux", linux]
            if let initrd = plan.initrd { argv += ["--initrd", initrd] }
        }
        if let directory = plan.directory { argv += ["--directory", directory] }
        if let image = plan.image { argv += ["--image", image] }
        if plan.diskType != .virtioBlk { argv += ["--image-disk-type", plan.diskType.rawValue] }
        if let journal = plan.forwardJournal {
            argv += ["--forward-journal", journal, "--forward-journal-max-use=1T", "--forward-journal-keep-free=1G",
                     "--forward-journal-max-file-size=4G", "--forward-journal-max-files=\(journal.hasSuffix(".journal") ? 1 : 100)"]
        }
        return argv + plan.kernelArguments
    }

    /// Whether `bytes` (the start of a file, at least its PE headers) are a unified kernel
    /// image: a PE binary with a `.linux` section.
    static func isUKI(_ bytes: [UInt8]) -> Bool {
        func le(_ at: Int, _ n: Int) -> Int? {
            guard at >= 0, at + n <= bytes.count else { return nil }
            return (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        guard bytes.count > 0x40, bytes[0] == 0x4d, bytes[1] == 0x5a, let pe = le(0x3c, 4),
              le(pe, 4) == 0x0000_4550, let sections = le(pe + 6, 2), let optional = le(pe + 20, 2) else { return false }
        let table = pe + 24 + optional
        for i in 0..<sections {
            let at = table + i * 40
            guard at + 8 <= bytes.count else { return false }
            let name = bytes[at..<(at + 8)].prefix { $0 != 0 }
            if Array(name) == Array(".linux".utf8) { return true }
        }
        return false
    }

    /// `Firmware=auto` as upstream decides it for vmspawn: a given kernel is booted by UEFI when
    /// it is a UKI and directly otherwise; directory (and non-UEFI) images boot directly; the
    /// rest with UEFI, with Secure Boot on x86 and on arm64 for apt distributions.
    func firmware(kernel: String?) throws -> Firmware {
        let setting = config[.firmware]
        guard setting == .auto else { return setting }
        if let kernel {
            return Vmspawn.isUKI(try Vmspawn.head(of: kernel)) ? .uefiSecureBoot : .linux
        }
        if config.format == .directory || !(config.architecture == .x86_64 || config.architecture == .arm64) { return .linux }
        return config.architecture == .x86_64 || config.distribution.isAptDistribution ? .uefiSecureBoot : .uefi
    }

    /// The first 4 KiB of `path` (enough for a PE binary's headers and section table).
    static func head(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MkosiError(.failed, "Cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return Array(buffer.prefix(max(0, n)))
    }

    /// Boots the image; returns systemd-vmspawn's exit status.
    public func run() throws -> Int32 {
        let format = config.format
        guard [.disk, .esp, .directory, .uki].contains(format) else {
            throw MkosiError(.unsupported, "\(format.rawValue) images cannot be booted in systemd-vmspawn",
                             hint: "VirtualMachineMonitor=vmspawn boots Format=disk, esp, directory and uki images; use VirtualMachineMonitor=qemu for cpio")
        }
        let toolsTree = config.toolsTree
        let tools = toolsTree ?? ""
        guard FS.isExecutable(tools + "/usr/bin/systemd-vmspawn") else {
            throw MkosiError(.failed, "VirtualMachineMonitor=vmspawn, but systemd-vmspawn is not installed\(toolsTree.map { " in the tools tree \($0)" } ?? "")",
                             hint: "systemd-vmspawn comes with systemd-container 258 or newer (Debian testing, Fedora, Arch): use ToolsTree=default with ToolsTreeRelease=testing, or VirtualMachineMonitor=qemu")
        }
        let outputDirectory = qemu.outputDirectory
        let image = try qemu.builtImage()

        var kernel = config[.linux]
        if let k = kernel, !FS.exists(k) { throw MkosiError.config("Kernel not found at \(k) (Linux=)") }
        let firmware = try self.firmware(kernel: kernel)
        if kernel == nil && (firmware.isLinux || format == .directory || format == .uki) {
            let name = firmware.isLinux ? "\(config.output).vmlinuz" : format == .uki ? config.output : "\(config.output).efi"
            let path = Path.join(outputDirectory, name)
            guard FS.exists(path) else {
                throw MkosiError(.failed, "Kernel or UKI not found at \(path)",
                                 hint: "Install a kernel in the image (SplitArtifacts= keeps it beside the image by default), or set Linux=")
            }
            kernel = path
        }

        let temp = try FS.makeTemporaryDirectory(in: Env.get("TMPDIR") ?? "/var/tmp", prefix: "mkosi-vmspawn")
        let owned = Teardown()
        owned.onTeardown {
            if !FS.removeTree(temp) { Log.warning("Could not remove the VM's temporary directory \(temp)") }
        }
        defer { owned.teardown() }

        let kvm = try qemu.hostKVM()
        _ = try qemu.vsockCID()  // VSock=yes without /dev/vhost-vsock fails here, clearly
        let uefi = !firmware.isLinux
        var plan = Plan(cpus: qemu.machineCPUs(kvm: kvm), ram: config[.ram], kvm: kvm, vsock: config[.vsock],
                        tpm: Qemu.wantTPM(config[.tpm], uefi: uefi, kvm: kvm, available: Swtpm.available(toolsTree: toolsTree)),
                        console: config[.console], register: try Qemu.machinedSocket(config[.register]) != nil,
                        network: config[.runtimeNetwork], ephemeral: config[.ephemeral], diskType: config[.diskType])
        // vmspawn asks the service manager for a scope (the system one as root). Where systemd
        // cannot make one (PID 1 is not systemd, or the bus is down) it gets `--keep-unit` and,
        // opening no bus at all then, `--user` with its runtime directory in ours; it still takes
        // its unit from its cgroup, so it runs in a scope-named cgroup mkosi makes (at the end).
        plan.keepUnit = !ServiceManager.canAllocateScope(system: Privileges.isHostRoot)
        plan.userScope = plan.keepUnit && !plan.register
        if config[.runtimeNetwork] == .interface && !Privileges.isHostRoot {
            throw MkosiError.config("RuntimeNetwork=interface requires root privileges")
        }

        // Every host path vmspawn and its helpers open is bound at the same path.
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(temp)
        for device in ["/dev/kvm", "/dev/vhost-vsock", "/dev/vhost-net", "/dev/net/tun"] where FS.exists(device) {
            s.bind(device, optional: true)
        }

        if firmware == .uefiSecureBoot { plan.firmwareFeatures.append("secure-boot") } else if uefi { plan.firmwareFeatures.append("~secure-boot") }
        let variables = config[.firmwareVariables]
        if variables == "microsoft" || variables == "microsoft-mok" { plan.firmwareFeatures.append("enrolled-keys") }
        if uefi {
            var describe = ["systemd-vmspawn", "--firmware=describe"]
            if !plan.firmwareFeatures.isEmpty { describe += ["--firmware-features", plan.firmwareFeatures.joined(separator: ",")] }
            let out = try SandboxRunner(helper: qemu.helper).capture(describe, in: s, display: describe).output
            guard case .string(let template)? = (try? JSON.parse(out))?["mapping"]?["nvram-template"]?["filename"] else {
                throw MkosiError(.failed, "systemd-vmspawn --firmware=describe named no firmware variables template",
                                 hint: "Is ovmf installed\(toolsTree == nil ? "" : " in the tools tree")?")
            }
            // FirmwareVariables= (custom, microsoft-mok, a file) applied to a copy, as for qemu.
            try qemu.firmwareVariables(template: tools + template, into: temp + "/ovmf-vars", temp: temp)
            plan.nvramTemplate = temp + "/ovmf-vars"
        }

        let credentials = temp + "/credentials"
        try FS.makeDirectories(credentials, mode: 0o700)
        for (name, value) in try RuntimeCredentials.collect(config, helper: qemu.helper) {
            try FS.writeAtomically(credentials + "/" + name, value, mode: 0o600)
            plan.credentials.append((name, credentials + "/" + name))
        }

        for share in Qemu.runtimeShares(config) {
            plan.binds.append(share)
            s.bind(share.source)
        }
        if let size = config[.runtimeSize] { plan.growImage = size }
        if config[.bindUser] {
            guard let user = Privileges.invokingUserName else {
                throw MkosiError.config("BindUser=yes, but the invoking user cannot be named", hint: "Run mkosi as that user, or with sudo")
            }
            plan.bindUser = user
        }

        var qemuArguments = config[.qemuArgs]
        for drives in Dictionary(grouping: config[.drives], by: \.fileId).sorted(by: { $0.key < $1.key }).map(\.value) {
            let file = try qemu.driveFile(drives[0], owned: owned)
            s.bind(file)
            for drive in drives { qemuArguments += Qemu.driveArguments(drive, path: file) }
        }

        if let kernel {
            s.bind(kernel, readOnly: true)
            plan.linux = kernel
            if firmware != .linuxNoInitrd, let initrd = try initrd(outputDirectory: outputDirectory, temp: temp) {
                s.bind(initrd, readOnly: true)
                plan.initrd = initrd
            }
        }
        if format == .directory {
            plan.directory = image
        } else if format != .uki {
            plan.image = image
        }
        s.bind(image)
        if let journal = config[.forwardJournal] {
            let directory = journal.hasSuffix(".journal") ? Path.dirname(journal) : journal
            try FS.makeDirectories(directory)
            s.bind(directory)
            plan.forwardJournal = journal
        }

        // vmspawn sets up the console's terminal itself, so no terminal type or size is passed.
        plan.kernelArguments = qemu.extraArguments + config[.kernelCommandLine]
            + Qemu.commandLineExtra(config, term: "", columns: 0, rows: 0, vmspawn: true)

        if !qemuArguments.isEmpty {
            s.environment.append(("SYSTEMD_VMSPAWN_QEMU_EXTRA", qemuArguments.map(ShellLexer.quote).joined(separator: " ")))
        }
        if plan.userScope {
            try FS.makeDirectories(temp + "/runtime", mode: 0o700)
            s.environment.append(("XDG_RUNTIME_DIR", temp + "/runtime"))
        }
        s.workingDirectory = temp
        let argv = Vmspawn.arguments(plan)
        var prefix: [String] = []
        if plan.keepUnit {
            let scope = try ServiceManager.UserScope.make(name: "mkosi-vmspawn-\(getpid())")
            owned.onTeardown {
                if !scope.remove() { Log.warning("Could not remove the cgroup \(scope.path)") }
            }
            // The shell moves itself into the scope, then becomes the sandbox and vmspawn.
            prefix = ["/bin/sh", "-c", "echo 0 > \"$0\" && exec \"$@\"", scope.procs]
        }
        return try SandboxRunner(helper: qemu.helper).run(argv, in: s, through: prefix, check: false)
    }

    /// The initrd for a direct kernel boot: `<Output>.initrd` beside the image, else the
    /// `Initrds=` joined into one file in `temp`, else none (as upstream).
    func initrd(outputDirectory: String, temp: String) throws -> String? {
        let split = Path.join(outputDirectory, "\(config.output).initrd")
        if FS.exists(split) { return split }
        let initrds = config[.initrds]
        guard !initrds.isEmpty else { return nil }
        let joined = temp + "/initrd"
        var bytes: [UInt8] = []
        for initrd in initrds { bytes += try FS.readBytes(initrd) }
        try FS.writeAtomically(joined, bytes, mode: 0o600)
        return joined
    }
}
