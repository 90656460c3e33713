import MkosiConfig
import MkosiCore
import MkosiVM

/// `mkosi vm` (old name `qemu`), `mkosi shell` and `mkosi boot`: the main image in a virtual
/// machine (qemu, or systemd-vmspawn with `VirtualMachineMonitor=vmspawn`) or a systemd-nspawn
/// container (`shell` runs a shell or the command after `--`, `boot` the image's init); see
/// `Machine.plan` and `MachineLaunch`. Arguments after the verb go to the monitor. `-f` builds
/// first; otherwise the image must exist and, with `ToolsTree=default`, the tools tree must be
/// current.
enum MachineCommand {
    static func run(_ loaded: LoadedConfiguration) throws -> Int32 {
        guard let (loaded, runtime) = try Mkosi.prepareRuntime(loaded) else { return 0 }
        let main = runtime.config
        // The image is used in place unless Ephemeral=: one machine at a time (uki and cpio
        // images are only read).
        let inPlace = !main[.ephemeral] && main.format != .uki && main.format != .cpio
        let lock = inPlace ? try BuildCommand.lockImage(main, cwd: loaded.cwd) : nil
        defer { lock?.release() }
        return try MachineLaunch.run(runtime, arguments: loaded.args.cmdline)
    }
}
