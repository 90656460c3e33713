#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// The executor of each monitor: the steps of its launch, then the monitor.
extension Launcher {
    func qemu() throws -> Int32 {
        try ephemeralCopy()
        try grow()
        launch.imageSize = UInt64(FS.stat(launch.image)?.size ?? 0)
        if let firmware = machine.firmware { try firmwareVariables(template: firmware.variables) }
        if machine.vsock { launch.cid = try VsockCID.allocate(machine.vsockCID, outputPath: Path.join(runtime.outputDirectory, config.output)) }
        if machine.sshForward { launch.sshPort = try Net.freeLocalPort() }
        let journal = try machine.forwardJournal.map { try journalRemote($0, listen: "vsock::\(UInt32.random(in: 0x10000...0xFFFF_FFF0))") }
        if machine.rootShare { launch.rootSocket = try virtiofsd(launch.image, name: "root", root: true) }
        for (n, share) in machine.shares.enumerated() { launch.shareSockets.append(try virtiofsd(share.source, name: String(n), root: false)) }
        if machine.tpm { try swtpm() }
        try credentials(journal.map { [("journal.forward_to_socket", Array($0.utf8))] } ?? [])
        launch.initrd = machine.initrds.first
        try drives()
        try registerState()
        return try run(QemuMonitor.commandLine(for: machine, launch: launch)) { pid in
            if let socket = self.machine.machinedSocket { try self.registerMachine(socket: socket, pid: pid) }
        }
    }

    func vmspawn() throws -> Int32 {
        if machine.uefi { try firmwareVariables(template: try describeFirmware()) }
        try credentials()
        try drives()
        launch.initrd = try joinedInitrd()
        if let journal = machine.forwardJournal {
            try FS.makeDirectories(journal.hasSuffix(".journal") ? Path.dirname(journal) : journal)
        }
        if machine.userScope { try FS.makeDirectories(launch.temp + "/runtime", mode: 0o700) }
        if machine.keepUnit {
            let scope = try ServiceManager.UserScope.make(name: "mkosi-vmspawn-\(getpid())")
            owned.onTeardown { if !scope.remove() { Log.warning("Could not remove the cgroup \(scope.path)") } }
            launch.scopeProcs = scope.procs
        }
        return try run(VmspawnMonitor.commandLine(for: machine, launch: launch))
    }

    func nspawn() throws -> Int32 {
        if machine.rootPartition != nil {
            let mountpoint = launch.temp + "/root"
            try FS.makeDirectories(mountpoint)
            launch.mountpoint = mountpoint
        }
        try credentials()
        launch.shareOwnedByUser = machine.shares.map { (FS.ownerID($0.source) ?? 0) != 0 }
        if let journal = machine.forwardJournal {
            _ = try journalRemote(journal, listen: "/work/vm/journal.sock", ready: launch.temp + "/journal.sock")
            launch.journalSocket = launch.temp + "/journal.sock"
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        func format(_ v: rlim_t) -> String { v == rlim_t.max ? "infinity" : String(v) }
        launch.coreLimit = "\(format(limit.rlim_cur)):\(format(limit.rlim_max))"
        return try run(NspawnMonitor.commandLine(for: machine, launch: launch))
    }

    /// The firmware's variables template as `systemd-vmspawn --firmware=describe` names it.
    func describeFirmware() throws -> String {
        var describe = ["systemd-vmspawn", "--firmware=describe"]
        if !machine.firmwareFeatures.isEmpty { describe += ["--firmware-features", machine.firmwareFeatures.joined(separator: ",")] }
        let out = try runtime.runner.capture(describe, in: try runtime.toolsSandbox()).output
        guard case .string(let template)? = (try? JSON.parse(out))?["mapping"]?["nvram-template"]?["filename"] else {
            throw MkosiError(.missingTool, "systemd-vmspawn --firmware=describe named no firmware variables template",
                             hint: runtime.installHint("ovmf"))
        }
        return template
    }

    /// The initrd for vmspawn's direct kernel boot: `<Output>.initrd`, else `Initrds=` joined
    /// into one file in the temporary directory, else none (as upstream).
    func joinedInitrd() throws -> String? {
        guard machine.initrds.count > 1 else { return machine.initrds.first }
        var bytes: [UInt8] = []
        for initrd in machine.initrds { bytes += try FS.readBytes(initrd) }
        try FS.writeAtomically(launch.temp + "/initrd", bytes, mode: 0o600)
        return launch.temp + "/initrd"
    }
}
