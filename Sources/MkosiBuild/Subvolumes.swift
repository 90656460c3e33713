#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `UseSubvolumes=`, as upstream's `make_tree` and `copy_tree`: on btrfs the image root is a
/// subvolume (so a `Format=directory` output, the root moved into place, is one too) and a tree
/// copied from a subvolume (the incremental cache, saved and restored) is a snapshot of it.
/// `auto` falls back to a plain directory and `cp --reflink=auto` (reflinks where the file
/// system has them); `yes` fails instead; `no` never makes subvolumes.
enum Subvolumes {
    /// Creates the empty tree `path` (absolute; its parent exists).
    ///
    /// - Throws: `MkosiError` with `UseSubvolumes=yes` off btrfs or when btrfs refuses.
    static func makeTree(_ path: String, _ use: ConfigFeature) throws {
        guard FS.isOnBtrfs(Path.dirname(path)) else {
            if use == .enabled {
                throw MkosiError.config("UseSubvolumes=yes, but \(path) is not on a btrfs file system",
                                        hint: "Put WorkspaceDirectory= on btrfs, or use UseSubvolumes=auto")
            }
            return try FS.makeDirectories(path)
        }
        if use != .disabled {
            do {
                return try FS.createSubvolume(path)
            } catch {
                if use == .enabled { throw error }
                Log.debug("Cannot create the subvolume \(path), using a directory: \(error)")
            }
        }
        try FS.makeDirectories(path)
    }

    /// Copies the tree `source` to `target` (absolute; missing or an empty directory): a
    /// snapshot when `source` is a subvolume and `target` on btrfs, else `cp -a --reflink=auto`.
    ///
    /// - Throws: `MkosiError` when copying fails, or with `UseSubvolumes=yes` when the snapshot does.
    static func copyTree(_ source: String, to target: String, _ use: ConfigFeature) throws {
        let empty = ((try? FS.listDirectory(target)) ?? []).isEmpty
        if use != .disabled, empty, FS.isSubvolume(source), FS.isOnBtrfs(Path.dirname(target)) {
            // btrfs snapshots into a new name only.
            if FS.exists(target) && rmdir(target) != 0 { throw FS.systemError("Cannot replace \(target) with a snapshot") }
            do {
                return try FS.snapshotSubvolume(source, to: target)
            } catch {
                if use == .enabled { throw error }
                Log.debug("Cannot snapshot \(source) as \(target), copying: \(error)")
            }
        }
        try FS.makeDirectories(target)
        try HostCommand.run(["cp", "-a", "--reflink=auto", "--no-target-directory", source, target])
    }
}
