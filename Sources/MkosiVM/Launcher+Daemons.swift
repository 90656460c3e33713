#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// The helper daemons of a machine, its registrations, and its vsock CID.
extension Launcher {
    /// A virtiofsd sharing `directory`; returns its socket as qemu sees it.
    func virtiofsd(_ directory: String, name: String, root: Bool) throws -> String {
        var s = try sandbox()
        s.bind(directory, "/work/shared")
        let socket = "/work/vm/virtiofs-\(name).sock"
        var argv = [runtime.tool("/usr/libexec/virtiofsd", "/usr/lib/virtiofsd", "/usr/bin/virtiofsd") ?? "/usr/libexec/virtiofsd",
                    "--socket-path=\(socket)", "--shared-dir=/work/shared", "--xattr", "--sandbox=none", "--log-level=error"]
        argv += root && machine.privileged ? ["--inode-file-handles=prefer", "--modcaps=-mknod", "--no-announce-submounts"]
                                              : ["--inode-file-handles=never"]
        try HelperDaemon.start(runner: runtime.runner, sandbox: s, argv: argv, ready: .path(launch.temp + "/virtiofs-\(name).sock"),
                               owner: owned)
        return socket
    }

    /// A software TPM 2.0, as upstream: fresh state made by `swtpm_setup` (sha256 PCR bank) in
    /// the temporary directory, then `swtpm socket` serving qemu's `tpm-emulator` backend.
    func swtpm() throws {
        try FS.makeDirectories(launch.temp + "/swtpm", mode: 0o700)
        let s = try sandbox()
        let version = (try? runtime.runner.capture(["swtpm_setup", "--version"], in: s, check: false).output) ?? ""
        var setup = ["swtpm_setup", "--tpm-state", "/work/vm/swtpm", "--tpm2", "--pcr-banks", "sha256", "--config", "/dev/null"]
        if let v = version.split(whereSeparator: { $0 == " " || $0 == "\n" }).last, Version.compare(String(v), "0.10.0") >= 0 {
            setup += ["--profile-name=custom", "--profile-remove-disabled=check"]
        }
        // swtpm_setup is chatty on standard output and has no --quiet.
        try runtime.runner.capture(setup, in: s)
        let socket = "/work/vm/swtpm.sock"
        try HelperDaemon.start(runner: runtime.runner, sandbox: s,
                               argv: ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=/work/vm/swtpm", "--ctrl", "type=unixio,path=\(socket)"],
                               ready: .path(launch.temp + "/swtpm.sock"), owner: owned)
        launch.tpmSocket = socket
    }

    /// `ForwardJournal=`: a systemd-journal-remote writing what the guest's journald forwards to
    /// the file (`….journal`) or directory (one file per host), with upstream's limits; it
    /// listens at `listen` (vsock for a VM, a socket in the temporary directory for a
    /// container). Returns the address the guest forwards to.
    func journalRemote(_ journal: String, listen: String, ready: String? = nil) throws -> String {
        let single = journal.hasSuffix(".journal")
        let directory = single ? Path.dirname(journal) : journal
        try FS.makeDirectories(directory)
        try FS.writeAtomically(launch.temp + "/journal-remote.conf",
                               "[Remote]\nMaxUse=1T\nKeepFree=1G\nMaxFileSize=4G\nMaxFiles=\(single ? 1 : 100)\n")
        var s = try sandbox()
        s.bind(directory, "/work/journal")
        s.bind(launch.temp + "/journal-remote.conf", "/etc/systemd/journal-remote.conf", readOnly: true)
        let binary = "/usr/lib/systemd/systemd-journal-remote"
        let options = ["--split-mode", single ? "none" : "host", "--listen-raw=\(listen)"]
        try HelperDaemon.start(runner: runtime.runner, sandbox: s,
                               argv: [binary, "--output", single ? "/work/journal/" + Path.basename(journal) : "/work/journal"] + options,
                               display: [binary, "--output", journal] + options, ready: ready.map { .path($0) } ?? .started, owner: owned)
        return listen.hasPrefix("vsock::") ? "vsock-stream:2:\(listen.dropFirst("vsock::".count))" : listen
    }

