#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import MkosiSandbox

/// A software TPM 2.0 (swtpm) for one VM, as upstream: fresh state made by `swtpm_setup` (sha256
/// PCR bank) in the VM's temporary directory, then `swtpm socket` serving its control channel
/// on a UNIX socket that qemu's `tpm-emulator` backend connects to. The caller stops it with the
/// VM; the state goes with the temporary directory.
struct Swtpm {
    let process: HostCommand.Background
    /// The control socket, as qemu sees it (`/work/vm/…`).
    let socket: String

    /// Whether `tree` (or the host, when nil) has swtpm.
    static func available(toolsTree: String?) -> Bool {
        FS.isExecutable((toolsTree ?? "") + "/usr/bin/swtpm") && FS.isExecutable((toolsTree ?? "") + "/usr/bin/swtpm_setup")
    }

    /// Sets up the state under `temp` (seen as `/work/vm`) and starts swtpm.
    static func start(toolsTree: String?, temp: String, helper: String) throws -> Swtpm {
        guard available(toolsTree: toolsTree) else {
            throw MkosiError(.failed, "TPM=yes, but swtpm is not installed\(toolsTree.map { " in the tools tree \($0)" } ?? "")",
                             hint: toolsTree == nil ? "Install swtpm and swtpm-tools, or use ToolsTree=default" : "Add swtpm and swtpm-tools to ToolsTreePackages=")
        }
        try FS.makeDirectories(temp + "/swtpm", mode: 0o700)
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(temp, "/work/vm")
        let version = (try? SandboxRunner(helper: helper).capture(["swtpm_setup", "--version"], in: s, check: false).output) ?? ""
        var setup = ["swtpm_setup", "--tpm-state", "/work/vm/swtpm", "--tpm2", "--pcr-banks", "sha256", "--config", "/dev/null"]
        if let v = version.split(whereSeparator: { $0 == " " || $0 == "\n" }).last, Version.compare(String(v), "0.10.0") >= 0 {
            setup += ["--profile-name=custom", "--profile-remove-disabled=check"]
        }
        // swtpm_setup is chatty on standard output and has no --quiet.
        try SandboxRunner(helper: helper).capture(setup, in: s, display: setup)
        let socket = "/work/vm/swtpm.sock"
        let argv = ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=/work/vm/swtpm", "--ctrl", "type=unixio,path=\(socket)"]
        let process = try SandboxRunner(helper: helper).start(argv, in: s, display: argv)
        var waited = 0
        while !FS.exists(temp + "/swtpm.sock") {
            if process.hasExited() || waited > 200 {
                process.stop()
                throw MkosiError(.failed, "swtpm did not start (\(argv.joined(separator: " ")))")
            }
            usleep(25_000)
            waited += 1
        }
        return Swtpm(process: process, socket: socket)
    }

    /// qemu's arguments for this TPM on `architecture`'s usual bus.
    static func qemuArguments(socket: String, arm: Bool) -> [String] {
        ["-chardev", "socket,id=chrtpm,path=\(socket)", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
         "-device", arm ? "tpm-tis-device,tpmdev=tpm0" : "tpm-tis,tpmdev=tpm0"]
    }
}
