#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiInstaller

/// The boot loader choices beyond systemd-boot with UKIs made here, as upstream: the
/// distributions' prebuilt signed binaries (`Bootloader=systemd-boot-signed`, `grub-signed`,
/// `uki-signed`, `UnifiedKernelImages=signed`) and the boot loader of a `Format=esp` image.
extension Boot {
    /// The image's signed systemd-boot (`usr/lib/systemd/boot/efi/*.efi.signed`, Debian's
    /// systemd-boot-efi-amd64-signed), relative to the image root.
    static func signedSystemdBoot(_ context: BuildContext) -> String? {
        let dir = "usr/lib/systemd/boot/efi"
        return ((try? FS.listDirectory(Path.join(context.root, dir))) ?? []).sorted()
            .first { $0.hasPrefix("systemd-boot") && $0.hasSuffix(".efi.signed") }.map { "\(dir)/\($0)" }
    }

    /// How the kernels are installed for booting.
    enum KernelPlan: Equatable {
        /// Boot loader specification Type #1 entries (kernel and initrds beside).
        case type1
        /// The distribution's prebuilt (signed) UKIs, copied from `/usr/lib/modules/<version>`.
        case prebuiltUKI
        /// UKIs made here with ukify.
        case buildUKI
    }

    /// The plan for `config`, as upstream (`want_uki`, `install_uki`): `UnifiedKernelImages=signed`
    /// (and `yes`), or a signed boot loader (`Bootloader=uki-signed`, `systemd-boot-signed`,
    /// `grub-signed`) with `auto`, take prebuilt UKIs, except that `systemd-boot-signed` and
    /// `grub-signed` fall back to Type #1 entries when the image has no UKI stub (`imageHasStub`;
    /// Debian's signed grub boots Debian's signed kernels that way). Otherwise `wantUKI` decides,
    /// with the stub the image has or borrows (`stubAvailable`, default `imageHasStub`) and
    /// whether ukify is there: UKIs built here, or Type #1 entries. UKIs asked for explicitly
    /// without a stub are `.buildUKI`: building them then refuses, saying why.
    static func kernelPlan(_ config: Config, imageHasStub: Bool, stubAvailable: Bool? = nil, ukify: Bool = true) -> KernelPlan {
        let uki = config[.unifiedKernelImages], bootloader = config[.bootloader]
        if uki == .signed || (uki == .auto && bootloader.isSigned && (bootloader.isUKI || imageHasStub)) { return .prebuiltUKI }
        let want = (try? wantUKI(config, stub: stubAvailable ?? imageHasStub, ukify: ukify)) ?? true
        return want ? .buildUKI : .type1
    }

    /// `kernelPlan` for the image as it is now: the image's own stub, else (for `auto` with an
    /// unsigned boot loader) the one `efiBinaries` borrows from the distribution's package, and
    /// ukify from the tools.
    static func kernelPlan(_ context: BuildContext) -> KernelPlan {
        let config = context.config
        let stub = "usr/lib/systemd/boot/efi/linux\(config.architecture.efiName ?? "x64").efi.stub"
        let imageHasStub = FS.exists(Path.join(context.root, stub))
        let auto = config[.unifiedKernelImages] == .auto && !config[.bootloader].isSigned && !config[.bootloader].isUKI
        guard auto else { return kernelPlan(config, imageHasStub: imageHasStub) }
        let available = imageHasStub || ((try? efiBinaries(context)).flatMap { $0 }.flatMap(Boot.stub(in:)) != nil)
        return kernelPlan(config, imageHasStub: imageHasStub, stubAvailable: available,
                          ukify: available && Tools.hasSystemd("ukify", context))
    }

    /// The prebuilt UKI of `kernel`: the first `/usr/lib/modules/<version>/*.efi` (relative to
    /// the image root), where distributions install them (Fedora's kernel-uki-virt).
    static func prebuiltUKI(_ context: BuildContext, kernel: Kernel) -> String? {
        let dir = "usr/lib/modules/\(kernel.version)"
        return ((try? FS.listDirectory(Path.join(context.root, dir))) ?? []).sorted()
            .first { $0.hasSuffix(".efi") && FS.isFile(Path.join(context.root, "\(dir)/\($0)")) }.map { "\(dir)/\($0)" }
    }

    /// Where the UKI of `kernel` goes, relative to the image root: `/boot/EFI/Linux/<name>.efi`,
    /// or for `Bootloader=uki`/`uki-signed` the ESP's default boot loader (shim's second stage
    /// with `ShimBootloader=`).
    static func ukiPath(_ context: BuildContext, kernel: Kernel, roothash: String?) -> String {
        let config = context.config
        guard config[.bootloader].isUKI else { return "boot/EFI/Linux/\(ukiName(context, kernel: kernel, roothash: roothash)).efi" }
        return config[.shimBootloader] != .none ? Shim.secondStage(config)
            : "efi/EFI/BOOT/BOOT\((config.architecture.efiName ?? "x64").uppercased()).EFI"
    }

