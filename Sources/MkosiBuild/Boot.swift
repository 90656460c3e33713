#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT
import MkosiInstaller
import MkosiSandbox

/// Bootable images: the distribution's kernel, systemd-boot installed with `bootctl`, and one
/// unified kernel image (UKI) per kernel made with `ukify` from the kernel, the initrds
/// (`Initrds=`, by default the `default-initrd` image) and a kernel-modules initrd, in
/// `/boot/EFI/Linux/`, from where the default partition layout copies it into the ESP.
///
/// The EFI binaries (systemd-boot and the UKI stub) come from the image
/// (`/usr/lib/systemd/boot/efi`, package systemd-boot-efi on Debian, systemd-boot-unsigned on
/// Fedora). When the image does not have them, they are taken from the repositories' package without
/// installing it into the image.
enum Boot {
    struct Kernel {
        let version: String
        /// Path of the kernel image relative to the image root.
        let path: String
    }

    /// Whether the image should boot on UEFI firmware (upstream's `want_efi`).
    static func wantEFI(_ config: Config) -> Bool {
        if config.format == .esp { return true }
        let bootable = config[.bootable]
        if bootable == .disabled || config[.bootloader] == .none { return false }
        if bootable == .auto && (config.format.isNeverBootable
                                  || config[.overlay]) {
            return false
        }
        return config.architecture.efiName != nil
    }

    /// Debian installs kernels to `/boot/vmlinuz-<version>`; systemd expects them in
    /// `/usr/lib/modules/<version>/vmlinuz`.
    static func fixupVmlinuzLocation(_ context: BuildContext) throws {
        let modules = Path.join(context.root, "usr/lib/modules")
        let boot = Path.join(context.root, "boot")
        guard FS.isDirectory(modules) else { return }
        for name in ((try? FS.listDirectory(boot)) ?? []).sorted() where name.hasPrefix("vmlinuz-") || name.hasPrefix("vmlinux-") {
            let source = Path.join(boot, name)
            guard let st = FS.lstat(source), st.isRegular else { continue }
            let kind = String(name.prefix(7)), version = String(name.dropFirst(8))
            let dir = Path.join(modules, version)
            guard FS.isDirectory(dir) else { continue }
            let target = Path.join(dir, kind)
            if let existing = FS.lstat(target), existing.isSymlink { unlink(target) }
            if !FS.exists(target) {
                try HostCommand.run(["cp", "--reflink=auto", "--preserve=mode,timestamps", source, target])
            }
        }
    }

    /// The kernels of the image, newest first.
    static func kernels(_ context: BuildContext) -> [Kernel] {
        let modules = Path.join(context.root, "usr/lib/modules")
        let versions = ((try? FS.listDirectory(modules)) ?? []).sorted { Version($0) > Version($1) }
        return versions.compactMap { version in
            for kind in ["vmlinuz", "vmlinux"] {
                let rel = "usr/lib/modules/\(version)/\(kind)"
                if FS.isFile(Path.join(context.root, rel)) { return Kernel(version: version, path: rel) }
            }
            return nil
        }
    }

    /// The directory with systemd-boot and the UKI stub: the image's, else one extracted from
    /// the distribution's systemd-boot package into the workspace (nil if there is neither).
    static func efiBinaries(_ context: BuildContext) throws -> String? {
        let own = Path.join(context.root, "usr/lib/systemd/boot/efi")
        if FS.isDirectory(own), ((try? FS.listDirectory(own)) ?? []).contains(where: { $0.hasSuffix(".efi") }) { return own }
        guard context.distribution.bootLoaderPackage != nil else { return nil }
        let extracted = context.workspace + "/efi-binaries"
        let dir = extracted + "/usr/lib/systemd/boot/efi"
        if FS.isDirectory(dir) { return dir }
        // With Incremental=, the extracted binaries are kept beside the image cache; they are
        // current as long as the cached image is (no metadata refresh happened since).
        let saved = IncrementalCache(config: context.config, args: context.args).sidePath(".efi-binaries")
        if let saved, context.restoredFromCache, FS.isDirectory(saved) { return saved }
        guard let package = context.distribution.bootLoaderPackage, let manager = context.packageManager else { return nil }
        Log.info("The image has no systemd-boot EFI binaries; using those of the \(package) package")
        try manager.extract(package, into: extracted)
        guard FS.isDirectory(dir) else { return nil }
        if let saved {
            // Complete copies only: a half-written one would look valid to the next build.
            FS.removeTree(saved)
            FS.removeTree(saved + ".new")
            if (try? HostCommand.run(["cp", "-a", dir, saved + ".new"])) != nil { rename(saved + ".new", saved) }
            FS.removeTree(saved + ".new")
        }
        return dir
    }

