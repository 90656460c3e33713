#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import MkosiSandbox

/// A helper process a machine needs while it runs (virtiofsd, swtpm, systemd-journal-remote):
/// started in a sandbox, waited for until it is ready, and owned by the machine's `Teardown`
/// from the moment it starts, so it is stopped with the machine, also when starting fails.
public enum HelperDaemon {
    /// How readiness shows.
    public enum Readiness {
        /// A file (a socket) appears at this host path.
        case path(String)
        /// Ready once started (it listens before it could be reached).
        case started
    }

    /// Starts `argv` in `sandbox` through `runner`, hands it to `owner`, and waits until
    /// `ready`, at most `timeout` seconds.
    ///
    /// - Throws: `.command` when it exits or is not ready in time, naming `display`.
    @discardableResult
    public static func start(runner: SandboxRunner, sandbox: Sandbox, argv: [String], display: [String]? = nil,
                             ready: Readiness, timeout: Double = 5, owner: Teardown) throws -> HostCommand.Background {
        let process = try runner.start(argv, in: sandbox, display: display ?? argv)
        owner.own(process)
        guard case .path(let path) = ready else { return process }
        let deadline = Double(monotonicMilliseconds()) + timeout * 1000
        while !FS.exists(path) {
            let shown = display ?? argv
            if let status = process.exitStatus() {
                throw MkosiError(.command(status: status), "\(shown[0]) exited with status \(status) before it was ready",
                                 cause: .command(shown, status: status))
            }
            if Double(monotonicMilliseconds()) > deadline {
                throw MkosiError(.command(status: 1), "\(shown[0]) was not ready after \(Int(timeout)) seconds (no \(path))")
            }
            usleep(20_000)
        }
        return process
    }

    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
