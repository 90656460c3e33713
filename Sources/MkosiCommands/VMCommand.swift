import MkosiBuild
import MkosiConfig
import MkosiCore
import MkosiVM

/// `mkosi vm` (old name `qemu`): boots the main image in a virtual machine (see `Qemu`, and
/// `Vmspawn` for `VirtualMachineMonitor=vmspawn`).
/// Arguments after the verb go to qemu. `-f` builds first; otherwise the image must exist and,
/// with `ToolsTree=default`, the tools tree must be current.
enum VMCommand {
    static func run(_ loaded: LoadedConfiguration) throws -> Int32 {
        let buildLock = loaded.args.force > 0 ? try BuildCommand.lockOutputDirectory(loaded) : nil
        if loaded.args.force > 0 { try BuildCommand.beforeToolsTree(loaded) }
        try ToolsTree.prepare(loaded)
        let loaded = try ConfigureScripts.run(loaded)
        guard let main = loaded.main else { return 0 }
        if loaded.args.force > 0 { try BuildCommand.build(loaded) }
        buildLock?.release()
        // The image is booted in place unless Ephemeral=: one VM at a time (uki and cpio images
        // are only read).
        let lock = !main[.ephemeral] && main.format != .uki && main.format != .cpio
            ? try BuildCommand.lockImage(main, cwd: loaded.cwd) : nil
        defer { lock?.release() }
        let helper = FS.readlink("/proc/self/exe") ?? CommandLine.arguments[0]
        if main[.virtualMachineMonitor] == .vmspawn {
            return try Vmspawn(config: main, cwd: loaded.cwd, helper: helper, extraArguments: loaded.args.cmdline).run()
        }
        return try Qemu(config: main, cwd: loaded.cwd, helper: helper, extraArguments: loaded.args.cmdline).run()
    }
}
