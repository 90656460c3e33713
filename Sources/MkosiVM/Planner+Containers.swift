import MkosiConfig
import MkosiCore

/// `VirtualMachineMonitor=vmspawn` and systemd-nspawn (`shell`, `boot`).
extension Planner {
    /// systemd-vmspawn runs qemu, virtiofsd and swtpm itself. Decided here rather than left to
    /// vmspawn's own detection: KVM only where it works, `TPM=auto` as for qemu, `Register=auto`
    /// only where machined runs, `--keep-unit` (and `--user`) where systemd cannot make a scope.
    func vmspawn() throws -> Machine {
        let format = config.format
        guard [.disk, .esp, .directory, .uki].contains(format) else {
            throw refuse(.unsupported, .outputFormat, "\(format.rawValue) images cannot be booted in systemd-vmspawn",
                         hint: "VirtualMachineMonitor=vmspawn boots Format=disk, esp, directory and uki images; use VirtualMachineMonitor=qemu for cpio")
        }
        guard host.tools.vmspawn else {
            throw refuse(.missingTool, .virtualMachineMonitor, "VirtualMachineMonitor=vmspawn, but systemd-vmspawn is not installed\(toolsTree.map { " in the tools tree \($0)" } ?? "")",
                         hint: "systemd-vmspawn comes with systemd-container 258 or newer (Debian testing, Fedora, Arch): use ToolsTree=default with ToolsTreeRelease=testing, or VirtualMachineMonitor=qemu")
        }
        try compression()
        let firmware = vmspawnFirmware()
        var m = base(.vmspawn, boot: firmware.isLinux ? .linux : .uefi(secureBoot: firmware == .uefiSecureBoot))
        try vmspawnKernel(firmware, into: &m)
        m.kvm = try kvm()
        cpus(kvm: m.kvm, into: &m)
        _ = try vsock()
        m.vsockSetting = config[.vsock]
        m.tpm = RuntimeRules.wantTPM(config[.tpm], uefi: m.uefi, available: host.tools.swtpm)
        m.register = try register(possible: host.machinedSocket != nil, what: "systemd-machined is not available (no varlink socket)")
        m.keepUnit = !host.canAllocateScope
        m.userScope = m.keepUnit && !m.register
        try network()
        let (variables, microsoft) = try variables()
        m.variables = variables
        if firmware == .uefiSecureBoot { m.firmwareFeatures.append("secure-boot") } else if m.uefi { m.firmwareFeatures.append("~secure-boot") }
        if microsoft { m.firmwareFeatures.append("enrolled-keys") }
        m.runtimeSize = config[.runtimeSize]
        m.bindUser = try bindUser()
        m.forwardJournal = config[.forwardJournal]
        // vmspawn sets up the console's terminal itself, so no terminal type or size is passed.
        m.kernelArguments = request.arguments + config[.kernelCommandLine] + RuntimeRules.commandLineExtra(config, term: "", columns: 0, rows: 0, vmspawn: true)
        m.qemuArguments = config[.qemuArgs]
        m.warnings = qemuOnly()
        return m
    }

    /// Settings systemd-vmspawn has no option for, which it therefore ignores.
    func qemuOnly() -> [String] {
        var ignored: [(String, String?)] = []
        if config[.cxl] { ignored.append(("CXL=", config.location(of: .cxl, cwd: request.cwd))) }
        if (config[.maxMem] ?? 0) > 0 { ignored.append(("MaxMem=", config.location(of: .maxMem, cwd: request.cwd))) }
        if config[.removable] { ignored.append(("Removable=", config.location(of: .removable, cwd: request.cwd))) }
        return ignored.map { "\($0.1.map { "\($0): " } ?? "")\($0.0) is ignored with VirtualMachineMonitor=vmspawn (systemd-vmspawn has no such option); VirtualMachineMonitor=qemu honours it" }
    }

    /// `Firmware=auto` as upstream decides it for vmspawn: a given kernel is booted by UEFI
    /// when it is a UKI and directly otherwise; directory (and non-UEFI) images boot directly;
    /// the rest with UEFI, with Secure Boot on x86 and on arm64 for apt distributions.
    func vmspawnFirmware() -> Firmware {
        let setting = config[.firmware]
        guard setting == .auto else { return setting }
        if let isUKI = image.linuxIsUKI { return isUKI ? .uefiSecureBoot : .linux }
        if config.format == .directory || !(config.architecture == .x86_64 || config.architecture == .arm64) { return .linux }
        return config.architecture == .x86_64 || config.distribution.isAptDistribution ? .uefiSecureBoot : .uefi
    }

    /// `--linux` (`Linux=`, else what is beside the image) and its initrd (`<Output>.initrd`,
    /// else `Initrds=` joined at launch).
    func vmspawnKernel(_ firmware: Firmware, into m: inout Machine) throws {
        if let linux = config[.linux] {
            guard image.linuxIsUKI != nil else { throw refuse(.config, .linux, "Kernel not found at \(linux) (Linux=)") }
            m.kernel = linux
        } else if firmware.isLinux || m.format == .directory || m.format == .uki {
            let kernel = firmware.isLinux ? image.vmlinuz : m.format == .uki ? image.output : image.efi
            guard let kernel else {
                let name = firmware.isLinux ? "\(config.output).vmlinuz" : "\(config.output).efi"
                throw MkosiError(.notBuilt, "Kernel or UKI not found at \(Path.join(outputDirectory, name))",
                                 hint: "Install a kernel in the image (SplitArtifacts= keeps it beside the image by default), or set Linux=")
            }
            m.kernel = kernel
        }
        guard m.kernel != nil, firmware != .linuxNoInitrd else { return }
        m.initrds = image.initrd.map { [$0] } ?? config[.initrds]
    }

    /// systemd-nspawn on a directory tree or a disk's plain root partition (mounted through a
    /// loop device, as hosts without udev cannot use `--image`).
    func nspawn(boot: Bool) throws -> Machine {
        guard config.format == .directory || (config.format == .disk && config.compression == .none) else {
            throw refuse(.unsupported, .outputFormat, "'\(request.verb.rawValue)' works on directory and uncompressed disk images (Format=\(config.format.rawValue))")
        }
        guard host.isRoot else {
            throw MkosiError(.hostUnsupported, "'\(request.verb.rawValue)' needs root (systemd-nspawn)", hint: "Run it with sudo or as root")
        }
        var m = base(.nspawn, boot: boot ? .container : .shell)
        if config.format == .disk {
            guard let root = image.rootPartition else {
                throw MkosiError(.unsupported, "\(image.output) has no plain root partition to boot with systemd-nspawn",
                                 hint: "Verity-protected or encrypted roots can be booted with 'mkosi vm'")
            }
            m.rootPartition = root
        }
        m.privateNspawnRun = !host.runOnTmpfs
        m.register = try register(possible: host.systemScope, what: "this host has no systemd-machined (PID 1 is not systemd or there is no system bus)")
        m.keepUnit = !host.systemScope
        m.bindUser = try bindUser()
        if boot, let journal = config[.forwardJournal] {
            guard host.tools.journalRemote != nil else {
                throw MkosiError.missingTool("systemd-journal-remote (ForwardJournal=)", packages: "systemd-journal-remote", toolsTree: toolsTree)
            }
            m.forwardJournal = journal
        }
        m.nspawnSettings = config[.nspawnSettings]
        if boot { m.kernelArguments = config[.kernelCommandLine] + RuntimeRules.commandLineExtra(config, forContainer: true) }
        return m
    }
}
