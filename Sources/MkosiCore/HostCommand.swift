#if canImport(Glibc)
import Glibc
#endif

/// Runs host tools. Every call goes through here so that `--debug` logs the full command line
/// and a failure becomes one error naming the command and its exit status.
public enum HostCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `argv` (looked up in `$PATH` when it has no slash), with standard input from
    /// /dev/null, standard error inherited, and standard output captured.
    ///
    /// - Throws: `MkosiError` with `.command(status:)` when the tool exits non-zero or is killed
    ///   by a signal (unless `check` is false), or when it cannot be started.
    @discardableResult
    public static func capture(_ argv: [String], workingDirectory: String? = nil, check: Bool = true) throws -> Result {
        precondition(!argv.isEmpty)
        let line = argv.map(ShellLexer.quote).joined(separator: " ")
        Log.debug("+ \(line)")
        // posix_spawn has no portable chdir action here, so a shell changes directory first.
        let argv = workingDirectory.map { ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", $0] + argv } ?? argv

        var pipeFds: [Int32] = [0, 0]
        guard pipe(&pipeFds) == 0 else { throw FS.systemError("pipe") }
        _ = fcntl(pipeFds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1)

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
        var pid: pid_t = 0
        let rc = cArgs.withUnsafeBufferPointer { buf in
            posix_spawnp(&pid, argv[0], &actions, &attributes,
                         UnsafeMutablePointer(mutating: buf.baseAddress!), environ)
        }
        close(pipeFds[1])
        guard rc == 0 else {
            close(pipeFds[0])
            throw MkosiError(.command(status: 127),
                             "Failed to run \(line): \(String(cString: strerror(rc)))",
                             hint: "Is \(argv[0]) installed?")
        }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(pipeFds[0], $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: chunk[0..<n])
        }
        close(pipeFds[0])

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if check && code != 0 {
            let how = exited ? "exit status \(code)" : "signal \(status & 0x7f)"
            throw MkosiError(.command(status: code), "\"\(line)\" failed with \(how)")
        }
        return Result(status: code, output: String(decoding: output, as: UTF8.self))
    }
}
