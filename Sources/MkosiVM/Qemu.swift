#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiSandbox

/// `mkosi vm`: boots the image in qemu, with the tools (qemu, OVMF, virtiofsd) of the tools
/// tree or the host, inside the sandbox. As upstream: UEFI firmware found through qemu's
/// firmware descriptors (its variables copied to a temporary file), the console on a virtio
/// console (`hvc0`) multiplexed with the qemu monitor on standard input and output,
/// `KernelCommandLineExtra=` and `Credentials=` passed through SMBIOS (or `-append` for
/// direct kernel boot) so they apply without a rebuild, `Ephemeral=` on a reflinked copy,
/// `RuntimeTrees=` shared through virtiofsd. KVM is used only when `/dev/kvm` opens and the
/// CPU offers virtualization (vmx/svm); otherwise qemu emulates (TCG).
public struct Qemu {
    public let config: Config
    public let cwd: String
    public let helper: String
    /// Arguments after the verb, passed to qemu.
    public let extraArguments: [String]

    public init(config: Config, cwd: String, helper: String, extraArguments: [String]) {
        self.config = config
        self.cwd = cwd
        self.helper = helper
        self.extraArguments = extraArguments
    }

    var toolsTree: String? { config.toolsTree }
    var outputDirectory: String { config.outputDirectoryOrDefault(cwd: cwd) }

    /// The UEFI firmware: code and variables template, from a descriptor in
    /// `/usr/share/qemu/firmware` (of the tools tree, or the host's and `/etc/qemu/firmware`).
    public struct Firmware: Equatable {
        public var code: String
        public var codeFormat: String
        public var variables: String
        public var variablesFormat: String
    }

    /// Picks the first descriptor (by path) for UEFI on x86-64/aarch64 q35/virt with an
    /// NVRAM template, with Secure Boot exactly when `secureBoot`, and with Microsoft's keys
    /// enrolled exactly when `microsoftKeys` (`FirmwareVariables=microsoft`, as upstream).
    public static func findFirmware(descriptorDirectories: [String], architecture: String, machine: String,
                                    secureBoot: Bool, microsoftKeys: Bool = false) -> Firmware? {
        var paths: [String] = []
        for dir in descriptorDirectories {
            for name in (try? FS.listDirectory(dir)) ?? [] where name.hasSuffix(".json") { paths.append(Path.join(dir, name)) }
        }
        for path in paths.sorted() {
            guard let text = try? FS.readText(path), let json = try? JSON.parse(text) else { continue }
            func strings(_ v: JSON?) -> [String] {
                guard case .array(let items)? = v else { return [] }
                return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            }
            guard strings(json["interface-types"]).contains("uefi") else { continue }
            guard case .array(let targets)? = json["targets"], targets.contains(where: { t in
                if case .string(let a)? = t["architecture"], a == architecture {
                    return strings(t["machines"]).contains { $0.contains(machine) }
                }
                return false
            }) else { continue }
            let features = strings(json["features"])
            guard features.contains("secure-boot") == secureBoot, features.contains("enrolled-keys") == microsoftKeys else { continue }
            guard let mapping = json["mapping"], let executable = mapping["executable"], let template = mapping["nvram-template"],
                  case .string(let code)? = executable["filename"], case .string(let vars)? = template["filename"] else { continue }
            func format(_ v: JSON?) -> String { if case .string(let f)? = v { return f } else { return "raw" } }
            return Firmware(code: code, codeFormat: format(executable["format"]), variables: vars,
                            variablesFormat: format(template["format"]))
        }
        return nil
    }

    /// The number of vCPUs: `CPUs=`, 0 meaning all of the host's. Left at its default (1, as
    /// upstream), an emulated (TCG) machine gets as many as the host has, up to 4: qemu runs
    /// each in a host thread, so a boot takes about a third less time on two cores here, where
    /// one vCPU would leave a core idle. With KVM the default stays 1.
    public static func vCPUs(_ setting: Int, isDefault: Bool, kvm: Bool, hostCPUs: Int) -> Int {
        if setting == 0 { return max(1, hostCPUs) }
        if isDefault && !kvm { return max(setting, min(hostCPUs, 4)) }
        return setting
    }

