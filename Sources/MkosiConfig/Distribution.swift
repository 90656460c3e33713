#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The distributions mkosi can build, with the facts the configuration engine needs about them.
public enum Distribution: String, CaseIterable, Sendable {
    case fedora, debian, kali, ubuntu, postmarketos, arch, opensuse, mageia, centos, rhel
    case rhelUbi = "rhel-ubi"
    case openmandriva, rocky, alma, azure, custom

    public var prettyName: String {
        switch self {
        case .fedora: return "Fedora Linux"
        case .debian: return "Debian"
        case .kali: return "Kali Linux"
        case .ubuntu: return "Ubuntu"
        case .postmarketos: return "postmarketOS"
        case .arch: return "Arch Linux"
        case .opensuse: return "openSUSE"
        case .mageia: return "Mageia"
        case .centos: return "CentOS"
        case .rhel: return "RHEL"
        case .rhelUbi: return "RHEL UBI"
        case .openmandriva: return "OpenMandriva"
        case .rocky: return "Rocky Linux"
        case .alma: return "AlmaLinux"
        case .azure: return "Azure Linux"
        case .custom: return "Custom"
        }
    }

    public var isAptDistribution: Bool { [.debian, .ubuntu, .kali].contains(self) }

    public var isCentOSVariant: Bool { [.centos, .alma, .rocky, .rhel, .rhelUbi].contains(self) }

    public var isRPMDistribution: Bool {
        [.azure, .fedora, .opensuse, .mageia, .centos, .rhel, .rhelUbi, .openmandriva, .rocky, .alma].contains(self)
    }

    /// The release used when the configuration names none and the host runs another distribution.
    public var defaultRelease: String {
        switch self {
        case .fedora: return "rawhide"
        case .debian: return "testing"
        case .kali: return "kali-rolling"
        case .ubuntu: return "devel"
        case .postmarketos: return "edge"
        case .arch: return "rolling"
        case .opensuse: return "tumbleweed"
        case .mageia: return "cauldron"
        case .centos, .rhel, .rhelUbi, .rocky, .alma: return "10"
        case .openmandriva: return "cooker"
        case .azure: return "3.0"
        case .custom: return ""
        }
    }

    /// The default root file system (`%F`).
    public var filesystem: String {
        switch self {
        case .fedora, .opensuse: return "btrfs"
        case .centos, .rhel, .rhelUbi, .rocky, .alma: return "xfs"
        default: return "ext4"
        }
    }

    /// The distribution of the default tools tree when the host runs this one.
    public var defaultToolsTreeDistribution: Distribution {
        switch self {
        case .ubuntu: return .debian
        case .centos, .rhel, .rhelUbi, .alma, .rocky: return .fedora
        default: return self
        }
    }

    /// Whether installing `package` installs a kernel (which makes an image bootable by default).
    public func isKernelPackage(_ package: String) -> Bool {
        switch self {
        case .debian, .kali: return package.hasPrefix("linux-image-")
        case .ubuntu: return package.hasPrefix("linux-") && !package.hasPrefix("linux-tools-")
        case .arch:
            return ["linux", "linux-lts", "linux-zen", "linux-hardened", "linux-rt", "linux-rt-lts"].contains(package)
        case .fedora, .centos, .rhel, .rhelUbi, .rocky, .alma, .azure, .mageia, .openmandriva:
            return package == "kernel" || package == "kernel-core"
        case .opensuse: return package == "kernel-default" || package == "kernel-kvmsmall"
        case .postmarketos:
            guard package.hasPrefix("linux-") else { return false }
            if package.hasSuffix("-doc") || package.hasSuffix("-dev") || package.hasSuffix("-manual") { return false }
            if package.hasPrefix("linux-tools-") || package.hasPrefix("linux-firmware-") { return false }
            return true
        case .custom: return false
        }
    }
}

/// What the running system (or a tree) says it is, from its os-release file.
public struct HostDistribution: Sendable {
    /// The detected distribution, or nil when it is none mkosi knows.
    public var distribution: Distribution?
    /// The raw `ID=` when it is not a known distribution.
    public var id: String?
    public var release: String?

