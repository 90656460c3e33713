#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiSandbox

/// `vm`, `shell` and `boot`: read the image and the host, plan the machine (every refusal
/// happens there), then launch it. Everything the launch makes (the temporary directory, an
/// ephemeral copy, drives, helper daemons, the state file) is owned by one `Teardown`, undone
/// in reverse order when the machine exits, fails to start or is interrupted.
public enum MachineLaunch {
    /// Runs the main image of `runtime` with the verb's `arguments`; returns the monitor's exit
    /// status.
    public static func run(_ runtime: RuntimeContext, arguments: [String]) throws -> Int32 {
        let output = try runtime.builtOutput()
        let host = RuntimeHost.read(toolsTree: runtime.toolsTree)
        let facts = try imageFacts(runtime, output: output)
        let request = MachineRequest(verb: runtime.verb, cwd: runtime.cwd,
                                     credentials: try RuntimeCredentials.collect(runtime.config, runner: runtime.runner),
                                     arguments: arguments)
        let machine = try Machine.plan(runtime.config, image: facts, request: request, host: host)
        machine.notes.forEach { Log.info($0) }
        machine.warnings.forEach { Log.warning($0) }
        let launcher = try Launcher(runtime: runtime, machine: machine)
        defer { launcher.owned.teardown() }
        switch machine.monitor {
        case .qemu: return try launcher.qemu()
        case .vmspawn: return try launcher.vmspawn()
        case .nspawn: return try launcher.nspawn()
        }
    }

    /// What the plan needs to know of the built image: the artifacts beside it, and what reading
    /// it tells (a disk's partitions, a tree's init, whether `Linux=` is a UKI).
    static func imageFacts(_ runtime: RuntimeContext, output: String) throws -> ImageFacts {
        let config = runtime.config
        var facts = ImageFacts(output: output)
        func beside(_ suffix: String) -> String? {
            let path = Path.join(runtime.outputDirectory, config.output + suffix)
            return FS.exists(path) ? path : nil
        }
        facts.vmlinuz = beside(".vmlinuz")
        facts.initrd = beside(".initrd")
        facts.efi = beside(".efi")
        facts.size = UInt64(FS.stat(output)?.size ?? 0)
        facts.firmwareVariablesExist = config[.firmwareVariables].map { ["custom", "microsoft", "microsoft-mok"].contains($0) || FS.exists($0) } ?? true
        if let linux = config[.linux], FS.exists(linux) { facts.linuxIsUKI = Vmspawn.isUKI(try Vmspawn.head(of: linux)) }
        if config.format == .directory {
            facts.hasSbinInit = FS.exists(output + "/sbin/init")
            facts.hasSystemd = FS.exists(output + "/usr/lib/systemd/systemd")
        }
        let container = runtime.verb == .shell || runtime.verb == .boot
        if config.format == .disk && container && config.compression == .none {
            facts.rootPartition = try PartitionTable.rootPartition(of: output)
        }
        if !container && config[.virtualMachineMonitor] == .qemu && Machine.needsRootArgument(config) && config.compression == .none {
            facts.rootArgument = try rootArgument(runtime, image: output)
        }
        return facts
    }

    /// `root=PARTUUID=…` (or `roothash=`/`usrhash=`) from a disk's partitions.
    static func rootArgument(_ runtime: RuntimeContext, image: String) throws -> String? {
        var s = try runtime.toolsSandbox()
        s.bind(image, "/work/image", readOnly: true)
        let out = try runtime.runner.capture(["systemd-repart", "--json=short", "--definitions=/", "/work/image"],
                                             in: s, display: ["systemd-repart", "--json=short", image]).output
        let partitions = try PartitionTable.parse(out)
        if let verity = PartitionTable.verityArgument(partitions) { return verity }
        return partitions.first { $0.type.hasPrefix("root") && !$0.uuid.isEmpty }.map { "root=PARTUUID=\($0.uuid)" }
    }
}
