#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiSandbox

/// grub, as upstream installs it: `BiosBootloader=grub` makes a disk image boot on BIOS firmware
/// (a core image from the image's `i386-pc` modules embedded into a 1M BIOS boot partition by
/// `grub-bios-setup`, the ESP grown to 1G to hold the kernels and initrds, and Type #1 menu
/// entries), and `Bootloader=grub` puts grub on the ESP as the EFI boot loader (built with
/// `grub-mkimage` and signed with `SecureBoot=`, or the distribution's signed grub with
/// `Bootloader=grub-signed`), chainloading the UKIs. Its configuration is `/<prefix>/grub.cfg` on
/// the ESP (`grub2` for Fedora, CentOS and its relatives and openSUSE, `grub` elsewhere).
enum Grub {
    static let biosBootPartitionType = "21686148-6449-6e6f-744e-656564454649"

    static func prefix(_ distribution: Distribution) -> String {
        [.fedora, .centos, .alma, .rocky, .rhel, .rhelUbi, .opensuse].contains(distribution) ? "grub2" : "grub"
    }

    /// The image's grub modules for `target` (`i386-pc`, `x86_64-efi`), relative to its root.
    static func directory(_ context: BuildContext, target: String) -> String? {
        for dir in ["usr/lib/grub", "usr/share/grub2"] {
            let relative = "\(dir)/\(target)"
            if let entries = try? FS.listDirectory(Path.join(context.root, relative)), !entries.isEmpty { return relative }
        }
        return nil
    }

    /// `grub-NAME` of the tools (`grub2-NAME`, or Debian's `/usr/lib/grub/i386-pc/grub-NAME`).
    static func binary(_ context: BuildContext, _ name: String) -> String? {
        if let path = context.findTool("grub-\(name)") ?? context.findTool("grub2-\(name)") { return path }
        let debian = "/usr/lib/grub/i386-pc/grub-\(name)"
        return FS.isExecutable(context.toolsRoot + debian) ? debian : nil
    }

    /// Whether the disk gets grub for BIOS (`BiosBootloader=grub` with grub's i386-pc modules in
    /// the image and grub-mkimage and grub-bios-setup in the tools; an error instead with
    /// `Bootable=yes`). With the disk's partitions, also that it has a BIOS boot partition, an
    /// ESP and a root or /usr partition.
    static func wantBIOS(_ context: BuildContext, partitions: [Partition]? = nil) throws -> Bool {
        let config = context.config
        guard config[.bootable] != .disabled, config.format == .disk, config[.biosBootloader] == .grub, !config[.overlay] else {
            return false
        }
        let required = config[.bootable] == .enabled
        // grub's modules belong in the image (Packages=), its programs in the tools.
        func missing(_ what: String, _ code: MkosiError.Code = .config) throws -> Bool {
            if required { throw MkosiError(code, "A BIOS bootable image with grub was requested but \(what)", hint: hint(context)) }
            return false
        }
        guard directory(context, target: "i386-pc") != nil else { return try missing("grub for BIOS is not installed") }
        for name in ["mkimage", "bios-setup"] where binary(context, name) == nil {
            return try missing("grub-\(name) was not found in the tools", .missingTool)
        }
        guard let partitions else { return true }
        if !partitions.contains(where: { $0.type == biosBootPartitionType }) {
            return try missing("no BIOS Boot Partition was configured")
        }
        if !partitions.contains(where: { $0.type == "esp" }) { return try missing("no ESP partition was configured") }
        if !partitions.contains(where: { $0.type.hasPrefix("root") || $0.type.hasPrefix("usr") }) {
            return try missing("no root or usr partition was configured")
        }
        return true
    }

    static func hint(_ context: BuildContext) -> String {
        context.config.distribution.isAptDistribution ? "Add grub-pc-bin (BIOS) or grub-efi-amd64-bin (EFI) to Packages=" : "Add grub2 to Packages="
    }

    /// Whether the ESP gets grub as its EFI boot loader (`Bootloader=grub` or `grub-signed`).
    static func wantEFI(_ context: BuildContext) throws -> Bool {
        let config = context.config
        guard Boot.wantEFI(config), config[.bootloader] == .grub || config[.bootloader] == .grubSigned,
              let arch = config.architecture.grubName else { return false }
        if config[.bootloader] == .grub, directory(context, target: "\(arch)-efi") == nil, config[.bootable] == .enabled || config.format == .esp {
            throw MkosiError(.config, "An EFI bootable image with grub was requested but grub for EFI is not installed", hint: hint(context))
        }
        return true
    }

