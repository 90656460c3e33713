#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiInstaller
import MkosiSandbox

/// Builds one image, in upstream's order: skeleton trees, packages (bootstrap first), extra
/// trees, post-installation scripts, removals, finalize scripts, the output.
///
/// The output appears atomically in the output directory at the end; on any failure the
/// previous output stays untouched and the workspace is removed.
public enum Pipeline {
    ///
    /// Everything logged meanwhile names the image (`Log.image`); the tools' output is shown as
    /// `ToolOutput` decides (all of it with `--debug`, else a failing tool's); the build ends
    /// with `Wrote <output> (<size>) in <time>`.
    public static func build(_ config: Config, args: Args, cwd: String, session: BuildSession) throws {
        try Log.$image.withValue(config.image) {
            try ToolOutput.$current.withValue(Log.isDebug ? .shown : .onFailure) {
                let start = BuildSummary.now()
                try buildLogged(config, args: args, cwd: cwd, session: session)
                let output = Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)
                if config.format != .none && !args.rerunBuildScripts, let size = BuildSummary.size(of: output) {
                    Log.info(BuildSummary.wroteLine(BuildSummary.displayPath(output, cwd: cwd), size: size,
                                                    seconds: BuildSummary.now() - start))
                } else {
                    Log.info("Built in \(Log.formatDuration(BuildSummary.now() - start)) (no output)")
                }
            }
        }
    }

    static func buildLogged(_ config: Config, args: Args, cwd: String, session: BuildSession) throws {
        let context = try BuildContext(config: config, args: args, cwd: cwd, session: session)
        defer { context.cleanup() }
        do {
            try build(context)
        } catch var e as MkosiError where !e.isInterruption {
            // Tools report a full disk in their own words, somewhere in their output.
            let places = [("workspace", Path.dirname(context.workspace)), ("package cache", context.packageCache),
                          ("output directory", context.outputDirectory)]
            if let (what, path) = places.first(where: { (FS.availableBytes($0.1) ?? .max) < 4 << 20 }) {
                e.hint = "The file system of the \(what) (\(path)) is full; free some space or choose another location"
            }
            throw e
        }
    }

    static func build(_ context: BuildContext) throws {
        let config = context.config, args = context.args
        Log.info(Terminal.bold("Building \(config.image) image (\(config.distribution.rawValue) \(config.release), \(config.format.rawValue))"))

        defer { context.reportStepTimes() }
        let step = context.step
        try step("Copying in sandbox trees") { try context.installSandboxTrees() }
        try step("Running sync scripts") { try Scripts.run(config[.syncScripts], arguments: ["final"], context: context, extras: .init(.sync, network: true)) }
        let installer = context.packageManager
        let hasBuildScripts = !config[.buildScripts].isEmpty
        if hasBuildScripts {
            try FS.makeDirectories(context.workspace + "/build-overlay/upper")
            try FS.makeDirectories(context.workspace + "/build-overlay/work")
        }
        let hasBaseTrees = !config[.baseTrees].isEmpty
        if hasBaseTrees { try step("Installing base trees") { try BaseTrees.install(into: context) } }
        let cache = IncrementalCache(config: config, args: args)
        var restored = false
        try step("Restoring the cached image") { restored = try cache.restore(into: context) }
        context.restoredFromCache = restored
        if !restored {
            try step("Copying in skeleton trees") { try TreeCopy.install(config[.skeletonTrees], into: context) }
            if let installer {
                try step("Setting up the package manager") { try installer.setup() }
                // A base tree is a complete system already: only Packages= are added to it.
                if !hasBaseTrees {
                    // Extensions hold only what they add to a base: without one there is nothing
                    // to install packages into.
                    if (config[.overlay] || config.format.isExtension) && !config.packages.isEmpty {
                        throw MkosiError.config("Cannot install packages in extension images without a base tree",
                                                hint: "Configure a base tree with the BaseTrees= setting")
                    }
                    if !config[.overlay] && !config.format.isExtension {
                        try step("Installing the base system") { try installer.bootstrap() }
                        try Configure.bootDirectories(context)
                    }
                }
                try step("Installing packages") { try installer.install(config.packages) }
            }
            Configure.removeInstallationState(context)
            if !hasBaseTrees && !config[.overlay] && !config.format.isExtension { try writeMachineId(context) }
            try step("Running prepare scripts") { try Scripts.run(config[.prepareScripts], arguments: ["final"], context: context, extras: .init(.prepare, network: true)) }
            if hasBuildScripts {
                try step("Installing build packages and running prepare scripts (build)") {
                    try withBuildOverlay(context) {
                        try installer?.install(config[.buildPackages])
                        try Scripts.run(config[.prepareScripts], arguments: ["build"], context: context, extras: .init(.prepare, network: true))
                    }
                }
            }
            try step("Saving the cached image") { try cache.save(from: context) }
        } else {
            try step("Setting up the package manager") { try installer?.setup() }
        }
        if hasBuildScripts {
            try step("Running build scripts") {
                try runBuildScripts(context)
                // Packages the build scripts put into $PACKAGEDIR become installable.
                try installer?.refreshLocalRepository()
            }
        }
        // Format=none images are built for their scripts only; with -R the build scripts run
        // again on the cached image. Either way nothing else is done.
        if args.rerunBuildScripts || config.format == .none { return }
        // Volatile packages come after the cache and the build scripts, so they are never cached.
        try step("Installing volatile packages") { try installer?.install(config[.volatilePackages]) }
        try step("Copying in extra trees") { try TreeCopy.install(config[.extraTrees], into: context) }
        try step("Running post-installation scripts") {
            try Scripts.run(config[.postInstallationScripts], arguments: ["final"], context: context, extras: try buildDirectoryExtras(config, kind: .postInstallation))
        }
        try Configure.clockEpoch(context)
        try Boot.fixupVmlinuzLocation(context)
        try Firstboot.autologin(context)
        try Configure.osRelease(context)
        try ExtensionImage.writeRelease(context)
        try Configure.initrd(context)
        try Configure.ssh(context)
        try ExtensionImage.installVerityCertificate(context)
        try ExtensionImage.createMountpoints(context)
        var bootable = false
        // Format=esp and uki put the boot loader and UKI outside the image (Output.make).
        if Boot.wantEFI(config) && config.format != .esp {
            try step("Installing systemd-boot") { bootable = try Boot.installSystemdBoot(context) }
            if bootable {
                try step("Installing grub") { try Grub.install(context) }
                try step("Installing shim") { try Shim.install(context) }
            }
        }
        try step("Generating locales") { try Configure.localeGen(context) }
        try step("Running systemd-sysusers, systemd-tmpfiles, presets and hwdb") { try SystemdSetup.run(context) }
        try step("Running depmod") { try KernelModules.depmod(context) }
        try step("Applying first boot settings") { try Firstboot.configure(context) }
        // Removals below may take the addon stub with them.
        try UKIAddon.saveStub(context)
        // Format=uki and esp: the microcode initrd, from the firmware removals below may take.
        if config.format == .uki || config.format == .esp { _ = try Microcode.initrds(context) }
        if let installer { try step("Removing packages") { try installer.remove(config[.removePackages]) } }
        try step("Writing the manifest") { try Configure.manifest(context) }
        try SELinux.relabel(context)
        // Overlay=yes ends here, as upstream: what follows sees only what this image added.
        try step("Removing what the base trees hold") { try BaseTrees.removeDuplicates(context) }
        try cleanPackageMetadata(context)
        try step("Removing files") { try removeFiles(context) }
        try step("Running finalize scripts") {
            try Scripts.run(config[.finalizeScripts], arguments: [], context: context, extras: try buildDirectoryExtras(config, kind: .finalize))
        }
        // Mount points the script sandboxes created inside the image.
        FS.removeTree(Path.join(context.root, "work"))
        try step("Setting modification times to SourceDateEpoch") { try normalizeModificationTimes(context) }
        var ukis: [String] = []
        if config.format == .disk {
            let esp = bootable || config[.bootable] == .enabled
            let bios = try bootable && Grub.wantBIOS(context)
            let definitions = try Disk.definitions(context, esp: esp || bios, bios: bios)
            var partitions: [Partition] = []
            // grub's Type #1 entries (BIOS, or EFI without UKIs) need the root partition's UUID.
            let grubType1 = try bootable && Grub.wantEFI(context) && Boot.kernelPlan(context) == .type1
            if bootable && !bios && !grubType1 && !Disk.uki(dependsOn: definitions, config) {
                try step("Installing the kernels") { ukis = try Boot.buildUKIs(context, partitions: []) }
                try step("Building the disk image with systemd-repart") { partitions = try Disk.make(context, definitions: definitions, first: true, deferESP: false) }
            } else {
                try step("Building the disk image's partitions with systemd-repart") { partitions = try Disk.make(context, definitions: definitions, first: true) }
                if bootable { try step("Installing the kernels") { ukis = try Boot.buildUKIs(context, partitions: partitions) } }
                try step("Adding the ESP to the disk image with systemd-repart") { partitions = try Disk.make(context, definitions: definitions, first: false) }
            }
            if bios { try step("Installing grub for BIOS") { try Grub.biosSetup(context, partitions: partitions) } }
            if config[.splitArtifacts].contains(.partitions) {
                try step("Writing the partitions as separate files") { try Disk.make(context, definitions: definitions, first: false, split: true) }
            }
        } else if bootable {
            try step("Installing the kernels") { ukis = try Boot.buildUKIs(context, partitions: []) }
        }
        if bootable { try step("Copying out the kernel, initrd and UKI") { try Boot.copyArtifacts(context, ukis: ukis) } }
        try step("Writing the output") { try Output.make(context) }
    }

    /// Runs `body` with the image seen through the build overlay (`BuildPackages=` and the
    /// build scripts' changes go there and are discarded with the workspace).
    static func withBuildOverlay(_ context: BuildContext, _ body: () throws -> Void) throws {
        context.overlay = (context.workspace + "/build-overlay/upper", context.workspace + "/build-overlay/work")
        defer { context.overlay = nil }
        try body()
    }

    /// `mkosi clean`: runs the clean scripts with the output directory at `$OUTPUTDIR`.
    public static func runCleanScripts(_ config: Config, args: Args, cwd: String) throws {
        let scripts = config[.cleanScripts]
        guard !scripts.isEmpty else { return }
        let context = try BuildContext(config: config, args: args, cwd: cwd)
        defer { context.cleanup() }
        try FS.makeDirectories(context.outputDirectory)
        var extras = Scripts.Extras(.clean, network: false)
        extras.binds.append((context.outputDirectory, "/work/out", false))
        try Scripts.run(scripts, arguments: [], context: context, extras: extras)
    }

    /// Post-installation and finalize scripts see the build directory (`BuildDirectory=`)
    /// read-only at `/work/build`, named by `$BUILDDIR`, as upstream.
    static func buildDirectoryExtras(_ config: Config, kind: SourceMounts.ScriptKind) throws -> Scripts.Extras {
        var extras = Scripts.Extras(kind)
        if let buildDir = config[.buildDirectory] {
            let sub = config.buildSubdirectory(buildDir)
            try FS.makeDirectories(sub)
            extras.binds.append((sub, "/work/build", true))
            extras.environment["BUILDDIR"] = "/work/build"
        }
        return extras
    }

    /// Build scripts run in the build overlay. What they install into `$DESTDIR` is copied into
    /// the image afterwards.
    static func runBuildScripts(_ context: BuildContext) throws {
        let config = context.config
        let dest = context.workspace + "/dest"
        try FS.makeDirectories(dest)
        var extras = Scripts.Extras(.build)
        extras.binds.append((dest, "/work/dest", false))
        extras.environment["DESTDIR"] = "/work/dest"
        extras.environment["CHROOT_DESTDIR"] = "/work/dest"
        extras.environment["WITH_TESTS"] = !config[.withTests] ? "0" : "1"
        extras.environment["WITH_DOCS"] = !config[.withDocs] ? "0" : "1"
        if let buildDir = config[.buildDirectory] {
            let sub = config.buildSubdirectory(buildDir)
            try FS.makeDirectories(sub)
            extras.binds.append((sub, "/work/build", false))
            extras.environment["BUILDDIR"] = "/work/build"
            extras.environment["CHROOT_BUILDDIR"] = "/work/build"
        }
        try withBuildOverlay(context) {
            try Scripts.run(config[.buildScripts], arguments: context.args.cmdline, context: context, extras: extras)
        }
        try TreeCopy.install([ConfigTree(source: dest, target: nil)], into: context)
    }

    /// `/etc/machine-id`: `MachineId=`, or `uninitialized` so the first boot generates one.
    static func writeMachineId(_ context: BuildContext) throws {
        let etc = Path.join(context.root, "etc")
        guard FS.isDirectory(etc) else { return }
        let id = context.config[.machineID].map { $0.replacingOccurrences(of: "-", with: "") } ?? "uninitialized"
        try FS.writeAtomically(Path.join(etc, "machine-id"), id + "\n", mode: 0o444)
    }

    /// `CleanPackageMetadata=`: package databases and package manager state are removed when
    /// enabled, and with `auto` (except in directory and tar images, which keep them as the base
    /// of extensions) those the image has no program for (`cleanPackageMetadata`).
    static func cleanPackageMetadata(_ context: BuildContext) throws {
        let setting = context.config[.cleanPackageMetadata]
        guard setting != .disabled, let manager = context.packageManager else { return }
        if setting == .auto && [.directory, .tar].contains(context.config.format) { return }
        MkosiInstaller.cleanPackageMetadata(root: context.root, manager: manager, always: setting == .enabled)
    }

    /// `SourceDateEpoch=`: no file in the image is newer than it (for reproducible outputs).
    static func normalizeModificationTimes(_ context: BuildContext) throws {
        guard let epoch = context.config[.sourceDateEpoch] else { return }
        try context.run(["sh", "-c", "find /buildroot -newermt \"@$0\" -print0 | xargs -0r touch --no-dereference --date=\"@$0\"",
                         String(epoch)], in: context.toolsSandbox())
    }

    /// `RemoveFiles=` globs, relative to the image root.
    static func removeFiles(_ context: BuildContext) throws {
        let patterns = context.config[.removeFiles]
        guard !patterns.isEmpty else { return }
        var s = context.toolsSandbox()
        s.workingDirectory = "/buildroot"
        let script = "shopt -s nullglob dotglob; for p in " + patterns.map { p in
            let rel = p.hasPrefix("/") ? String(p.dropFirst()) : p
            return rel.split(separator: "/").map { part in Glob.hasMagic(String(part)) ? String(part) : ShellLexer.quote(String(part)) }
                .joined(separator: "/")
        }.joined(separator: " ") + "; do rm -rf -- \"$p\"; done"
        try context.run(["bash", "-c", script], in: s)
    }
}
