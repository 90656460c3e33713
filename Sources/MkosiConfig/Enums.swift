import MkosiCore

/// A choice-valued setting's values as a Swift enum. The settings table derives the values it
/// accepts (`ConfigEnum`), the command-line choices and completions from `allCases`, so the
/// list of values exists only here.
public protocol SettingEnum: SettingValue, RawRepresentable, CaseIterable, Sendable, Equatable where RawValue == String {
    /// The name upstream's error messages use ("'x' is not a valid OutputFormat").
    static var enumName: String { get }
}

/// A closed set of string values a setting accepts, derived from a `SettingEnum`.
public struct ConfigEnum: Sendable {
    public let name: String
    public let values: [String]
    /// The Swift type the values come from (for the table's self-checks).
    public let typeName: String

    public init<E: SettingEnum>(_ type: E.Type) {
        self.name = E.enumName
        self.values = E.allCases.map(\.rawValue)
        self.typeName = _typeName(E.self, qualified: false)  // not String(describing:), which looks up conformances (~1 ms at startup)
    }

    public func contains(_ value: String) -> Bool { values.contains(value) }

    /// Parses `value`, throwing upstream's error for anything else.
    public func parse(_ value: String) throws -> String {
        guard contains(value) else { throw MkosiError.config("'\(value)' is not a valid \(name)") }
        return value
    }

    public static let distribution = ConfigEnum(Distribution.self)
    public static let architecture = ConfigEnum(Architecture.self)
    public static let outputFormat = ConfigEnum(OutputFormat.self)
    public static let manifestFormat = ConfigEnum(ManifestFormat.self)
    public static let feature = ConfigEnum(ConfigFeature.self)
    public static let bootloader = ConfigEnum(Bootloader.self)
    public static let biosBootloader = ConfigEnum(BiosBootloader.self)
    public static let shimBootloader = ConfigEnum(ShimBootloader.self)
    public static let unifiedKernelImage = ConfigEnum(UnifiedKernelImage.self)
    public static let cacheOnly = ConfigEnum(CacheOnly.self)
    public static let firmware = ConfigEnum(Firmware.self)
    public static let console = ConfigEnum(ConsoleMode.self)
    public static let network = ConfigEnum(Network.self)
    public static let vmm = ConfigEnum(VirtualMachineMonitor.self)
    public static let diskType = ConfigEnum(DiskType.self)
    public static let ssh = ConfigEnum(SshMode.self)
    public static let incremental = ConfigEnum(Incremental.self)
    public static let buildSourcesEphemeral = ConfigEnum(BuildSourcesEphemeral.self)
    public static let verity = ConfigEnum(Verity.self)
    public static let secureBootSignTool = ConfigEnum(SecureBootSignTool.self)
    public static let artifactOutput = ConfigEnum(ArtifactOutput.self)
    public static let driveFlag = ConfigEnum(DriveFlag.self)
    public static let keySourceType = ConfigEnum(KeySourceType.self)
    public static let certificateSourceType = ConfigEnum(CertificateSourceType.self)
    public static let docFormat = ConfigEnum(DocFormat.self)
    public static let toolsTreeProfile = ConfigEnum(ToolsTreeProfile.self)
    public static let initrdProfile = ConfigEnum(InitrdProfile.self)
    public static let compression = ConfigEnum(Compression.self)

    /// Every enum above, for the table's self-checks.
    public static let all: [ConfigEnum] = [
        distribution, architecture, outputFormat, manifestFormat, feature, bootloader, biosBootloader, shimBootloader,
        unifiedKernelImage, cacheOnly, firmware, console, network, vmm, diskType, ssh, incremental, buildSourcesEphemeral,
        verity, secureBootSignTool, artifactOutput, driveFlag, keySourceType, certificateSourceType, docFormat,
        toolsTreeProfile, initrdProfile, compression,
    ]
}

