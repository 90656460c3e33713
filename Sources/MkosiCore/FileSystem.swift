#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Thin wrappers around the file system calls mkosi needs: errno becomes a `MkosiError` naming
/// the path, EINTR is retried. Paths are plain strings.
public enum FS {
    public struct Status: Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var mode: UInt32
        public var size: Int64
        public var mtimeNanoseconds: Int64

        public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        public var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
        public var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
        public var isSocket: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFSOCK) }
        public var isBlockDevice: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFBLK) }
        public var permissions: UInt32 { mode & 0o7777 }
    }

    /// `stat(2)`, following symlinks; nil if the path does not exist or cannot be reached.
    public static func stat(_ path: String) -> Status? {
        var st = Glibc.stat()
        guard systemStat(path, &st) == 0 else { return nil }
        return Status(st)
    }

    /// The owner (uid) of `path`, following symlinks; nil if it cannot be reached.
    public static func ownerID(_ path: String) -> UInt32? {
        var st = Glibc.stat()
        guard systemStat(path, &st) == 0 else { return nil }
        return st.st_uid
    }

    /// `lstat(2)`; nil if the path does not exist.
    public static func lstat(_ path: String) -> Status? {
        var st = Glibc.stat()
        guard Glibc.lstat(path, &st) == 0 else { return nil }
        return Status(st)
    }

    public static func exists(_ path: String) -> Bool { stat(path) != nil }
    public static func isDirectory(_ path: String) -> Bool { stat(path)?.isDirectory ?? false }
    public static func isFile(_ path: String) -> Bool { stat(path)?.isRegular ?? false }
    public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    public static func readlink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The whole file as bytes.
    public static func readBytes(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("Cannot open \(path)") }
        defer { close(fd) }
        var st = Glibc.stat()
        let hint = fstat(fd, &st) == 0 && st.st_size > 0 ? Int(st.st_size) : 4096
        var result = [UInt8](unsafeUninitializedCapacity: hint + 1) { _, count in count = 0 }
        var chunk = 0
        while true {
            if result.count == result.capacity { result.reserveCapacity(result.capacity * 2) }
            let room = result.capacity - result.count
            let old = result.count
            result.append(contentsOf: repeatElement(0, count: room))
            chunk = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, room) }
            if chunk < 0 {
                result.removeLast(room)
                if errno == EINTR { continue }
                throw systemError("Cannot read \(path)")
            }
            result.removeLast(room - chunk)
            if chunk == 0 { break }
        }
        return result
    }

    /// The whole file decoded as UTF-8 (invalid sequences are replaced).
    public static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Entry names of a directory, without `.` and `..`, unsorted.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw systemError("Cannot open directory \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "/" }
        defer { free(p) }
        return String(cString: p)
    }

    /// Creates `path` and its missing parents.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        let parent = Path.dirname(path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw systemError("Cannot create directory \(path)")
        }
    }

    /// Writes `contents` to `path` through a temporary file and a rename, so readers never see a
    /// partial file.
    public static func writeAtomically(_ path: String, _ contents: String, mode: mode_t = 0o644) throws {
        try writeAtomically(path, Array(contents.utf8), mode: mode)
    }

    /// `writeAtomically` for bytes.
    public static func writeAtomically(_ path: String, _ contents: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw systemError("Cannot create \(tmp)") }
        var ok = true
        contents.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            var left = buf.count
            while left > 0, let q = p {
                let n = write(fd, q, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                p = q + n
                left -= n
            }
        }
        let saved = errno
        close(fd)
        guard ok else {
            unlink(tmp)
            errno = saved
            throw systemError("Cannot write \(path)")
        }
        guard rename(tmp, path) == 0 else {
            let e = systemError("Cannot rename \(tmp) to \(path)")
            unlink(tmp)
            throw e
        }
    }

    /// Writes `text` into the existing file `path` with one write(2), without truncating or
    /// replacing it: for the kernel's control files in /proc and /sys.
    public static func writeInPlace(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("Cannot open \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw systemError("Cannot write '\(text)' to \(path)") }
    }

    /// Removes a file or a whole tree; missing paths are fine. Directories without write or
    /// search permission (images contain some) are opened up first. A directory something wrote
    /// into while it was being emptied is emptied once more. Returns whether `path` is gone.
    @discardableResult
    public static func removeTree(_ path: String) -> Bool {
        guard let st = lstat(path) else { return true }
        guard st.isDirectory else { return unlink(path) == 0 || errno == ENOENT }
        if st.permissions & 0o700 != 0o700 { chmod(path, mode_t(st.permissions | 0o700)) }
        for _ in 0..<2 {
            for name in (try? listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
            if rmdir(path) == 0 || errno == ENOENT { return true }
            if errno != ENOTEMPTY && errno != EEXIST { return false }
        }
        return false
    }

    /// Creates a new directory `<base>/<prefix>-XXXXXX` (mode 0700; `base` is created first)
    /// and returns its path.
    public static func makeTemporaryDirectory(in base: String, prefix: String) throws -> String {
        try makeDirectories(base)
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw systemError("Cannot create a directory in \(base)") }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Bytes available to unprivileged users on the file system holding `path` (nil if it
    /// cannot be determined).
    public static func availableBytes(_ path: String) -> UInt64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return UInt64(st.f_bavail) * UInt64(st.f_frsize)
    }

    /// Whether `path` lies on a tmpfs (or ramfs): false when it does not, or when that cannot be
    /// determined.
    public static func isOnTmpfs(_ path: String) -> Bool { mkosi_is_on_tmpfs(path) == 1 }

    /// Whether `path` lies on btrfs: false when it does not, or when that cannot be determined.
    public static func isOnBtrfs(_ path: String) -> Bool { mkosi_is_on_btrfs(path) == 1 }

    /// Whether `path` is a btrfs subvolume (a directory on btrfs with inode 256, which every
    /// subvolume's top directory has).
    public static func isSubvolume(_ path: String) -> Bool {
        guard let st = lstat(path), st.isDirectory, st.inode == 256 else { return false }
        return isOnBtrfs(path)
    }

    /// Creates the btrfs subvolume `path` (absolute). Throws with errno (`ENOTTY` off btrfs).
    public static func createSubvolume(_ path: String) throws {
        guard mkosi_btrfs_subvolume_create(path) == 0 else { throw systemError("Cannot create the btrfs subvolume \(path)") }
    }

    /// Snapshots the btrfs subvolume `source` as `target` (absolute, not existing, same file
    /// system). Throws with errno.
    public static func snapshotSubvolume(_ source: String, to target: String) throws {
        guard mkosi_btrfs_subvolume_snapshot(source, target) == 0 else {
            throw systemError("Cannot snapshot the btrfs subvolume \(source) as \(target)")
        }
    }

    /// A `MkosiError` for the current errno.
    public static func systemError(_ what: String) -> MkosiError {
        let code = errno
        return MkosiError(.system(errno: code), "\(what): \(String(cString: strerror(code)))", cause: .system(what, errno: code))
    }
}

private func systemStat(_ path: String, _ buffer: UnsafeMutablePointer<stat>) -> Int32 {
    stat(path, buffer)
}

extension FS.Status {
    init(_ st: Glibc.stat) {
        self.init(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), mode: UInt32(st.st_mode),
            size: Int64(st.st_size),
            mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}
