#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The built-in configurations (`mkosi-tools`, `mkosi-initrd`, `mkosi-vm`, `mkosi-addon`,
/// `mkosi-obs`) and other resources. They are compiled into the binary and written out, once
/// per content version, to a cache directory so that the configuration parser and later build
/// steps see them as ordinary files.
///
/// `$MKOSI_RESOURCES` points at a resources directory to use instead (for development).
public final class BuiltinResources: @unchecked Sendable {
    private var root: String?
    private let override: String?
    private let cacheBase: String?

    /// - Parameters:
    ///   - override: a resources directory to use as it is.
    ///   - cacheBase: where to write the resources (default `$XDG_CACHE_HOME` or `~/.cache`).
    public init(override: String? = Env.get("MKOSI_RESOURCES"), cacheBase: String? = nil) {
        self.override = override
        self.cacheBase = cacheBase
    }

    /// The directory of the built-in resource `name`.
    public func path(of name: String) throws -> String {
        Path.join(try directory(), name)
    }

    /// The resources directory, materialised on first use.
    public func directory() throws -> String {
        if let root { return root }
        if let override, !override.isEmpty {
            root = override
            return override
        }
        let base = cacheBase ?? Env.get("XDG_CACHE_HOME").flatMap { $0.isEmpty ? nil : $0 }
            ?? Env.get("HOME").map { Path.join($0, ".cache") } ?? "/var/tmp"
        let dir = Path.join(base, "mkosi-swift/resources-\(BuiltinResourceFiles.contentHash)")
        if !FS.isDirectory(dir) { try materialize(dir) }
        root = dir
        return dir
    }

    /// Writes every embedded file below a temporary directory, then renames it into place, so a
    /// concurrent or interrupted run never sees a partial tree.
    private func materialize(_ dir: String) throws {
        let parent = Path.dirname(dir)
        try FS.makeDirectories(parent)
        let tmp = "\(dir).tmp-\(getpid())"
        FS.removeTree(tmp)
        do {
            for file in BuiltinResourceFiles.files {
                let full = Path.join(tmp, file.path)
                try FS.makeDirectories(Path.dirname(full))
                try FS.writeAtomically(full, file.contents, mode: mode_t(file.mode))
                chmod(full, mode_t(file.mode))
            }
            if rename(tmp, dir) != 0 {
                let e = errno
                FS.removeTree(tmp)
                if !FS.isDirectory(dir) {
                    errno = e
                    throw FS.systemError("Cannot move built-in resources to \(dir)")
                }
            }
        } catch {
            FS.removeTree(tmp)
            throw error
        }
    }
}
