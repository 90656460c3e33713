import MkosiConfig
import MkosiCore
import MkosiSandbox

/// A distribution's package manager as the build uses it. The pipeline, the boot steps, the
/// scripts and `clean` only talk to this protocol; apt is the first implementation, dnf,
/// zypper, pacman and apk come next (each with its own repository format, cache layout and
/// database), without the pipeline changing.
public protocol PackageManager {
    /// The name in messages and step names (`apt`).
    static var name: String { get }

    /// The directories below the package cache that hold downloaded repository metadata
    /// (removed by `clean -ff` and `Incremental=`'s metadata refresh rules).
    static var metadataCacheDirectories: [String] { get }

    /// The package manager's state and caches inside the image, removed by
    /// `CleanPackageMetadata=` (`imageExecutable` decides for `auto`).
    static var imageMetadataPaths: [String] { get }

    /// A program whose presence in the image means the image can use its package manager, so
    /// `CleanPackageMetadata=auto` keeps the metadata.
    static var imageExecutable: String { get }

    /// The distribution's name for an architecture (`amd64` for x86-64).
    static func architectureName(_ architecture: Architecture) -> String

    init(_ context: any InstallerContext)

    /// Writes the package manager's configuration into the sandbox (repositories, keys, proxy,
    /// options from `SandboxTrees=`), builds the local repository of `PackageDirectories=`, and
    /// makes the repository metadata available following `CacheOnly=` and the build session.
    func setup() throws

    /// Creates a minimal system in the empty image root.
    func bootstrap() throws

    func install(_ packages: [String]) throws
    func remove(_ packages: [String]) throws

    /// Makes packages that scripts left in `$PACKAGEDIR` installable.
    func refreshLocalRepository() throws

    /// Fetches `package` without installing it and unpacks its files into `directory` (to borrow
    /// files the image lacks, such as systemd-boot's EFI binaries).
    func extract(_ package: String, into directory: String) throws

    /// The packages installed in the image, for the manifest; nil when the image has no
    /// package database.
    func installedPackages() throws -> [InstalledPackage]?

    /// The sandbox the package manager runs in, with the image at `/buildroot`; scripts that run
    /// outside the image get it too, so that the helper commands work.
    func sandbox() -> Sandbox
    func environment() -> [String: String]

    /// `mkosi-install`, `mkosi-upgrade`, `mkosi-remove`, `mkosi-reinstall`: the command line each
    /// runs (arguments are appended).
    var helperCommands: [(name: String, command: String)] { get }
}

/// One package of the image's manifest.
public struct InstalledPackage: Sendable {
    /// `deb`, `rpm`, …
    public var type: String
    public var name: String
    public var version: String
    public var architecture: String
    /// Bytes.
    public var size: Int
    /// When it was installed (seconds since the epoch), if the database says.
    public var installTime: Int?
}

/// What the build needs to know about a distribution besides its package manager.
public struct DistributionDescription {
    public let distribution: Distribution
    /// nil for distributions this mkosi cannot build yet (the settings table refuses them).
    public let packageManager: (any PackageManager.Type)?
    /// The keyring repositories are checked against, inside the tools tree or host.
    public let keyring: String?
    /// The package with systemd-boot's EFI binaries, borrowed when the image lacks them.
    public let bootLoaderPackage: String?

    /// The distribution's default release (when the configuration names none).
    public var defaultRelease: String { distribution.defaultRelease }

    /// Whether installing `package` makes the image bootable by default.
    public func isKernelPackage(_ package: String) -> Bool { distribution.isKernelPackage(package) }

