#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// One machine's launch: makes what the plan asks for, in order, each owned by `owned`.
final class Launcher {
    let runtime: RuntimeContext
    let machine: Machine
    let owned = Teardown()
    var launch: LaunchResources

    init(runtime: RuntimeContext, machine: Machine) throws {
        self.runtime = runtime
        self.machine = machine
        let prefix = machine.monitor == .nspawn ? "mkosi-nspawn" : machine.monitor == .vmspawn ? "mkosi-vmspawn" : "mkosi-vm"
        let temp = try FS.makeTemporaryDirectory(in: Env.get("TMPDIR") ?? "/var/tmp", prefix: prefix)
        owned.onTeardown {
            if !FS.removeTree(temp) {
                let left = ((try? FS.listDirectory(temp)) ?? []).sorted().joined(separator: " ")
                Log.warning("Could not remove the machine's temporary directory \(temp) (left: \(left.isEmpty ? "nothing readable" : left))")
            }
        }
        launch = LaunchResources(temp: temp, image: machine.image)
    }

    var config: Config { runtime.config }

    /// The tools' sandbox with the machine's temporary directory at `/work/vm`.
    func sandbox() throws -> Sandbox {
        var s = try runtime.toolsSandbox()
        s.bind(launch.temp, "/work/vm")
        return s
    }

    /// `Ephemeral=`: a reflinked copy, removed afterwards (also when copying fails half-way).
    func ephemeralCopy() throws {
        guard machine.ephemeral && machine.monitor == .qemu else { return }
        let copy = machine.image + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        owned.onTeardown { FS.removeTree(copy) }
        try HostCommand.run(["cp", "-a", "--reflink=auto", "--sparse=always", machine.image, copy])
        launch.image = copy
    }

    /// `RuntimeSize=`: the disk grown first (qemu; vmspawn grows it itself).
    func grow() throws {
        guard let size = machine.runtimeSize, machine.monitor == .qemu else { return }
        var s = try sandbox()
        s.bind(launch.image, "/work/image")
        try runtime.runner.run(["systemd-repart", "--definitions=/", "--no-pager", "--size=\(size)", "--pretty=no", "--offline=yes",
                                "/work/image"], in: s, display: ["systemd-repart", "--size=\(size)", launch.image])
    }

    /// The firmware's variables for this boot at `<temp>/ovmf-vars`, from `template` (a path in
    /// the tools): copied, a file of the user's, or with a certificate enrolled.
    func firmwareVariables(template: String) throws {
        let output = launch.temp + "/ovmf-vars"
        launch.variables = output
        switch machine.variables {
        case .template, .file:
            let source: String
            if case .file(let path) = machine.variables { source = path } else { source = (runtime.toolsTree ?? "") + template }
            try HostCommand.run(["cp", "--reflink=auto", source, output])
        case .enrol(let certificate, let mok):
            var s = try sandbox()
            s.bind((runtime.toolsTree ?? "") + template, "/work/vars.template", readOnly: true)
            s.bind(certificate, "/work/secure-boot.crt", readOnly: true)
            let enrol = mok ? ["--add-mok", "605dab50-e046-4300-abb6-3dd810dd8b23", "/work/secure-boot.crt"]
                : ["--enroll-cert", "/work/secure-boot.crt", "--add-db", "OvmfEnrollDefaultKeys", "/work/secure-boot.crt",
                   "--no-microsoft", "--secure-boot"]
            try runtime.runner.run(["virt-fw-vars", "--input", "/work/vars.template", "--output", "/work/vm/ovmf-vars"] + enrol
                                   + ["--loglevel", "WARNING"], in: s)
        }
    }

    /// `Drives=`: one file per group, created (sparse, rounded up to the page size) unless it
    /// persists from an earlier run; a non-persistent one is removed with the machine.
    func drives() throws {
        for group in machine.drives {
            let drive = group[0]
            let file = Launcher.driveFile(drive, machine: machine.name, unique: String(UInt64.random(in: 0...UInt64.max), radix: 16))
            try FS.makeDirectories(Path.dirname(file))
            if !drive.flags.contains(DriveFlag.persist.rawValue) { owned.onTeardown { unlink(file) } }
            let size = (drive.size + machine.pageSize - 1) / machine.pageSize * machine.pageSize
            if (FS.stat(file)?.size ?? 0) < size { try HostCommand.run(["truncate", "--size=\(size)", file]) }
            launch.driveFiles.append(file)
        }
    }

    /// The file backing a `Drives=` entry: `DIRECTORY` (default /var/tmp) /
    /// `mkosi-drive-<machine>-<fileid>`; without the `persist` flag a fresh file per run.
    static func driveFile(_ drive: Drive, machine: String, unique: String) -> String {
        let base = (drive.directory ?? "/var/tmp") + "/mkosi-drive-\(machine)-\(drive.fileId)"
        return drive.flags.contains(DriveFlag.persist.rawValue) ? base : base + "-" + unique
    }

    /// The credentials as files in `<temp>`: SMBIOS type 11 records for qemu, the values for
    /// the others (in `credentials/`, as vmspawn and nspawn load them).
    func credentials(_ extra: [(name: String, value: [UInt8])] = []) throws {
        let all = machine.credentials + extra
        if machine.monitor == .qemu {
            for (n, (name, value)) in all.enumerated() {
                try FS.writeAtomically(launch.temp + "/credential-\(n)", "io.systemd.credential.binary:\(name)=\(RuntimeRules.base64(value))", mode: 0o600)
                launch.credentials.append((name, "/work/vm/credential-\(n)"))
            }
            return
        }
        let directory = launch.temp + "/credentials"
        try FS.makeDirectories(directory, mode: 0o700)
        for (name, value) in all {
            try FS.writeAtomically(directory + "/" + name, value, mode: 0o600)
            launch.credentials.append((name, directory + "/" + name))
        }
    }

    /// Runs the rendered command in the tools' sandbox (or on the host for nspawn).
    func run(_ command: MonitorCommand, started: ((pid_t) throws -> Void)? = nil) throws -> Int32 {
        if command.onHost {
            return try HostCommand.run(command.prefix + command.argv, display: command.argv, check: false, started: started)
        }
        var s = try runtime.toolsSandbox()
        for b in command.binds { s.bind(b.source, b.target, readOnly: b.readOnly) }
        for device in command.optionalBinds where FS.exists(device) { s.bind(device, optional: true) }
        s.environment += command.environment
        if let dir = command.workingDirectory { s.workingDirectory = dir }
        return try runtime.runner.run(command.argv, in: s, through: command.prefix, check: false, started: started)
    }
}
