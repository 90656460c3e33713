#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// The outputs: `directory` (the root itself) and `tar` (compressed per `CompressOutput=`),
/// named `Output=` plus extension, with a `Output=` symlink to a compressed file; moved into
/// the output directory only when complete.
public enum Output {
    public static func make(_ context: BuildContext) throws {
        let config = context.config
        let name = config.outputWithCompression
        let staged = Path.join(context.staging, name)
        if config.format != .tar && config.format != .none && config[.splitArtifacts].contains(.tar) {
            try makeTar(context, name: "\(config.output).tar")
        }
        if let settings = config[.nspawnSettings] {
            try HostCommand.run(["cp", "--reflink=auto", settings, Path.join(context.staging, "\(config.output).nspawn")])
        }
        switch config.format {
        case .none:
            return
        case .directory:
            guard rename(context.root, staged) == 0 else { throw FS.systemError("Cannot move the image to \(staged)") }
        case .tar:
            try makeTar(context, name: config.outputWithFormat)
        case .disk:
            // systemd-repart wrote the image into the staging directory already.
            try grow(Disk.imagePath(context), to: config[.outputSize])
            try compress(Disk.imagePath(context), config: config, context: context)
        case .cpio:
            let cpio = Path.join(context.staging, config.outputWithFormat)
            try makeCpio(context, to: cpio)
            try compress(cpio, config: config, context: context)
        case .uki, .esp:
            // The whole image is the initrd of the UKI (compressed per CompressOutput=).
            let cpio = context.workspace + "/image.cpio"
            try makeCpio(context, to: cpio)
            try compress(cpio, config: config, context: context, directory: context.workspace)
            let initrd = config.compression == .none ? cpio : cpio + "." + config.compression.fileExtension
            let output = Path.join(context.staging, config.outputWithFormat)
            if config.format == .uki {
                try Boot.buildImageUKI(context, initrd: initrd, output: output)
            } else {
                try Boot.buildESPImage(context, initrd: initrd, output: output)
            }
        case .oci:
            try OCIImage.make(context)
        case .addon:
            try UKIAddon.make(context)
        case .sysext, .confext, .portable:
            try ExtensionImage.make(context)
            try compress(Path.join(context.staging, config.outputWithFormat), config: config, context: context)
        }
        try copyRepartDefinitions(context)
        if config[.checksum] || config[.sign] { try checksum(context) }
        if config[.sign] { try sign(context) }
        if name != config.output {
            symlink(name, Path.join(context.staging, config.output))
        }
        try context.step("Running post-output scripts") { try Scripts.runPostOutput(context) }
        try place(context)
    }

    /// `SplitArtifacts=repart-definitions`: the partition definitions the image was made with,
    /// as `<Output>.repart.d/` (the ESP's for `Format=esp`, the built-in ones for extension
    /// images, the defaults or `RepartDirectories=` for disks).
    static func copyRepartDefinitions(_ context: BuildContext) throws {
        let config = context.config
        guard config[.splitArtifacts].contains(.repartDefinitions) else { return }
        let definitions: [String]
        switch config.format {
        case .esp: definitions = [context.workspace + "/esp-definitions"]
        case .sysext, .confext, .portable: definitions = [context.workspace + "/extension-definitions"]
        case .disk:
            let defaults = context.workspace + "/repart-definitions"
            definitions = FS.isDirectory(defaults) ? [defaults] : config[.repartDirectories]
        default: definitions = []
        }
        let target = Path.join(context.staging, "\(config.output).repart.d")
        for dir in definitions where FS.isDirectory(dir) {
            try FS.makeDirectories(target)
            try HostCommand.run(["cp", "-r", "--no-target-directory", dir, target])
        }
    }