    /// `TPM=`: yes always; auto (upstream: with UEFI where swtpm is installed) only where the CPU
    /// is not emulated. Under TCG the firmware's and systemd-stub's measurements of the UKI into
    /// the TPM are emulated too and cost more boot time (about 15 s for a 50 MB UKI here) than
    /// the rest of the firmware, for a device the image does not ask for.
    public static func wantTPM(_ setting: ConfigFeature, uefi: Bool, kvm: Bool, available: Bool) -> Bool {
        switch setting {
        case .enabled: return true
        case .disabled: return false
        case .auto: return uefi && kvm && available
        }
    }

    /// `KVM=`: yes requires it; auto uses it only where it can work.
    public static func useKVM(_ setting: ConfigFeature, cpuinfo: String, canOpen: Bool) throws -> Bool {
        let cpuOffersIt = cpuinfo.split(separator: "\n").contains { line in
            line.hasPrefix("flags") && line.split(separator: " ").contains { $0 == "vmx" || $0 == "svm" }
        }
        switch setting {
        case .enabled:
            guard canOpen else {
                throw MkosiError(.failed, "KVM=yes, but /dev/kvm cannot be opened", hint: "Use KVM=auto or KVM=no to emulate")
            }
            return true
        case .disabled: return false
        case .auto: return canOpen && cpuOffersIt
        }
    }

    /// The kernel command line additions upstream makes for `vm`, then `KernelCommandLineExtra=`.
    /// For a container (`mkosi boot`) only the first two and `KernelCommandLineExtra=`.
    public static func commandLineExtra(_ config: Config, forContainer: Bool) -> [String] {
        commandLineExtra(config, term: "", columns: 0, rows: 0, container: true)
    }

    /// The same for a VM whose console is `term` of `columns`×`rows`. With `vmspawn`, the
    /// console's terminal settings are left out: systemd-vmspawn sets up the
    /// console (and its size and terminal type) itself, as upstream relies on.
    public static func commandLineExtra(_ config: Config, term: String, columns: Int, rows: Int, container: Bool = false,
                                        vmspawn: Bool = false) -> [String] {
        let user = config[.kernelCommandLineExtra]
        var args = ["systemd.wants=network.target"]
        if !user.contains(where: { $0.hasPrefix("SYSTEMD_SULOGIN_FORCE=") }) { args.append("SYSTEMD_SULOGIN_FORCE=1") }
        if container { return args + quoted(user) }
        args += ["rw", "module_blacklist=vmw_vmci"]
        if !vmspawn {
            args += ["systemd.tty.columns.hvc0=\(columns)", "systemd.tty.rows.hvc0=\(rows)", "systemd.tty.term.hvc0=\(term)"]
        }
        if !user.contains(where: { $0.hasPrefix("ip=") }) {
            args += ["ip=enc0:any", "ip=enp0s1:any", "ip=enp0s2:any", "ip=host0:any", "ip=none"]
        }
        if !user.contains(where: { $0.hasPrefix("loglevel=") }) { args.append("loglevel=4") }
        let console = config[.console]
        if console != .gui && console != .headless && !vmspawn {
            args += ["systemd.tty.term.console=\(term)", "systemd.tty.columns.console=\(columns)",
                     "systemd.tty.rows.console=\(rows)", "console=hvc0", "TERM=\(term)"]
        }
        return args + quoted(user)
    }

    /// Values with spaces in double quotes, as the kernel command line needs them.
    static func quoted(_ arguments: [String]) -> [String] {
        arguments.map { arg in
            if let eq = arg.firstIndex(of: "="), arg[arg.index(after: eq)...].contains(" ") {
                return "\(arg[..<eq])=\"\(arg[arg.index(after: eq)...])\""
            }
            return arg
        }
    }