    /// `<esp>/<prefix>/grub.cfg` (created with `set timeout=0` unless it exists), and for grub on
    /// EFI the redirect the distributions' signed grub reads first. `esp` is the host path of the
    /// ESP's tree: the image's `/efi` unless given (`Format=esp` builds its own).
    static func configFile(_ context: BuildContext, esp: String? = nil) throws -> String {
        let config = context.config
        let esp = esp ?? Path.join(context.root, "efi")
        let path = Path.join(esp, "\(prefix(config.distribution))/grub.cfg")
        try FS.makeDirectories(Path.dirname(path), mode: 0o700)
        if FS.lstat(path) == nil { try FS.writeAtomically(path, "set timeout=0\n", mode: 0o600) }
        if try wantEFI(context) {
            let early = switch config.distribution {
            case .opensuse: "EFI/BOOT/grub.cfg"
            case .alma: "EFI/almalinux/grub.cfg"
            default: "EFI/\(config.distribution.rawValue)/grub.cfg"
            }
            try FS.makeDirectories(Path.dirname(Path.join(esp, early)), mode: 0o700)
            try FS.writeAtomically(Path.join(esp, early), "configfile /\(prefix(config.distribution))/grub.cfg\n")
        }
        return path
    }

    static func append(_ context: BuildContext, _ text: String, esp: String? = nil) throws {
        let path = try configFile(context, esp: esp)
        let old = (try? FS.readText(path)) ?? ""
        try FS.writeAtomically(path, old + text, mode: 0o600)
    }

    /// A menu entry for a kernel with its initrds (paths on the ESP), as upstream writes it for
    /// Type #1 entries: for grub on EFI (`efi`, when the kernels are not UKIs) and on BIOS
    /// (`bios`), behind a test of `grub_platform`.
    static func type1Entry(name: String, kernel: String, initrds: [String], options: String, efi: Bool, bios: Bool) -> String {
        let conditions = (efi ? ["\"${grub_platform}\" == \"efi\""] : []) + (bios ? ["\"${grub_platform}\" == \"pc\""] : [])
        return "if [ \(conditions.joined(separator: " -o ")) ]; then\nmenuentry \"\(name)\" {\n    linux \(kernel) \(options)\n"
            + "    initrd \(initrds.joined(separator: " "))\n}\nfi\n"
    }

    /// An EFI menu entry that chainloads a UKI (path on the ESP).
    static func ukiEntry(name: String, uki: String) -> String {
        "if [ \"${grub_platform}\" == \"efi\" ]; then\nmenuentry \"\(name)\" {\n    chainloader \(uki)\n}\nfi\n"
    }

    /// Appends `ukiEntry` to the configuration.
    static func addUKIEntry(_ context: BuildContext, name: String, uki: String, esp: String? = nil) throws {
        try append(context, ukiEntry(name: name, uki: uki), esp: esp)
    }

    /// `grub-mkimage` for `target` with upstream's module list; the core image goes to `output`
    /// (a host path), or for BIOS to `core.img` among the image's i386-pc modules, where
    /// grub-bios-setup finds it.
    static func mkimage(_ context: BuildContext, target: String, modules: [String], output: String?) throws {
        let config = context.config
        guard let dir = directory(context, target: target) else { return }
        // wantBIOS checked it for BIOS; on EFI (a disk's ESP or Format=esp) grub is the boot loader.
        guard let mkimage = binary(context, "mkimage") else {
            throw MkosiError(.missingTool, "grub-mkimage was not found in the tools, and Bootloader=grub needs it",
                             hint: "Add grub-common (Debian, Ubuntu) or grub2-tools (Fedora) to ToolsTreePackages=, or use Bootloader=grub-signed")
        }
        let grubPrefix = prefix(config.distribution)
        let early = context.workspace + "/grub-early.cfg"
        try FS.writeAtomically(early, "search --no-floppy --set=root --file /\(grubPrefix)/grub.cfg\nset prefix=($root)/\(grubPrefix)\n")
        var s = context.bareToolsSandbox()
        s.bind(Path.join(context.root, dir), "/grub")
        s.bind(early, "/work/early.cfg", readOnly: true)
        var argv = [mkimage, "--directory", "/grub", "--config", "/work/early.cfg", "--prefix", "/\(grubPrefix)", "--format", target]
        if let output {
            s.bind(Path.dirname(output), "/work/out")
            argv += ["--output", "/work/out/\(Path.basename(output))"]
        } else {
            argv += ["--output", "/grub/core.img"]
        }
        if config[.shimBootloader] == .none { argv.append("--disable-shim-lock") }
        argv += ["cat", "cmp", "div", "echo", "fat", "hello", "help"] + (config.architecture.isX86 ? ["keylayouts"] : [])
            + ["linux", "loadenv", "ls", "normal", "part_gpt", "read", "reboot", "search_fs_file", "search", "sleep", "test", "tr", "true"]
            + modules
        Log.info("Generating the grub image for \(target)")
        try context.run(argv, in: s)
    }

