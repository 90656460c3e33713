import MkosiCore

/// What a running VM or container owns besides its main process: helper processes (virtiofsd,
/// swtpm, systemd-journal-remote) and files (the state file, drives, an ephemeral copy).
/// `teardown()` stops the processes first, newest first, then runs the cleanups in reverse
/// order; it runs once, also when starting fails half-way.
public final class Teardown {
    private var processes: [HostCommand.Background] = []
    private var cleanups: [() -> Void] = []
    private var done = false

    public init() {}

    public func own(_ process: HostCommand.Background) { processes.append(process) }

    public func onTeardown(_ cleanup: @escaping () -> Void) { cleanups.append(cleanup) }

    public func teardown() {
        guard !done else { return }
        done = true
        for p in processes.reversed() { p.stop() }
        for c in cleanups.reversed() { c() }
    }

    deinit { teardown() }
}
