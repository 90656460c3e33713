#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Runs host tools. Every call goes through here so that `--debug` logs the full command line
/// and a failure becomes one error naming the command and its exit status.
public enum HostCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `argv` (looked up in `$PATH` when it has no slash), with standard input from
    /// /dev/null and standard output captured; standard error is mkosi's, or goes where a
    /// build routes tool output (`ToolOutput.current`).
    ///
    /// - Throws: `MkosiError` with `.command(status:)` when the tool exits non-zero or is killed
    ///   by a signal (unless `check` is false), or when it cannot be started.
    @discardableResult
    public static func capture(_ argv: [String], workingDirectory: String? = nil, environment: [String: String]? = nil,
                               inputFile: String? = nil, display: [String]? = nil, check: Bool = true) throws -> Result {
        precondition(!argv.isEmpty)
        let line = (display ?? argv).map(ShellLexer.quote).joined(separator: " ")
        Log.announceStep()
        Log.debug("+ \(line)")
        Interrupt.install()
        try Interrupt.check()
        let original = argv
        // posix_spawn has no portable chdir action here, so a shell changes directory first.
        let argv = workingDirectory.map { ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", $0] + argv }
            ?? debugWrapped(argv)

        var pipeFds: [Int32] = [0, 0]
        guard pipe(&pipeFds) == 0 else { throw FS.systemError("pipe") }
        // Standard error goes through mkosi too when the build routes tool output (ToolOutput).
        let mode = ToolOutput.current
        var errorFds: [Int32] = [-1, -1]
        if mode.isRouted && pipe(&errorFds) != 0 {
            close(pipeFds[0])
            close(pipeFds[1])
            throw FS.systemError("pipe")
        }
        for fd in pipeFds + errorFds where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputFile ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1)
        if errorFds[1] >= 0 { posix_spawn_file_actions_adddup2(&actions, errorFds[1], 2) }

        let (rc, pid) = spawn(argv, actions: &actions, environment: environment)
        close(pipeFds[1])
        if errorFds[1] >= 0 { close(errorFds[1]) }
        defer {
            close(pipeFds[0])
            if errorFds[0] >= 0 { close(errorFds[0]) }
        }
        guard rc == 0 else {
            throw MkosiError(.command(status: 127),
                             "Failed to run \(line): \(String(cString: strerror(rc)))",
                             hint: "Is \(argv[0]) installed?", cause: .command(display ?? original, status: 127))
        }

        mkosi_set_child(pid)
        defer { mkosi_set_child(0) }
        var output: [UInt8] = []
        var router = ToolOutput.Router(mode)
        ToolOutput.pump(errorFds[0] >= 0 ? [pipeFds[0], errorFds[0]] : [pipeFds[0]]) { index, bytes in
            if index == 0 { output.append(contentsOf: bytes) } else { router.take(bytes) }
        }

        let status = waitForChild(pid)
        router.finish(failed: check && Interrupt.pending == nil && status != 0)
        try Interrupt.check()
        if check { try debugShell(after: status, original, environment: environment, line: line) }
        let code = try exitCode(status, line: line, shown: display ?? original, check: check)
        return Result(status: code, output: String(decoding: output, as: UTF8.self))
    }

    /// Runs `argv` with standard input inherited, optionally with `environment` replacing the
    /// process environment. Its standard output and error are mkosi's, unless a build routes
    /// them (`ToolOutput.current`): then both come to mkosi's standard error, without progress
    /// redraws, as they come (`shown`) or only if the tool fails (`onFailure`).
    ///
    /// While it runs, SIGINT/SIGTERM/SIGHUP are forwarded to it and recorded; if one arrived,
    /// `Interrupted` is thrown afterwards so callers unwind and clean up.
    ///
    /// - Parameter display: the command line to name in errors (defaults to `argv`).
    /// - Throws: `MkosiError` `.command(status:)` naming the command and its status.
    @discardableResult
    /// - Parameter started: called with the child's pid once it runs (to register it somewhere);
    ///   when it throws, the child is terminated and the error is thrown.
    public static func run(_ argv: [String], environment: [String: String]? = nil, display: [String]? = nil,
                           check: Bool = true, started: ((pid_t) throws -> Void)? = nil) throws -> Int32 {
        precondition(!argv.isEmpty)
        let line = (display ?? argv).map(ShellLexer.quote).joined(separator: " ")
        Log.announceStep()
        Log.debug("+ \(line)")
        Interrupt.install()
        try Interrupt.check()

        // In a build, the tool's standard output and error both come to mkosi (ToolOutput).
        let mode = ToolOutput.current
        var pipeFds: [Int32] = [-1, -1]
        let (rc, pid): (Int32, pid_t)
        if mode.isRouted {
            guard pipe(&pipeFds) == 0 else { throw FS.systemError("pipe") }
            for fd in pipeFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2)
            (rc, pid) = spawn(debugWrapped(argv), actions: &actions, environment: environment)
            close(pipeFds[1])
        } else {
            (rc, pid) = spawn(debugWrapped(argv), actions: nil, environment: environment)
        }
        defer { if pipeFds[0] >= 0 { close(pipeFds[0]) } }
        guard rc == 0 else {
            throw MkosiError(.command(status: 127), "Failed to run \(line): \(String(cString: strerror(rc)))",
                             hint: "Is \(argv[0]) installed?", cause: .command(display ?? argv, status: 127))
        }
        mkosi_set_child(pid)
        if let started {
            do {
                try started(pid)
            } catch {
                kill(pid, SIGTERM)
                _ = waitForChild(pid)
                mkosi_set_child(0)
                throw error
            }
        }
        var router = ToolOutput.Router(mode)
        if pipeFds[0] >= 0 { ToolOutput.pump([pipeFds[0]]) { _, bytes in router.take(bytes) } }
        let status = waitForChild(pid)
        mkosi_set_child(0)
        router.finish(failed: check && Interrupt.pending == nil && status != 0)
        try Interrupt.check()
        if check { try debugShell(after: status, argv, environment: environment, line: line) }
        return try exitCode(status, line: line, shown: display ?? argv, check: check)
    }

    /// A process running beside the foreground one (virtiofsd next to qemu, …). It must be
    /// stopped with `stop()`; the sandbox helper also gives it a parent-death signal.
    public struct Background: Sendable {
        public let pid: pid_t
        let line: String

        /// Sends SIGTERM, waits up to 5 s, then SIGKILL.
        public func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<100 {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno != EINTR) { return }
                usleep(50_000)
            }
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }

        /// Whether it has exited (then it is reaped).
        public func hasExited() -> Bool { exitStatus() != nil }

        /// Its exit status (128 + the signal when killed) once it has exited, reaping it; nil
        /// while it runs. Asked once: a reaped process has no status left to give.
        public func exitStatus() -> Int32? {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
            return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    /// Starts `argv` in the background with inherited standard streams.
    public static func start(_ argv: [String], environment: [String: String]? = nil, display: [String]? = nil) throws -> Background {
        let line = (display ?? argv).map(ShellLexer.quote).joined(separator: " ")
        Log.debug("+ \(line) &")
        let (rc, pid) = spawn(debugWrapped(argv), actions: nil, environment: environment)
        guard rc == 0 else {
            throw MkosiError(.command(status: 127), "Failed to run \(line): \(String(cString: strerror(rc)))",
                             cause: .command(display ?? argv, status: 127))
        }
        return Background(pid: pid, line: line)
    }

    /// `posix_spawnp` of `argv` with default signal dispositions and an empty signal mask (mkosi
    /// itself blocks or catches signals its children must not inherit), and `environment`
    /// replacing the process environment when given. Returns posix_spawnp's result and the pid.
    static func spawn(_ argv: [String], actions: UnsafePointer<posix_spawn_file_actions_t>?,
                              environment: [String: String]?) -> (rc: Int32, pid: pid_t) {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnv: [UnsafeMutablePointer<CChar>?]? = environment.map { env in
            env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { cEnv?.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = cArgs.withUnsafeBufferPointer { args -> Int32 in
            let argp = UnsafeMutablePointer(mutating: args.baseAddress!)
            guard let cEnv else { return posix_spawnp(&pid, argv[0], actions, &attributes, argp, environ) }
            return cEnv.withUnsafeBufferPointer { envp in
                posix_spawnp(&pid, argv[0], actions, &attributes, argp, UnsafeMutablePointer(mutating: envp.baseAddress!))
            }
        }
        return (rc, pid)
    }

    /// `argv` under strace when it runs the sandbox helper and `--debug-sandbox` is on.
    static func debugWrapped(_ argv: [String]) -> [String] {
        Debugging.sandbox && SandboxCommandLine.split(argv) != nil ? Debugging.strace + argv : argv
    }

    /// `--debug-shell`: after the sandboxed command `argv` failed (`status` from `waitpid`),
    /// a shell runs in a sandbox made as the command's was (same mounts, working directory and
    /// environment), with mkosi's standard input, output and error, as upstream opens bash where
    /// a command failed. On a terminal it is interactive; otherwise it reads commands from
    /// standard input until its end. Ctrl-C belongs to the shell while it runs; mkosi goes on
    /// (and reports the failure) when the shell exits. Nothing happens for a command that
    /// succeeded, was interrupted, or does not run in a sandbox.
    static func debugShell(after status: Int32, _ argv: [String], environment: [String: String]?, line: String) throws {
        guard Debugging.shell, status != 0, let parts = SandboxCommandLine.split(argv) else { return }
        let shell = parts.sandbox + Debugging.shellCommand
        Log.info("--debug-shell: \(line) failed; opening a shell in its sandbox (exit it to go on)")
        mkosi_ignore_interrupt(1)
        defer { mkosi_ignore_interrupt(0) }
        let (rc, pid) = spawn(debugWrapped(shell), actions: nil, environment: environment)
        guard rc == 0 else {
            Log.warning("--debug-shell: could not start the shell: \(String(cString: strerror(rc)))")
            return
        }
        mkosi_set_child(pid)
        _ = waitForChild(pid)
        mkosi_set_child(0)
        try Interrupt.check()
    }

    /// The exit code of a `waitpid` status (128 + signal when killed by one).
    ///
    /// - Throws: `MkosiError` `.command(status:)` naming `line` and the status, when `check`
    ///   is set and the code is not 0.
    private static func exitCode(_ status: Int32, line: String, shown: [String], check: Bool) throws -> Int32 {
        let exited = status & 0x7f == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if check && code != 0 {
            let how = exited ? "exit status \(code)" : "signal \(status & 0x7f)"
            throw MkosiError(.command(status: code), "\"\(line)\" failed with \(how)", cause: .command(shown, status: code))
        }
        return code
    }
}

/// Waits for `pid`. Once mkosi is interrupted (the signal has been forwarded to the child), the
/// child gets 5 s to exit, then SIGTERM again (which makes systemd-nspawn stop its container at
/// once), then another 5 s, then SIGKILL: nothing outlives mkosi.
func waitForChild(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, 0)
        if r == pid { return status }
        if r < 0 && errno != EINTR { return status }
        if mkosi_interrupted() != 0 { break }
    }
    var waited = 0
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid || (r < 0 && errno != EINTR) { return status }
        usleep(50_000)
        waited += 50
        if waited == 5000 { kill(pid, SIGTERM) }
        if waited == 10000 { kill(pid, SIGKILL) }
    }
}

/// Ctrl-C and SIGTERM: recorded (and forwarded to the running child) instead of killing mkosi
/// on the spot, so that mounts, temporary directories and partial outputs are cleaned up.
public enum Interrupt {
    public static func install() { mkosi_install_interrupt_handlers() }

    /// The signal that interrupted mkosi, if one arrived.
    public static var pending: Int32? {
        let sig = mkosi_interrupted()
        return sig == 0 ? nil : sig
    }

    /// Throws `.interrupted` if a signal arrived.
    public static func check() throws {
        let sig = mkosi_interrupted()
        if sig != 0 { throw error(sig) }
    }

    /// The error reporting an interruption by `sig`.
    public static func error(_ sig: Int32) -> MkosiError {
        MkosiError(.interrupted(signal: sig), "Interrupted by \(name(sig))")
    }

    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(sig)"
        }
    }
}
