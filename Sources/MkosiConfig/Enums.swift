import MkosiCore

/// A closed set of string values a setting accepts, named as in upstream's error messages
/// ("'x' is not a valid OutputFormat").
public struct ConfigEnum: Sendable {
    public let name: String
    public let values: [String]

    public init(_ name: String, _ values: [String]) {
        self.name = name
        self.values = values
    }

    public func contains(_ value: String) -> Bool { values.contains(value) }

    /// Parses `value`, throwing upstream's error for anything else.
    public func parse(_ value: String) throws -> String {
        guard contains(value) else { throw MkosiError.config("'\(value)' is not a valid \(name)") }
        return value
    }

    public static let distribution = ConfigEnum("Distribution", Distribution.allCases.map(\.rawValue))
    public static let architecture = ConfigEnum("Architecture", Architecture.allCases.map(\.rawValue))
    public static let outputFormat = ConfigEnum("OutputFormat", [
        "confext", "cpio", "directory", "disk", "esp", "none", "portable", "sysext", "tar", "uki", "oci", "addon",
    ])
    public static let manifestFormat = ConfigEnum("ManifestFormat", ["json", "changelog"])
    public static let feature = ConfigEnum("ConfigFeature", ["auto", "enabled", "disabled"])
    public static let bootloader = ConfigEnum("Bootloader", [
        "none", "uki", "systemd-boot", "grub", "uki-signed", "systemd-boot-signed", "grub-signed",
    ])
    public static let biosBootloader = ConfigEnum("BiosBootloader", ["none", "grub"])
    public static let shimBootloader = ConfigEnum("ShimBootloader", ["none", "signed", "unsigned"])
    public static let unifiedKernelImage = ConfigEnum("UnifiedKernelImage", ["none", "auto", "signed", "unsigned"])
    public static let cacheOnly = ConfigEnum("Cacheonly", ["always", "auto", "metadata", "never"])
    public static let firmware = ConfigEnum("Firmware", ["auto", "linux", "linux-noinitrd", "uefi", "uefi-secure-boot"])
    public static let console = ConfigEnum("ConsoleMode", ["interactive", "read-only", "native", "gui", "headless"])
    public static let network = ConfigEnum("Network", ["interface", "user", "none"])
    public static let vmm = ConfigEnum("Vmm", ["qemu", "vmspawn"])
    public static let diskType = ConfigEnum("QemuDiskType", ["virtio-blk", "virtio-scsi", "nvme", "scsi-cd"])
    public static let ssh = ConfigEnum("Ssh", ["always", "auto", "runtime", "never"])
    public static let incremental = ConfigEnum("Incremental", ["yes", "no", "strict"])
    public static let buildSourcesEphemeral = ConfigEnum("BuildSourcesEphemeral", ["yes", "no", "buildcache"])
    public static let verity = ConfigEnum("Verity", ["disabled", "hash", "signed", "defer", "auto"])
    public static let secureBootSignTool = ConfigEnum("SecureBootSignTool", ["auto", "sbsign", "systemd-sbsign"])
    public static let artifactOutput = ConfigEnum("ArtifactOutput", [
        "uki", "kernel", "initrd", "partitions", "tar", "pcrs", "roothash", "os-release",
        "kernel-modules-initrd", "repart-definitions",
    ])
    public static let driveFlag = ConfigEnum("DriveFlag", ["persist"])
    public static let keySourceType = ConfigEnum("KeySourceType", ["file", "engine", "provider"])
    public static let certificateSourceType = ConfigEnum("CertificateSourceType", ["file", "provider"])
    public static let docFormat = ConfigEnum("DocFormat", ["auto", "markdown", "man", "pandoc", "system"])
    public static let toolsTreeProfile = ConfigEnum("ToolsTreeProfile", ["devel", "misc", "package-manager", "runtime"])
    public static let initrdProfile = ConfigEnum("InitrdProfile", ["lvm", "network", "nfs", "pkcs11", "plymouth", "raid"])
}

/// Compression algorithms; `zst` and `gzip` are accepted as names for `zstd` and `gz`.
public enum Compression {
    public static let names: [String: String] = [
        "none": "none", "zstd": "zstd", "zst": "zstd", "xz": "xz", "bz2": "bz2", "gz": "gz", "gzip": "gz",
        "lz4": "lz4", "lzma": "lzma",
    ]
}

/// Booleans as upstream spells them.
public enum Boolean {
    /// true/false for the accepted spellings (case-insensitive), nil for anything else.
    public static func tryParse(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "1", "true", "yes", "y", "t", "on", "always": return true
        case "0", "false", "no", "n", "f", "off", "never": return false
        default: return nil
        }
    }

    public static func parse(_ s: String) throws -> Bool {
        guard let b = tryParse(s) else { throw MkosiError.config("Invalid boolean literal: '\(s)'") }
        return b
    }
}