    /// The grub images: the BIOS core image, and grub on the ESP for EFI; grub's font for both.
    /// `esp` is the host path of the ESP's tree (the image's `/efi` unless given).
    static func install(_ context: BuildContext, esp: String? = nil) throws {
        let config = context.config
        let esp = esp ?? Path.join(context.root, "efi")
        let bios = try wantBIOS(context), efi = try wantEFI(context)
        guard bios || efi else { return }
        if bios { try mkimage(context, target: "i386-pc", modules: ["biosdisk"], output: nil) }
        if efi, let arch = config.architecture.efiName, let grubArch = config.architecture.grubName {
            let relative = config[.shimBootloader] != .none ? Shim.secondStageOnESP(config) : "EFI/BOOT/BOOT\(arch.uppercased()).EFI"
            let output = Path.join(esp, relative)
            try FS.makeDirectories(Path.dirname(output), mode: 0o700)
            if config[.bootloader] == .grubSigned {
                guard let signed = signedImage(context) else {
                    if config[.bootable] == .enabled || config.format == .esp {
                        throw MkosiError(.config, "Couldn't find a signed grub EFI binary installed in the image",
                                         hint: config.distribution.isAptDistribution ? "Add grub-efi-\(arch == "x64" ? "amd64" : arch)-signed to Packages=" : "Add grub2-efi to Packages=")
                    }
                    return
                }
                Log.info("Installing the signed grub EFI binary /\(signed) as /\(relative) on the ESP")
                try HostCommand.run(["cp", Path.join(context.root, signed), output])
            } else {
                try mkimage(context, target: "\(grubArch)-efi", modules: ["chain"], output: output)
                if SecureBoot.enabled(config) { try SecureBoot.sign(context, input: output, output: output) }
            }
        }
        let fonts = Path.join(esp, "\(prefix(config.distribution))/fonts")
        try FS.makeDirectories(fonts, mode: 0o700)
        for dir in ["grub", "grub2"] where FS.exists(Path.join(context.root, "usr/share/\(dir)/unicode.pf2")) {
            try HostCommand.run(["cp", Path.join(context.root, "usr/share/\(dir)/unicode.pf2"), fonts])
        }
        _ = try configFile(context, esp: esp)
    }

    /// The distribution's signed grub in the image, relative to its root.
    static func signedImage(_ context: BuildContext) -> String? {
        guard let arch = context.config.architecture.efiName else { return nil }
        let patterns = ["usr/lib/grub/*-signed/grub\(arch).efi.signed", "boot/efi/EFI/*/grub\(arch).efi", "usr/share/efi/*/grub.efi"]
        return patterns.flatMap { Glob.expand($0, cwd: context.root) }.first { path in
            !(FS.readlink(Path.join(context.root, path))?.hasPrefix("/") ?? false)
        }
    }

    /// Writes grub's boot code into the finished disk and embeds the core image into the BIOS
    /// boot partition. grub-bios-setup looks up the device of its directory in
    /// /proc/self/mountinfo; a file naming the image takes its place, as upstream does, so no
    /// loop device is needed.
    static func biosSetup(_ context: BuildContext, partitions: [Partition]) throws {
        guard try wantBIOS(context, partitions: partitions), let setup = binary(context, "bios-setup"),
              let dir = directory(context, target: "i386-pc") else { return }
        let image = "/work/out/\(context.config.outputWithFormat)"
        let mountinfo = context.workspace + "/grub-mountinfo"
        try FS.writeAtomically(mountinfo, "1 0 1:1 / / - fat \(image)\n")
        var s = context.bareToolsSandbox()
        s.bind(Path.join(context.root, dir), "/grub")
        s.bind(context.staging, "/work/out")
        s.add(.proc("/proc"))
        s.bind(mountinfo, "/proc/self/mountinfo", readOnly: true)
        Log.info("Installing the grub boot loader for BIOS")
        try context.run([setup, "--directory", "/grub", image], in: s)
    }
}
