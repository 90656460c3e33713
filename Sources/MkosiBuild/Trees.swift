#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// Copies trees (`SkeletonTrees=`, `ExtraTrees=`) into the image as upstream's `install_tree`
/// does: a directory is merged into the target (modes, times, links and extended attributes;
/// owned by root in the image), and so is any file given a target (`SRC:DST` copies the file to
/// DST); without a target a tarball is extracted, a `.raw` disk image is copied out with
/// `systemd-dissect --copy-from` (root only), and any other file lands at the image's root under
/// its own name. `SandboxTrees=` are installed the same way into the sandbox tree.
public enum TreeCopy {
    /// Installs `trees` into the image, or into `destination` (a directory) when given.
    public static func install(_ trees: [ConfigTree], into context: BuildContext, destination: String? = nil) throws {
        for tree in trees {
            guard FS.exists(tree.source) else {
                throw MkosiError.config("\(tree.source) does not exist", hint: "ExtraTrees=/SkeletonTrees= sources must exist")
            }
            let target = "/buildroot" + (tree.target.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "")
            var s: Sandbox
            if let destination {
                s = context.bareToolsSandbox()
                s.bind(destination, "/buildroot")
            } else {
                s = context.toolsSandbox()
            }
            s.bind(tree.source, "/work/tree", readOnly: true)
            let argv: [String]
            let name = Path.basename(tree.source)
            if FS.isDirectory(tree.source) {
                argv = ["sh", "-e", "-c", "mkdir -p \"$1\" && cp -r --no-dereference --preserve=mode,timestamps,links,xattr "
                        + "--reflink=auto --no-target-directory /work/tree \"$1\"", "sh", target]
            } else if tree.target != nil {
                argv = ["sh", "-e", "-c", "mkdir -p \"$(dirname \"$1\")\" && cp --preserve=mode,timestamps,xattr "
                        + "--reflink=auto --no-target-directory /work/tree \"$1\"", "sh", target]
            } else if isTarball(name) {
                argv = ["sh", "-e", "-c", "mkdir -p \"$1\" && tar -x --keep-directory-symlink -C \"$1\" -f /work/tree", "sh", target]
            } else if name.hasSuffix(".raw") {
                guard Privileges.isHostRoot else {
                    throw MkosiError(.hostUnsupported, "\(tree.source) is a disk image, which needs root to be read",
                                     hint: "Give it a target (SRC:DST) to copy the file itself, or build as root")
                }
                try HostCommand.run(["systemd-dissect", "--copy-from", tree.source, "/", destination ?? context.root])
                continue
            } else {
                argv = ["cp", "--preserve=mode,timestamps,xattr", "--reflink=auto", "/work/tree", "/buildroot/\(name)"]
            }
            try context.run(argv, in: s)
        }
    }

    /// Whether upstream treats `name` as a tar archive (`.tar` among its last two suffixes).
    static func isTarball(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).dropFirst()
        return parts.suffix(2).contains("tar")
    }
}

/// `BaseTrees=`: images the new one starts from instead of a bootstrap. Directories are copied
/// as they are (owners included, reflinked where possible), tarballs extracted, and disk images
/// (`.raw`) copied out with `systemd-dissect --copy-from`. Their paths may name outputs of
/// images built earlier in the same run, so they are checked only now.
///
/// With `Overlay=yes` they are not copied: they become the lower layers the image is seen over
/// in every sandbox (`BuildContext.baseLayers`; tarballs and disk images are unpacked into the
/// workspace first), the root receives only what the build changes, and `removeDuplicates`
/// then drops from it whatever the base trees have already.
public enum BaseTrees {
    public static func install(into context: BuildContext) throws {
        for path in context.config[.baseTrees] {
            guard FS.exists(path) else {
                throw MkosiError.config("Base tree \(path) does not exist",
                                        hint: "BaseTrees= names a directory, a tarball or a .raw image (built before this image)")
            }
            if context.config[.overlay] {
                try FS.makeDirectories(context.workspace + "/base-overlay-work")
                context.baseLayers.append(try layer(path, context: context))
                continue
            }
            if FS.isDirectory(path) {
                var s = context.toolsSandbox()
                s.bind(path, "/work/base", readOnly: true)
                try context.run(["cp", "-a", "--reflink=auto", "--no-target-directory", "/work/base", "/buildroot"], in: s)
            } else if path.hasSuffix(".raw") {
                guard Privileges.isHostRoot else {
                    throw MkosiError(.hostUnsupported, "Base tree \(path) is a disk image, which needs root to be read",
                                     hint: "Use a directory or tarball base tree, or build as root")
                }
                try HostCommand.run(["systemd-dissect", "--copy-from", path, "/", context.root])
            } else {
                var s = context.toolsSandbox()
                s.bind(path, "/work/base.tar", readOnly: true)
                try context.run(["tar", "-x", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-owner",
                                 "--keep-directory-symlink", "-C", "/buildroot", "-f", "/work/base.tar"], in: s)
            }
        }
    }
}