    /// Reads `root/etc/os-release`, falling back to `root/usr/lib/os-release`.
    public static func detect(root: String = "/") -> HostDistribution {
        let base = root == "/" ? "" : root
        guard let text = (try? FS.readText(base + "/etc/os-release")) ?? (try? FS.readText(base + "/usr/lib/os-release"))
        else { return HostDistribution(distribution: nil, id: nil, release: nil) }
        let fields = EnvFile.dictionary(text)
        let id = fields["ID"]
        let like = (fields["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
        var release = id == "opensuse-tumbleweed" ? "tumbleweed" : fields["VERSION_ID"]
        var found: Distribution?
        for candidate in [id].compactMap({ $0 }) + like where !candidate.isEmpty {
            let mapped = candidate == "azurelinux" ? "azure" : candidate
            if let d = Distribution(rawValue: mapped) {
                found = d
                break
            }
        }
        if let d = found, d.isAptDistribution, let codename = fields["VERSION_CODENAME"], !codename.isEmpty {
            release = codename
        }
        if let d = found, release == nil || release == "" {
            release = d.defaultRelease.isEmpty ? nil : d.defaultRelease
        }
        return HostDistribution(distribution: found, id: found == nil ? id : nil, release: release)
    }

    /// The host, honouring `$MKOSI_HOST_DISTRIBUTION` and `$MKOSI_HOST_RELEASE` (both must be set
    /// for the release to be taken from the environment).
    public static let current: HostDistribution = detect()
}

/// CPU architectures, named as upstream names them.
public enum Architecture: String, CaseIterable, Sendable {
    case alpha, arc, arm, arm64, ia64, loongarch64
    case mipsLE = "mips-le"
    case mips64LE = "mips64-le"
    case parisc, ppc, ppc64
    case ppc64LE = "ppc64-le"
    case riscv32, riscv64, s390, s390x, tilegx, x86
    case x86_64 = "x86-64"

    /// The architecture name the UEFI specification uses, if it has one.
    public var efiName: String? {
        switch self {
        case .x86: return "ia32"
        case .x86_64: return "x64"
        case .arm: return "arm"
        case .arm64: return "aa64"
        case .riscv32: return "riscv32"
        case .riscv64: return "riscv64"
        case .loongarch64: return "loongarch64"
        default: return nil
        }
    }

    /// The architecture name grub's module directories use (`x86_64-efi`, `i386-pc`), if any.
    public var grubName: String? {
        switch self {
        case .x86_64: return "x86_64"
        case .x86: return "i386"
        case .arm64: return "arm64"
        case .arm: return "arm"
        default: return nil
        }
    }

    public var isX86: Bool { self == .x86 || self == .x86_64 }

    /// Maps `uname -m` to an architecture.
    public static func fromUname(_ machine: String) -> Architecture? {
        if machine.hasPrefix("armv") || machine == "armv8l" || machine == "armv8b" { return .arm }
        switch machine {
        case "aarch64", "aarch64_be": return .arm64
        case "alpha": return .alpha
        case "arc", "arceb": return .arc
        case "x86_64": return .x86_64
        case "i686", "i586", "i486", "i386": return .x86
        case "ia64": return .ia64
        case "parisc64", "parisc": return .parisc
        case "loongarch64": return .loongarch64
        case "mips64": return .mips64LE
        case "mips": return .mipsLE
        case "ppc64le": return .ppc64LE
        case "ppc64": return .ppc64
        case "ppc": return .ppc
        case "riscv64", "riscv": return .riscv64
        case "riscv32": return .riscv32
        case "s390x": return .s390x
        case "s390": return .s390
        case "tilegx": return .tilegx
        default: return nil
        }
    }

    /// The architecture this process runs on.
    public static let native: Architecture = {
        var u = utsname()
        uname(&u)
        let machine = withUnsafePointer(to: u.machine) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
        return fromUname(machine) ?? .x86_64
    }()
}
