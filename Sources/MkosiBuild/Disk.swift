#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// A partition of a disk image, as `systemd-repart --json` describes it.
struct Partition {
    let type: String
    let uuid: String
    let number: Int
    let roothash: String?
    let splitPath: String?
}

/// `Format=disk`: a GPT disk image made by `systemd-repart --offline=yes` from the image root,
/// with the partitions of `RepartDirectories=` (`mkosi.repart/`) or, without them, an ESP
/// (512M, vfat, `/boot` and `/efi` copied in; only for bootable images) and a root partition
/// (the distribution's file system, minimized, the whole root copied in).
///
/// It runs twice, as upstream does: first with the ESP deferred, so that the verity root hash
/// of the root partition is known when the UKI (whose command line carries it) is made; then
/// again to fill the ESP.
enum Disk {
    static func imagePath(_ context: BuildContext) -> String {
        Path.join(context.staging, context.config.outputWithFormat)
    }

    /// The definition directories: the configured ones, or defaults written to the workspace.
    static func definitions(_ context: BuildContext, esp: Bool) throws -> [String] {
        let configured = context.config["repart_dirs"].strings
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
                SizeMinBytes=512M
                SizeMaxBytes=512M

                """)
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

    /// Runs systemd-repart over the staged image: `first` creates it with the ESP and XBOOTLDR
    /// partitions deferred, the second pass fills them. Returns the partitions.
    @discardableResult
    static func make(_ context: BuildContext, definitions: [String], first: Bool) throws -> [Partition] {
        let config = context.config
        var s = context.toolsSandbox()
        s.bind(context.staging, "/work/out")
        var argv = ["systemd-repart", "--dry-run=no", "--json=pretty", "--no-pager", "--root=/buildroot", "--offline=yes",
                    "--seed=\(config["seed"].string ?? "random")"]
        if first {
            argv += ["--empty=create", "--size=\(config["output_size"].int.map(String.init) ?? "auto")",
                     "--defer-partitions=esp,xbootldr"]
        } else {
            argv += ["--empty=refuse"]
        }
        if let sectorSize = config["sector_size"].int { argv.append("--sector-size=\(sectorSize)") }
        if let passphrase = config["passphrase"].string {
            s.bind(passphrase, "/work/passphrase", readOnly: true)
            argv.append("--key-file=/work/passphrase")
        }
        if let key = config["verity_key"].string, FS.exists(key) {
            s.bind(key, "/work/verity.key", readOnly: true)
            argv.append("--private-key=/work/verity.key")
        }
        if let certificate = config["verity_certificate"].string {
            s.bind(certificate, "/work/verity.crt", readOnly: true)
            argv.append("--certificate=/work/verity.crt")
        }
        for (n, dir) in definitions.enumerated() {
            s.bind(dir, "/work/repart/\(n)", readOnly: true)
            argv.append("--definitions=/work/repart/\(n)")
        }
        argv.append("/work/out/\(config.outputWithFormat)")
        let output: String
        do {
            output = try context.capture(argv, in: s)
        } catch var e as MkosiError {
            if e.hint == nil {
                e.hint = "Check the partition definitions in \(definitions.joined(separator: ", "))"
                    + (config["output_size"].int != nil ? " and whether OutputSize= leaves room for them" : "")
            }
            throw e
        }
        return try parse(output)
    }

    static func parse(_ output: String) throws -> [Partition] {
        guard case .array(let items) = try JSON.parse(output) else {
            throw MkosiError(.failed, "systemd-repart printed no partition table")
        }
        return items.map { item in
            func string(_ key: String) -> String? {
                if case .string(let v)? = item[key] { return v }
                return nil
            }
            var number = 0
            if case .int(let n)? = item["partno"] { number = n }
            let roothash = string("roothash").flatMap { $0 == "TBD" ? nil : $0 }
            let split = string("split_path").flatMap { $0 == "-" ? nil : $0 }
            return Partition(type: string("type") ?? "", uuid: string("uuid") ?? "", number: number,
                             roothash: roothash, splitPath: split)
        }
    }

    /// `roothash=` or `usrhash=` for the kernel command line, from the first verity-protected
    /// root or /usr partition.
    static func verityArgument(_ partitions: [Partition]) -> String? {
        if let p = partitions.first(where: { $0.type.hasPrefix("root") && $0.roothash != nil }) { return "roothash=\(p.roothash!)" }
        if let p = partitions.first(where: { $0.type.hasPrefix("usr") && $0.roothash != nil }) { return "usrhash=\(p.roothash!)" }
        return nil
    }
}
