#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `Format=addon`: a UKI addon (a PE file systemd-stub loads beside a UKI) made by ukify from
/// systemd's addon stub, with `KernelCommandLine=` as its command line and, when the image has
/// any files, the image as an extra initrd (compressed per `CompressOutput=`); signed with
/// `SecureBoot=`.
enum UKIAddon {
    static var savedStub: String { "addon.efi.stub" }

    /// Keeps the addon stub (`addon<arch>.efi.stub`, the image's, else from the distribution's
    /// systemd-boot package) in the workspace before packages and files are removed.
    static func saveStub(_ context: BuildContext) throws {
        let config = context.config
        guard config.format == .addon else { return }
        let name = "addon\(config.architecture.efiName ?? "x64").efi.stub"
        guard let efi = try Boot.efiBinaries(context), FS.isFile(Path.join(efi, name)) else {
            throw MkosiError(.config, "Format=addon needs systemd's addon stub (/usr/lib/systemd/boot/efi/\(name)), and the image has none",
                             hint: "Add \(context.distribution.bootLoaderPackage ?? "systemd-boot") to Packages=")
        }
        try HostCommand.run(["cp", Path.join(efi, name), Path.join(context.workspace, savedStub)])
    }

    static func make(_ context: BuildContext) throws {
        let config = context.config
        try Tools.requireSystemd("ukify", context)
        var s = context.toolsSandbox()
        s.bind(context.workspace, "/work/ws")
        s.bind(context.staging, "/work/out")
        try FS.writeAtomically(context.workspace + "/cmdline", config[.kernelCommandLine].joined(separator: " ") + "\0")
        var argv = ["ukify", "build", "--efi-arch", config.architecture.efiName ?? "x64", "--stub", "/work/ws/\(savedStub)",
                    "--output", "/work/out/\(config.outputWithFormat)"]
        if !config[.kernelCommandLine].isEmpty { argv += ["--cmdline", "@/work/ws/cmdline"] }
        if !((try? FS.listDirectory(context.root)) ?? []).isEmpty {
            let cpio = context.workspace + "/addon.cpio"
            try Output.makeCpio(context, to: cpio)
            try Output.compress(cpio, config: config, context: context, directory: context.workspace)
            let initrd = config.compression == .none ? cpio : cpio + "." + config.compression.fileExtension
            argv += ["--initrd", "/work/ws/\(Path.basename(initrd))"]
        }
        argv += try SecureBoot.ukifyArguments(context, sandbox: &s, kernel: false)
        Log.info("Generating PE addon \(config.outputWithFormat)")
        try context.run(argv, in: s)
    }
}