extension BaseTrees {
    /// The directory `path` contributes as a lower layer: itself, or its contents unpacked into
    /// the workspace (a tarball extracted, a disk image copied out, so that nothing stays mounted).
    static func layer(_ path: String, context: BuildContext) throws -> String {
        if FS.isDirectory(path) { return path }
        let directory = context.workspace + "/bases/\(context.baseLayers.count)-" + Path.basename(path)
        try FS.makeDirectories(directory)
        if path.hasSuffix(".raw") {
            guard Privileges.isHostRoot else {
                throw MkosiError(.hostUnsupported, "Base tree \(path) is a disk image, which needs root to be read",
                                 hint: "Use a directory or tarball base tree, or build as root")
            }
            try HostCommand.run(["systemd-dissect", "--copy-from", path, "/", directory])
        } else if TreeCopy.isTarball(Path.basename(path)) {
            var s = context.bareToolsSandbox()
            s.bind(path, "/work/base.tar", readOnly: true)
            s.bind(directory, "/work/base")
            try context.run(["tar", "-x", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-owner",
                             "-C", "/work/base", "-f", "/work/base.tar"], in: s)
        } else {
            throw MkosiError.config("Unsupported base tree source \(path)",
                                    hint: "BaseTrees= names a directory, a tarball or a .raw image")
        }
        return directory
    }

    /// Ends `Overlay=yes`: every entry of the root that the base trees have too is removed (a
    /// file, link or whiteout, whatever its content, as upstream), and directories the base
    /// trees have take their mode and times from there; a directory that is none in the base
    /// trees is an error. Only `/usr` and `/opt` are compared for sysext images and only `/etc`
    /// for confext images. From here on the build sees the root alone.
    static func removeDuplicates(_ context: BuildContext) throws {
        let layers = context.baseLayers
        guard !layers.isEmpty else { return }
        context.baseLayers = []
        let scope: [String]? = switch context.config.format {
        case .sysext: ["usr", "opt"]
        case .confext: ["etc"]
        default: nil
        }
        func inBase(_ relative: String) -> (path: String, status: FS.Status)? {
            for layer in layers {
                let p = Path.join(layer, relative)
                if let st = FS.lstat(p) { return (p, st) }
            }
            return nil
        }
        func walk(_ relative: String) throws {
            let path = context.root + "/" + relative
            guard let st = FS.lstat(path) else { return }
            let top = String(relative.split(separator: "/").first ?? "")
            let compared = scope.map { $0.contains(top) } ?? true
            if compared, let base = inBase(relative) {
                if st.isDirectory {
                    guard base.status.isDirectory else {
                        throw MkosiError(.invalidData, "/\(relative) is a directory in the overlay but not in the base tree")
                    }
                    try copyModeAndTimes(from: base.path, to: path)
                } else {
                    Log.debug("Removing duplicate path /\(relative) from overlay")
                    guard unlink(path) == 0 else { throw FS.systemError("Cannot remove \(path)") }
                    return
                }
            }
            if st.isDirectory {
                for name in try FS.listDirectory(path).sorted() { try walk(relative.isEmpty ? name : relative + "/" + name) }
            }
        }
        for name in try FS.listDirectory(context.root).sorted() { try walk(name) }
    }

    /// `shutil.copystat` for directories: permission bits and access/modification times.
    static func copyModeAndTimes(from source: String, to target: String) throws {
        var st = stat()
        guard Glibc.lstat(source, &st) == 0 else { throw FS.systemError("Cannot read \(source)") }
        var times = [st.st_atim, st.st_mtim]
        guard chmod(target, st.st_mode & 0o7777) == 0, utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw FS.systemError("Cannot copy the mode and times of \(source) to \(target)")
        }
    }
}