    /// Copies the prebuilt UKI of each kernel (only the newest for `Bootloader=uki-signed`) to
    /// its place, with a grub menu entry for it when grub is the EFI boot loader. A kernel
    /// without one is an error with `Bootable=yes` and left out otherwise, as upstream.
    static func installPrebuiltUKIs(_ context: BuildContext, partitions: [Partition]) throws -> [String] {
        let config = context.config
        let roothash = partitions.first(where: { $0.roothash != nil })?.roothash
        let grubEFI = try Grub.wantEFI(context)
        var ukis: [String] = []
        for kernel in kernels(context) {
            guard let prebuilt = prebuiltUKI(context, kernel: kernel) else {
                if config[.bootable] == .enabled {
                    throw MkosiError(.config, "Couldn't find a signed UKI installed at /usr/lib/modules/\(kernel.version) in the image",
                                     hint: "Install the distribution's prebuilt UKI package, or set UnifiedKernelImages=unsigned to build one")
                }
                continue
            }
            let output = ukiPath(context, kernel: kernel, roothash: roothash)
            try FS.makeDirectories(Path.dirname(Path.join(context.root, output)), mode: 0o700)
            Log.info("Installing the prebuilt UKI /\(prebuilt) to /\(output)")
            try HostCommand.run(["cp", "--reflink=auto", Path.join(context.root, prebuilt), Path.join(context.root, output)])
            ukis.append(Path.join(context.root, output))
            if grubEFI, output.hasPrefix("boot/") {
                try Grub.addUKIEntry(context, name: Path.basename(output).replacingOccurrences(of: ".efi", with: ""),
                                     uki: String(output.dropFirst("boot".count)))
            }
            if config[.bootloader].isUKI { break }
        }
        return ukis
    }

    /// `Format=esp`: the boot loader in `tree` (the ESP's content) for `kernel`, before its UKI
    /// is made; returns where that UKI goes, relative to `tree`.
    static func installESPBootLoader(_ context: BuildContext, tree: String, kernel: Kernel) throws -> String {
        let config = context.config
        let arch = (config.architecture.efiName ?? "x64")
        let shim = config[.shimBootloader] != .none
        // Where firmware (or shim) finds the boot loader.
        let loaderPath = shim ? Shim.secondStageOnESP(config) : "EFI/BOOT/BOOT\(arch.uppercased()).EFI"
        let bootloader = config[.bootloader]
        let ukiPath: String
        if bootloader.isUKI {
            ukiPath = loaderPath
        } else if bootloader.isGrub {
            ukiPath = "EFI/Linux/\(ukiName(context, kernel: kernel, roothash: nil)).efi"
            try Grub.install(context, esp: tree)
            try Grub.addUKIEntry(context, name: ukiName(context, kernel: kernel, roothash: nil), uki: "/" + ukiPath, esp: tree)
        } else {
            ukiPath = "EFI/Linux/\(ukiName(context, kernel: kernel, roothash: nil)).efi"
            guard let efi = try efiBinaries(context) else {
                throw MkosiError(.config, "Format=esp needs systemd-boot (systemd-boot\(arch).efi)", hint: "Add \(context.distribution.bootLoaderPackage ?? "systemd-boot") to Packages=")
            }
            let names = try FS.listDirectory(efi)
            let signedName = "systemd-boot\(arch).efi.signed"
            if bootloader == .systemdBootSigned, !names.contains(signedName) {
                throw MkosiError(.config, "Bootloader=systemd-boot-signed, but the image has no signed systemd-boot (\(signedName))",
                                 hint: config.distribution.isAptDistribution
                                    ? "Add systemd-boot-efi-\(Apt.debianArchitecture(config.architecture))-signed to Packages=" : nil)
            }
            guard let boot = names.first(where: { $0 == signedName }) ?? names.first(where: { $0 == "systemd-boot\(arch).efi" }) else {
                throw MkosiError(.config, "No systemd-boot\(arch).efi in \(efi)")
            }
            for target in ["EFI/systemd/systemd-boot\(arch).efi", loaderPath] {
                try FS.makeDirectories(Path.dirname(Path.join(tree, target)))
                if SecureBoot.enabled(config) && !boot.hasSuffix(".signed") {
                    try SecureBoot.sign(context, input: Path.join(efi, boot), output: Path.join(tree, target))
                } else {
                    try HostCommand.run(["cp", Path.join(efi, boot), Path.join(tree, target)])
                }
            }
            try FS.makeDirectories(tree + "/loader/entries")
            try FS.writeAtomically(tree + "/loader/loader.conf", "timeout 0\n")
            if SecureBoot.autoEnroll(config, bootctlVersion: nil) == .efitools { try SecureBoot.writeAutoEnrollKeys(context, esp: tree) }
        }
        if shim { try Shim.install(context, esp: tree) }
        return ukiPath
    }
}
