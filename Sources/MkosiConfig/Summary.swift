#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The human-readable `mkosi summary`, laid out as upstream lays it out.
public enum Summary {
    static let listIndent = "\n" + String(repeating: " ", count: 37)

    /// The summary of one image.
    public static func render(_ c: Config, cwd: String) -> String {
        func v(_ d: String) -> Value { c[d] }
        func list(_ d: String) -> String { join(v(d).list ?? []) }
        func join(_ items: [Value]) -> String {
            items.isEmpty ? "none" : items.map(\.display).joined(separator: listIndent)
        }
        func str(_ d: String) -> String { v(d).display }
        func or(_ d: String, _ fallback: String) -> String { v(d).isNull ? fallback : v(d).display }
        func yesNo(_ d: String) -> String { v(d).bool == true ? "yes" : "no" }
        func bytesOrNone(_ d: String) -> String { v(d).int.map(formatBytes) ?? "none" }
        let b = Terminal.bold

        var s = "\(b("IMAGE: \(c.image)"))\n"
        func section(_ title: String, _ rows: [(String, String)], indent: Int = 4) {
            s += "\n\(String(repeating: " ", count: indent))\(b(title)):\n"
            for (label, value) in rows {
                s += String(repeating: " ", count: max(0, 35 - label.count)) + label + ": " + value + "\n"
            }
        }
        func rows(_ r: [(String, String)]) {
            for (label, value) in r {
                s += label.isEmpty ? "\n" : String(repeating: " ", count: max(0, 35 - label.count)) + label + ": " + value + "\n"
            }
        }

        if c.image == "main" || c.image == "tools" {
            section("CONFIG", [
                ("Profiles", list("profiles")), ("Dependencies", list("dependencies")),
                ("Minimum Version", or("minimum_version", "none")), ("Configure Scripts", list("configure_scripts")),
                ("Pass Environment", list("pass_environment")),
            ])
            section("DISTRIBUTION", [
                ("Distribution", b(str("distribution"))), ("Release", b(or("release", "n/a"))),
                ("Architecture", str("architecture")), ("Mirror", or("mirror", "default")),
                ("Snapshot", or("snapshot", "none")), ("Local Mirror (build)", or("local_mirror", "none")),
                ("Repo Signature/Key check", yesNo("repository_key_check")),
                ("Fetch Repository Keys", yesNo("repository_key_fetch")), ("Repositories", list("repositories")),
            ])
        }

        let manifest = (v("manifest_format").list ?? []).map(\.display).joined(separator: " ")
        section("OUTPUT", [
            ("Output Format", str("output_format")), ("Manifest Formats", manifest.isEmpty ? "(none)" : manifest),
            ("Output", b(c.outputWithCompression)), ("Output Size", bytesOrNone("output_size")),
            ("Compression", str("compress_output")), ("Compression Level", str("compress_level")),
            ("Output Directory", c.outputDirectoryOrDefault(cwd: cwd)),
            ("Output Mode", v("output_mode").int.map(formatOctal) ?? "default"),
            ("Image ID", str("image_id")), ("Image Version", str("image_version")),
            ("Split Artifacts", list("split_artifacts")), ("Repart Directories", list("repart_dirs")),
            ("Sector Size", or("sector_size", "default")), ("Overlay", yesNo("overlay")),
            ("Seed", or("seed", "random")), ("El Torito", str("el_torito")),
            ("El Torito System", or("el_torito_system", "none")), ("El Torito Volume", or("el_torito_volume", "none")),
            ("El Torito Publisher", or("el_torito_publisher", "none")), ("Clean Scripts", list("clean_scripts")),
        ])
        section("CONTENT", [
            ("Packages", list("packages")), ("Build Packages", list("build_packages")),
            ("Volatile Packages", list("volatile_packages")), ("Package Directories", list("package_directories")),
            ("Volatile Package Directories", list("volatile_package_directories")),
            ("With Documentation", yesNo("with_docs")),
        ])
        rows([
            ("", ""), ("Base Trees", list("base_trees")), ("Skeleton Trees", list("skeleton_trees")),
            ("Extra Trees", list("extra_trees")), ("", ""), ("Remove Packages", list("remove_packages")),
            ("Remove Files", list("remove_files")), ("Clean Package Manager Metadata", str("clean_package_metadata")),
            ("Source Date Epoch", or("source_date_epoch", "none")), ("", ""),
            ("Sync Scripts", list("sync_scripts")), ("Prepare Scripts", list("prepare_scripts")),
            ("Build Scripts", list("build_scripts")), ("Postinstall Scripts", list("postinst_scripts")),
            ("Finalize Scripts", list("finalize_scripts")), ("Postoutput Scripts", list("postoutput_scripts")), ("", ""),
            ("Bootable", str("bootable")), ("Bootloader", str("bootloader")), ("BIOS Bootloader", str("bios_bootloader")),
            ("Shim Bootloader", str("shim_bootloader")), ("Unified Kernel Images", str("unified_kernel_images")),
            ("Unified Kernel Image Format", str("unified_kernel_image_format")),
            ("Unified Kernel Image Profiles", list("unified_kernel_image_profiles")), ("Initrds", list("initrds")),
            ("Initrd Profiles", list("initrd_profiles")), ("Initrd Packages", list("initrd_packages")),
            ("Initrd Volatile Packages", list("initrd_volatile_packages")), ("Devicetrees", list("devicetrees")),
            ("Splash", or("splash", "none")), ("Kernel Command Line", list("kernel_command_line")),
            ("Kernel Modules", list("kernel_modules_include")),
        ])
        if !(v("kernel_modules_exclude").list ?? []).isEmpty {
            rows([("Kernel Modules Exclude", list("kernel_modules_exclude"))])
        }
        rows([("Kernel Modules Include Host", yesNo("kernel_modules_include_host")), ("Firmware Files", list("firmware_include"))])
        if !(v("firmware_exclude").list ?? []).isEmpty { rows([("Firmware Files Exclude", list("firmware_exclude"))]) }
        rows([("Kernel Modules Initrd", yesNo("kernel_modules_initrd")),
              ("Kernel Initrd Modules", list("kernel_modules_initrd_include"))])
        if !(v("kernel_modules_initrd_exclude").list ?? []).isEmpty {
            rows([("Kernel Modules Initrd Exclude", list("kernel_modules_initrd_exclude"))])
        }
        rows([
            ("Kernel Modules Initrd Include Host", yesNo("kernel_modules_initrd_include_host")), ("", ""),
            ("Locale", or("locale", "default")), ("Locale Messages", or("locale_messages", "default")),
            ("Keymap", or("keymap", "default")), ("Timezone", or("timezone", "default")),
            ("Hostname", or("hostname", "default")), ("Root Password", v("root_password").isNull ? "(default)" : "(set)"),
            ("Root Shell", or("root_shell", "default")), ("Machine ID", or("machine_id", "none")), ("", ""),
            ("Autologin", yesNo("autologin")), ("Make Initrd", yesNo("make_initrd")), ("SSH", str("ssh")),
            ("SELinux Relabel", str("selinux_relabel")),
        ])

        if c.format.isSignable {
            section("VALIDATION", [
                ("UEFI SecureBoot", yesNo("secure_boot")), ("UEFI SecureBoot AutoEnroll", yesNo("secure_boot_auto_enroll")),
                ("SecureBoot Signing Key", or("secure_boot_key", "none")),
                ("SecureBoot Signing Key Source", str("secure_boot_key_source")),
                ("SecureBoot Certificate", or("secure_boot_certificate", "none")),
                ("SecureBoot Certificate Source", str("secure_boot_certificate_source")),
                ("SecureBoot Sign Tool", str("secure_boot_sign_tool")), ("Verity", str("verity")),
                ("Verity Signing Key", or("verity_key", "none")), ("Verity Signing Key Source", str("verity_key_source")),
                ("Verity Certificate", or("verity_certificate", "none")),
                ("Verity Certificate Source", str("verity_certificate_source")),
                ("Sign Expected PCRs", str("sign_expected_pcr")),
                ("Expected PCRs Signing Key", or("sign_expected_pcr_key", "none")),
                ("Expected PCRs Key Source", str("sign_expected_pcr_key_source")),
                ("Expected PCRs Certificate", or("sign_expected_pcr_certificate", "none")),
                ("Expected PCRs Certificate Source", str("sign_expected_pcr_certificate_source")),
                ("Passphrase", or("passphrase", "none")), ("Checksum", yesNo("checksum")), ("Sign", yesNo("sign")),
                ("OpenPGP Tool", str("openpgp_tool")), ("GPG Key", "(\(or("key", "default")))"),
            ], indent: 9)
        }

        if c.image == "main" {
            let env = (v("environment").dict ?? OrderedDict()).pairs.map { Value.string("\($0.0)=\($0.1)") }
            section("BUILD CONFIGURATION", [
                ("Tools Tree", str("tools_tree")), ("Tools Tree Certificates", yesNo("tools_tree_certificates")),
            ])
            rows([
                ("", ""), ("Extra Search Paths", list("extra_search_paths")), ("Incremental", str("incremental")),
                ("Use Only Package Cache", str("cacheonly")), ("Sandbox Trees", list("sandbox_trees")),
                ("Workspace Directory", v("workspace_dir").string ?? UserDirectories.defaultWorkspace()),
                ("Cache Directory", or("cache_dir", "none")), ("Cache Key", str("cache_key")),
                ("Package Cache Directory", or("package_cache_dir", "default")),
                ("Build Directory", or("build_dir", "none")), ("Build Key", str("build_key")),
                ("Use Subvolumes", str("use_subvolumes")), ("Repart Offline", yesNo("repart_offline")),
                ("Save History", yesNo("history")), ("Build Sources", list("build_sources")),
                ("Build Sources Ephemeral", str("build_sources_ephemeral")), ("Script Environment", join(env)),
                ("Environment Files", list("environment_files")), ("Run Tests in Build Scripts", yesNo("with_tests")),
                ("Scripts With Network", yesNo("with_network")), ("", ""),
                ("Proxy URL", or("proxy_url", "none")), ("Proxy Peer Certificate", or("proxy_peer_certificate", "none")),
                ("Proxy Client Certificate", or("proxy_client_certificate", "none")),
                ("Proxy Client Key", or("proxy_client_key", "none")), ("", ""),
                ("Automatically set +x on scripts", yesNo("make_scripts_executable")),
            ])
            let cid = v("vsock_cid").int ?? -1
            section("HOST CONFIGURATION", [
                ("NSpawn Settings", or("nspawn_settings", "none")), ("Ephemeral", str("ephemeral")),
                // Upstream joins a generator here, which is never "none" even when empty.
                ("Credentials", (v("credentials").list ?? []).map(\.display).joined(separator: listIndent)), ("Extra Kernel Command Line", list("kernel_command_line_extra")),
                ("Runtime Trees", list("runtime_trees")), ("Runtime Size", bytesOrNone("runtime_size")),
                ("Runtime Network", str("runtime_network")), ("Runtime Build Sources", str("runtime_build_sources")),
                ("Bind User", yesNo("bind_user")), ("SSH Signing Key", or("ssh_key", "none")),
                ("SSH Certificate", or("ssh_certificate", "none")), ("Machine", v("machine").string ?? c.image),
                ("Forward Journal", or("forward_journal", "none")), ("Register guest with machined", str("register")),
                ("Storage Target Mode", str("storage_target_mode")),
            ])
            rows([
                ("", ""), ("Virtual Machine Monitor", str("vmm")), ("Console", str("console")), ("CPU Cores", str("cpus")),
                ("RAM", formatBytes(v("ram").int ?? 0)), ("MaxMem", bytesOrNone("maxmem")), ("KVM", str("kvm")),
                ("CXL", str("cxl")), ("VSock", str("vsock")),
                ("VSock Connection ID", cid == -1 ? "auto" : cid == -2 ? "hash" : String(cid)), ("TPM", str("tpm")),
                ("Disk Type", str("disk_type")), ("Firmware", str("firmware")),
                ("Firmware Variables", or("firmware_variables", "none")), ("Linux", or("linux", "none")),
                ("QEMU Extra Arguments", list("qemu_args")),
            ])
        }
        // Not in upstream's summary: what this build would not honour as configured.
        let findings = SupportReport.findings(c, cwd: cwd)
        if !findings.isEmpty {
            section("NOT HONOURED BY THIS MKOSI", findings.map { f in
                let kind = f.kind == .refused ? "refused" : f.kind == .unhonoured ? "ignored (warning)" : "no effect here"
                return (f.setting.name, "\(kind): \(f.location): \(f.assignment) \(f.reason)")
            })
        }
        return s
    }