    /// The state file `mkosi ssh` reads: over vsock, or the port forwarded to the guest's sshd.
    func registerState() throws {
        let proxy = launch.cid.map { "socat - VSOCK-CONNECT:\($0):%p" } ?? launch.sshPort.map { "socat - TCP:127.0.0.1:\($0)" }
        guard let proxy else { return }
        let state = VMState(machine: machine.name, pid: Int(getpid()), proxyCommand: proxy, sshKey: machine.sshKey)
        owned.onTeardown(try state.register())
        if let port = launch.sshPort { Log.info("'mkosi ssh' reaches the guest's sshd through 127.0.0.1:\(port) (no vsock on this host)") }
    }

    /// Registers the running VM with machined, as upstream (`io.systemd.Machine.Register`).
    func registerMachine(socket: String, pid: pid_t) throws {
        var fields: [(String, JSON)] = [("name", .string(machine.hostName)), ("service", .string("mkosi")), ("class", .string("vm")),
                                        ("leader", .int(Int(pid)))]
        if FS.isDirectory(launch.image) { fields.append(("rootDirectory", .string(launch.image))) }
        if let cid = launch.cid { fields += [("vSockCid", .int(Int(cid))), ("sshAddress", .string("vsock/\(cid)"))] }
        if let key = machine.sshKey { fields.append(("sshPrivateKeyPath", .string(key))) }
        fields.append(("allocateUnit", .bool(true)))
        var s = try runtime.toolsSandbox()
        s.bind(Path.dirname(socket), Path.dirname(socket))
        try runtime.runner.capture(["varlinkctl", "call", socket, "io.systemd.Machine.Register", JSON.object(fields).serialized(indent: nil)], in: s)
    }
}

/// The guest's vsock CID, taken when the machine starts.
enum VsockCID {
    /// `VSockCID=` (`setting`: a number, -1 `auto`, -2 `hash`): the number, the hash of
    /// `outputPath` or, for `auto` when that is taken, another free one.
    ///
    /// - Throws: `.busy` when the given CID is taken or none is free.
    static func allocate(_ setting: Int, outputPath: String) throws -> UInt32 {
        let fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw MkosiError(.system(errno: errno), "Cannot open /dev/vhost-vsock", cause: .system("open", errno: errno)) }
        defer { close(fd) }
        func inUse(_ cid: UInt32) -> Bool {
            var value = UInt64(cid)
            // VHOST_VSOCK_SET_GUEST_CID; the CID is released again when the descriptor is closed.
            let rc = withUnsafeMutablePointer(to: &value) { ioctl(fd, UInt(0x4008_AF60), $0) }
            return rc != 0 && errno == EADDRINUSE
        }
        if setting >= 0 {
            guard !inUse(UInt32(setting)) else {
                throw MkosiError(.busy, "VSock connection ID \(setting) is already in use by another virtual machine",
                                 hint: "Use VSockCID=auto to have mkosi find a free one")
            }
            return UInt32(setting)
        }
        let digest = try HostCommand.capture(["sh", "-c", "printf %s \"$1\" | sha256sum", "sh", outputPath]).output
        var bytes: [UInt8] = []
        var chars = Array(digest.prefix(8))
        while chars.count >= 2 { bytes.append(UInt8(String(chars[0...1]), radix: 16) ?? 0); chars.removeFirst(2) }
        let hashed = hash(bytes + [0, 0, 0, 0])
        if setting == -2 || !inUse(hashed) { return hashed }
        for _ in 0..<64 {
            let cid = UInt32.random(in: 3...0xFFFF_FFFE)
            if !inUse(cid) { return cid }
        }
        throw MkosiError(.busy, "Failed to find an unused VSock connection ID", hint: "Set VSockCID= to a free one")
    }

    /// The CID `VSockCID=hash` gives (upstream's: the first four bytes, little-endian, of the
    /// SHA-256 of the output path, clamped away from the well-known CIDs).
    static func hash(_ digest: [UInt8]) -> UInt32 {
        let cid = (0..<4).reduce(UInt32(0)) { $0 | UInt32(digest[$1]) << (8 * UInt32($1)) }
        return max(3, min(cid, 0xFFFF_FFFE))
    }
}
