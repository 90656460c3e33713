#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiGPT

/// `Format=sysext`, `confext` and `portable`: a disk image (a DDI) made by systemd-repart from
/// built-in partition definitions, as upstream's: an erofs root partition holding `/usr` and
/// `/opt` (sysext), `/etc` (confext) or everything (portable), with a verity hash partition and
/// a verity signature partition when the image is signed (`Verity=`, `VerityKey=`,
/// `VerityCertificate=`), and the files that make it one: the extension-release file, the
/// mount points of a portable service image.
public enum ExtensionImage {
    /// Whether the image gets verity and a signature: `Verity=auto` with a key and a certificate,
    /// `signed`, `hash` (no signature partition) and `defer` (one left to fill in later).
    static func isSigned(_ config: Config) -> Bool {
        switch config[.verity] {
        case .disabled: return false
        case .auto: return config[.verityKey] != nil && config[.verityCertificate] != nil
        default: return true
        }
    }

    /// Upstream's built-in definitions for `format` (`<format>[-unsigned].repart.d`), by file name.
    public static func definitions(_ format: OutputFormat, signed: Bool) -> [(name: String, text: String)] {
        let copies: [String] = switch format {
        case .sysext: ["/opt/", "/usr/"]
        case .confext: ["/etc/"]
        default: ["/"]
        }
        var root = "[Partition]\nType=root\nFormat=erofs\n" + copies.map { "CopyFiles=\($0)\n" }.joined()
        guard signed else { return [("10-root.conf", root + "Minimize=best\n")] }
        root += "Verity=data\nVerityMatchKey=root\nMinimize=best\n"
        return [
            ("10-root.conf", root),
            ("20-root-verity.conf", "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\nMinimize=best\n"),
            ("30-root-verity-sig.conf", "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n"),
        ]
    }

    /// Makes the image into the staging directory.
    static func make(_ context: BuildContext) throws {
        let config = context.config
        let dir = context.workspace + "/extension-definitions"
        FS.removeTree(dir)
        try FS.makeDirectories(dir)
        for (name, text) in definitions(config.format, signed: isSigned(config)) {
            try FS.writeAtomically(Path.join(dir, name), text)
        }
        try Disk.make(context, definitions: [dir], first: true, deferESP: false, split: config[.splitArtifacts].contains(.partitions))
    }

    /// sysext and confext images: `extension-release.<Output>` in `/usr/lib/extension-release.d`
    /// (sysext) or `/etc/extension-release.d` (confext). What the file has already stays; missing
    /// fields come from the image's os-release (`ID`, or `_any`; `SYSEXT_LEVEL`/`CONFEXT_LEVEL`;
    /// `VERSION_ID`), from `ImageId=` and `ImageVersion=` (`SYSEXT_ID`, `SYSEXT_VERSION_ID`), the
    /// scope (`SYSEXT_SCOPE` from `Environment=`, else `initrd system portable`) and the
    /// architecture.
    static func writeRelease(_ context: BuildContext) throws {
        let config = context.config
        guard config.format == .sysext || config.format == .confext else { return }
        let relative = releasePath(config)
        let path = Path.join(context.root, relative)
        try FS.makeDirectories(Path.dirname(path))
        let osRelease = context.imagePath("usr/lib/os-release").flatMap { try? FS.readText($0) }.map(EnvFile.parse) ?? []
        let existing = context.imagePath(relative).flatMap { try? FS.readText($0) }.map(EnvFile.parse) ?? []
        try FS.writeAtomically(path, releaseText(config, osRelease: osRelease, existing: existing,
                                                 environment: context.userEnvironment()))
    }

    static func releasePath(_ config: Config) -> String {
        (config.format == .sysext ? "usr/lib" : "etc") + "/extension-release.d/extension-release.\(config.output)"
    }

    /// The extension-release file's text (see `writeRelease`).
    public static func releaseText(_ config: Config, osRelease: [(key: String, value: String)],
                                   existing: [(key: String, value: String)], environment: [(String, String)]) -> String {
        let prefix = config.format == .sysext ? "SYSEXT" : "CONFEXT"
        func os(_ key: String) -> String? { osRelease.last(where: { $0.key == key })?.value }
        let has = Set(existing.map(\.key))
        var lines = existing.map { "\($0.key)=\($0.value)" }
        func add(_ key: String, _ value: String?) {
            guard !has.contains(key), let value else { return }
            lines.append("\(key)=\(value)")
        }
        add("ID", os("ID") ?? "_any")
        add("\(prefix)_LEVEL", os("\(prefix)_LEVEL").flatMap { $0.isEmpty ? nil : $0 })
        add("VERSION_ID", os("VERSION_ID").flatMap { $0.isEmpty ? nil : $0 })
        add("\(prefix)_ID", config[.imageID])
        add("\(prefix)_VERSION_ID", config[.imageVersion])
        add("\(prefix)_SCOPE", environment.last(where: { $0.0 == "\(prefix)_SCOPE" })?.1 ?? "initrd system portable")
        add("ARCHITECTURE", config.architecture.rawValue)
        return lines.map { $0 + "\n" }.joined()
    }

    /// The fields of the extension-release file, for the manifest.
    static func releaseFields(_ context: BuildContext) -> [(key: String, value: String)] {
        let config = context.config
        guard config.format == .sysext || config.format == .confext,
              let text = try? FS.readText(Path.join(context.root, releasePath(config))) else { return [] }
        return EnvFile.parse(text)
    }

    /// `VerityCertificate=` as `/usr/lib/verity.d/<name>.crt`, where systemd looks for the keys
    /// that may sign verity images; not for extension and portable images, which the image
    /// carrying the certificate verifies.
    static func installVerityCertificate(_ context: BuildContext) throws {
        let config = context.config
        guard let certificate = config[.verityCertificate], config[.verityCertificateSource].type == .file,
              !config.format.isExtensionOrPortable else { return }
        var name = Path.basename(certificate)
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
        let dir = Path.join(context.root, "usr/lib/verity.d")
        try FS.makeDirectories(dir)
        let target = Path.join(dir, name + ".crt")
        try HostCommand.run(["cp", certificate, target])
        chmod(target, 0o644)
    }

    /// Portable service images: the files portabled mounts over (`/etc/passwd`, `group`, `shadow`,
    /// `gshadow`, `nsswitch.conf`, `resolv.conf`, `machine-id`) exist, empty if the image has none.
    static func createMountpoints(_ context: BuildContext) throws {
        guard context.config.format == .portable else { return }
        let etc = Path.join(context.root, "etc")
        try FS.makeDirectories(etc)
        for name in ["passwd", "group", "shadow", "gshadow", "nsswitch.conf", "resolv.conf", "machine-id"] {
            let path = Path.join(etc, name)
            guard FS.lstat(path) == nil else { continue }
            try FS.writeAtomically(path, "", mode: name.hasSuffix("shadow") ? 0o600 : 0o644)
        }
    }
}
