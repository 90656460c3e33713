import MkosiConfig
import MkosiCore
import MkosiSandbox

/// A distribution's package manager as the build uses it. The pipeline, the boot steps, the
/// scripts and `clean` only talk to this protocol; apt, dnf, zypper, pacman and apk implement
/// it, each with its own repository format, cache layout and database.
public protocol PackageManager {
    /// The name in messages and step names (`apt`).
    static var name: String { get }

    /// The manifest's package type (`deb`, `rpm`, `pkg`, `apk`).
    static var packageType: String { get }

    /// Removes the downloaded repository metadata from the package cache (`clean -ff`); the
    /// downloaded packages stay.
    static func removeMetadata(packageCache: String)

    /// The program (`apt`, `dnf`, `dnf5`, `zypper`, `pacman`, `apk`), and the name of its
    /// state and cache directories below /var/lib and /var/cache (`apt`, `dnf`, `libdnf5`,
    /// `zypp`, …): `CleanPackageMetadata=` removes those from an image that lacks the program.
    var executable: String { get }
    var stateDirectory: String { get }

    init(_ context: any InstallerContext)

    /// Writes the package manager's configuration into the sandbox tree (repositories, keys,
    /// proxy; what `SandboxTrees=` brings takes precedence), builds the local repository of
    /// `PackageDirectories=`, and makes the repository metadata available following `CacheOnly=`
    /// and the build session.
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

    /// The changelog of `package`'s source package (`ManifestFormat=changelog`), nil when the
    /// package manager keeps none.
    func changelog(_ package: InstalledPackage) throws -> String?

    /// The sandbox the package manager runs in, with the image at `/buildroot`; scripts that run
    /// outside the image get it too, so that the helper commands work.
    func sandbox() -> Sandbox
    func environment() -> [String: String]

    /// The commands scripts outside the image find on `$PATH`: `mkosi-install`, `mkosi-upgrade`,
    /// `mkosi-remove`, `mkosi-reinstall`, and wrappers named like the package manager (and rpm)
    /// that run it on the image: the command line each runs (arguments are appended).
    var helperCommands: [(name: String, command: String)] { get }
}

/// `CleanPackageMetadata=` as upstream: with `yes` every package database and package manager
/// state of the image goes; with `auto`, each goes only when the image lacks the program that
/// reads it (rpm, dnf5, dpkg, and the image's own package manager).
public func cleanPackageMetadata(root: String, manager: any PackageManager, always: Bool) {
    let table: [(String, [String])] = [
        ("rpm", ["var/lib/rpm", "usr/lib/sysimage/rpm"]), ("dnf5", ["usr/lib/sysimage/libdnf5"]), ("dpkg", ["var/lib/dpkg"]),
        (manager.executable, ["var/lib/\(manager.stateDirectory)", "var/cache/\(manager.stateDirectory)"]),
    ]
    for (program, paths) in table {
        let present = ["usr/bin", "usr/sbin", "bin", "sbin"].contains { FS.exists(Path.join(root, "\($0)/\(program)")) }
        if always || !present {
            for path in paths { FS.removeTree(Path.join(root, path)) }
        }
    }
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
    /// The source package it was built from (`ManifestFormat=changelog` groups by it).
    public var source: String? = nil
    /// How the package database names it for a changelog query (rpm's NEVRA), else `name`.
    public var query: String? = nil
}
