#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// Copies trees (`SkeletonTrees=`, `ExtraTrees=`) into the image: directories are copied with
/// modes, times, links and extended attributes (owned by root in the image); tarballs are
/// extracted as they are.
public enum TreeCopy {
    public static func install(_ trees: [ConfigTree], into context: BuildContext) throws {
        for tree in trees {
            guard FS.exists(tree.source) else {
                throw MkosiError.config("\(tree.source) does not exist", hint: "ExtraTrees=/SkeletonTrees= sources must exist")
            }
            let target = "/buildroot" + (tree.target.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "")
            var s = context.toolsSandbox()
            s.bind(tree.source, "/work/tree", readOnly: true)
            let argv: [String]
            if FS.isDirectory(tree.source) {
                argv = ["sh", "-e", "-c", "mkdir -p \"$1\" && cp -r --no-dereference --preserve=mode,timestamps,links,xattr "
                        + "--reflink=auto --no-target-directory /work/tree \"$1\"", "sh", target]
            } else {
                argv = ["sh", "-e", "-c", "mkdir -p \"$1\" && tar -x --keep-directory-symlink -C \"$1\" -f /work/tree", "sh", target]
            }
            try context.run(argv, in: s)
        }
    }
}

/// The outputs: `directory` (the root itself) and `tar` (compressed per `CompressOutput=`),
/// named `Output=` plus extension, with a `Output=` symlink to a compressed file; moved into
/// the output directory only when complete.
public enum Output {
    public static func make(_ context: BuildContext) throws {
        let config = context.config
        let name = config.outputWithCompression
        let staged = Path.join(context.staging, name)
        switch config.format {
        case "none":
            return
        case "directory":
            guard rename(context.root, staged) == 0 else { throw FS.systemError("Cannot move the image to \(staged)") }
        case "tar":
            let tarName = config.outputWithFormat
            var s = context.toolsSandbox()
            s.bind(context.staging, "/work/out")
            try context.run(["tar", "--create", "--file", "/work/out/\(tarName)", "--numeric-owner", "--xattrs",
                             "--xattrs-include=*", "--acls", "--sort=name", "--directory", "/buildroot", "."], in: s)
            try compress(Path.join(context.staging, tarName), config: config, context: context)
        case "cpio":
            let cpioName = config.outputWithFormat
            var s = context.toolsSandbox()
            s.bind(context.staging, "/work/out")
            s.workingDirectory = "/buildroot"
            try context.run(["bash", "-e", "-o", "pipefail", "-c",
                             "find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --create --null --format=newc "
                                + "--reproducible --renumber-inodes --owner=0:0 --quiet > \"$1\"", "sh", "/work/out/\(cpioName)"],
                            in: s)
            try compress(Path.join(context.staging, cpioName), config: config, context: context)
        default:
            throw MkosiError(.unsupported, "Format=\(config.format) is not implemented yet")
        }
        if config["checksum"].bool == true { try checksum(context) }
        if name != config.output {
            symlink(name, Path.join(context.staging, config.output))
        }
        try place(context)
    }

    /// `<Output>.SHA256SUMS` over the staged output files, in `sha256sum` format.
    static func checksum(_ context: BuildContext) throws {
        let files = try FS.listDirectory(context.staging).filter { !FS.isDirectory(Path.join(context.staging, $0)) }.sorted()
        guard !files.isEmpty else { return }
        var s = context.toolsSandbox()
        s.bind(context.staging, "/work/out")
        s.workingDirectory = "/work/out"
        let sums = "\(context.config.output).SHA256SUMS"
        try context.run(["sh", "-e", "-c", "sha256sum --binary \"$@\" > .sums && mv .sums \(ShellLexer.quote(sums))", "sh"] + files,
                        in: s)
    }

    /// Compresses `file` in place with `CompressOutput=` (the result gets the algorithm's suffix).
    static func compress(_ file: String, config: Config, context: BuildContext) throws {
        let algorithm = config.compression
        guard algorithm != "none" else { return }
        let level = config["compress_level"].int ?? 3
        let tool: [String]
        switch algorithm {
        case "zstd": tool = ["zstd", "-q", "-\(min(level, 19))", "-T0", "--rm"]
        case "xz": tool = ["xz", "-\(min(level, 9))", "-T0"]
        case "gz": tool = ["gzip", "-\(max(1, min(level, 9)))"]
        case "bz2": tool = ["bzip2", "-\(max(1, min(level, 9)))"]
        case "lz4": tool = ["lz4", "-q", "--rm", "-\(max(1, min(level, 12)))"]
        case "lzma": tool = ["xz", "--format=lzma", "-\(min(level, 9))"]
        default: throw MkosiError(.unsupported, "Compression \(algorithm) is not supported")
        }
        var s = context.toolsSandbox()
        s.bind(context.staging, "/work/out")
        try context.run(tool + ["/work/out/\(Path.basename(file))"], in: s)
    }

    /// Moves every staged file into the output directory, replacing earlier outputs of the same
    /// names only now that the new ones are complete.
    static func place(_ context: BuildContext) throws {
        let out = context.outputDirectory
        try FS.makeDirectories(out)
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
            if let mode = context.config["output_mode"].int { chmod(to, mode_t(mode)) }
        }
        Log.info("\(Terminal.bold(context.config.outputWithCompression)) written to \(out)")
    }

    /// Removes the outputs of `config` from its output directory.
    public static func remove(_ config: Config, cwd: String) {
        let out = config.outputDirectoryOrDefault(cwd: cwd)
        for name in Set([config.output, config.outputWithFormat, config.outputWithCompression]) {
            FS.removeTree(Path.join(out, name))
        }
    }

    /// Whether the output of `config` exists.
    public static func exists(_ config: Config, cwd: String) -> Bool {
        FS.lstat(Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)) != nil
    }
}
