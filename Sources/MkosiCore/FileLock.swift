#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a file or directory, held until `release()` or until the object goes
/// away (the kernel drops it with the descriptor, also when mkosi dies), as upstream locks the
/// package cache and images that are booted.
public final class FileLock: @unchecked Sendable {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { release() }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// Takes the lock on `path` (which must exist), waiting for another holder to release it;
    /// `waiting` is logged once when it has to wait.
    ///
    /// - Throws: `MkosiError` when `path` cannot be opened, or `.interrupted` when a signal
    ///   arrives while waiting.
    public static func acquire(_ path: String, waiting: String) throws -> FileLock {
        Interrupt.install()
        let fd = try open(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
        Log.info(waiting)
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                close(fd)
                throw FS.systemError("Cannot lock \(path)")
            }
            if let sig = Interrupt.pending {
                close(fd)
                throw Interrupt.error(sig)
            }
        }
        return FileLock(fd: fd)
    }

    /// Takes the lock on `path` if nobody holds it; nil when another process does.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let fd = try open(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
        close(fd)
        return nil
    }

    private static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FS.systemError("Cannot open \(path) to lock it") }
        return fd
    }
}
