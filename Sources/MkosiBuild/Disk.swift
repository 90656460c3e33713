#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiSandbox

/// `Format=disk`: a GPT disk image made by `systemd-repart --offline=yes` from the image root,
/// with the partitions of `RepartDirectories=` (`mkosi.repart/`) or, without them, an ESP
/// (512M, vfat, `/boot` and `/efi` copied in; only for bootable images) and a root partition
/// (the distribution's file system, minimized, the whole root copied in).
///
/// When the UKI's command line needs the partitions (a verity root hash, `root=PARTUUID`), it
/// runs twice, as upstream does: first with the ESP deferred, then, once the UKI is made, again
/// to fill the ESP. Otherwise the UKI is made first and repart runs once.
public enum Disk {
    static func imagePath(_ context: BuildContext) -> String {
        Path.join(context.staging, context.config.outputWithFormat)
    }

    /// The definition directories: the configured ones, or defaults written to the workspace.
    ///
    /// With grub for BIOS (`bios`), the ESP is 1G (it holds each kernel and initrd twice, for
    /// the UKIs and for grub's entries) and a 1M BIOS boot partition is added, as upstream.
    static func definitions(_ context: BuildContext, esp: Bool, bios: Bool = false) throws -> [String] {
        let configured = context.config[.repartDirectories]
        if !configured.isEmpty { return configured }
        let dir = context.workspace + "/repart-definitions"
        FS.removeTree(dir)
        try FS.makeDirectories(dir)
        if esp {
            try FS.writeAtomically(dir + "/00-esp.conf", """
                [Partition]
                Type=esp
                Format=vfat
                CopyFiles=/boot:/
                CopyFiles=/efi:/
                SizeMinBytes=\(bios ? "1G" : "512M")
                SizeMaxBytes=\(bios ? "1G" : "512M")

                """)
        }
        if bios {
            try FS.writeAtomically(dir + "/05-bios.conf", "[Partition]\nType=\(Grub.biosBootPartitionType)\nSizeMinBytes=1M\nSizeMaxBytes=1M\n")
        }
        try FS.writeAtomically(dir + "/10-root.conf", """
            [Partition]
            Type=root
            Format=\(context.config.distribution.filesystem)
            CopyFiles=/
            Minimize=guess

            """)
        return [dir]
    }

    /// Whether the UKI needs to know the partitions first: a verity root hash or
    /// `root=PARTUUID` go into its command line.
    static func uki(dependsOn definitions: [String], _ config: Config) -> Bool {
        if config[.kernelCommandLine].contains(where: { $0 == "root=PARTUUID" || $0 == "mount.usr=PARTUUID" }) {
            return true
        }
        for dir in definitions {
            for name in (try? FS.listDirectory(dir)) ?? [] where name.hasSuffix(".conf") {
                let text = (try? FS.readText(Path.join(dir, name))) ?? ""
                if text.split(separator: "\n").contains(where: { $0.hasPrefix("Verity=") && !$0.hasSuffix("=off") }) { return true }
            }
        }
        return false
    }

    /// systemd-repart's `--offline=` for `RepartOffline=`; with `no` it works through loop
    /// devices, so the sandbox gets the host's `/dev` and `/sys` (which needs root;
    /// `BuildCommand` checks that first).
    static func repartOffline(_ s: inout Sandbox, _ config: Config) -> String {
        guard !config[.repartOffline] else { return "--offline=yes" }
        s.bind("/dev", "/dev")
        s.bind("/sys", "/sys", readOnly: true)
        return "--offline=no"
    }

