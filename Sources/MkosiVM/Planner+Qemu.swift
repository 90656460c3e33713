import MkosiConfig
import MkosiCore

/// `mkosi vm` with qemu. As upstream: UEFI firmware from qemu's descriptors, or the kernel
/// started directly (`Firmware=linux`, and by default for cpio and directory images); the
/// console on a virtio console multiplexed with qemu's monitor (`Console=native`);
/// `KernelCommandLineExtra=` and credentials through SMBIOS (or `-append`); `RuntimeTrees=` and
/// a directory image's root through virtiofsd.
extension Planner {
    func qemu() throws -> Machine {
        let format = config.format
        guard [.disk, .uki, .esp, .cpio, .directory].contains(format) else {
            throw refuse(.unsupported, .outputFormat, "\(format.rawValue) images cannot be booted in qemu",
                         hint: "'vm' boots Format=disk, uki, esp, cpio and directory images")
        }
        if config[.bindUser] {
            throw refuse(.config, .bindUser, "mkosi vm does not support BindUser=", hint: "BindUser= applies to 'shell' and 'boot'")
        }
        try compression()
        let setting = config[.firmware]
        let direct = setting.isLinux || ((format == .cpio || format == .directory) && setting == .auto)
        var m = base(.qemu, boot: direct ? .linux : .uefi(secureBoot: setting == .uefiSecureBoot || setting == .auto))
        try qemuMachine(into: &m)
        try network()
        m.sshForward = !m.vsock && m.network == .user && m.sshKey != nil
        try qemuJournal(into: &m)
        try qemuShares(into: &m)
        if m.uefi { try qemuFirmware(into: &m) }
        m.tpm = try tpm(uefi: m.uefi)
        try console(into: &m)
        try qemuKernel(into: &m)
        m.ephemeral = config[.ephemeral] && format != .cpio && format != .uki
        m.runtimeSize = format == .disk ? config[.runtimeSize] : nil
        m.register = try register(possible: host.machinedSocket != nil, what: "systemd-machined is not available (no varlink socket)")
        m.machinedSocket = m.register ? host.machinedSocket : nil
        m.qemuArguments = config[.qemuArgs] + request.arguments
        guard host.tools.qemu.contains(m.qemuBinary) else { throw MkosiError.missingTool(m.qemuBinary, packages: "qemu-system", toolsTree: toolsTree) }
        return m
    }

    /// A disk must not be compressed to be booted.
    func compression() throws {
        guard config.compression == .none || config.format != .disk else {
            throw refuse(.unsupported, .compressOutput, "Cannot boot a compressed disk image (CompressOutput=\(config.compression.rawValue))",
                         hint: "Build it with CompressOutput=none")
        }
    }

    /// The emulator, KVM, CPUs, vsock, CXL.
    func qemuMachine(into m: inout Machine) throws {
        let arch = config.architecture
        m.arm = arch == .arm64
        switch arch {
        case .arm64: m.qemuBinary = "qemu-system-aarch64"
        case .x86: m.qemuBinary = "qemu-system-i386"
        default: m.qemuBinary = "qemu-system-\(arch.rawValue.replacingOccurrences(of: "-", with: "_"))"
        }
        m.kvm = try kvm()
        cpus(kvm: m.kvm, into: &m)
        m.vsock = try vsock()
        m.vsockCID = config[.vsockCID]
        m.cxl = config[.cxl] && (arch == .x86_64 || m.arm)
    }

    /// `ForwardJournal=` over vsock. Without vsock it is refused: forwarding over qemu's user
    /// network was tried and hangs the guest's journal while its network comes up.
    func qemuJournal(into m: inout Machine) throws {
        guard let journal = config[.forwardJournal] else { return }
        guard m.vsock else {
            throw refuse(.hostUnsupported, .forwardJournal, "ForwardJournal= needs a vsock for 'vm', and /dev/vhost-vsock cannot be opened here",
                         hint: "Load vhost_vsock (VSock=yes then insists on it), or forward the journal of a container with 'mkosi boot'")
        }
        guard host.tools.journalRemote != nil else {
            throw MkosiError.missingTool("systemd-journal-remote (ForwardJournal=)", packages: "systemd-journal-remote", toolsTree: toolsTree)
        }
        m.forwardJournal = journal
    }