/// The command-line choices of a setting: its enum's values, and `""` (reset) where accepted.
public struct Choices: Sendable {
    public let values: ConfigEnum
    public let allowsEmpty: Bool

    public static func of(_ e: ConfigEnum) -> Choices { Choices(values: e, allowsEmpty: false) }
    public static func orEmpty(_ e: ConfigEnum) -> Choices { Choices(values: e, allowsEmpty: true) }

    public var strings: [String] { values.values + (allowsEmpty ? [""] : []) }
}

extension Distribution: SettingEnum { public static var enumName: String { "Distribution" } }
extension Architecture: SettingEnum { public static var enumName: String { "Architecture" } }

/// `Format=`.
public enum OutputFormat: String, SettingEnum {
    case confext, cpio, directory, disk, esp, none, portable, sysext, tar, uki, oci, addon
    public static var enumName: String { "OutputFormat" }

    /// Extensions of another image (upstream's `is_extension_image`): they carry only what they add.
    public var isExtension: Bool { [.sysext, .confext, .addon].contains(self) }
    /// Extensions and portable service images (upstream's `is_extension_or_portable_image`).
    public var isExtensionOrPortable: Bool { isExtension || self == .portable }
    /// Formats systemd-repart writes as a partitioned image.
    public var isPartitionedImage: Bool { [.disk, .esp, .sysext, .confext, .portable].contains(self) }
    /// Formats whose output file `CompressOutput=` compresses.
    public var isCompressible: Bool { [.tar, .cpio, .disk, .sysext, .confext, .portable].contains(self) }
    /// Formats that can never boot on their own (`Bootable=auto` turns into no).
    public var isNeverBootable: Bool { [.cpio, .none, .oci, .uki, .sysext, .confext, .portable, .addon].contains(self) }
    /// Formats that need an initrd to boot (they carry a kernel with an initrd of their own).
    public var needsInitrd: Bool { [.cpio, .uki, .esp].contains(self) }
    /// Formats that can carry Secure Boot signatures, verity or encryption (`summary` shows their
    /// validation settings).
    public var isSignable: Bool { isExtensionOrPortable || [.disk, .uki, .esp].contains(self) }
    /// Formats that produce a file extension upstream's `OutputExtension=` default names.
    public var defaultExtension: String {
        switch self {
        case .confext, .disk, .esp, .portable, .sysext: return "raw"
        case .cpio: return "cpio"
        case .tar: return "tar"
        case .uki, .addon: return "efi"
        case .directory, .none, .oci: return ""
        }
    }
}

public enum ManifestFormat: String, SettingEnum {
    case json, changelog
    public static var enumName: String { "ManifestFormat" }
}

/// `auto`/`enabled`/`disabled` settings (booleans accepted too).
public enum ConfigFeature: String, SettingEnum {
    case auto, enabled, disabled
    public static var enumName: String { "ConfigFeature" }
}

public enum Bootloader: String, SettingEnum {
    case none, uki
    case systemdBoot = "systemd-boot"
    case grub
    case ukiSigned = "uki-signed"
    case systemdBootSigned = "systemd-boot-signed"
    case grubSigned = "grub-signed"
    public static var enumName: String { "Bootloader" }

    public var isSigned: Bool { [.ukiSigned, .systemdBootSigned, .grubSigned].contains(self) }
    public var isUKI: Bool { self == .uki || self == .ukiSigned }
    public var isSystemdBoot: Bool { self == .systemdBoot || self == .systemdBootSigned }
    public var isGrub: Bool { self == .grub || self == .grubSigned }
}

public enum BiosBootloader: String, SettingEnum {
    case none, grub
    public static var enumName: String { "BiosBootloader" }
}

public enum ShimBootloader: String, SettingEnum {
    case none, signed, unsigned
    public static var enumName: String { "ShimBootloader" }
}

public enum UnifiedKernelImage: String, SettingEnum {
    case none, auto, signed, unsigned
    public static var enumName: String { "UnifiedKernelImage" }
}