    /// Runs systemd-repart over the staged image. `first` creates the image, with the ESP and
    /// XBOOTLDR partitions deferred when `deferESP`; a second pass fills them. Returns the
    /// partitions.
    ///
    /// `Verity=`: the verity key and certificate (files, or from an engine or provider, see
    /// `SigningKey`) are passed for `auto` and `signed`; `defer`
    /// leaves the signature partitions empty (deferred) and `hash` leaves them out; `signed`
    /// fails when no signature partition was made. With `split` each partition is also written
    /// to a file of its own (`SplitArtifacts=partitions`), compressed per `CompressOutput=`.
    ///
    /// The pass that makes a disk image's partitions (`first`, `Format=disk`) also has
    /// systemd-repart write the image's `/etc/fstab` and `/etc/crypttab` (`tabArguments`); every
    /// pass gets `mkfsEnvironment` (ext4 without `orphan_file` for guests whose kernels lack it).
    @discardableResult
    static func make(_ context: BuildContext, definitions: [String], first: Bool, deferESP: Bool = true,
                     split: Bool = false) throws -> [Partition] {
        let config = context.config
        let tabs = first && config.format == .disk
        var s = context.toolsSandbox()
        s.bind(context.staging, "/work/out")
        var argv = ["systemd-repart", "--dry-run=no", "--json=pretty", "--no-pager", "--root=/buildroot",
                    repartOffline(&s, config), "--seed=\(config[.seed])"]
        let verity = config[.verity]
        let signatureTypes = ["root", "usr"].map { "\($0)-\(config.architecture.rawValue)-verity-sig" }
        var deferred: [String] = []
        if first {
            // OutputSize= grows the finished image afterwards (`Output.grow`), as upstream.
            argv += ["--empty=create", "--size=auto"]
            if deferESP { deferred += ["esp", "xbootldr"] }
        } else {
            argv += ["--empty=refuse"]
        }
        if verity == .defer { deferred += signatureTypes }
        if !deferred.isEmpty { argv.append("--defer-partitions=" + deferred.joined(separator: ",")) }
        if verity == .hash && config.format.isExtensionOrPortable {
            argv.append("--exclude-partitions=" + signatureTypes.joined(separator: ","))
        }
        if split { argv.append("--split=yes") }
        if config.format == .disk && !split && (!first || !deferESP) {
            let grubBIOS = (try? Grub.wantBIOS(context)) ?? false
            argv += elToritoArguments(config, repartVersion: Tools.systemdVersion("systemd-repart", context), grubBIOS: grubBIOS,
                                      esp: hasESP(definitions))
        }
        if config.architecture != .native { argv.append("--architecture=\(config.architecture.rawValue)") }
        if let sectorSize = config[.sectorSize] { argv.append("--sector-size=\(sectorSize)") }
        if tabs { argv += tabArguments(repartVersion: repartVersion(context)) }
        if let passphrase = config[.passphrase] {
            s.bind(passphrase, "/work/passphrase", readOnly: true)
            argv.append("--key-file=/work/passphrase")
        }
        if verity == .auto || verity == .signed, let key = SigningKey.verity(config) {
            argv += key.systemdArguments(&s)
        }
        for (n, dir) in definitions.enumerated() {
            s.bind(dir, "/work/repart/\(n)", readOnly: true)
            argv.append("--definitions=/work/repart/\(n)")
        }
        argv.append("/work/out/\(config.outputWithFormat)")
        var environment = context.baseEnvironment()
        for (k, v) in mkfsEnvironment(target: config.distribution, release: config.release,
                                      tools: HostDistribution.detect(root: context.toolsTree ?? "/"),
                                      configured: config[.environment].pairs) { environment[k] = v }
        let output: String
        do {
            output = try context.capture(argv, in: s, environment: environment)
        } catch var e as MkosiError where !e.isInterruption {
            if e.hint == nil {
                let configured = config[.repartDirectories]
                let which = configured.isEmpty ? "the default partition layout" : "the partition definitions in \(configured.joined(separator: ", "))"
                e.hint = "Check \(which)"
            }
            throw e
        }
        let partitions = try PartitionTable.parse(output)
        if verity == .signed && !partitions.contains(where: { p in signatureTypes.contains { p.type.hasPrefix($0) } }) {
            throw MkosiError.config("Verity=signed, but the image has no verity signature partition",
                                    hint: "Add a partition with Verity=signature to the definitions in mkosi.repart/")
        }
        if split {
            for p in partitions {
                guard let path = p.splitPath, !deferred.contains(where: { p.type.hasPrefix($0) }) else { continue }
                try Output.compress(Path.join(context.staging, Path.basename(path)), config: config, context: context)
            }
        }
        try writeSplitArtifacts(context, partitions: partitions)
        return partitions
    }

