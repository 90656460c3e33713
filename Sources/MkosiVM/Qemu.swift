#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore
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
    public static func commandLineExtra(_ config: Config, term: String, columns: Int, rows: Int) -> [String] {
        let user = config[.kernelCommandLineExtra]
        var args = ["systemd.wants=network.target"]
        if !user.contains(where: { $0.hasPrefix("SYSTEMD_SULOGIN_FORCE=") }) { args.append("SYSTEMD_SULOGIN_FORCE=1") }
        args += ["rw", "module_blacklist=vmw_vmci", "systemd.tty.columns.hvc0=\(columns)", "systemd.tty.rows.hvc0=\(rows)",
                 "systemd.tty.term.hvc0=\(term)"]
        if !user.contains(where: { $0.hasPrefix("ip=") }) {
            args += ["ip=enc0:any", "ip=enp0s1:any", "ip=enp0s2:any", "ip=host0:any", "ip=none"]
        }
        if !user.contains(where: { $0.hasPrefix("loglevel=") }) { args.append("loglevel=4") }
        let console = config[.console]
        if console != .gui && console != .headless {
            args += ["systemd.tty.term.console=\(term)", "systemd.tty.columns.console=\(columns)",
                     "systemd.tty.rows.console=\(rows)", "console=hvc0", "TERM=\(term)"]
        }
        for arg in user {
            if let eq = arg.firstIndex(of: "="), arg[arg.index(after: eq)...].contains(" ") {
                args.append("\(arg[..<eq])=\"\(arg[arg.index(after: eq)...])\"")
            } else {
                args.append(arg)
            }
        }
        return args
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

    /// The credentials given to the guest: `Credentials=` plus upstream's defaults
    /// (`firstboot.locale`, `firstboot.timezone`) unless set, and `fstab.extra` for runtime trees.
    func credentials(fstab: String) throws -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        for c in config[.credentials] {
            if let value = c.value {
                result.append((c.name, Array(value.utf8)))
            } else if let path = c.path {
                if FS.isExecutable(path) && !FS.isDirectory(path) {
                    result.append((c.name, Array(try HostCommand.capture([path]).output.utf8)))
                } else {
                    result.append((c.name, try FS.readBytes(path)))
                }
            }
        }
        let names = Set(result.map(\.0))
        if !names.contains("firstboot.locale") { result.append(("firstboot.locale", Array("C.UTF-8".utf8))) }
        if !names.contains("firstboot.timezone") { result.append(("firstboot.timezone", Array("UTC".utf8))) }
        if !fstab.isEmpty { result.append(("fstab.extra", Array(fstab.utf8))) }
        return result
    }

    var qemuBinary: String {
        switch config.architecture {
        case .arm64: return "qemu-system-aarch64"
        case .x86: return "qemu-system-i386"
        default: return "qemu-system-\(config.architecture.rawValue.replacingOccurrences(of: "-", with: "_"))"
        }
    }

    /// Boots the image; returns qemu's exit status.
    public func run() throws -> Int32 {
        let format = config.format
        guard [.disk, .uki, .esp, .cpio].contains(format) else {
            throw MkosiError(.unsupported, "'vm' boots Format=disk, uki, esp and cpio images in this mkosi (Format=\(format.rawValue))")
        }
        let image = Path.join(outputDirectory, config.outputWithCompression)
        guard FS.exists(image) else {
            throw MkosiError(.failed, "Image '\(config.image)' has not been built yet",
                             hint: "Run 'mkosi build' first, or use 'mkosi -f vm' to build it")
        }
        guard config.compression == .none || format != .disk else {
            throw MkosiError(.unsupported, "Cannot boot a compressed disk image (CompressOutput=\(config.compression.rawValue))",
                             hint: "Build it with CompressOutput=none")
        }
        let temp = try FS.makeTemporaryDirectory(in: Env.get("TMPDIR") ?? "/var/tmp", prefix: "mkosi-vm")
        var background: [HostCommand.Background] = []
        var ephemeralCopy: String? = nil
        defer {
            for b in background { b.stop() }
            FS.removeTree(temp)
            if let ephemeralCopy { FS.removeTree(ephemeralCopy) }
        }

        var bootImage = image
        if config[.ephemeral] && format != .cpio {
            let copy = image + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            ephemeralCopy = copy  // removed by the defer above, also when the copy fails half-way
            try HostCommand.run(["cp", "--reflink=auto", "--sparse=always", image, copy])
            bootImage = copy
        }
        if let size = config[.runtimeSize], format == .disk {
            var s = sandbox(temp: temp)
            s.bind(bootImage, "/work/image")
            try HostCommand.run(s.argv(for: ["systemd-repart", "--definitions=/", "--no-pager", "--size=\(size)", "--pretty=no",
                                             "--offline=yes", "/work/image"], helper: helper), display: ["systemd-repart", "--size=\(size)", bootImage])
        }

        let firmwareSetting = config[.firmware]
        let directKernel = firmwareSetting.isLinux || format == .cpio
        let secureBoot = firmwareSetting == .uefiSecureBoot || (firmwareSetting == .auto && !directKernel)
        let kvmFd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        let canOpenKVM = kvmFd >= 0
        if canOpenKVM { close(kvmFd) }
        let kvm = try Qemu.useKVM(config[.kvm], cpuinfo: (try? FS.readText("/proc/cpuinfo")) ?? "",
                                  canOpen: canOpenKVM)
        if !kvm { Log.info("Emulating the CPU (TCG): no usable KVM on this machine") }

        let ram = config[.ram] >> 20
        var cpus = config[.cpus]
        if cpus == 0 { cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
        let trees = config[.runtimeTrees]
        var machine = "type=\(config.architecture == .arm64 ? "virt" : "q35")"
        if !directKernel { machine += secureBoot ? ",smm=on" : ",smm=off" }
        if !trees.isEmpty { machine += ",memory-backend=mem" }
        if config.architecture != .arm64 { machine += ",hpet=off" }

        var s = sandbox(temp: temp)
        var argv = [qemuBinary, "-machine", machine, "-smp", String(cpus), "-m", "\(ram)M",
                    "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0,id=rng-device0",
                    "-device", "virtio-balloon,free-page-reporting=on", "-no-user-config"]
        if !trees.isEmpty { argv += ["-object", "memory-backend-memfd,id=mem,size=\(ram)M,share=on"] }
        switch config[.runtimeNetwork] {
        case .none: argv += ["-nic", "none"]
        case .interface: argv += ["-nic", "tap,script=no,model=virtio-net-pci"]
        case .user: argv += ["-nic", "user,model=virtio-net-pci"]
        }
        if kvm {
            s.bind("/dev/kvm", "/dev/kvm")
            argv += ["-cpu", "host", "-accel", "kvm"]
        } else {
            argv += ["-cpu", "max", "-accel", "tcg"]
        }
        argv += ["-nographic", "-nodefaults"]
        if config[.console] != .headless {
            argv += ["-chardev", "stdio,mux=on,id=console,signal=off", "-device", "virtio-serial-pci,id=mkosi-virtio-serial-pci",
                     "-device", "virtconsole,chardev=console", "-mon", "console"]
        }

        if !directKernel {
            let tree = toolsTree ?? ""
            var dirs = [tree + "/usr/share/qemu/firmware"]
            if toolsTree == nil { dirs.insert("/etc/qemu/firmware", at: 0) }
            let variables = config[.firmwareVariables]
            let microsoft = variables == "microsoft" || variables == "microsoft-mok"
            guard let fw = Qemu.findFirmware(descriptorDirectories: dirs,
                                             architecture: config.architecture == .arm64 ? "aarch64" : "x86_64",
                                             machine: config.architecture == .arm64 ? "virt" : "q35", secureBoot: secureBoot,
                                             microsoftKeys: microsoft) else {
                throw MkosiError(.failed, "No UEFI firmware (OVMF) \(microsoft ? "with Microsoft's keys enrolled " : "")found in \(dirs.joined(separator: " or "))",
                                 hint: toolsTree == nil ? "Install the ovmf package or use ToolsTree=default" : "Add ovmf to ToolsTreePackages=")
            }
            try firmwareVariables(template: tree + fw.variables, into: temp + "/ovmf-vars", temp: temp)
            argv += ["-drive", "if=pflash,format=\(fw.codeFormat),readonly=on,file=\(fw.code)",
                     "-drive", "file=/work/vm/ovmf-vars,if=pflash,format=\(fw.variablesFormat)"]
            if secureBoot { argv += ["-global", "ICH9-LPC.disable_s3=1", "-global", "driver=cfi.pflash01,property=secure,value=on"] }
        }

        if format == .uki && !directKernel {
            // OVMF starts the UKI handed over as the kernel like any EFI program.
            s.bind(bootImage, "/work/uki.efi", readOnly: true)
            argv += ["-kernel", "/work/uki.efi"]
        }
        if format == .disk || format == .esp {
            s.bind(bootImage, "/work/image")
            argv += ["-blockdev", "driver=raw,node-name=mkosi,discard=unmap,file.driver=file,file.filename=/work/image,file.aio=threads",
                     "-device", "virtio-blk-pci,drive=mkosi,bootindex=1"]
        }

        // Runtime trees: one virtiofsd per tree, mounted by the guest through fstab.extra.
        var fstab = ""
        for (n, tree) in trees.enumerated() {
            let target = tree.target.map { $0.hasPrefix("/") ? $0 : Path.join("/root/src", $0) } ?? "/root/src"
            let tag = target
            guard tag.utf8.count <= 36 else {
                throw MkosiError.config("RuntimeTrees= target \(target) is too long (at most 36 bytes)")
            }
            let socket = "/work/vm/virtiofs-\(n).sock"
            var v = Sandbox.withTools(tree: toolsTree, userNamespace: getuid() != 0)
            v.bind(temp, "/work/vm")
            v.bind(tree.source, "/work/shared")
            let daemon = ["/usr/libexec/virtiofsd", "--socket-path=\(socket)", "--shared-dir=/work/shared", "--xattr",
                          "--sandbox=none", "--inode-file-handles=never", "--log-level=error"]
            background.append(try HostCommand.start(v.argv(for: daemon, helper: helper), display: daemon))
            var waited = 0
            while !FS.exists(temp + "/virtiofs-\(n).sock") {
                if background.last!.hasExited() || waited > 100 {
                    throw MkosiError(.failed, "virtiofsd for \(tree.source) did not start")
                }
                usleep(50_000)
                waited += 1
            }
            argv += ["-chardev", "socket,id=sock-\(n),path=\(socket)",
                     "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-\(n),tag=\(tag)"]
            fstab += "\(tag) \(target) virtiofs x-initrd.mount\n"
        }

        let term: String = {
            if isatty(2) == 0 { return "dumb" }
            let t = Env.get("TERM") ?? ""
            return t.isEmpty || t == "unknown" ? "vt220" : t
        }()
        let extra = Qemu.commandLineExtra(config, term: term, columns: Int(Env.get("COLUMNS") ?? "") ?? 80,
                                          rows: Int(Env.get("LINES") ?? "") ?? 24)
        for (n, (name, value)) in try credentials(fstab: fstab).enumerated() {
            let file = temp + "/credential-\(n)"
            try FS.writeAtomically(file, "io.systemd.credential.binary:\(name)=\(Qemu.base64(value))", mode: 0o600)
            argv += ["-smbios", "type=11,path=/work/vm/credential-\(n)"]
        }

        if directKernel {
            let kernel = config[.linux] ?? Path.join(outputDirectory, "\(config.output).vmlinuz")
            guard FS.exists(kernel) else {
                throw MkosiError(.failed, "No kernel for direct boot: \(kernel) does not exist",
                                 hint: "Build with SplitArtifacts=kernel (the default), or set Linux=")
            }
            s.bind(kernel, "/work/vmlinuz", readOnly: true)
            argv += ["-kernel", "/work/vmlinuz"]
            var cmdline = config[.kernelCommandLine]
            if firmwareSetting != .linuxNoInitrd {
                let initrd = format == .cpio ? image : Path.join(outputDirectory, "\(config.output).initrd")
                if FS.exists(initrd) {
                    s.bind(initrd, "/work/initrd", readOnly: true)
                    argv += ["-initrd", "/work/initrd"]
                }
            }
            if format == .disk && !extra.contains(where: { $0.hasPrefix("root=") }) {
                cmdline.append(try rootArgument(bootImage, temp: temp))
            }
            argv += ["-append", (cmdline + extra).joined(separator: " ")]
        } else {
            let value = Qemu.escapeOption(extra.joined(separator: " "))
            argv += ["-smbios", "type=11,value=io.systemd.stub.kernel-cmdline-extra=\(value)",
                     "-smbios", "type=11,value=io.systemd.boot.kernel-cmdline-extra=\(value)"]
        }
        argv += config[.qemuArgs] + extraArguments
        return try HostCommand.run(s.argv(for: argv, helper: helper), display: argv, check: false)
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
        try HostCommand.run(s.argv(for: argv, helper: helper), display: argv)
    }

    /// The sandbox qemu and its helpers run in, with `temp` at `/work/vm`.
    func sandbox(temp: String) -> Sandbox {
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: getuid() != 0)
        s.bind(temp, "/work/vm")
        return s
    }

    /// `root=PARTUUID=…` (or `roothash=`/`usrhash=`) for direct kernel boot of a disk image.
    func rootArgument(_ image: String, temp: String) throws -> String {
        var s = sandbox(temp: temp)
        s.bind(image, "/work/image", readOnly: true)
        let out = try HostCommand.capture(s.argv(for: ["systemd-repart", "--json=short", "--definitions=/work/vm", "/work/image"],
                                                 helper: helper), display: ["systemd-repart", "--json=short", image]).output
        let partitions = try Disk.parse(out)
        if let verity = Disk.verityArgument(partitions) { return verity }
        if let root = partitions.first(where: { $0.type.hasPrefix("root") }), !root.uuid.isEmpty {
            return "root=PARTUUID=\(root.uuid)"
        }
        throw MkosiError(.failed, "\(image) has no root partition to boot directly", hint: "Add root= to KernelCommandLineExtra=")
    }

}