    /// The repositories of `config` (mirrors, suites, components), as the package manager
    /// renders them; `LocalMirror=` replaces them all.
    public func repositories(_ config: Config) -> [Repository] {
        let trusted = !config[.repositoryKeyCheck]
        if let local = config[.localMirror] {
            return [Repository(url: local, suites: [config.release], components: ["main"], keyring: nil)]
        }
        let release = config.release
        let components = ["main"] + config[.repositories]
        let keyring = trusted ? nil : self.keyring
        func repo(_ url: String, _ suites: [String]) -> Repository {
            Repository(url: url, suites: suites, components: components, keyring: keyring)
        }
        switch distribution {
        case .ubuntu:
            let mirror = config[.mirror]
                ?? (config.architecture == .x86_64 || config.architecture == .x86 ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com")
            return [repo(mirror, [release, "\(release)-updates", "\(release)-security"])]
        case .kali:
            return [repo(config[.mirror] ?? "http://http.kali.org/kali", [release])]
        case .debian:
            let rolling = ["unstable", "sid"].contains(release)
            if let snapshot = config[.snapshot] {
                // snapshot.debian.org: one archive state; there are no -updates suites there.
                let mirror = config[.mirror] ?? "https://snapshot.debian.org"
                var result = [repo(Repository.join(mirror, "archive/debian/\(snapshot)"), [release])]
                if !rolling { result.append(repo(Repository.join(mirror, "archive/debian-security/\(snapshot)"), ["\(release)-security"])) }
                return result
            }
            let mirror = config[.mirror] ?? "http://deb.debian.org"
            var result = [repo(Repository.join(mirror, "debian"), rolling ? [release] : [release, "\(release)-updates"])]
            if !rolling { result.append(repo(Repository.join(mirror, "debian-security"), ["\(release)-security"])) }
            return result
        default:
            return []
        }
    }

    /// The repositories an image that has the package manager itself uses later, as upstream
    /// writes them into it: the distribution's public mirrors (not `Mirror=`, `Snapshot=` or
    /// `LocalMirror=`, which are for building), with sources and debug symbols.
    public func imageRepositories(_ config: Config) -> [Repository] {
        let release = config.release
        let components = ["main"] + config[.repositories]
        func repo(_ url: String, _ suite: String) -> Repository {
            Repository(url: url, suites: [suite], components: components, keyring: keyring, types: ["deb", "deb-src"])
        }
        switch distribution {
        case .debian:
            var result = [repo("http://deb.debian.org/debian", release), repo("http://deb.debian.org/debian-debug", "\(release)-debug")]
            if !["unstable", "sid"].contains(release) {
                result += [repo("http://deb.debian.org/debian", "\(release)-updates"),
                           repo("http://deb.debian.org/debian-security", "\(release)-security")]
            }
            return result
        case .ubuntu:
            let x86 = config.architecture == .x86_64 || config.architecture == .x86
            let main = x86 ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com"
            return [repo(main, release), repo(main, "\(release)-updates"),
                    repo(x86 ? "http://security.ubuntu.com/ubuntu" : "http://ports.ubuntu.com", "\(release)-security")]
        case .kali:
            return [repo("http://http.kali.org/kali", release)]
        default:
            return []
        }
    }

    /// The description of `distribution`.
    public static func of(_ distribution: Distribution) -> DistributionDescription {
        switch distribution {
        case .debian:
            return DistributionDescription(distribution: distribution, packageManager: Apt.self,
                                           keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
                                           bootLoaderPackage: "systemd-boot-efi")
        case .ubuntu:
            return DistributionDescription(distribution: distribution, packageManager: Apt.self,
                                           keyring: "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
                                           bootLoaderPackage: "systemd-boot-efi")
        case .kali:
            return DistributionDescription(distribution: distribution, packageManager: Apt.self,
                                           keyring: "/usr/share/keyrings/kali-archive-keyring.gpg",
                                           bootLoaderPackage: "systemd-boot-efi")
        default:
            return DistributionDescription(distribution: distribution, packageManager: nil, keyring: nil, bootLoaderPackage: nil)
        }
    }
}

/// One repository: a URL with suites (or releases) and components, checked against `keyring`
/// (nil: trusted without a signature check).
public struct Repository: Sendable, Equatable {
    public var url: String
    public var suites: [String]
    public var components: [String]
    public var keyring: String?
    /// Package types (`deb`, `deb-src`).
    public var types: [String] = ["deb"]

    public init(url: String, suites: [String], components: [String], keyring: String?, types: [String] = ["deb"]) {
        self.url = url
        self.suites = suites
        self.components = components
        self.keyring = keyring
        self.types = types
    }

    static func join(_ base: String, _ path: String) -> String { (base.hasSuffix("/") ? base : base + "/") + path }
}