    /// `bootctl install` into the image's `/efi` (systemd-boot) and `/boot` (loader entries
    /// and UKIs). Returns false when the image is not made bootable (Bootable=auto without a
    /// kernel or without the EFI binaries).
    static func installSystemdBoot(_ context: BuildContext) throws -> Bool {
        let config = context.config
        let required = config[.bootable] == .enabled
        let bootloader = config[.bootloader]
        guard bootloader != .none else { return false }
        guard !kernels(context).isEmpty else {
            if required {
                throw MkosiError(.config, "Bootable=yes, but the image has no kernel in /usr/lib/modules/*/vmlinuz",
                                 hint: "Add the distribution's kernel package, e.g. Packages=\(context.distribution.kernelPackage(context.config.architecture))")
            }
            return false
        }
        // The distribution's signed systemd-boot is the image's own: none is borrowed or signed.
        if bootloader == .systemdBootSigned, signedSystemdBoot(context) == nil {
            if required {
                throw MkosiError(.config, "Bootloader=systemd-boot-signed, but the image has no signed systemd-boot (*.efi.signed) "
                                 + "in /usr/lib/systemd/boot/efi",
                                 hint: context.config.distribution.isAptDistribution
                                    ? "Add systemd-boot-efi-\(Apt.debianArchitecture(context.config.architecture))-signed to Packages=" : nil)
            }
            return false
        }
        // The stub is needed only for UKIs made here; prebuilt UKIs and Type #1 entries do without.
        let needsEFIBinaries = bootloader.isSystemdBoot || kernelPlan(context) == .buildUKI
        let found = needsEFIBinaries ? try efiBinaries(context) : nil
        guard found != nil || !needsEFIBinaries else {
            if required { throw MkosiError(.config, "Bootable=yes, but no systemd-boot EFI binaries were found") }
            return false
        }
        for dir in ["efi", "boot"] {
            try FS.makeDirectories(Path.join(context.root, dir))
        }
        guard bootloader.isSystemdBoot, let efi = found else { return true }
        // bootctl reads the binaries from the image; borrowed ones are put there for it only.
        let inImage = Path.join(context.root, "usr/lib/systemd/boot/efi")
        let borrowed = efi != inImage
        if borrowed {
            try FS.makeDirectories(Path.dirname(inImage))
            try HostCommand.run(["cp", "-r", efi, inImage])
        }
        defer {
            if borrowed {
                FS.removeTree(inImage)
                rmdir(Path.dirname(inImage))
            }
        }
        let bootctlVersion = try Tools.requireSystemd("bootctl", context)
        // Signed copies beside the binaries, which bootctl installs instead; the image's own
        // signed ones (Bootloader=systemd-boot-signed) are used as they are.
        var signedCopies: [String] = []
        defer { for copy in signedCopies { unlink(copy) } }
        if SecureBoot.enabled(config) && bootloader != .systemdBootSigned {
            let before = Set(try FS.listDirectory(inImage))
            try SecureBoot.signBootLoader(context, directory: inImage)
            signedCopies = try FS.listDirectory(inImage).filter { !before.contains($0) }.map { Path.join(inImage, $0) }
            // Borrowed binaries are removed as a whole; the image's own keep only what it had.
            if borrowed { signedCopies = [] }
        }
        var env = context.baseEnvironment()
        env["SYSTEMD_ESP_PATH"] = "/efi"
        env["SYSTEMD_XBOOTLDR_PATH"] = "/boot"
        var s = context.toolsSandbox()
        let enrol = SecureBoot.bootctlArguments(context, bootctlVersion: bootctlVersion, sandbox: &s)
        try context.run(["bootctl", "install", "--root=/buildroot", "--install-source=image", "--all-architectures",
                         "--no-variables"] + enrol, in: s, environment: env)
        unlink(Path.join(context.root, "efi/loader/random-seed"))
        if SecureBoot.autoEnroll(config, bootctlVersion: bootctlVersion) == .efitools {
            try SecureBoot.writeAutoEnrollKeys(context, esp: Path.join(context.root, "efi"))
        }
        if config[.shimBootloader] != .none, let arch = config.architecture.efiName {
            // shim starts systemd-boot as its second stage.
            try HostCommand.run(["cp", Path.join(context.root, "efi/EFI/systemd/systemd-boot\(arch).efi"),
                                 Path.join(context.root, Shim.secondStage(config))])
        }
        return true
    }

