import MkosiConfig
import MkosiCore

/// What the build needs to know about a distribution besides its configuration defaults: its
/// package manager, how a root is bootstrapped, its architecture names, keys and the package
/// that has systemd-boot. Each distribution's repositories are derived in the file of its
/// family: AptRepositories, RpmRepositories (Fedora and its derivatives), CentOSRepositories,
/// OpenSUSERepositories, and beside the package manager in Pacman and Apk.
public struct DistributionDescription {
    public let distribution: Distribution
    /// The package manager when the tools have every candidate; nil for `custom` (no packages
    /// are installed). openSUSE uses zypper, or dnf when the tools have no zypper
    /// (`packageManager(findTool:)`).
    public let packageManager: (any PackageManager.Type)?
    /// apt's keyring for the distribution's repositories, inside the tools tree or host.
    public let keyring: String?
    /// The package with systemd-boot's EFI binaries, borrowed when the image lacks them.
    public let bootLoaderPackage: String?

    /// The usual kernel package, for hints (`linux-image-amd64`, `kernel`, `linux`, …).
    public func kernelPackage(_ architecture: Architecture) -> String {
        switch distribution {
        case .debian, .kali: return "linux-image-" + Apt.debianArchitecture(architecture)
        case .ubuntu: return "linux-image-generic"
        case .opensuse: return "kernel-default"
        case .arch: return "linux"
        case .postmarketos: return "linux-lts"
        case .custom: return "the distribution's kernel package"
        default: return "kernel"
        }
    }

    /// The distribution's default release (when the configuration names none).
    public var defaultRelease: String { distribution.defaultRelease }

    /// Whether installing `package` makes the image bootable by default.
    public func isKernelPackage(_ package: String) -> Bool { distribution.isKernelPackage(package) }

    /// The package manager given the tools (`findTool` says whether a program is there).
    public func packageManager(findTool: (String) -> Bool) -> (any PackageManager.Type)? {
        if distribution == .opensuse && !findTool("zypper") && findTool("dnf") { return Dnf.self }
        return packageManager
    }

    /// What bootstrapping installs into the empty root, without API file systems, before
    /// `Packages=` (as upstream's distribution installers do).
    public func bootstrapPackages(_ config: Config) -> [String] {
        switch distribution {
        case .fedora, .centos, .rhel, .rhelUbi, .rocky, .alma: return ["basesystem"]
        case .azure: return ["filesystem", "azurelinux-release"]
        case .mageia, .openmandriva, .arch: return ["filesystem"]
        case .opensuse:
            if config.packages.contains(where: { $0.hasSuffix("-release") }) { return ["filesystem"] }
            let release = config.release
            let leap = ["current", "stable", "leap"].contains(release)
                || (release != "tumbleweed" && Version.compare(release, "16") >= 0)
            return ["filesystem", leap ? "Leap-release" : "openSUSE-release"]
        case .postmarketos: return ["postmarketos-baselayout", "postmarketos-release"]
        case .debian, .ubuntu, .kali, .custom: return []
        }
    }

    /// Where rpm keeps its database in the image (`%_dbpath`), for rpm distributions.
    public func rpmDatabase(_ config: Config) -> String {
        switch distribution {
        case .centos, .rhel, .rhelUbi, .rocky, .alma:
            // CentOS Stream 9 keeps /var/lib/rpm, except Hyperscale's rebuild of rpm.
            return Version.compare(config.release, "9") > 0 || config[.repositories].contains("hyperscale-packages-experimental")
                ? "/usr/lib/sysimage/rpm" : "/var/lib/rpm"
        case .azure: return "/var/lib/rpm"
        default: return "/usr/lib/sysimage/rpm"
        }
    }

    /// The distribution's name for `architecture`.
    ///
    /// - Throws: `MkosiError` when the distribution has no build for it.
    public func architectureName(_ architecture: Architecture) throws -> String {
        let table: [Architecture: String]
        switch distribution {
        case .debian, .ubuntu, .kali: return Apt.debianArchitecture(architecture)
        case .fedora:
            table = [.arm64: "aarch64", .mips64LE: "mips64el", .mipsLE: "mipsel", .ppc64LE: "ppc64le", .riscv64: "riscv64",
                     .s390x: "s390x", .x86_64: "x86_64"]
        case .centos, .rhel, .rhelUbi, .rocky, .alma:
            table = [.x86_64: "x86_64", .ppc64LE: "ppc64le", .s390x: "s390x", .arm64: "aarch64"]
        case .azure, .mageia: table = [.x86_64: "x86_64", .arm64: "aarch64"]
        case .openmandriva: table = [.x86_64: "x86_64", .arm64: "aarch64", .riscv64: "riscv64"]
        case .opensuse:
            table = [.x86_64: "x86_64", .arm64: "aarch64", .ppc64LE: "ppc64le", .riscv64: "riscv64", .s390x: "s390x"]
        case .arch: table = [.x86_64: "x86_64", .arm64: "aarch64", .arm: "armv7h"]
        case .postmarketos:
            table = [.arm64: "aarch64", .arm: "armv7", .loongarch64: "loongarch64", .ppc64LE: "ppc64le", .riscv64: "riscv64",
                     .x86: "x86", .x86_64: "x86_64"]
        case .custom: return architecture.rawValue
        }
        guard let name = table[architecture] else {
            throw MkosiError(.config, "Architecture=\(architecture.rawValue) is not supported by \(distribution.prettyName)",
                             hint: "Supported: " + table.keys.map(\.rawValue).sorted().joined(separator: ", "))
        }
        return name
    }

    /// The description of `distribution`.
    public static func of(_ distribution: Distribution) -> DistributionDescription {
        func make(_ pm: (any PackageManager.Type)?, keyring: String? = nil, boot: String?) -> DistributionDescription {
            DistributionDescription(distribution: distribution, packageManager: pm, keyring: keyring, bootLoaderPackage: boot)
        }
        switch distribution {
        case .debian: return make(Apt.self, keyring: "/usr/share/keyrings/debian-archive-keyring.gpg", boot: "systemd-boot-efi")
        case .ubuntu: return make(Apt.self, keyring: "/usr/share/keyrings/ubuntu-archive-keyring.gpg", boot: "systemd-boot-efi")
        case .kali: return make(Apt.self, keyring: "/usr/share/keyrings/kali-archive-keyring.gpg", boot: "systemd-boot-efi")
        case .fedora, .centos, .rhel, .rhelUbi, .rocky, .alma, .azure, .mageia, .openmandriva:
            return make(Dnf.self, boot: "systemd-boot-unsigned")
        case .opensuse: return make(Zypper.self, boot: "systemd-boot")
        case .arch: return make(Pacman.self, boot: "systemd")
        case .postmarketos: return make(Apk.self, boot: "systemd-boot")
        case .custom: return make(nil, boot: nil)
        }
    }
}
