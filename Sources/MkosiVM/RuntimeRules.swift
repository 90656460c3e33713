#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// The rules qemu and the other monitors share that are not a monitor's options: the vCPUs,
/// `TPM=auto`, the kernel command line additions upstream makes, and the base64 of SMBIOS
/// credentials.
public enum RuntimeRules {
    /// The number of vCPUs: `CPUs=`, 0 meaning all of the host's. Left at its default (1, as
    /// upstream), an emulated (TCG) machine gets as many as the host has, up to 4: qemu runs
    /// each in a host thread, so a boot takes about a third less time on two cores here, where
    /// one vCPU would leave a core idle. With KVM the default stays 1.
    public static func vCPUs(_ setting: Int, isDefault: Bool, kvm: Bool, hostCPUs: Int) -> Int {
        if setting == 0 { return max(1, hostCPUs) }
        if isDefault && !kvm { return max(setting, min(hostCPUs, 4)) }
        return setting
    }

    /// `TPM=`: yes always; auto, as upstream decides it, wherever the firmware is UEFI and swtpm
    /// is installed, emulated CPU (TCG) or not: an image may need the TPM at boot (a partition
    /// systemd-repart makes at first boot with `Encrypt=tpm2`).
    public static func wantTPM(_ setting: ConfigFeature, uefi: Bool, available: Bool) -> Bool {
        switch setting {
        case .enabled: return true
        case .disabled: return false
        case .auto: return uefi && available
        }
    }

    /// The kernel command line additions upstream makes for `vm`, then `KernelCommandLineExtra=`.
    /// For a container (`mkosi boot`) only the first two and `KernelCommandLineExtra=`.
    public static func commandLineExtra(_ config: Config, forContainer: Bool) -> [String] {
        commandLineExtra(config, term: "", columns: 0, rows: 0, container: true)
    }

    /// The same for a VM whose console is `term` of `columns`×`rows`. With `vmspawn`, the
    /// console's terminal settings are left out: systemd-vmspawn sets up the
    /// console (and its size and terminal type) itself, as upstream relies on.
    public static func commandLineExtra(_ config: Config, term: String, columns: Int, rows: Int, container: Bool = false,
                                        vmspawn: Bool = false) -> [String] {
        let user = config[.kernelCommandLineExtra]
        var args = ["systemd.wants=network.target"]
        if !user.contains(where: { $0.hasPrefix("SYSTEMD_SULOGIN_FORCE=") }) { args.append("SYSTEMD_SULOGIN_FORCE=1") }
        if container { return args + quoted(user) }
        args += ["rw", "module_blacklist=vmw_vmci"]
        if !vmspawn {
            args += ["systemd.tty.columns.hvc0=\(columns)", "systemd.tty.rows.hvc0=\(rows)", "systemd.tty.term.hvc0=\(term)"]
        }
        if !user.contains(where: { $0.hasPrefix("ip=") }) {
            args += ["ip=enc0:any", "ip=enp0s1:any", "ip=enp0s2:any", "ip=host0:any", "ip=none"]
        }
        if !user.contains(where: { $0.hasPrefix("loglevel=") }) { args.append("loglevel=4") }
        let console = config[.console]
        if console != .gui && console != .headless && !vmspawn {
            args += ["systemd.tty.term.console=\(term)", "systemd.tty.columns.console=\(columns)",
                     "systemd.tty.rows.console=\(rows)", "console=hvc0", "TERM=\(term)"]
        }
        return args + quoted(user)
    }

    /// Values with spaces in double quotes, as the kernel command line needs them.
    static func quoted(_ arguments: [String]) -> [String] {
        arguments.map { arg in
            if let eq = arg.firstIndex(of: "="), arg[arg.index(after: eq)...].contains(" ") {
                return "\(arg[..<eq])=\"\(arg[arg.index(after: eq)...])\""
            }
            return arg
        }
    }

    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[Int((b1 & 15) << 2 | b2 >> 6)] : "=")
            out.append(i + 2 < bytes.count ? table[Int(b2 & 63)] : "=")
            i += 3
        }
        return out
    }
}