public enum CacheOnly: String, SettingEnum {
    case always, auto, metadata, never
    public static var enumName: String { "Cacheonly" }
}

public enum Firmware: String, SettingEnum {
    case auto, linux
    case linuxNoInitrd = "linux-noinitrd"
    case uefi
    case uefiSecureBoot = "uefi-secure-boot"
    public static var enumName: String { "Firmware" }

    /// Direct kernel boot, without UEFI firmware.
    public var isLinux: Bool { self == .linux || self == .linuxNoInitrd }
}

public enum ConsoleMode: String, SettingEnum {
    case interactive
    case readOnly = "read-only"
    case native, gui, headless
    public static var enumName: String { "ConsoleMode" }
}

public enum Network: String, SettingEnum {
    case interface, user, none
    public static var enumName: String { "Network" }
}

public enum VirtualMachineMonitor: String, SettingEnum {
    case qemu, vmspawn
    public static var enumName: String { "Vmm" }
}

public enum DiskType: String, SettingEnum {
    case virtioBlk = "virtio-blk"
    case virtioScsi = "virtio-scsi"
    case nvme
    case scsiCD = "scsi-cd"
    public static var enumName: String { "QemuDiskType" }
}

public enum SshMode: String, SettingEnum {
    case always, auto, runtime, never
    public static var enumName: String { "Ssh" }
}

public enum Incremental: String, SettingEnum {
    case yes, no, strict
    public static var enumName: String { "Incremental" }
}

public enum BuildSourcesEphemeral: String, SettingEnum {
    case yes, no, buildcache
    public static var enumName: String { "BuildSourcesEphemeral" }
}

public enum Verity: String, SettingEnum {
    case disabled, hash, signed, `defer`, auto
    public static var enumName: String { "Verity" }
}

public enum SecureBootSignTool: String, SettingEnum {
    case auto, sbsign
    case systemdSbsign = "systemd-sbsign"
    public static var enumName: String { "SecureBootSignTool" }
}

/// `SplitArtifacts=` members.
public enum ArtifactOutput: String, SettingEnum {
    case uki, kernel, initrd, partitions, tar, pcrs, roothash
    case osRelease = "os-release"
    case kernelModulesInitrd = "kernel-modules-initrd"
    case repartDefinitions = "repart-definitions"
    public static var enumName: String { "ArtifactOutput" }
}

public enum DriveFlag: String, SettingEnum {
    case persist
    public static var enumName: String { "DriveFlag" }
}

public enum KeySourceType: String, SettingEnum {
    case file, engine, provider
    public static var enumName: String { "KeySourceType" }
}

public enum CertificateSourceType: String, SettingEnum {
    case file, provider
    public static var enumName: String { "CertificateSourceType" }
}

/// `--doc-format`: upstream's choices, and `roff` (this implementation's addition: the man page
/// source on standard output, used to install the man pages).
public enum DocFormat: String, SettingEnum {
    case auto, markdown, man, pandoc, system, roff
    public static var enumName: String { "DocFormat" }
}

public enum ToolsTreeProfile: String, SettingEnum {
    case devel, misc
    case packageManager = "package-manager"
    case runtime
    public static var enumName: String { "ToolsTreeProfile" }
}

public enum InitrdProfile: String, SettingEnum {
    case lvm, network, nfs, pkcs11, plymouth, raid
    public static var enumName: String { "InitrdProfile" }
}

/// `CompressOutput=` algorithms.
public enum Compression: String, SettingEnum {
    case none, zstd, xz, bz2, gz, lz4, lzma
    public static var enumName: String { "Compression" }

    /// The spellings accepted besides the names (`zst`, `gzip`).
    public static func named(_ s: String) -> Compression? {
        switch s {
        case "zst": return .zstd
        case "gzip": return .gz
        default: return Compression(rawValue: s)
        }
    }

    /// The file name suffix (`zst` for zstd).
    public var fileExtension: String { self == .zstd ? "zst" : rawValue }
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
