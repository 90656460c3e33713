#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import MkosiSandbox

/// `ForwardJournal=`: a systemd-journal-remote that receives what the guest's journald forwards
/// (`journal.forward_to_socket=`) and writes it to the configured file (a path ending in
/// `.journal`, one file) or directory (one file per host), with upstream's limits (MaxUse=1T,
/// KeepFree=1G, MaxFileSize=4G, MaxFiles=1 or 100).
///
/// It listens on the host's vsock for VMs, as upstream, and on a UNIX socket bound into the
/// container for `mkosi boot`.
public struct JournalRemote {
    public let process: HostCommand.Background

    static func binary(toolsTree: String?) -> String? {
        let path = "/usr/lib/systemd/systemd-journal-remote"
        return FS.isExecutable((toolsTree ?? "") + path) ? path : nil
    }

    /// Starts it listening at `listen` (an address `--listen-raw=` takes, as the sandbox sees
    /// it), and waits until `ready` says it listens. `temp` is seen as `/work/vm` inside the
    /// sandbox.
    public static func start(forwardJournal: String, listen: String, toolsTree: String?, temp: String, helper: String,
                      ready: () -> Bool) throws -> JournalRemote {
        guard let bin = binary(toolsTree: toolsTree) else {
            throw MkosiError(.failed, "systemd-journal-remote must be installed to forward logs (ForwardJournal=)",
                             hint: toolsTree == nil ? "Install systemd-journal-remote, or use ToolsTree=default" : "Add systemd-journal-remote to ToolsTreePackages=")
        }
        let single = forwardJournal.hasSuffix(".journal")
        let directory = single ? Path.dirname(forwardJournal) : forwardJournal
        try FS.makeDirectories(directory)
        try FS.writeAtomically(temp + "/journal-remote.conf",
                               "[Remote]\nMaxUse=1T\nKeepFree=1G\nMaxFileSize=4G\nMaxFiles=\(single ? 1 : 100)\n")
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(temp, "/work/vm")
        s.bind(directory, "/work/journal")
        s.bind(temp + "/journal-remote.conf", "/etc/systemd/journal-remote.conf", readOnly: true)
        let output = single ? "/work/journal/" + Path.basename(forwardJournal) : "/work/journal"
        let argv = [bin, "--output", output, "--split-mode", single ? "none" : "host", "--listen-raw=\(listen)"]
        let process = try SandboxRunner(helper: helper).start(argv, in: s,
                                            display: [bin, "--output", forwardJournal, "--split-mode", single ? "none" : "host", "--listen-raw=\(listen)"])
        var waited = 0
        while !ready() {
            if process.hasExited() || waited > 200 {
                process.stop()
                throw MkosiError(.failed, "systemd-journal-remote did not start listening at \(listen)")
            }
            usleep(25_000)
            waited += 1
        }
        return JournalRemote(process: process)
    }
}