    /// The image as a newc cpio archive at `path` (an initramfs: owned by root, sorted).
    static func makeCpio(_ context: BuildContext, to path: String) throws {
        var s = context.toolsSandbox()
        s.bind(Path.dirname(path), "/work/out")
        s.workingDirectory = "/buildroot"
        try context.run(["bash", "-e", "-o", "pipefail", "-c",
                         "find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --create --null --format=newc "
                            + "--reproducible --renumber-inodes --owner=0:0 --quiet > \"$1\"", "sh", "/work/out/\(Path.basename(path))"],
                        in: s)
    }

    /// The image as a tar archive `name` in the staging directory, compressed per
    /// `CompressOutput=` (the name gets the algorithm's suffix).
    static func makeTar(_ context: BuildContext, name: String) throws {
        try writeTar(context, to: Path.join(context.staging, name))
        try compress(Path.join(context.staging, name), config: context.config, context: context)
    }

    /// The image root as an uncompressed tar archive at `path` (numeric owners, extended
    /// attributes and ACLs, sorted by name).
    static func writeTar(_ context: BuildContext, to path: String) throws {
        var s = context.toolsSandbox()
        s.bind(Path.dirname(path), "/work/out")
        try context.run(["tar", "--create", "--file", "/work/out/\(Path.basename(path))", "--numeric-owner", "--xattrs",
                         "--xattrs-include=*", "--acls", "--sort=name", "--directory", "/buildroot", "."], in: s)
    }

    /// `Sign=`: a detached OpenPGP signature `<Output>.SHA256SUMS.gpg` of the checksums, made
    /// with gpg (`Key=` picks the key; `$GNUPGHOME` or `~/.gnupg` holds it) or with the SOP tool
    /// `OpenPGPTool=` (then `Key=` is the key file). gpg runs outside the sandbox so that it
    /// reaches the user's agent.
    static func sign(_ context: BuildContext) throws {
        let config = context.config
        let sums = Path.join(context.staging, "\(config.output).SHA256SUMS")
        guard FS.exists(sums) else { return }
        let signature = sums + ".gpg"
        let tool = config[.openPGPTool]
        do {
            if tool == "gpg" {
                var argv = ["gpg", "--batch", "--yes", "--detach-sign", "--pinentry-mode", "loopback", "--output", signature]
                if let key = config[.key] { argv += ["--default-key", key] }
                try HostCommand.run(argv + [sums])
            } else {
                guard let key = config[.key] else {
                    throw MkosiError.config("Sign= with OpenPGPTool=\(tool) needs Key= (the key file)")
                }
                try HostCommand.run(["sh", "-c", "\"$0\" sign \"$1\" < \"$2\" > \"$3\"", tool, key, sums, signature])
            }
        } catch var e as MkosiError where !e.isInterruption {
            if e.hint == nil { e.hint = "Check that Key= names a secret key \(tool) can use without a passphrase prompt" }
            throw e
        }
    }

    /// `<Output>.SHA256SUMS` over the staged output files, in `sha256sum` format.
    static func checksum(_ context: BuildContext) throws {
        // The manifest is not listed: upstream writes it after the checksums.
        let unlisted = Set(["manifest", "changelog"].map { "\(context.config.output).\($0)" })
        let files = try FS.listDirectory(context.staging)
            .filter { !FS.isDirectory(Path.join(context.staging, $0)) && !unlisted.contains($0) }.sorted()
        guard !files.isEmpty else { return }
        // The image root may have become the output already (Format=directory).
        var s = context.bareToolsSandbox()
        s.bind(context.staging, "/work/out")
        s.workingDirectory = "/work/out"
        let sums = "\(context.config.output).SHA256SUMS"
        try context.run(["sh", "-e", "-c", "sha256sum --binary \"$@\" > .sums && mv .sums \(ShellLexer.quote(sums))", "sh"] + files,
                        in: s)
    }

