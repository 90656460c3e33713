import MkosiConfig
import MkosiCore

/// `--debug-shell` and `--debug-sandbox`: checked and switched on before the verb does any work.
enum DebugOptions {
    /// Turns the options on for every command mkosi runs in a sandbox (see `HostCommand`).
    ///
    /// - Throws: `MkosiError.config` naming `--debug-sandbox` when strace, which it runs the
    ///   sandbox under, is not on `$PATH` (upstream fails at the first command instead).
    static func apply(_ args: Args, path: String? = Env.get("PATH")) throws {
        if args.debugSandbox && findExecutable(Debugging.strace[0], path: path) == nil {
            throw MkosiError.config("--debug-sandbox needs strace, which is not installed (not found in $PATH)",
                                    hint: "install strace (apt install strace) or leave out --debug-sandbox")
        }
        Debugging.set(shell: args.debugShell, sandbox: args.debugSandbox)
    }

    /// The first executable `name` in the directories of `path`.
    static func findExecutable(_ name: String, path: String?) -> String? {
        for dir in (path ?? "/usr/bin:/bin").split(separator: ":") where !dir.isEmpty {
            let candidate = Path.join(String(dir), name)
            if FS.isExecutable(candidate) && !FS.isDirectory(candidate) { return candidate }
        }
        return nil
    }
}
