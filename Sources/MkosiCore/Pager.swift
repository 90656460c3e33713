#if canImport(Glibc)
import Glibc
#endif

/// Long output (`summary`, `cat-config`, `--help`, the Markdown manual) shown through a pager,
/// as upstream pages it (Python's pydoc pager with `$LESS` set by mkosi): only when standard
/// input and output are both terminals and `--no-pager` was not given; `$MANPAGER` or `$PAGER`
/// when set, else `less` (then `more`) when installed, else printed as it is. The pager runs
/// with `LESS` set to `$MKOSI_LESS`, or to upstream's `FXMKR` when that is unset.
public enum Pager {
    /// What to do with the text.
    public enum Plan: Equatable, Sendable {
        /// Write it to standard output.
        case print
        /// Feed it to `argv` on standard input, with `environment` added to mkosi's own.
        case pipe(argv: [String], environment: [String: String])
    }

    /// Upstream's `$LESS` when `$MKOSI_LESS` is unset: quit if the text fits on one screen (F),
    /// leave it on the screen (X), a verbose prompt (M), quit on Ctrl-C (K), pass colours (R).
    public static let defaultLess = "FXMKR"

    /// The decision, from the facts it depends on (pure, for tests).
    ///
    /// - Parameters:
    ///   - enabled: false with `--no-pager`.
    ///   - environment: mkosi's environment (`MKOSI_LESS`, `MANPAGER`, `PAGER`, `TERM`).
    ///   - find: the path of an installed program, or nil.
    public static func plan(enabled: Bool, stdinIsTerminal: Bool, stdoutIsTerminal: Bool,
                            environment: [String: String], find: (String) -> String?) -> Plan {
        guard enabled, stdinIsTerminal, stdoutIsTerminal else { return .print }
        let less = ["LESS": environment["MKOSI_LESS"] ?? defaultLess]
        let chosen = [environment["MANPAGER"], environment["PAGER"]].compactMap { $0 }.first { !$0.isEmpty }
        if let chosen { return .pipe(argv: ["/bin/sh", "-c", chosen], environment: less) }
        if let term = environment["TERM"], term == "dumb" || term == "emacs" { return .print }
        if let path = find("less") ?? find("more") { return .pipe(argv: [path], environment: less) }
        return .print
    }

    /// Shows `text` as `plan` decides for this process; a pager that cannot be started means
    /// the text is printed instead.
    public static func page(_ text: String, enabled: Bool) {
        var environment: [String: String] = [:]
        for (key, value) in Env.all() { environment[key] = value }
        let decision = plan(enabled: enabled, stdinIsTerminal: isatty(0) != 0, stdoutIsTerminal: isatty(1) != 0,
                            environment: environment, find: { find($0, path: environment["PATH"]) })
        guard case .pipe(let argv, let extra) = decision else {
            Terminal.writeStdout(text)
            return
        }
        Log.debug("+ \(argv.map(ShellLexer.quote).joined(separator: " ")) (pager, LESS=\(extra["LESS"] ?? ""))")
        if !feed(text, to: argv, environment: environment.merging(extra) { _, new in new }) {
            Terminal.writeStdout(text)
        }
    }

    /// The first executable `name` in the colon-separated `path`.
    public static func find(_ name: String, path: String?) -> String? {
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if FS.isFile(candidate) && FS.isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// Runs `argv` with `text` on its standard input and waits for it. Ctrl-C belongs to the
    /// pager meanwhile, and a pager that quits early (closing the pipe) is no error. Returns
    /// false when it cannot be started.
    static func feed(_ text: String, to argv: [String], environment: [String: String]) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        let (rc, pid) = HostCommand.spawn(argv, actions: &actions, environment: environment)
        close(fds[0])
        guard rc == 0 else {
            close(fds[1])
            return false
        }
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        var oldInt = sigaction(), oldPipe = sigaction()
        sigaction(SIGINT, &ignore, &oldInt)
        sigaction(SIGPIPE, &ignore, &oldPipe)
        defer {
            sigaction(SIGINT, &oldInt, nil)
            sigaction(SIGPIPE, &oldPipe, nil)
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes = bytes.dropFirst(n)
        }
        close(fds[1])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return true
    }
}