    /// Sizes as upstream prints them (`2.0G`, `512.0M`, `100B`).
    public static func formatBytes(_ n: Int) -> String {
        func one(_ x: Double, _ unit: String) -> String {
            let tenths = Int((x * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)\(unit)"
        }
        if n >= 1 << 30 { return one(Double(n) / Double(1 << 30), "G") }
        if n >= 1 << 20 { return one(Double(n) / Double(1 << 20), "M") }
        if n >= 1 << 10 { return one(Double(n) / Double(1 << 10), "K") }
        return "\(n)B"
    }

    static func formatOctal(_ n: Int) -> String {
        let s = String(n, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}

/// Per-user directories, as upstream chooses them.
public enum UserDirectories {
    /// `$XDG_CACHE_HOME`, `$CACHE_DIRECTORY`, `~/.cache` for regular users, else `/var/cache`.
    public static func cache() -> String {
        if let e = Env.get("XDG_CACHE_HOME"), !e.isEmpty { return e }
        if let e = Env.get("CACHE_DIRECTORY"), !e.isEmpty { return e }
        if Privileges.hostUID >= 1000, let home = Env.get("HOME"), home != "/" { return Path.join(home, ".cache") }
        return "/var/cache"
    }

    /// The default `WorkspaceDirectory=`.
    public static func defaultWorkspace() -> String {
        let c = cache()
        if c != "/var/cache" && access(c, W_OK) == 0 { return Path.join(c, "mkosi") }
        return "/var/tmp"
    }
}
