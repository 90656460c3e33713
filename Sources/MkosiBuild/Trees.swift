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
                guard getuid() == 0 else {
                    throw MkosiError(.failed, "\(tree.source) is a disk image, which needs root to be read",
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
public enum BaseTrees {
    public static func install(into context: BuildContext) throws {
        for path in context.config[.baseTrees] {
            guard FS.exists(path) else {
                throw MkosiError.config("Base tree \(path) does not exist",
                                        hint: "BaseTrees= names a directory, a tarball or a .raw image (built before this image)")
            }
            if FS.isDirectory(path) {
                var s = context.toolsSandbox()
                s.bind(path, "/work/base", readOnly: true)
                try context.run(["cp", "-a", "--reflink=auto", "--no-target-directory", "/work/base", "/buildroot"], in: s)
            } else if path.hasSuffix(".raw") {
                guard getuid() == 0 else {
                    throw MkosiError(.failed, "Base tree \(path) is a disk image, which needs root to be read",
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
