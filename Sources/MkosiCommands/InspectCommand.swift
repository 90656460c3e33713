#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox
import MkosiVM

/// `mkosi journalctl` and `mkosi coredumpctl`: the tool of the tools tree on the built image
/// (`--image=` for a disk, `--root=` for a directory), with the arguments after the verb.
enum InspectCommand {
    static func run(_ runtime: RuntimeContext, arguments: [String]) throws -> Int32 {
        let main = runtime.config
        let tool = runtime.verb.rawValue
        guard main.format == .disk || main.format == .directory else {
            throw MkosiError(.unsupported, "\(main.format.rawValue) images cannot be inspected with \(tool)",
                             hint: "\(tool) works on Format=disk and Format=directory images")
        }
        if main[.ephemeral] {
            throw MkosiError(.unsupported, "Images booted in ephemeral mode cannot be inspected with \(tool)",
                             hint: "Their changes (and journal) went with the ephemeral copy; boot with Ephemeral=no")
        }
        let output = try runtime.builtOutput()
        let isDirectory = FS.isDirectory(output)
        if !isDirectory { try runtime.requireRoot("on a disk image uses a loop device (\(tool) --image=)") }
        var s = try runtime.toolsSandbox(devices: !isDirectory)
        s.bind(output, "/work/image", readOnly: !isDirectory)
        var argv = [tool, isDirectory ? "--root=/work/image" : "--image=/work/image"]
        // The journal and core dumps are in the root file system. Where the kernel cannot mount
        // vfat, dissecting the image would fail on its ESP: boot partitions are then left out.
        if !isDirectory && !arguments.contains(where: { $0.hasPrefix("--image-policy") }) && !hostMountsVFAT() {
            argv.append("--image-policy=esp=ignore:xbootldr=ignore:=verity+signed+encrypted+unprotected+unused+absent")
        }
        argv += arguments
        return try runtime.runInteractive(argv, in: s,
                                          display: [tool, isDirectory ? "--root=\(output)" : "--image=\(output)"] + argv.dropFirst(2))
    }

    /// Whether the running kernel has vfat (built in or as a loadable module).
    static func hostMountsVFAT() -> Bool {
        if let filesystems = try? FS.readText("/proc/filesystems"),
           filesystems.split(separator: "\n").contains(where: { $0.hasSuffix("\tvfat") }) { return true }
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return FS.exists("/lib/modules/\(release)/kernel/fs/fat/vfat.ko") || FS.exists("/lib/modules/\(release)/kernel/fs/fat/vfat.ko.xz")
            || FS.exists("/lib/modules/\(release)/kernel/fs/fat/vfat.ko.zst")
    }
}
