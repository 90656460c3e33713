#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox
import MkosiVM

/// `mkosi serve`: the output directory over HTTP on port 8081 (python's http.server from the
/// tools tree, as upstream) until interrupted. With `StorageTargetMode=` (auto: a disk image,
/// as root, where systemd-storagetm and the kernel's NVMe target are there) the disk is also
/// exported over NVMe-TCP by systemd-storagetm.
enum ServeCommand {
    static func run(_ runtime: RuntimeContext) throws -> Int32 {
        let main = runtime.config
        let directory = runtime.outputDirectory
        _ = try runtime.builtOutput()
        var s = try runtime.toolsSandbox()
        s.bind(directory, "/work/output", readOnly: true)
        s.workingDirectory = "/work/output"
        let tree = main.toolsTree ?? ""
        guard runtime.tool("/usr/bin/python3") != nil else {
            throw runtime.missingTool("python3, which 'mkosi serve' needs,", packages: "python3")
        }
        var storage: HostCommand.Background? = nil
        defer { storage?.stop() }
        if try wantStorageTarget(main, tree: tree) {
            var t = try runtime.toolsSandbox(devices: true)
            t.bind("/sys", "/sys")
            t.bind(directory, "/work/output")
            t.workingDirectory = "/work/output"
            let argv = ["/usr/lib/systemd/systemd-storagetm", main.outputWithCompression]
            storage = try runtime.runner.start(argv, in: t)
        }
        Log.info("Serving \(directory) on http://0.0.0.0:8081/ (Ctrl-C stops)")
        return try runtime.runInteractive(["python3", "-m", "http.server", "8081"], in: s)
    }

    /// `StorageTargetMode=`: yes requires a disk image and systemd-storagetm; auto uses it for a
    /// disk image as root when systemd-storagetm and the kernel's NVMe-TCP target are there.
    static func wantStorageTarget(_ config: Config, tree: String) throws -> Bool {
        let setting = config[.storageTargetMode]
        guard setting != .disabled else { return false }
        if setting == .auto && !Privileges.isHostRoot { return false }
        guard config.format == .disk else {
            if setting == .enabled { throw MkosiError.config("Storage target mode is only supported for the 'disk' output format") }
            return false
        }
        guard FS.isExecutable(tree + "/usr/lib/systemd/systemd-storagetm") else {
            if setting == .enabled { throw MkosiError.config("Storage target mode enabled but systemd-storagetm is not installed") }
            return false
        }
        // Without the NVMe target in the kernel systemd-storagetm can only fail.
        if setting == .auto && !FS.isDirectory("/sys/kernel/config/nvmet") && !FS.isDirectory("/sys/module/nvmet_tcp") {
            return false
        }
        return true
    }
}
