#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `mkosi init`: installs the built-in tmpfiles.d drop-in that ages out mkosi's package cache
/// into the invoking user's tmpfiles directory (`$XDG_CONFIG_HOME/user-tmpfiles.d`, or
/// /etc/tmpfiles.d when that would be / or /root), as upstream.
enum InitCommand {
    static func directory() -> String {
        let home = Env.get("HOME").flatMap { $0.isEmpty ? nil : $0 } ?? (Privileges.hostUID == 0 ? "/root" : "/")
        let config = Env.get("XDG_CONFIG_HOME").flatMap { $0.isEmpty ? nil : $0 } ?? Path.join(home, ".config")
        if config == "/" || config == "/root" { return "/etc/tmpfiles.d" }
        return Path.join(config, "user-tmpfiles.d")
    }

    static func run(resources: BuiltinResources) throws {
        let source = try resources.path(of: "tmpfiles.d")
        let target = directory()
        try FS.makeDirectories(target)
        for name in try FS.listDirectory(source).sorted() {
            try FS.writeAtomically(Path.join(target, name), try FS.readText(Path.join(source, name)))
        }
        Log.info("Copied mkosi tmpfiles dropins to \(target)")
    }
}