    /// qemu's option syntax doubles commas inside values.
    public static func escapeOption(_ value: String) -> String { value.replacingOccurrences(of: ",", with: ",,") }

    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[Int((b1 & 15) << 2 | b2 >> 6)] : "=")
            out.append(i + 2 < bytes.count ? table[Int(b2 & 63)] : "=")
            i += 3
        }
        return out
    }

    var qemuBinary: String {
        switch config.architecture {
        case .arm64: return "qemu-system-aarch64"
        case .x86: return "qemu-system-i386"
        default: return "qemu-system-\(config.architecture.rawValue.replacingOccurrences(of: "-", with: "_"))"
        }
    }

    /// The machine name (`Machine=`, else the image name; underscores become dashes where a
    /// host name is needed).
    var machineName: String { config[.machine] ?? config.image }

    /// The guest port `mkosi ssh` reaches through qemu's port forward where there is no vsock:
    /// systemd-ssh-generator in the guest listens there (`systemd.ssh_listen=`), apart from any
    /// sshd the image itself starts on port 22.
    public static let sshGuestPort: UInt16 = 2222

    /// `KVM=` decided for this host (`useKVM` with /dev/kvm and /proc/cpuinfo); says so when the
    /// CPU will be emulated.
    func hostKVM() throws -> Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        let kvm = try Qemu.useKVM(config[.kvm], cpuinfo: (try? FS.readText("/proc/cpuinfo")) ?? "", canOpen: fd >= 0)
        if !kvm { Log.info("Emulating the CPU (TCG): no usable KVM on this machine") }
        return kvm
    }

    /// The machine's CPUs (`vCPUs` with `CPUs=`, whether it was set, and the host's CPUs).
    func machineCPUs(kvm: Bool) -> Int {
        Qemu.vCPUs(config[.cpus], isDefault: (config.origins["cpus"] ?? [.defaultValue]) == [.defaultValue], kvm: kvm,
                   hostCPUs: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The image in the output directory, which must have been built, and not as a compressed disk.
    func builtImage() throws -> String {
        let image = Path.join(outputDirectory, config.outputWithCompression)
        guard FS.exists(image) else {
            throw MkosiError(.failed, "Image '\(config.image)' has not been built yet",
                             hint: "Run 'mkosi build' first, or use 'mkosi -f vm' to build it")
        }
        guard config.compression == .none || config.format != .disk else {
            throw MkosiError(.unsupported, "Cannot boot a compressed disk image (CompressOutput=\(config.compression.rawValue))",
                             hint: "Build it with CompressOutput=none")
        }
        return image
    }

    /// Boots the image; returns qemu's exit status.
    public func run() throws -> Int32 {
        let format = config.format
        guard [.disk, .uki, .esp, .cpio, .directory].contains(format) else {
            throw MkosiError(.unsupported, "\(format.rawValue) images cannot be booted in qemu",
                             hint: "'vm' boots Format=disk, uki, esp, cpio and directory images")
        }
        if config[.bindUser] {
            throw MkosiError.config("mkosi vm does not support BindUser=", hint: "BindUser= applies to 'shell' and 'boot'")
        }
        let image = try builtImage()
        let temp = try FS.makeTemporaryDirectory(in: Env.get("TMPDIR") ?? "/var/tmp", prefix: "mkosi-vm")
        let owned = Teardown()
        owned.onTeardown {
            if !FS.removeTree(temp) {
                let left = ((try? FS.listDirectory(temp)) ?? []).sorted().joined(separator: " ")
                Log.warning("Could not remove the VM's temporary directory \(temp) (left: \(left.isEmpty ? "nothing readable" : left))")
            }
        }
        defer { owned.teardown() }

        var bootImage = image
        if config[.ephemeral] && format != .cpio && format != .uki {
            let copy = image + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            owned.onTeardown { FS.removeTree(copy) }  // also when the copy fails half-way
            try HostCommand.run(["cp", "-a", "--reflink=auto", "--sparse=always", image, copy])
            bootImage = copy
        }
        if let size = config[.runtimeSize], format == .disk {
            var s = sandbox(temp: temp)
            s.bind(bootImage, "/work/image")
            try SandboxRunner(helper: helper).run(["systemd-repart", "--definitions=/", "--no-pager", "--size=\(size)", "--pretty=no",
                                             "--offline=yes", "/work/image"], in: s, display: ["systemd-repart", "--size=\(size)", bootImage])
        }

        let firmwareSetting = config[.firmware]
        let directKernel = firmwareSetting.isLinux || ((format == .cpio || format == .directory) && firmwareSetting == .auto)
        let uefi = !directKernel
        let secureBoot = firmwareSetting == .uefiSecureBoot || (firmwareSetting == .auto && uefi)
        let kvm = try hostKVM()
        let cid = try vsockCID()

        let cpus = machineCPUs(kvm: kvm)
        if cpus != config[.cpus] && config[.cpus] != 0 {
            Log.info("Emulating \(cpus) CPUs: CPUs= is not set, and qemu runs each emulated CPU in a thread of its own")
        }
        let arm = config.architecture == .arm64
        let shares = Qemu.runtimeShares(config)
        let sharedMemory = !shares.isEmpty || format == .directory
        let cxl = config[.cxl] && (config.architecture == .x86_64 || arm)

        // `mkosi ssh` without vsock: a port on 127.0.0.1 forwarded to the guest's sshd.
        var sshPort: UInt16? = nil
        if cid == nil && config[.runtimeNetwork] == .user && config[.sshKey] != nil {
            sshPort = try Net.freeLocalPort()
        }

        var s = sandbox(temp: temp)
        var argv = [qemuBinary, "-machine", Qemu.machineArgument(arm: arm, uefi: uefi, secureBoot: secureBoot,
                                                                sharedMemory: sharedMemory, cxl: cxl),
                    "-smp", String(cpus), "-m", Qemu.memoryArgument(ram: config[.ram], maxMem: config[.maxMem] ?? 0),
                    "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0,id=rng-device0",
                    "-device", "virtio-balloon,free-page-reporting=on", "-no-user-config"]
        if sharedMemory { argv += ["-object", "memory-backend-memfd,id=mem,size=\(config[.ram] >> 20)M,share=on"] }
        if config[.runtimeNetwork] == .interface && !Privileges.isHostRoot {
            throw MkosiError.config("RuntimeNetwork=interface requires root privileges")
        }
        let journal = try config[.forwardJournal].map { try forwardJournal($0, temp: temp, owned: owned, cid: cid) }
        argv += Qemu.nicArguments(config[.runtimeNetwork], forward: sshPort.map { ($0, Qemu.sshGuestPort) })
        if kvm {
            s.bind("/dev/kvm", "/dev/kvm")
            argv += ["-cpu", "host", "-accel", "kvm"]
        } else {
            argv += ["-cpu", "max", "-accel", "tcg"]
        }
        if let cid {
            s.bind("/dev/vhost-vsock", "/dev/vhost-vsock")
            argv += ["-device", "vhost-vsock-pci,guest-cid=\(cid)"]
        }
        argv += ["-nographic", "-nodefaults"]
        if config[.console] != .headless {
            argv += ["-chardev", "stdio,mux=on,id=console,signal=off", "-device", "virtio-serial-pci,id=mkosi-virtio-serial-pci",
                     "-device", "virtconsole,chardev=console", "-mon", "console"]
        }

        if uefi {
            let tree = toolsTree ?? ""
            var dirs = [tree + "/usr/share/qemu/firmware"]
            if toolsTree == nil { dirs.insert("/etc/qemu/firmware", at: 0) }
            let variables = config[.firmwareVariables]
            let microsoft = variables == "microsoft" || variables == "microsoft-mok"
            guard let fw = Qemu.findFirmware(descriptorDirectories: dirs,
                                             architecture: arm ? "aarch64" : "x86_64",
                                             machine: arm ? "virt" : "q35", secureBoot: secureBoot,
                                             microsoftKeys: microsoft) else {
                throw MkosiError(.failed, "No UEFI firmware (OVMF) \(microsoft ? "with Microsoft's keys enrolled " : "")found in \(dirs.joined(separator: " or "))",
                                 hint: toolsTree == nil ? "Install the ovmf package or use ToolsTree=default" : "Add ovmf to ToolsTreePackages=")
            }
            try firmwareVariables(template: tree + fw.variables, into: temp + "/ovmf-vars", temp: temp)
            argv += ["-drive", "if=pflash,format=\(fw.codeFormat),readonly=on,file=\(fw.code)",
                     "-drive", "file=/work/vm/ovmf-vars,if=pflash,format=\(fw.variablesFormat)"]
            if secureBoot && !arm {
                argv += ["-global", "ICH9-LPC.disable_s3=1", "-global", "driver=cfi.pflash01,property=secure,value=on"]
            }
        }

        if format == .uki && !directKernel {
            // OVMF starts the UKI handed over as the kernel like any EFI program.
            s.bind(bootImage, "/work/uki.efi", readOnly: true)
            argv += ["-kernel", "/work/uki.efi"]
        }
        if format == .disk || format == .esp {
            s.bind(bootImage, "/work/image")
            let size = UInt64(FS.stat(bootImage)?.size ?? 0)
            argv += Qemu.rootDiskArguments(diskType: config[.diskType], removable: config[.removable], size: size,
                                           pageSize: UInt64(sysconf(Int32(_SC_PAGESIZE))), ephemeral: config[.ephemeral])
        }

        var kernelArguments: [String] = []
        if format == .directory {
            let socket = try startVirtiofsd(share: bootImage, index: "root", temp: temp, owned: owned, root: true)
            argv += ["-chardev", "socket,id=sock-root,path=\(socket)",
                     "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-root,tag=root"]
            kernelArguments += ["root=root", "rootfstype=virtiofs"]
            // Without an initrd of its own the kernel starts /sbin/init of the tree, which images
            // without systemd-sysv (or its like) lack.
            if !FS.exists(bootImage + "/sbin/init") && FS.exists(bootImage + "/usr/lib/systemd/systemd")
                && !(config[.kernelCommandLine] + config[.kernelCommandLineExtra]).contains(where: { $0.hasPrefix("init=") }) {
                kernelArguments.append("init=/usr/lib/systemd/systemd")
            }
        }

        // Runtime trees and build sources: one virtiofsd each, mounted by the guest through the
        // fstab.extra credential.
        var fstab = ""
        for (n, share) in shares.enumerated() {
            guard share.target.utf8.count <= 36 else {
                throw MkosiError.config("virtio-fs tag \(share.target) derived from the destination is too long (at most 36 bytes)")
            }
            let socket = try startVirtiofsd(share: share.source, index: String(n), temp: temp, owned: owned, root: false)
            argv += ["-chardev", "socket,id=sock-\(n),path=\(socket)",
                     "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-\(n),tag=\(share.target)"]
            fstab += "\(share.target) \(share.target) virtiofs x-initrd.mount\n"
        }

        if Qemu.wantTPM(config[.tpm], uefi: uefi, kvm: kvm, available: Swtpm.available(toolsTree: toolsTree)) {
            let tpm = try Swtpm.start(toolsTree: toolsTree, temp: temp, helper: helper)
            owned.own(tpm.process)
            argv += Swtpm.qemuArguments(socket: tpm.socket, arm: arm)
        }

        var credentials = try RuntimeCredentials.collect(config, helper: helper)
        if !fstab.isEmpty {
            credentials.removeAll { $0.name == "fstab.extra" }
            credentials.append(("fstab.extra", Array(fstab.utf8)))
        }
        if let journal { credentials.append(("journal.forward_to_socket", Array(journal.utf8))) }
        for (n, (name, value)) in credentials.enumerated() {
            let file = temp + "/credential-\(n)"
            try FS.writeAtomically(file, "io.systemd.credential.binary:\(name)=\(Qemu.base64(value))", mode: 0o600)
            argv += ["-smbios", "type=11,path=/work/vm/credential-\(n)"]
        }

        let term: String = {
            if isatty(2) == 0 { return "dumb" }
            let t = Env.get("TERM") ?? ""
            return t.isEmpty || t == "unknown" ? "vt220" : t
        }()
        kernelArguments += Qemu.commandLineExtra(config, term: term, columns: Int(Env.get("COLUMNS") ?? "") ?? 80,
                                                 rows: Int(Env.get("LINES") ?? "") ?? 24)
        if sshPort != nil { kernelArguments.append("systemd.ssh_listen=\(Qemu.sshGuestPort)") }

        if directKernel {
            let kernel = config[.linux] ?? Path.join(outputDirectory, "\(config.output).vmlinuz")
            guard FS.exists(kernel) else {
                throw MkosiError(.failed, "No kernel for direct boot: \(kernel) does not exist",
                                 hint: "Install a kernel in the image and build with SplitArtifacts=kernel (the default), or set Linux=")
            }
            s.bind(kernel, "/work/vmlinuz", readOnly: true)
            argv += ["-kernel", "/work/vmlinuz"]
            if firmwareSetting != .linuxNoInitrd {
                let initrd = format == .cpio ? image : Path.join(outputDirectory, "\(config.output).initrd")
                if FS.exists(initrd) {
                    s.bind(initrd, "/work/initrd", readOnly: true)
                    argv += ["-initrd", "/work/initrd"]
                } else if format == .directory {
                    throw MkosiError(.failed, "No initrd to boot the directory image with: \(initrd) does not exist",
                                     hint: "Build with SplitArtifacts=initrd (the default) and an initrd (Initrds=)")
                }
            }
            if format == .disk && !kernelArguments.contains(where: { $0.hasPrefix("root=") }) {
                kernelArguments.insert(try rootArgument(bootImage, temp: temp), at: 0)
            }
            argv += ["-append", (config[.kernelCommandLine] + kernelArguments).joined(separator: " ")]
        } else {
            let value = Qemu.escapeOption(kernelArguments.joined(separator: " "))
            argv += ["-smbios", "type=11,value=io.systemd.stub.kernel-cmdline-extra=\(value)",
                     "-smbios", "type=11,value=io.systemd.boot.kernel-cmdline-extra=\(value)"]
        }

        for (fileId, drives) in Dictionary(grouping: config[.drives], by: \.fileId).sorted(by: { $0.key < $1.key }) {
            let file = try driveFile(drives[0], owned: owned)
            let inside = "/work/drive-\(fileId)"
            s.bind(file, inside)
            for drive in drives { argv += Qemu.driveArguments(drive, path: inside) }
        }
        argv += config[.qemuArgs] + extraArguments

        let proxy: String? = cid.map { "socat - VSOCK-CONNECT:\($0):%p" } ?? sshPort.map { "socat - TCP:127.0.0.1:\($0)" }
        if let proxy {
            let state = VMState(machine: machineName, pid: Int(getpid()), proxyCommand: proxy, sshKey: config[.sshKey])
            owned.onTeardown(try state.register())
            if let sshPort { Log.info("'mkosi ssh' reaches the guest's sshd through 127.0.0.1:\(sshPort) (no vsock on this host)") }
        }
        let register = try Qemu.machinedSocket(config[.register])
        return try SandboxRunner(helper: helper).run(argv, in: s, display: argv, check: false) { pid in
            if let register { try self.registerMachine(socket: register, pid: pid, image: bootImage, cid: cid) }
        }
    }

    /// `VSock=`: the guest CID when a vhost-vsock device is there (`VSockCID=`: a number, `hash`
    /// of the output path, or `auto`: the hash or, when that is taken, another free one), nil
    /// when it is off or, with `auto`, when /dev/vhost-vsock cannot be opened.
    func vsockCID() throws -> UInt32? {
        guard config[.vsock] != .disabled else { return nil }
        let fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            if config[.vsock] == .enabled {
                throw MkosiError(.failed, "VSock=yes, but /dev/vhost-vsock cannot be opened (\(String(cString: strerror(errno))))",
                                 hint: "Load the vhost_vsock module, or use VSock=auto")
            }
            return nil
        }
        defer { close(fd) }
        func inUse(_ cid: UInt32) -> Bool {
            var value = UInt64(cid)
            // VHOST_VSOCK_SET_GUEST_CID; the CID is released again when the descriptor is closed.
            let rc = withUnsafeMutablePointer(to: &value) { ioctl(fd, UInt(0x4008_AF60), $0) }
            return rc != 0 && errno == EADDRINUSE
        }
        let setting = config[.vsockCID]
        if setting >= 0 {
            if inUse(UInt32(setting)) {
                throw MkosiError(.failed, "VSock connection ID \(setting) is already in use by another virtual machine",
                                 hint: "Use VSockCID=auto to have mkosi find a free one")
            }
            return UInt32(setting)
        }
        let digest = try HostCommand.capture(["sh", "-c", "printf %s \"$1\" | sha256sum", "sh",
                                              Path.join(outputDirectory, config.output)]).output
        var bytes: [UInt8] = []
        var chars = Array(digest.prefix(8))
        while chars.count >= 2 { bytes.append(UInt8(String(chars[0...1]), radix: 16) ?? 0); chars.removeFirst(2) }
        let hashed = Qemu.hashCID(bytes + [0, 0, 0, 0])
        if setting == -2 || !inUse(hashed) { return hashed }
        for _ in 0..<64 {
            let cid = UInt32.random(in: 3...0xFFFF_FFFE)
            if !inUse(cid) { return cid }
        }
        throw MkosiError(.failed, "Failed to find an unused VSock connection ID")
    }

    /// What a booted image gets shared from the host besides its root (virtiofs in `vm`, bind
    /// mounts in `shell`/`boot`): with `RuntimeBuildSources=`, the build sources at
    /// `/work/src/<target>` and the build directory at `/work/build` (where the build scripts saw
    /// them), then `RuntimeTrees=` at `/root/src/<target>`.
    public static func runtimeShares(_ config: Config) -> [(source: String, target: String)] {
        var shares: [(source: String, target: String)] = []
        if config[.runtimeBuildSources] {
            for tree in config[.buildSources] {
                shares.append((tree.source, tree.target.map { "/work/src/" + $0.drop(while: { $0 == "/" }) } ?? "/work/src"))
            }
            if let buildDir = config[.buildDirectory] {
                shares.append((config.buildSubdirectory(buildDir), "/work/build"))
            }
        }
        for tree in config[.runtimeTrees] {
            let target = tree.target.map { $0.hasPrefix("/") ? $0 : Path.join("/root/src", $0) } ?? "/root/src"
            shares.append((tree.source, target))
        }
        return shares
    }

    /// `Register=`: machined's varlink socket when the VM is to be registered; nil for `no`, and
    /// for `auto` where machined does not run (as on hosts whose PID 1 is not systemd).
    public static func machinedSocket(_ setting: ConfigFeature) throws -> String? {
        guard setting != .disabled else { return nil }
        let runtime = Privileges.isHostRoot ? "/run" : (Env.get("XDG_RUNTIME_DIR") ?? "/run/user/\(Privileges.hostUID)")
        let socket = runtime + "/systemd/machine/io.systemd.Machine"
        guard FS.stat(socket)?.isSocket ?? false else {
            if setting == .enabled {
                throw MkosiError(.failed, "Register=yes, but systemd-machined is not available (no \(socket))",
                                 hint: "Is systemd-container installed and new enough (v259 or newer)? Register=auto skips this where machined does not run")
            }
            return nil
        }
        return socket
    }

    /// Registers the running VM with machined, as upstream (`io.systemd.Machine.Register`).
    func registerMachine(socket: String, pid: pid_t, image: String, cid: UInt32?) throws {
        var fields: [(String, JSON)] = [("name", .string(machineName.replacingOccurrences(of: "_", with: "-"))),
                                        ("service", .string("mkosi")), ("class", .string("vm")), ("leader", .int(Int(pid)))]
        if FS.isDirectory(image) { fields.append(("rootDirectory", .string(image))) }
        if let cid { fields += [("vSockCid", .int(Int(cid))), ("sshAddress", .string("vsock/\(cid)"))] }
        if let key = config[.sshKey] { fields.append(("sshPrivateKeyPath", .string(key))) }
        fields.append(("allocateUnit", .bool(true)))
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(Path.dirname(socket), Path.dirname(socket))
        let call = ["varlinkctl", "call", socket, "io.systemd.Machine.Register", JSON.object(fields).serialized(indent: nil)]
        try SandboxRunner(helper: helper).capture(call, in: s)
    }

    /// Starts a virtiofsd sharing `share`; returns its socket as qemu sees it.
    func startVirtiofsd(share: String, index: String, temp: String, owned: Teardown, root: Bool) throws -> String {
        let virtiofsd = "/usr/libexec/virtiofsd"
        guard FS.isExecutable((toolsTree ?? "") + virtiofsd) else {
            throw MkosiError(.failed, "virtiofsd must be installed to boot directory images or to share RuntimeTrees= and RuntimeBuildSources=",
                             hint: toolsTree == nil ? "Install virtiofsd, or use ToolsTree=default" : "Add virtiofsd to ToolsTreePackages=")
        }
        let socket = "/work/vm/virtiofs-\(index).sock"
        var v = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        v.bind(temp, "/work/vm")
        v.bind(share, "/work/shared")
        var daemon = [virtiofsd, "--socket-path=\(socket)", "--shared-dir=/work/shared", "--xattr", "--sandbox=none",
                      "--log-level=error"]
        daemon += root && Privileges.isHostRoot ? ["--inode-file-handles=prefer", "--modcaps=-mknod", "--no-announce-submounts"]
                                        : ["--inode-file-handles=never"]
        let process = try SandboxRunner(helper: helper).start(daemon, in: v)
        owned.own(process)
        var waited = 0
        while !FS.exists(temp + "/virtiofs-\(index).sock") {
            if process.hasExited() || waited > 100 {
                throw MkosiError(.failed, "virtiofsd for \(share) did not start")
            }
            usleep(50_000)
            waited += 1
        }
        return socket
    }

    /// `ForwardJournal=`: starts systemd-journal-remote listening on the host's vsock, as
    /// upstream, and returns the address the guest's journald forwards to.
    ///
    /// Without vsock (no /dev/vhost-vsock, as on this project's CI machines) it is refused
    /// before the VM starts: forwarding over qemu's user network was tried and does not work,
    /// journald connects while the guest's network is still coming up and its blocking connect
    /// then hangs the guest's journal (and with it systemd-journal-flush) for minutes.
    /// `mkosi boot` forwards over a UNIX socket instead and needs no vsock.
    func forwardJournal(_ journal: String, temp: String, owned: Teardown, cid: UInt32?) throws -> String {
        guard cid != nil else {
            throw MkosiError(.unsupported, "ForwardJournal= needs a vsock for 'vm', and /dev/vhost-vsock cannot be opened here",
                             hint: "Load vhost_vsock (VSock=yes then insists on it), or forward the journal of a container with 'mkosi boot'")
        }
        let port = UInt32.random(in: 0x10000...0xFFFF_FFF0)
        let remote = try JournalRemote.start(forwardJournal: journal, listen: "vsock::\(port)", toolsTree: toolsTree, temp: temp,
                                             helper: helper, ready: { true })
        owned.own(remote.process)
        return "vsock-stream:2:\(port)"
    }

    /// The file of a `Drives=` entry, created (sparse, rounded up to the page size) unless it
    /// persists from an earlier run; a non-persistent one is removed with the VM.
    func driveFile(_ drive: Drive, owned: Teardown) throws -> String {
        let file = Qemu.driveFile(drive, machine: machineName, unique: String(UInt64.random(in: 0...UInt64.max), radix: 16))
        try FS.makeDirectories(Path.dirname(file))
        if !drive.flags.contains(DriveFlag.persist.rawValue) { owned.onTeardown { unlink(file) } }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = (drive.size + page - 1) / page * page
        if (FS.stat(file)?.size ?? 0) < size {
            try HostCommand.run(["truncate", "--size=\(size)", file])
        }
        return file
    }

    /// `FirmwareVariables=`: the firmware's variable store for this boot at `output`. `custom`
    /// enrols `SecureBootCertificate=` (PK, KEK and db; Secure Boot on, no Microsoft keys);
    /// `microsoft-mok` adds it to shim's MOK list; a path is copied; otherwise the template.
    func firmwareVariables(template: String, into output: String, temp: String) throws {
        let variables = config[.firmwareVariables]
        guard variables == "custom" || variables == "microsoft-mok" else {
            let source = variables.flatMap { $0 == "microsoft" ? nil : $0 } ?? template
            guard FS.exists(source) else { throw MkosiError.config("Firmware variables file \(source) does not exist") }
            try HostCommand.run(["cp", "--reflink=auto", source, output])
            return
        }
        guard let certificate = config[.secureBootCertificate] else {
            throw MkosiError.config("FirmwareVariables=\(variables!) needs a certificate to enrol (SecureBootCertificate=)",
                                    hint: "Run mkosi genkey to generate a key/certificate pair")
        }
        var s = sandbox(temp: temp)
        s.bind(template, "/work/vars.template", readOnly: true)
        s.bind(certificate, "/work/secure-boot.crt", readOnly: true)
        let enrol = variables == "custom"
            ? ["--enroll-cert", "/work/secure-boot.crt", "--add-db", "OvmfEnrollDefaultKeys", "/work/secure-boot.crt",
               "--no-microsoft", "--secure-boot"]
            : ["--add-mok", "605dab50-e046-4300-abb6-3dd810dd8b23", "/work/secure-boot.crt"]
        let argv = ["virt-fw-vars", "--input", "/work/vars.template", "--output", "/work/vm/\(Path.basename(output))"]
            + enrol + ["--loglevel", "WARNING"]
        try SandboxRunner(helper: helper).run(argv, in: s)
    }

    /// The sandbox qemu and its helpers run in, with `temp` at `/work/vm`.
    func sandbox(temp: String) -> Sandbox {
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(temp, "/work/vm")
        return s
    }

    /// `root=PARTUUID=…` (or `roothash=`/`usrhash=`) for direct kernel boot of a disk image.
    func rootArgument(_ image: String, temp: String) throws -> String {
        var s = sandbox(temp: temp)
        s.bind(image, "/work/image", readOnly: true)
        let out = try SandboxRunner(helper: helper).capture(["systemd-repart", "--json=short", "--definitions=/work/vm", "/work/image"],
                                                 in: s, display: ["systemd-repart", "--json=short", image]).output
        let partitions = try PartitionTable.parse(out)
        if let verity = PartitionTable.verityArgument(partitions) { return verity }
        if let root = partitions.first(where: { $0.type.hasPrefix("root") }), !root.uuid.isEmpty {
            return "root=PARTUUID=\(root.uuid)"
        }
        throw MkosiError(.failed, "\(image) has no root partition to boot directly", hint: "Add root= to KernelCommandLineExtra=")
    }

}