    /// The name bootctl and kernel-install use for this image's entries.
    static func entryToken(_ context: BuildContext) -> String {
        if let token = try? FS.readText(Path.join(context.root, "etc/kernel/entry-token")) {
            let t = token.trimmed()
            if !t.isEmpty { return t }
        }
        if let id = context.config[.imageID] { return id }
        return osReleaseField(context, "ID") ?? context.config.distribution.rawValue
    }

    static func osReleaseField(_ context: BuildContext, _ key: String) -> String? {
        guard let text = try? FS.readText(Path.join(context.root, "usr/lib/os-release")) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + "=") {
            var value = Substring(line.dropFirst(key.count + 1))
            if let q = value.first, q == "\"" || q == "'", value.count >= 2, value.last == q { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    /// The kernel command line baked into the UKI: the image's `/etc/kernel/cmdline` (or
    /// `/usr/lib/kernel/cmdline`), the verity root hash, then `KernelCommandLine=`.
    static func commandLine(_ context: BuildContext, partitions: [Partition]) -> [String]? {
        var parts: [String]? = nil
        for file in ["etc/kernel/cmdline", "usr/lib/kernel/cmdline"] {
            if let text = try? FS.readText(Path.join(context.root, file)) {
                parts = [text.trimmed()]
                break
            }
        }
        let verity = PartitionTable.verityArgument(partitions)
        if let verity { parts = (parts ?? []) + [verity] }
        for arg in context.config[.kernelCommandLine] {
            var a = arg
            if verity == nil, a == "root=PARTUUID" || a == "mount.usr=PARTUUID",
               let root = partitions.first(where: { $0.type.hasPrefix(a.hasPrefix("root") ? "root" : "usr") }) {
                a += "=\(root.uuid)"
            }
            parts = (parts ?? []) + [a]
        }
        return parts
    }

    /// Builds a UKI for every kernel into the image's `/boot/EFI/Linux` (or, with
    /// `Bootloader=uki`, as the ESP's default boot loader). Returns their paths. When `wantUKI`
    /// says no (`UnifiedKernelImages=no`, or `auto` without the stub or ukify), writes Type #1
    /// entries instead and returns none.
    static func buildUKIs(_ context: BuildContext, partitions: [Partition]) throws -> [String] {
        let config = context.config
        let plan = kernelPlan(context)
        guard plan != .type1 else {
            if config[.unifiedKernelImages] == .auto, !config[.bootloader].isSigned {
                Log.info("No UKI stub or ukify: writing Type #1 boot loader entries (UnifiedKernelImages=auto)")
            }
            try installType1(context, partitions: partitions, grubEFI: try Grub.wantEFI(context))
            return []
        }
        if plan == .prebuiltUKI {
            let ukis = try installPrebuiltUKIs(context, partitions: partitions)
            if try Grub.wantBIOS(context, partitions: partitions.isEmpty ? nil : partitions) {
                try installType1(context, partitions: partitions, grubEFI: false)
            }
            return ukis
        }
        guard let efi = try efiBinaries(context), let stubName = stub(in: efi) else {
            // UKIs asked for explicitly without a stub: wantUKI says why.
            _ = try wantUKI(config, stub: false, ukify: true)
            throw MkosiError(.config, "Cannot build a UKI: no UKI stub (linux*.efi.stub) in /usr/lib/systemd/boot/efi",
                             hint: "Add \(context.distribution.bootLoaderPackage ?? "systemd-boot") to Packages=")
        }
        let initrds = initrds(config, artifacts: context.artifacts)
        for initrd in initrds where !FS.exists(initrd) {
            throw MkosiError(.config, "Initrd \(initrd) (Initrds=) does not exist")
        }
        try Tools.requireSystemd("ukify", context)
        let roothash = partitions.first(where: { $0.roothash != nil })?.roothash
        let grubEFI = try Grub.wantEFI(context)
        let profiles = try UKIProfiles.build(context, efi: efi, partitions: partitions)
        let microcodes = try Microcode.initrds(context)
        var ukis: [String] = []
        for (n, kernel) in kernels(context).enumerated() {
            var s = context.toolsSandbox()
            s.bind(context.workspace, "/work/ws")
            s.bind(efi, "/work/efi", readOnly: true)
            // Host paths of the inputs, for the reuse check below.
            var inputs = [Path.join(context.root, kernel.path), Path.join(efi, stubName)] + microcodes
            var initrdArguments: [String] = []
            for (i, initrd) in initrds.enumerated() {
                s.bind(initrd, "/work/initrd\(i)", readOnly: true)
                initrdArguments.append("/work/initrd\(i)")
                inputs.append(initrd)
            }
            if config[.kernelModulesInitrd] {
                let modules = try KernelModules.initrd(context, version: kernel.version)
                initrdArguments.append("/work/ws/\(Path.basename(modules))")
                inputs.append(modules)
            }
            let output: String
            if config[.bootloader].isUKI {
                guard n == 0 else { break }
                output = config[.shimBootloader] != .none ? Shim.secondStage(config)
                    : "efi/EFI/BOOT/BOOT\((config.architecture.efiName ?? "x64").uppercased()).EFI"
            } else {
                output = "boot/EFI/Linux/\(ukiName(context, kernel: kernel, roothash: roothash)).efi"
            }
            try FS.makeDirectories(Path.dirname(Path.join(context.root, output)), mode: 0o700)
            for profile in profiles { inputs.append(Path.join(context.workspace, profile)) }
            // SplitArtifacts=pcrs: the policy digests of the first UKI, as upstream.
            let digests = ukis.isEmpty ? SecureBoot.policyDigestArguments(context, sandbox: &s) : []
            let argv = try ukifyCommand(context, kernel: kernel, efi: efi, stub: stubName, microcodes: microcodes, initrds: initrdArguments,
                                        output: "/buildroot/\(output)", partitions: partitions, sandbox: &s)
                + UKIProfiles.joinArguments(context, profiles: profiles) + digests
            // A reused UKI would give no policy digests: with them, ukify always runs.
            let reuse = digests.isEmpty ? UKIReuse(context, kernel: kernel.version, argv: argv, inputs: inputs) : nil
            if try reuse?.restore(to: Path.join(context.root, output)) == true {
                Log.info("Reusing the UKI \(output) (its inputs are unchanged)")
            } else {
                Log.info("Building the UKI \(output)")
                try runUkify(context, argv, in: s, digests: !digests.isEmpty)
                reuse?.save(from: Path.join(context.root, output))
            }
            ukis.append(Path.join(context.root, output))
            if grubEFI, output.hasPrefix("boot/") {
                try Grub.addUKIEntry(context, name: Path.basename(output).replacingOccurrences(of: ".efi", with: ""),
                                     uki: String(output.dropFirst("boot".count)))
            }
        }
        // grub on BIOS cannot start UKIs: it gets Type #1 entries beside them.
        if try Grub.wantBIOS(context, partitions: partitions.isEmpty ? nil : partitions) {
            try installType1(context, partitions: partitions, grubEFI: false)
        }
        return ukis
    }

    /// `UnifiedKernelImages=no`: a boot loader specification Type #1 entry per kernel, as
    /// upstream writes it: `/boot/<token>/<version>/vmlinuz` (signed with `SecureBoot=`), the
    /// initrds beside (`Initrds=` in `/boot/<token>/`, the kernel modules initrd in the
    /// version's directory) and `/boot/loader/entries/<token>-<version>.conf`; grub gets a menu
    /// entry for each on BIOS (`BiosBootloader=grub`) and, with `grubEFI` (grub as the EFI boot
    /// loader and no UKIs), on EFI.
    static func installType1(_ context: BuildContext, partitions: [Partition], grubEFI: Bool) throws {
        let config = context.config
        let token = entryToken(context)
        let boot = Path.join(context.root, "boot")
        let options = (commandLine(context, partitions: partitions) ?? []).joined(separator: " ")
        let grubBIOS = try Grub.wantBIOS(context, partitions: partitions.isEmpty ? nil : partitions)
        let initrdFiles = initrds(config, artifacts: context.artifacts)
        for initrd in initrdFiles where !FS.exists(initrd) {
            throw MkosiError(.config, "Initrd \(initrd) (Initrds=) does not exist")
        }
        let microcodes = try Microcode.initrds(context)
        for kernel in kernels(context) {
            let dtbs = Devicetrees.find(root: context.root, version: kernel.version, globs: config[.devicetrees])
            if !config[.devicetrees].isEmpty && dtbs.count != 1 {
                throw MkosiError(.config, "Devicetrees= selects \(dtbs.count) device trees of kernel \(kernel.version); a Type #1 boot loader entry takes exactly one",
                                 hint: "Narrow Devicetrees=, or build UKIs (UnifiedKernelImages=yes), which take several")
            }
            let dir = Path.join(boot, "\(token)/\(kernel.version)")
            try FS.makeDirectories(dir, mode: 0o700)
            try FS.makeDirectories(Path.join(boot, "loader/entries"), mode: 0o700)
            let vmlinuz = Path.join(dir, "vmlinuz")
            if SecureBoot.enabled(config) && !config[.bootloader].rawValue.hasSuffix("-signed") {
                try SecureBoot.sign(context, input: Path.join(context.root, kernel.path), output: vmlinuz)
            } else {
                try HostCommand.run(["cp", "--reflink=auto", Path.join(context.root, kernel.path), vmlinuz])
            }
            var initrds: [String] = []
            for initrd in microcodes + initrdFiles {
                let target = Path.join(boot, "\(token)/\(Path.basename(initrd))")
                try HostCommand.run(["cp", "--reflink=auto", initrd, target])
                initrds.append(target)
            }
            if config[.kernelModulesInitrd] {
                let target = Path.join(dir, "kernel-modules.initrd")
                try HostCommand.run(["cp", "--reflink=auto", try KernelModules.initrd(context, version: kernel.version), target])
                initrds.append(target)
            }
            var devicetree: String? = nil
            if let dtb = dtbs.first {
                let target = Path.join(dir, dtb.relative)
                try FS.makeDirectories(Path.dirname(target), mode: 0o700)
                try HostCommand.run(["cp", "--reflink=auto", Path.join(context.root, dtb.path), target])
                devicetree = target
            }
            for file in [vmlinuz] + initrds + (devicetree.map { [$0] } ?? []) { chmod(file, 0o600) }
            func relative(_ path: String) -> String { String(path.dropFirst(boot.count)) }
            var entry = "title \(token) \(kernel.version)\nversion \(kernel.version)\nlinux \(relative(vmlinuz))\noptions \(options)\n"
            for initrd in initrds { entry += "initrd \(relative(initrd))\n" }
            if let devicetree { entry += "devicetree \(relative(devicetree))\n" }
            Log.info("Writing the boot loader entry \(token)-\(kernel.version).conf")
            try FS.writeAtomically(Path.join(boot, "loader/entries/\(token)-\(kernel.version).conf"), entry, mode: 0o600)
            if grubBIOS || grubEFI {
                // grub needs the root partition on the command line unless it is given already.
                var grubOptions = options
                if !config[.kernelCommandLine].contains(where: { $0.hasPrefix("root=PARTUUID") || $0.hasPrefix("mount.usr=PARTUUID") }),
                   PartitionTable.verityArgument(partitions) == nil,
                   let root = partitions.first(where: { $0.type.hasPrefix("root") || $0.type.hasPrefix("usr") }), !root.uuid.isEmpty {
                    grubOptions = "\(root.type.hasPrefix("usr") ? "mount.usr" : "root")=PARTUUID=\(root.uuid) " + grubOptions
                }
                try Grub.append(context, Grub.type1Entry(name: "\(token)-\(kernel.version)", kernel: relative(vmlinuz),
                                                         initrds: initrds.map(relative), options: grubOptions, efi: grubEFI, bios: grubBIOS))
            }
        }
    }

    /// `Format=uki`: one UKI whose initrd is the whole image (`initrd`), from the image's newest
    /// kernel, written to `output`.
    static func buildImageUKI(_ context: BuildContext, initrd: String, output: String) throws {
        guard let kernel = kernels(context).first else {
            throw MkosiError(.config, "Format=uki needs a kernel in the image (/usr/lib/modules/*/vmlinuz)",
                             hint: "Add the distribution's kernel package, e.g. Packages=\(context.distribution.kernelPackage(context.config.architecture))")
        }
        guard let efi = try efiBinaries(context), let stub = stub(in: efi) else {
            throw MkosiError(.config, "Format=uki needs the UKI stub (linux*.efi.stub)", hint: "Add \(context.distribution.bootLoaderPackage ?? "systemd-boot") to Packages=")
        }
        try Tools.requireSystemd("ukify", context)
        let profiles = try UKIProfiles.build(context, efi: efi, partitions: [])
        var s = context.toolsSandbox()
        s.bind(context.workspace, "/work/ws")
        s.bind(efi, "/work/efi", readOnly: true)
        s.bind(Path.dirname(output), "/work/out")
        let argv = try ukifyCommand(context, kernel: kernel, efi: efi, stub: stub, microcodes: try Microcode.initrds(context),
                                    initrds: ["/work/ws/\(Path.basename(initrd))"],
                                    output: "/work/out/\(Path.basename(output))", partitions: [], sandbox: &s)
            + UKIProfiles.joinArguments(context, profiles: profiles)
        let digests = SecureBoot.policyDigestArguments(context, sandbox: &s)
        try runUkify(context, argv + digests, in: s, digests: !digests.isEmpty)
        // SplitArtifacts=kernel,initrd: taken out of the UKI, as upstream (the kernel as signed).
        let base = Path.join(context.staging, context.config.output)
        for (artifact, section, suffix) in [(ArtifactOutput.kernel, ".linux", ".vmlinuz"), (.initrd, ".initrd", ".initrd")]
            where context.config[.splitArtifacts].contains(artifact) {
            try PEFile.extract(section, from: output, to: base + suffix)
        }
    }

    /// Runs ukify; with `digests` (its `--policy-digest ... --json=short` arguments) writes
    /// what it prints, the policy digests, to `OUTPUT.pcrs` in the staging directory.
    static func runUkify(_ context: BuildContext, _ argv: [String], in sandbox: Sandbox, digests: Bool) throws {
        guard digests else { return try context.run(argv, in: sandbox) }
        // ukify pads what it prints with blanks: the file gets the JSON alone, as upstream's.
        let json = String(try context.capture(argv, in: sandbox).reversed().drop(while: \.isWhitespace).reversed())
        try FS.writeAtomically(Path.join(context.staging, context.config.output) + ".pcrs", json)
    }

    /// The UKI stub (`linux<arch>.efi.stub`) among the EFI binaries in `efi`.
    static func stub(in efi: String) -> String? {
        ((try? FS.listDirectory(efi)) ?? []).first { $0.hasPrefix("linux") && $0.hasSuffix(".efi.stub") }
    }

    /// The `ukify build` command for `kernel` with `initrds` (paths in the sandbox) writing
    /// `output`; the command line (`commandLine`) goes to a file in the workspace. The sandbox
    /// must have the image at /buildroot, the workspace at /work/ws and the EFI binaries at
    /// /work/efi; the keys signing the UKI (`SecureBoot`) are bound into `sandbox`.
    static func ukifyCommand(_ context: BuildContext, kernel: Kernel, efi: String, stub: String, microcodes: [String] = [],
                             initrds: [String], output: String, partitions: [Partition], sandbox: inout Sandbox) throws -> [String] {
        var argv = ["ukify", "build", "--os-release", "@/buildroot/usr/lib/os-release", "--uname", kernel.version,
                    "--linux", "/buildroot/\(kernel.path)"]
        // The microcode initrds (host paths) go first: in their own section where ukify and the
        // stub know it, else as the first initrds.
        var ucode: [String] = []
        for (i, microcode) in microcodes.enumerated() {
            sandbox.bind(microcode, "/work/ucode\(i)", readOnly: true)
            ucode.append("/work/ucode\(i)")
        }
        let section = !ucode.isEmpty && Microcode.useSection(ukify: Tools.systemdVersion("ukify", context),
                                                              stub: PEFile.read(Path.join(efi, stub))?.stubVersion)
        argv += initrdArguments(microcodes: ucode, initrds: initrds, ucodeSection: section)
        argv += devicetreeArguments(Devicetrees.find(root: context.root, version: kernel.version, globs: context.config[.devicetrees]))
        if let splash = context.config[.splash] {
            guard context.imagePath(String(splash.drop { $0 == "/" })) != nil else {
                throw MkosiError.config("Splash=\(splash) does not exist in the image", hint: "Splash= is a path inside the image")
            }
            argv += ["--splash", "/buildroot" + splash]
        }
        argv += ["--efi-arch", context.config.architecture.efiName ?? "x64", "--stub", "/work/efi/\(stub)", "--output", output]
        if let cmdline = commandLine(context, partitions: partitions) {
            try FS.writeAtomically(context.workspace + "/cmdline", cmdline.joined(separator: " ") + "\0")
            argv += ["--cmdline", "@/work/ws/cmdline"]
        }
        return argv + (try SecureBoot.ukifyArguments(context, sandbox: &sandbox))
    }

    /// ukify's arguments for the microcode initrds and the other initrds (paths in its sandbox):
    /// the microcode as `--microcode` when `ucodeSection`, else as the first `--initrd`s.
    static func initrdArguments(microcodes: [String], initrds: [String], ucodeSection: Bool) -> [String] {
        (ucodeSection ? microcodes.flatMap { ["--microcode", $0] } : [])
            + ((ucodeSection ? [] : microcodes) + initrds).flatMap { ["--initrd", $0] }
    }

    /// ukify's arguments for the device trees `Devicetrees=` selected: one is the `.dtb`
    /// section (`--devicetree`), several are `.dtbauto` sections (`--devicetree-auto`), as upstream.
    static func devicetreeArguments(_ dtbs: [Devicetrees.Blob]) -> [String] {
        dtbs.flatMap { [dtbs.count == 1 ? "--devicetree" : "--devicetree-auto", "/buildroot/" + $0.path] }
    }

    /// `Format=esp`: a GPT disk with only an ESP holding the boot loader and a UKI of the whole
    /// image, sized to its content plus 10 MiB (at least 260 MiB, or 36 MiB with
    /// `SectorSize=512`), written to `output`. The boot loader is systemd-boot, grub
    /// (`Bootloader=grub`, `grub-signed`; with a menu entry chainloading the UKI) or the UKI
    /// itself (`uki`, `uki-signed`); with `ShimBootloader=` shim starts it (`Shim`).
    static func buildESPImage(_ context: BuildContext, initrd: String, output: String) throws {
        let config = context.config
        let tree = context.workspace + "/esp"
        FS.removeTree(tree)
        try FS.makeDirectories(tree)
        guard let kernel = kernels(context).first else {
            throw MkosiError(.config, "Format=esp needs a kernel in the image (/usr/lib/modules/*/vmlinuz)",
                             hint: "Add the distribution's kernel package, e.g. Packages=\(context.distribution.kernelPackage(context.config.architecture))")
        }
        let ukiPath = try installESPBootLoader(context, tree: tree, kernel: kernel)
        try FS.makeDirectories(Path.dirname(Path.join(tree, ukiPath)))
        try buildImageUKI(context, initrd: initrd, output: Path.join(tree, ukiPath))

        let content = Int64(try HostCommand.capture(["du", "-sb", tree]).output.split(separator: "\t").first.flatMap { Int64($0) } ?? 0)
        // Fewer clusters and OVMF does not take the file system for FAT32 (repart formats the ESP
        // with 4096-byte sectors unless SectorSize=512), as upstream found.
        let minimum: Int64 = config[.sectorSize] == 512 ? 36 << 20 : 260 << 20
        let size = max(minimum, content + (10 << 20))
        let definitions = context.workspace + "/esp-definitions"
        try FS.makeDirectories(definitions)
        try FS.writeAtomically(definitions + "/00-esp.conf",
                               "[Partition]\nType=esp\nFormat=vfat\nCopyFiles=/\nSizeMinBytes=\(size)\nSizeMaxBytes=\(size)\n")
        var s = context.bareToolsSandbox()
        s.bind(tree, "/work/esp", readOnly: true)
        s.bind(definitions, "/work/definitions", readOnly: true)
        s.bind(Path.dirname(output), "/work/out")
        var argv = ["systemd-repart", "--dry-run=no", "--no-pager", "--json=pretty", "--root=/work/esp",
                    Disk.repartOffline(&s, config),
                    "--empty=create", "--size=auto", "--seed=\(config[.seed])", "--definitions=/work/definitions"]
        if let sectorSize = config[.sectorSize] { argv.append("--sector-size=\(sectorSize)") }
        _ = try context.capture(argv + ["/work/out/\(Path.basename(output))"], in: s)
    }

    /// `UnifiedKernelImageFormat=` (default `&e-&k`, plus `-&h` with a verity root hash).
    static func ukiName(_ context: BuildContext, kernel: Kernel, roothash: String?) -> String {
        let custom = context.config[.unifiedKernelImageFormat]
        var format = custom ?? "&e-&k"
        if custom == nil && roothash != nil { format += "-&h" }
        var out = "", chars = Array(format), i = 0
        while i < chars.count {
            if chars[i] == "&", i + 1 < chars.count {
                switch chars[i + 1] {
                case "e": out += entryToken(context)
                case "k": out += kernel.version
                case "h": out += roothash ?? ""
                case "&": out += "&"
                default: out += context.config.expandKeySpecifiers("&\(chars[i + 1])")
                }
                i += 2
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }

    /// `SplitArtifacts=uki,kernel,initrd`: the first UKI, the newest kernel and the joined
    /// initrds next to the output, for direct kernel boot and other tools; with
    /// `kernel-modules-initrd` also the newest kernel's modules initrd.
    static func copyArtifacts(_ context: BuildContext, ukis: [String]) throws {
        let config = context.config
        let split = config[.splitArtifacts]
        let kernels = kernels(context)
        guard let kernel = kernels.first, wantEFI(config) || !ukis.isEmpty else { return }
        let base = Path.join(context.staging, config.output)
        if split.contains(.uki), let uki = ukis.first {
            try HostCommand.run(["cp", "--reflink=auto", uki, base + ".efi"])
        }
        if split.contains(.kernel) {
            try HostCommand.run(["cp", "--reflink=auto", Path.join(context.root, kernel.path), base + ".vmlinuz"])
        }
        if split.contains(.kernelModulesInitrd) && config[.kernelModulesInitrd] {
            try HostCommand.run(["cp", "--reflink=auto", try KernelModules.initrd(context, version: kernel.version),
                                 base + ".kernel-modules-initrd"])
        }
        if split.contains(.initrd) {
            var parts = initrds(config, artifacts: context.artifacts).filter { FS.exists($0) }
            if config[.kernelModulesInitrd] {
                parts.append(try KernelModules.initrd(context, version: kernel.version))
            }
            guard !parts.isEmpty else { return }
            // Each part padded to 4 bytes, as the kernel expects of concatenated initrds.
            let script = "for f; do cat \"$f\"; n=$(( (4 - $(stat -c %s \"$f\") % 4) % 4 )); head -c $n /dev/zero; done"
            try HostCommand.run(["sh", "-c", script + " > \"$0\"", base + ".initrd"] + parts)
        }
    }
}

/// With `Incremental=`, a UKI is kept in the cache directory (`<key>.uki-<kernel>.efi`) with a
/// fingerprint of what it was made from: the ukify command line, the command line and
/// os-release contents, and the size and modification time of the kernel, the stub and every
/// initrd. A later build whose fingerprint is the same copies it instead of running ukify.
struct UKIReuse {
    let cached: String
    let fingerprintPath: String
    let fingerprint: String

    init?(_ context: BuildContext, kernel: String, argv: [String], inputs: [String]) {
        let cache = IncrementalCache(config: context.config, args: context.args)
        guard let cached = cache.sidePath(".uki-\(kernel).efi"), let fingerprintPath = cache.sidePath(".uki-\(kernel).inputs") else {
            return nil
        }
        self.cached = cached
        self.fingerprintPath = fingerprintPath
        var lines = [argv.joined(separator: " ")]
        lines.append((try? FS.readText(context.workspace + "/cmdline")) ?? "")
        lines.append((try? FS.readText(Path.join(context.root, "usr/lib/os-release"))) ?? "")
        for input in inputs {
            let st = FS.stat(input)
            // Base names: the workspace, and so the full paths, differ from build to build.
            lines.append("\(Path.basename(input)) \(st?.size ?? -1) \(st?.mtimeNanoseconds ?? -1)")
        }
        fingerprint = lines.joined(separator: "\n") + "\n"
    }

    /// Copies the cached UKI to `path` if it was made from the same inputs.
    func restore(to path: String) throws -> Bool {
        guard (try? FS.readText(fingerprintPath)) == fingerprint, FS.exists(cached) else { return false }
        try HostCommand.run(["cp", "--reflink=auto", cached, path])
        return true
    }

    func save(from path: String) {
        FS.removeTree(fingerprintPath)
        guard (try? HostCommand.run(["cp", "--reflink=auto", path, cached])) != nil else { return }
        try? FS.writeAtomically(fingerprintPath, fingerprint)
    }
}