    /// A directory image's root and the shares through virtiofsd, mounted by the guest through
    /// the `fstab.extra` credential; virtio-fs tags are at most 36 bytes.
    func qemuShares(into m: inout Machine) throws {
        m.rootShare = m.format == .directory
        guard m.rootShare || !m.shares.isEmpty else { return }
        guard host.tools.virtiofsd != nil else {
            throw MkosiError(.missingTool, "virtiofsd must be installed to boot directory images or to share RuntimeTrees= and RuntimeBuildSources=",
                             hint: MkosiError.installHint("virtiofsd", toolsTree: toolsTree))
        }
        for share in m.shares where share.target.utf8.count > 36 {
            throw refuse(.config, .runtimeTrees, "virtio-fs tag \(share.target) derived from the destination is too long (at most 36 bytes)",
                         hint: "Give the tree a shorter target")
        }
        guard !m.shares.isEmpty else { return }
        let fstab = m.shares.map { "\($0.target) \($0.target) virtiofs x-initrd.mount\n" }.joined()
        m.credentials.removeAll { $0.name == "fstab.extra" }
        m.credentials.append(("fstab.extra", Array(fstab.utf8)))
    }

    /// The UEFI firmware for the machine from qemu's descriptors, and its variables.
    func qemuFirmware(into m: inout Machine) throws {
        let (variables, microsoft) = try variables()
        m.variables = variables
        guard let firmware = FirmwareDescriptor.pick(host.tools.firmware, architecture: m.arm ? "aarch64" : "x86_64",
                                                     machine: m.arm ? "virt" : "q35", secureBoot: m.secureBoot,
                                                     microsoftKeys: microsoft) else {
            throw MkosiError(.missingTool, "No UEFI firmware (OVMF) \(microsoft ? "with Microsoft's keys enrolled " : "")found in \(host.tools.firmwareDirectories.joined(separator: " or "))",
                             hint: toolsTree == nil ? "Install the ovmf package or use ToolsTree=default" : "Add ovmf to ToolsTreePackages=")
        }
        m.firmware = firmware
    }

    /// The kernel and initrd for a direct boot (or a UKI as the kernel under UEFI), and the
    /// kernel command line.
    func qemuKernel(into m: inout Machine) throws {
        var arguments: [String] = []
        if m.rootShare {
            arguments += ["root=root", "rootfstype=virtiofs"]
            // Without an initrd of its own the kernel starts /sbin/init of the tree, which images
            // without systemd-sysv (or its like) lack.
            if !image.hasSbinInit && image.hasSystemd
                && !(config[.kernelCommandLine] + config[.kernelCommandLineExtra]).contains(where: { $0.hasPrefix("init=") }) {
                arguments.append("init=/usr/lib/systemd/systemd")
            }
        }
        let t = host.terminal
        arguments += RuntimeRules.commandLineExtra(config, term: t.guestTerm, columns: t.columns, rows: t.rows)
        if m.console == .gui && m.arm { arguments.append("console=tty0") }
        if m.sshForward { arguments.append("systemd.ssh_listen=\(Machine.sshGuestPort)") }
        guard !m.uefi else {
            if m.format == .uki { m.kernel = image.output }
            m.kernelArguments = arguments
            return
        }
        try directKernel(into: &m)
        if Machine.needsRootArgument(config) {
            guard let root = image.rootArgument else {
                throw MkosiError(.invalidData, "\(image.output) has no root partition to boot directly", hint: "Add root= to KernelCommandLineExtra=")
            }
            arguments.insert(root, at: 0)
        }
        m.kernelArguments = config[.kernelCommandLine] + arguments
    }

    func directKernel(into m: inout Machine) throws {
        guard let kernel = config[.linux] ?? image.vmlinuz else {
            throw MkosiError(.notBuilt, "No kernel for direct boot: \(Path.join(outputDirectory, "\(config.output).vmlinuz")) does not exist",
                             hint: "Install a kernel in the image and build with SplitArtifacts=kernel (the default), or set Linux=")
        }
        m.kernel = kernel
        guard config[.firmware] != .linuxNoInitrd else { return }
        if let initrd = m.format == .cpio ? image.output : image.initrd {
            m.initrds = [initrd]
        } else if m.format == .directory {
            throw MkosiError(.notBuilt, "No initrd to boot the directory image with: \(Path.join(outputDirectory, "\(config.output).initrd")) does not exist",
                             hint: "Build with SplitArtifacts=initrd (the default) and an initrd (Initrds=)")
        }
    }
}
