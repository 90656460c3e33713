#if canImport(Glibc)
import Glibc
#endif

/// A build's private directory (`mkosi-workspace-*`, `mkosi-packages-*`) that the next run can
/// reclaim when its owner was killed (`kill -9`, a power cut): the owner holds an exclusive
/// `flock` on the file `owner.lock` inside it for as long as the directory is in use.
///
/// A directory counts as ours only when it has that file under its final name. The file is
/// created under a temporary name, locked, and only then renamed into place, so that another
/// mkosi never sees an unlocked `owner.lock` of a live build. Upstream's workspaces (same prefix,
/// no lock file) and anything else are never touched.
public final class Workspace: @unchecked Sendable {
    /// The name of the lock file inside every workspace.
    public static let lockName = "owner.lock"
    /// The prefixes of the directories `reclaim` looks at.
    public static let prefixes = ["mkosi-workspace-", "mkosi-packages-"]

    public let path: String
    private var lock: FileLock?

    private init(path: String, lock: FileLock) {
        self.path = path
        self.lock = lock
    }

    /// Creates `<base>/<prefix>-XXXXXX` (mode 0700) and takes its lock.
    ///
    /// - Throws: `MkosiError` when the directory or its lock file cannot be made.
    public static func create(in base: String, prefix: String) throws -> Workspace {
        let path = try FS.makeTemporaryDirectory(in: base, prefix: prefix)
        do {
            let staged = Path.join(path, ".\(lockName).new")
            let fd = Glibc.open(staged, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FS.systemError("Cannot create \(staged)") }
            close(fd)
            guard let lock = try FileLock.tryAcquire(staged) else {
                throw MkosiError(.busy, "Cannot lock \(staged), which this process has just made")
            }
            guard rename(staged, Path.join(path, lockName)) == 0 else { throw FS.systemError("Cannot rename \(staged)") }
            return Workspace(path: path, lock: lock)
        } catch {
            FS.removeTree(path)
            throw error
        }
    }

    /// Removes the directory, the lock file last (so that a removal cut short is reclaimed by
    /// the next run), then releases the lock.
    public func remove() {
        guard let lock else { return }
        Workspace.removeContents(path)
        lock.release()
        self.lock = nil
    }

    /// Keeps the directory for good (`--debug-workspace`): its lock file is removed, so no later
    /// run reclaims it.
    public func keep() {
        guard let lock else { return }
        unlink(Path.join(path, Workspace.lockName))
        lock.release()
        self.lock = nil
    }

    deinit { lock?.release() }

    /// What `reclaim` did.
    public struct Reclaimed: Equatable, Sendable {
        /// The directories removed.
        public var removed: [String] = []
        /// The bytes they took on disk.
        public var bytes: UInt64 = 0
        /// Directories of dead builds left alone because something is mounted below them.
        public var mounted: [String] = []
    }

    /// Removes the workspaces in `base` whose owner is gone: ours (a known prefix and an
    /// `owner.lock`), whose lock nobody holds, and below which nothing is mounted (seen in
    /// `mountinfo`, this process's mount table; the removal never crosses into a mount either).
    /// A workspace whose lock is held (a live build) is left alone. Failures to remove are
    /// ignored: the next run tries again.
    public static func reclaim(in base: String, mountinfo: String? = nil) -> Reclaimed {
        var result = Reclaimed()
        guard let names = try? FS.listDirectory(base) else { return result }
        let table = mountinfo ?? ((try? FS.readText("/proc/self/mountinfo")) ?? "")
        let mountPoints = Workspace.mountPoints(table)
        for name in names.sorted() where prefixes.contains(where: { name.hasPrefix($0) }) {
            let path = Path.join(base, name)
            let lockPath = Path.join(path, lockName)
            guard let st = FS.lstat(path), st.isDirectory, FS.lstat(lockPath)?.isRegular == true,
                  let lock = try? FileLock.tryAcquire(lockPath) else { continue }
            defer { lock.release() }
            if mountPoints.contains(where: { $0 == path || $0.hasPrefix(path + "/") }) {
                result.mounted.append(path)
                continue
            }
            result.bytes += removeContents(path)
            if FS.lstat(path) == nil { result.removed.append(path) }
        }
        return result
    }

    /// The one line that says what `reclaim` did, nil when it did nothing.
    public static func summary(_ r: Reclaimed, in base: String) -> String? {
        var parts: [String] = []
        if !r.removed.isEmpty {
            let n = r.removed.count
            parts.append("Removed \(n) workspace\(n == 1 ? "" : "s") left by killed builds (\(humanSize(r.bytes))) in \(base)")
        }
        if !r.mounted.isEmpty {
            parts.append("Left \(r.mounted.joined(separator: ", ")) of a killed build in place: something is mounted below it")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// "180 MB", "4.2 GB", "12 kB" (decimal units).
    static func humanSize(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "kB")]
        for (size, unit) in units where bytes >= size {
            let tenths = (bytes * 10 + size / 2) / size
            return tenths >= 100 ? "\(tenths / 10) \(unit)" : "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return "\(bytes) B"
    }

    /// The mount points of a `mountinfo` table (field 5, octal escapes undone).
    static func mountPoints(_ table: String) -> [String] {
        table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            return unescape(String(fields[4]))
        }
    }

    static func unescape(_ s: String) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 3 < u.count,
               let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Removes everything in `path` without following symbolic links or crossing into another
    /// file system, then, once nothing else is left, the lock file and `path` itself (what could
    /// not be removed keeps the lock file, so a later run tries again); returns the bytes freed.
    @discardableResult
    static func removeContents(_ path: String) -> UInt64 {
        guard let top = FS.lstat(path), top.isDirectory else { return 0 }
        var freed: UInt64 = 0
        func remove(_ p: String, _ st: FS.Status) {
            if st.isDirectory {
                guard st.device == top.device else { return }
                if st.permissions & 0o700 != 0o700 { chmod(p, mode_t(st.permissions | 0o700)) }
                for name in (try? FS.listDirectory(p)) ?? [] where !(p == path && name == lockName) {
                    let child = p + "/" + name
                    if let cst = FS.lstat(child) { remove(child, cst) }
                }
                if p != path { rmdir(p) }
            } else if unlink(p) == 0, st.isRegular {
                freed += UInt64(max(0, st.size))
            }
        }
        remove(path, top)
        let left = (try? FS.listDirectory(path)) ?? []
        if left.allSatisfy({ $0 == lockName }) {
            unlink(Path.join(path, lockName))
            rmdir(path)
        }
        return freed
    }
}
