#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `ShimBootloader=`: shim as the ESP's default boot loader (`EFI/BOOT/BOOT<ARCH>.EFI`) with
/// MokManager beside it, and the real boot loader (systemd-boot, grub or a UKI) as shim's second
/// stage (`EFI/BOOT/grub<arch>.EFI`, `grub.EFI` on openSUSE), as upstream. `signed` takes the
/// distribution's signed shim; `unsigned` the unsigned one, signed with `SecureBoot=`.
enum Shim {
    /// Where shim looks for the boot loader it starts, relative to the image root.
    static func secondStage(_ config: Config) -> String {
        "efi/" + secondStageOnESP(config)
    }

    /// Where shim looks for the boot loader it starts, relative to the ESP.
    static func secondStageOnESP(_ config: Config) -> String {
        config.distribution == .opensuse ? "EFI/BOOT/grub.EFI" : "EFI/BOOT/grub\(config.architecture.efiName ?? "x64").EFI"
    }

    /// Installs shim and MokManager into `esp`, the host path of the ESP's tree (the image's
    /// `/efi` unless given; `Format=esp` builds its own).
    static func install(_ context: BuildContext, esp: String? = nil) throws {
        let config = context.config
        guard Boot.wantEFI(config), config[.shimBootloader] != .none, let arch = config.architecture.efiName,
              !Boot.kernels(context).isEmpty || config[.bootable] == .enabled || config.format == .esp else { return }
        let esp = esp ?? Path.join(context.root, "efi")
        let destination = Path.join(esp, "EFI/BOOT/BOOT\(arch.uppercased()).EFI")
        try FS.makeDirectories(Path.dirname(destination), mode: 0o700)
        try installBinary(context, name: "shim",
                          signed: ["usr/lib/shim/shim\(arch).efi.signed.latest", "usr/lib/shim/shim\(arch).efi.signed",
                                   "boot/efi/EFI/*/shim\(arch).efi", "usr/share/efi/*/shim.efi"],
                          unsigned: ["usr/lib/shim/shim\(arch).efi", "usr/share/shim/*/*/shim\(arch).efi", "usr/share/shim/shim\(arch).efi"],
                          to: destination)
        try installBinary(context, name: "mok",
                          signed: ["usr/lib/shim/mm\(arch).efi.signed", "usr/lib/shim/mm\(arch).efi", "boot/efi/EFI/*/mm\(arch).efi",
                                   "usr/share/efi/*/MokManager.efi"],
                          unsigned: ["usr/lib/shim/mm\(arch).efi", "usr/share/shim/*/*/mm\(arch).efi", "usr/share/shim/mm\(arch).efi"],
                          to: Path.dirname(destination))
    }

    /// Copies the first of `signed` (or `unsigned`, then signed with `SecureBoot=`) found in the
    /// image (patterns relative to its root) to `target`, a host path of a file or a directory
    /// (then under its own name, `.efi` for the `.efi.signed` names).
    static func installBinary(_ context: BuildContext, name: String, signed: [String], unsigned: [String], to target: String) throws {
        let config = context.config
        let wantSigned = config[.shimBootloader] == .signed
        let candidates = (wantSigned ? signed : unsigned).flatMap { Glob.expand($0, cwd: context.root) }
        for relative in candidates {
            let source = Path.join(context.root, relative)
            if let link = FS.readlink(source), link.hasPrefix("/") {
                Log.warning("Ignoring the \(wantSigned ? "signed" : "unsigned") \(name) EFI binary /\(relative), a link to the absolute path \(link)")
                continue
            }
            var output = target
            if FS.isDirectory(target) {
                var file = Path.basename(relative)
                if let dot = file.firstIndex(of: "."), String(file[dot...]) != ".efi" { file = String(file[..<dot]) + ".efi" }
                output = Path.join(target, file)
            }
            let shown = "/EFI/" + Path.basename(Path.dirname(output)) + "/" + Path.basename(output)
            if !wantSigned && SecureBoot.enabled(config) {
                Log.info("Signing and installing the unsigned \(name) EFI binary /\(relative) as \(shown) on the ESP")
                try SecureBoot.sign(context, input: source, output: output)
            } else {
                Log.info("Installing the \(wantSigned ? "signed" : "unsigned") \(name) EFI binary /\(relative) as \(shown) on the ESP")
                try HostCommand.run(["cp", source, output])
            }
            return
        }
        if config[.bootable] == .enabled || config.format == .esp {
            throw MkosiError(.config, "Couldn't find \(wantSigned ? "a signed" : "an unsigned") \(name) EFI binary installed in the image",
                             hint: config.distribution.isAptDistribution ? "Add \(wantSigned ? "shim-signed" : "shim-unsigned") to Packages=" : "Add shim to Packages=")
        }
    }
}