    /// `OutputSize=` for disk images, as upstream: the file is extended (sparsely) to the size when
    /// it is smaller; a larger image is left as it is, with a notice.
    static func grow(_ file: String, to size: Int?) throws {
        guard let size, let current = FS.stat(file)?.size else { return }
        guard size > current else {
            Log.info("Can't change the output size because the image is already larger (\(Summary.formatBytes(Int(current)))) than requested (\(Summary.formatBytes(size)))")
            return
        }
        Log.info("Resizing the output image to \(Summary.formatBytes(size))")
        guard truncate(file, off_t(size)) == 0 else { throw FS.systemError("Cannot resize \(file) to \(size) bytes") }
    }

    /// Compresses `file` in place with `CompressOutput=` (the result gets the algorithm's suffix).
    static func compress(_ file: String, config: Config, context: BuildContext, directory: String? = nil) throws {
        let algorithm = config.compression
        guard algorithm != .none else { return }
        let level = config[.compressLevel]
        let tool: [String]
        switch algorithm {
        case .zstd: tool = ["zstd", "-q", "-\(min(level, 19))", "-T0", "--rm"]
        case .xz: tool = ["xz", "-\(min(level, 9))", "-T0"]
        case .gz: tool = ["gzip", "-\(max(1, min(level, 9)))"]
        case .bz2: tool = ["bzip2", "-\(max(1, min(level, 9)))"]
        case .lz4: tool = ["lz4", "-q", "--rm", "-\(max(1, min(level, 12)))"]
        case .lzma: tool = ["xz", "--format=lzma", "-\(min(level, 9))"]
        case .none: return
        }
        var s = context.bareToolsSandbox()
        s.bind(directory ?? context.staging, "/work/out")
        try context.run(tool + ["/work/out/\(Path.basename(file))"], in: s)
    }

    /// Moves every staged file into the output directory, replacing earlier outputs of the same
    /// names only now that the new ones are complete.
    static func place(_ context: BuildContext) throws {
        let out = context.outputDirectory
        try FS.makeDirectories(out)
        Privileges.handOver(out)
        for name in try FS.listDirectory(context.staging) {
            let from = Path.join(context.staging, name), to = Path.join(out, name)
            if rename(from, to) != 0 {
                let e = errno
                if e == EXDEV {
                    try HostCommand.run(["cp", "-a", "--reflink=auto", "--no-target-directory", from, to + ".mkosi-tmp"])
                    FS.removeTree(to)
                    guard rename(to + ".mkosi-tmp", to) == 0 else { throw FS.systemError("Cannot move \(name) to \(out)") }
                } else if e == ENOTEMPTY || e == EEXIST || e == EISDIR || e == ENOTDIR {
                    let old = to + ".mkosi-old"
                    FS.removeTree(old)
                    guard rename(to, old) == 0, rename(from, to) == 0 else { throw FS.systemError("Cannot move \(name) to \(out)") }
                    FS.removeTree(old)
                } else {
                    errno = e
                    throw FS.systemError("Cannot move \(name) to \(out)")
                }
            }
            if let mode = context.config[.outputMode] { chmod(to, mode_t(mode)) }
            Privileges.handOver(to)
        }
    }

    /// Removes the outputs of `config` from its output directory.
    public static func remove(_ config: Config, cwd: String) {
        let out = config.outputDirectoryOrDefault(cwd: cwd)
        let sideArtifacts = [".SHA256SUMS", ".SHA256SUMS.gpg", ".manifest", ".changelog", ".osrelease", ".nspawn", ".tar",
                             ".tar.\(config.compression.fileExtension)", ".efi", ".vmlinuz", ".initrd", ".roothash", ".repart.d", ".kernel-modules-initrd"].map { config.output + $0 }
        for name in Set([config.output, config.outputWithFormat, config.outputWithCompression] + sideArtifacts) {
            FS.removeTree(Path.join(out, name))
        }
    }

    /// Whether the output of `config` exists.
    public static func exists(_ config: Config, cwd: String) -> Bool {
        FS.lstat(Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)) != nil
    }
}
