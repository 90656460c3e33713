import MkosiConfig
import MkosiCore
import MkosiGPT

/// `UnifiedKernelImageProfiles=` (and `mkosi.uki-profiles/*.conf`): extra UKI profiles, as
/// upstream makes them. Each profile is a PE made by ukify from systemd's addon stub with a
/// `.profile` section (its `[UKIProfile]` `Profile=` keys, values quoted unless alphanumeric)
/// and the image's command line plus its own `Cmdline=`; it is not signed by itself. The main
/// UKI then joins them (`--join-profile`), so systemd-stub offers them as boot menu entries.
/// With `SignExpectedPcr=`, when some profile opts out (`SignExpectedPcr=no`), only the main
/// profile and those that did not are signed (`--sign-profile`).
enum UKIProfiles {
    /// Builds the profiles into the workspace (`uki-profiles/<ID>.efi`); returns those paths,
    /// relative to the workspace, in configuration order.
    static func build(_ context: BuildContext, efi: String, partitions: [Partition]) throws -> [String] {
        let config = context.config
        let profiles = config[.unifiedKernelImageProfiles]
        guard !profiles.isEmpty else { return [] }
        let stub = "addon\(config.architecture.efiName ?? "x64").efi.stub"
        guard FS.isFile(Path.join(efi, stub)) else {
            throw MkosiError(.config, "UnifiedKernelImageProfiles= needs systemd's addon stub (/usr/lib/systemd/boot/efi/\(stub)), and the image has none",
                             hint: "Add \(context.distribution.bootLoaderPackage ?? "systemd-boot") to Packages=")
        }
        let dir = context.workspace + "/uki-profiles"
        try FS.makeDirectories(dir)
        let base = Boot.commandLine(context, partitions: partitions) ?? []
        var built: [String] = []
        for profile in profiles {
            guard let id = profile.profile["ID"] else {
                throw MkosiError.config("A UKI profile has no ID= in its [UKIProfile] Profile= (UnifiedKernelImageProfiles=)")
            }
            try FS.writeAtomically(dir + "/\(id).profile", section(profile.profile))
            let cmdline = base + profile.cmdline
            try FS.writeAtomically(dir + "/\(id).cmdline", cmdline.joined(separator: " ") + "\0")
            var s = context.toolsSandbox()
            s.bind(context.workspace, "/work/ws")
            s.bind(efi, "/work/efi", readOnly: true)
            var argv = ["ukify", "build", "--profile", "@/work/ws/uki-profiles/\(id).profile",
                        "--efi-arch", config.architecture.efiName ?? "x64", "--stub", "/work/efi/\(stub)",
                        "--output", "/work/ws/uki-profiles/\(id).efi"]
            if !cmdline.isEmpty { argv += ["--cmdline", "@/work/ws/uki-profiles/\(id).cmdline"] }
            Log.info("Generating UKI profile '\(id)'")
            try context.run(argv, in: s)
            built.append("uki-profiles/\(id).efi")
        }
        return built
    }

    /// The `.profile` section: `KEY=VALUE` lines, values in double quotes unless alphanumeric.
    static func section(_ profile: OrderedDict) -> String {
        profile.pairs.map { key, value in
            let plain = !value.isEmpty && value.allSatisfy { $0.isLetter || $0.isNumber }
            return "\(key)=\(plain ? value : "\"\(value)\"")\n"
        }.joined()
    }

    /// The main UKI's arguments for the profiles (workspace-relative paths, the workspace at
    /// /work/ws): one `--join-profile` each, and `--sign-profile` as upstream when
    /// `SignExpectedPcr=` applies and a profile opted out of it.
    static func joinArguments(_ context: BuildContext, profiles: [String]) -> [String] {
        var argv = profiles.flatMap { ["--join-profile", "/work/ws/\($0)"] }
        let config = context.config
        let all = config[.unifiedKernelImageProfiles]
        if !profiles.isEmpty, SecureBoot.wantSignedPCRs(context), all.contains(where: { !$0.signExpectedPcr }) {
            argv.append("--sign-profile=main")
            for profile in all where profile.signExpectedPcr {
                if let id = profile.profile["ID"] { argv += ["--sign-profile", id] }
            }
        }
        return argv
    }
}
