import Synchronization

/// The command line of the sandbox helper (`mkosi --internal-sandbox OPTIONS… -- COMMAND…`), as
/// far as code outside the helper needs to read it: `HostCommand` recognises a sandboxed command
/// to run it under strace (`--debug-sandbox`) or to open a shell in the same sandbox when it
/// fails (`--debug-shell`). The helper parses its options with the same table.
public enum SandboxCommandLine {
    /// The first argument of the helper's command line, after the program.
    public static let flag = "--internal-sandbox"

    /// Every option of the helper and how many values it takes.
    public static let arity: [String: Int] = [
        "--userns": 0, "--identity": 0, "--unshare-net": 0, "--unshare-ipc": 0, "--suppress-chown": 0,
        "--suppress-sync": 0, "--pack-fds": 0, "--debug": 0,
        "--tmpfs": 1, "--proc": 1, "--dev": 1, "--dir": 1, "--chdir": 1, "--unsetenv": 1,
        "--bind": 2, "--ro-bind": 2, "--bind-try": 2, "--ro-bind-try": 2, "--symlink": 2, "--setenv": 2, "--write": 2,
        "--overlay": 4,
    ]

    /// Splits a helper command line into the part that describes the sandbox (up to and
    /// including `--`) and the command; nil when `argv` is not one, or not one this table reads.
    public static func split(_ argv: [String]) -> (sandbox: [String], command: [String])? {
        guard argv.count > 2, argv[1] == flag else { return nil }
        var i = 2
        while i < argv.count {
            if argv[i] == "--" { return (Array(argv[...i]), Array(argv[(i + 1)...])) }
            guard let n = arity[argv[i]] else { return nil }
            i += 1 + n
        }
        return nil
    }
}

/// `--debug-shell` and `--debug-sandbox`, set once by the entry point before any work; read by
/// `HostCommand` for every sandboxed command.
public enum Debugging {
    private struct State {
        var shell = false
        var sandbox = false
    }
    private static let state = Mutex(State())

    /// Whether a failed sandboxed command opens a shell in its sandbox (`--debug-shell`).
    public static var shell: Bool { state.withLock { $0.shell } }
    /// Whether the sandbox helper runs under strace until it executes the command (`--debug-sandbox`).
    public static var sandbox: Bool { state.withLock { $0.sandbox } }

    public static func set(shell: Bool, sandbox: Bool) {
        state.withLock {
            $0.shell = shell
            $0.sandbox = sandbox
        }
    }

    /// What runs the helper under `--debug-sandbox`, as upstream runs mkosi-sandbox: the trace
    /// stops where the helper executes the command, so it shows the sandbox's set-up only.
    /// strace is the helper's grandchild (`--daemonize`), so mkosi still waits for the helper
    /// itself and sees the command's exit status (upstream's strace is the parent, and exits 0
    /// once it has detached, while the command still runs).
    public static let strace = ["strace", "--daemonize", "--detach-on=execve", "--string-limit=256"]

    /// The shell `--debug-shell` opens: bash, as upstream, or sh where the sandbox has no bash.
    public static let shellCommand = ["sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh"]
}