    /// systemd-repart's options for the image's mount and encryption tables, as upstream passes
    /// them without a setting: from systemd 256 the fstab entries of the partitions with
    /// `MountPoint=` go to `/etc/fstab` and the encrypted ones (`Encrypt=`, `EncryptedVolume=`) to
    /// `/etc/crypttab` in the image; from 258 the entries an existing fstab has are kept
    /// (`--append-fstab=auto`). Older repart gets none.
    static func tabArguments(repartVersion: Int) -> [String] {
        var argv: [String] = []
        if repartVersion >= 256 { argv += ["--generate-fstab=/etc/fstab", "--generate-crypttab=/etc/crypttab"] }
        if repartVersion >= 258 { argv.append("--append-fstab=auto") }
        return argv
    }

    /// The major version of the tools' systemd-repart; 0 when it cannot be told.
    static func repartVersion(_ context: BuildContext) -> Int {
        Tools.systemdVersion("systemd-repart", context) ?? 0
    }

    /// What systemd-repart's environment gets for the file systems it makes, as upstream: ext4
    /// without the `orphan_file` feature (`SYSTEMD_REPART_MKFS_OPTIONS_EXT4=-O ^orphan_file`) when
    /// the image's distribution ships a kernel that cannot mount ext4 with it (CentOS Stream 9,
    /// Ubuntu jammy) while the tools' mkfs.ext4 (per their os-release, `tools`) would turn it on.
    /// Left out when `Environment=` (`configured`) sets the variable itself.
    static func mkfsEnvironment(target: Distribution, release: String, tools: HostDistribution,
                                configured: [(String, String)]) -> [String: String] {
        func canOrphanFile(_ distribution: Distribution?, _ release: String?) -> Bool {
            switch distribution {
            case .centos: return release.map { Version.compare($0, "9") != 0 } ?? true
            case .ubuntu: return release != "jammy"
            default: return true
            }
        }
        let variable = "SYSTEMD_REPART_MKFS_OPTIONS_EXT4"
        guard !canOrphanFile(target, release), canOrphanFile(tools.distribution, tools.release),
              !configured.contains(where: { $0.0 == variable }) else { return [:] }
        return [variable: "-O ^orphan_file"]
    }

    /// `ElTorito=` for the pass that writes the ESP of a `Format=disk` image: a boot catalog
    /// pointing at the ESP, with the ISO 9660 identifiers given. `auto` adds it when repart has
    /// it (261 or newer) and grub is not installed for BIOS (grub-bios-setup takes the ISO 9660
    /// header for a file system and refuses to embed itself), as upstream; `yes` with an older
    /// repart was refused before the build (`InputCheck`). Beyond upstream, `auto` also wants an
    /// ESP (`esp`): the catalog boots the ESP, and without one repart fails when the first
    /// partition starts where the ISO 9660 descriptors go.
    static func elToritoArguments(_ config: Config, repartVersion: Int?, grubBIOS: Bool, esp: Bool) -> [String] {
        let wanted = config[.elTorito] == .enabled || (config[.elTorito] == .auto && !grubBIOS && esp)
        guard wanted, (repartVersion ?? 0) >= 261 else { return [] }
        var argv = ["--el-torito=yes"]
        if let system = config[.elToritoSystem] { argv.append("--el-torito-system=\(system)") }
        if let volume = config[.elToritoVolume] { argv.append("--el-torito-volume=\(volume)") }
        if let publisher = config[.elToritoPublisher] { argv.append("--el-torito-publisher=\(publisher)") }
        return argv
    }

    /// Whether one of the definitions in `definitions` makes an ESP.
    static func hasESP(_ definitions: [String]) -> Bool {
        definitions.contains { dir in
            ((try? FS.listDirectory(dir)) ?? []).contains { name in
                name.hasSuffix(".conf") && ((try? FS.readText(Path.join(dir, name))) ?? "").split(separator: "\n").contains {
                    String($0).trimmed() == "Type=esp"
                }
            }
        }
    }

    /// `SplitArtifacts=roothash`: `<Output>.roothash`, the verity root hash (or /usr hash).
    static func writeSplitArtifacts(_ context: BuildContext, partitions: [Partition]) throws {
        let config = context.config
        guard config[.splitArtifacts].contains(.roothash), let argument = PartitionTable.verityArgument(partitions),
              let hash = argument.split(separator: "=", maxSplits: 1).last else { return }
        try FS.writeAtomically(Path.join(context.staging, "\(config.output).roothash"), String(hash))
    }
}
