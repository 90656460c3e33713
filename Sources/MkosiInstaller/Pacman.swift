#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// One pacman repository (a `[section]` of pacman.conf).
public struct PacmanRepository: Sendable, Equatable {
    public var id: String
    public var url: String
}

extension DistributionDescription {
    /// Arch Linux's repositories (Arch Linux ARM's on ARM): testing and debug ones first when
    /// `Repositories=` enables them, then core and extra.
    public func pacmanRepositories(_ config: Config) throws -> [PacmanRepository] {
        if let local = config[.localMirror] { return [PacmanRepository(id: "core", url: local)] }
        let arm = config.architecture == .arm || config.architecture == .arm64
        let snapshot = config[.snapshot]
        let mirror: String
        if arm {
            if snapshot != nil && config[.mirror] == nil {
                throw MkosiError(.config, "There is no known public mirror for snapshots of Arch Linux ARM")
            }
            mirror = config[.mirror] ?? "http://mirror.archlinuxarm.org"
        } else {
            mirror = config[.mirror] ?? (snapshot != nil ? "https://archive.archlinux.org" : "https://fastly.mirror.pkgbuild.com")
        }
        let url: String
        if let snapshot { url = Self.joinMirror(mirror, "repos/\(snapshot)/$repo/os/$arch") }
        else if arm { url = Self.joinMirror(mirror, "$arch/$repo") }
        else { url = Self.joinMirror(mirror, "$repo/os/$arch") }
        let optional = ["core-testing", "core-testing-debug", "extra-testing", "extra-testing-debug", "core-debug", "extra-debug",
                        "multilib-testing", "multilib"]
        var ids = optional.filter { config[.repositories].contains($0) } + ["core", "extra"]
        if arm { ids.append("alarm") }
        return ids.map { PacmanRepository(id: $0, url: url) }
    }
}

/// pacman, for Arch Linux. It runs from the tools with `--root=/buildroot`; the sync
/// databases live in the package cache, the local database in the image, and the keyring is
/// populated per build from the keyrings of the tools and `SandboxTrees=`.
public struct Pacman: PackageManager {
    let context: any InstallerContext
    var config: Config { context.config }

    public init(_ context: any InstallerContext) { self.context = context }

    public static let name = "pacman"
    public static let packageType = "pkg"
    public let executable = "pacman"
    public let stateDirectory = "pacman"

    public static func removeMetadata(packageCache: String) { FS.removeTree(Path.join(packageCache, "lib/pacman/sync")) }

    public var helperCommands: [(name: String, command: String)] {
        [("pacman", context.wrapper((try? command()) ?? ["pacman"])),
         ("mkosi-install", "pacman --sync --needed"), ("mkosi-upgrade", "pacman --sync --sysupgrade --needed"),
         ("mkosi-remove", "pacman --remove --recursive --nosave"), ("mkosi-reinstall", "pacman --sync")]
    }

    var keyring: String { context.workspace + "/pacman-keyring" }
    var syncDirectory: String { Path.join(context.packageCache, "lib/pacman/sync") }
    var packageDirectory: String { Path.join(context.packageCache, "cache/pacman/pkg") }

    public func setup() throws {
        try context.requireTool("pacman", package: "pacman-package-manager", for: "Building Arch Linux")
        try writeConfiguration(try context.distribution.pacmanRepositories(config))
        for dir in [syncDirectory, packageDirectory, Path.join(context.sandboxEtc, "pacman.d/gnupg")] { try FS.makeDirectories(dir) }
        if config[.repositoryKeyCheck] {
            try context.requireTool("pacman-key", package: "pacman-package-manager", for: "Checking Arch Linux's signatures")
            if config[.repositoryKeyFetch] { try fetchKeyring() }
            try populateKeyring()
        }
        // The local repository's database goes straight into the sync directory; pacman never
        // syncs it (its Usage= has no Sync).
        try buildLocalRepository()
        try syncMetadata()
    }

    /// pacman.conf as upstream writes it (unless `SandboxTrees=` brought one, from which only
    /// `DownloadUser` is dropped: that user does not exist in the sandbox).
    func writeConfiguration(_ repositories: [PacmanRepository]) throws {
        let etc = context.sandboxEtc
        let local = etc + "/mkosi-local.conf"
        if !FS.exists(local) { try FS.writeAtomically(local, "") }
        let path = etc + "/pacman.conf"
        if FS.exists(path) {
            let lines = try FS.readText(path).split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !String($0).trimmed().hasPrefix("DownloadUser") }
            try FS.writeAtomically(path, lines.joined(separator: "\n"))
            return
        }
        let hasIncludes = ((try? FS.listDirectory(etc + "/pacman.d")) ?? []).contains { $0.hasSuffix(".conf") }
        try FS.writeAtomically(path, Self.configuration(repositories, keyCheck: config[.repositoryKeyCheck],
                                                        architecture: try context.distribution.architectureName(config.architecture),
                                                        withDocs: config[.withDocs], includes: hasIncludes))
    }

    /// pacman.conf, byte for byte as upstream writes it.
    public static func configuration(_ repositories: [PacmanRepository], keyCheck: Bool, architecture: String, withDocs: Bool,
                                     includes: Bool) -> String {
        var text = "[options]\nSigLevel = \(keyCheck ? "Required DatabaseOptional" : "Never")\nLocalFileSigLevel = Optional\n"
            + "ParallelDownloads = 5\nArchitecture = \(architecture)\n\n"
        if !withDocs {
            text += ["usr/share/doc/*", "usr/share/man/*", "usr/share/groff/*", "usr/share/gtk-doc/*", "usr/share/info/*"]
                .map { "NoExtract = \($0)\n" }.joined()
        }
        // First, so that the local repository takes precedence over every other one.
        text += "Include = /etc/mkosi-local.conf\n"
        if includes { text += "\nInclude = /etc/pacman.d/*.conf\n" }
        for repo in repositories { text += "\n[\(repo.id)]\nServer = \(repo.url)\n" }
        return text
    }

    /// With `RepositoryKeyFetch=yes`: archlinux-keyring is downloaded (unchecked) from the
    /// repositories and its keyrings go into the sandbox tree, as upstream does.
    func fetchKeyring() throws {
        Log.info("Downloading the Arch Linux keyring")
        let path = context.sandboxEtc + "/pacman.conf"
        let original = try FS.readText(path)
        try FS.writeAtomically(path, original + "\n[options]\nSigLevel = Never\n")
        defer { try? FS.writeAtomically(path, original) }
        try invoke("--sync", ["--refresh", "--downloadonly", "--assume-installed", "pacman", "archlinux-keyring"], apiVFS: false)
        let packages = ((try? FS.listDirectory(packageDirectory)) ?? [])
            .filter { $0.hasPrefix("archlinux-keyring-") && $0.contains(".pkg.tar") && !$0.hasSuffix(".sig") }
            .sorted { Version.compare($0, $1) < 0 }
        guard let package = packages.last else {
            throw MkosiError(.invalidData, "Could not find archlinux-keyring package in \(packageDirectory) after downloading it")
        }
        let target = Path.join(context.sandboxTree, "usr/share/pacman/keyrings")
        try FS.makeDirectories(Path.join(context.sandboxTree, "usr/share"))
        var s = context.bareToolsSandbox()
        s.bind(packageDirectory, "/work/pkg", readOnly: true)
        s.bind(Path.join(context.sandboxTree, "usr/share"), "/work/share")
        try context.run(["bsdtar", "-x", "-f", "/work/pkg/\(package)", "-C", "/work/share", "--strip-components", "2",
                         "usr/share/pacman/keyrings"], in: s)
        guard FS.isDirectory(target) else { throw MkosiError(.invalidData, "\(package) has no usr/share/pacman/keyrings") }
    }

    /// `pacman-key --init` and `--populate` into this build's keyring. Debian's pacman reads
    /// keyrings from /usr/share/keyrings, so the sandbox trees' pacman keyrings are copied there.
    func populateKeyring() throws {
        let tree = Path.join(context.sandboxTree, "usr/share/pacman/keyrings")
        if FS.isDirectory(tree), HostDistribution.detect(root: context.toolsRoot).distribution?.isAptDistribution == true {
            let debian = Path.join(context.sandboxTree, "usr/share/keyrings")
            try FS.makeDirectories(debian)
            try HostCommand.run(["cp", "-rL", "--no-target-directory", tree, debian])
        }
        try FS.makeDirectories(keyring)
        var s = sandbox(apiVFS: false)
        s.bind(keyring, "/etc/pacman.d/gnupg")
        Log.info("Populating pacman keyring")
        try context.run(["pacman-key", "--init"], in: s, environment: environment())
        try context.run(["pacman-key", "--populate"], in: s, environment: environment())
    }

    public func sandbox() -> Sandbox { sandbox(apiVFS: true) }

    func sandbox(apiVFS: Bool) -> Sandbox {
        var s = context.packageManagerSandbox(apiVFS: apiVFS)
        s.add(.directory("/var/lib/pacman"))
        s.bind(syncDirectory, "/var/lib/pacman/sync")
        s.bind(packageDirectory, "/var/cache/pacman/pkg")
        // pacman writes downloads to the first writable cache directory: the local repository
        // (empty when there is none) is read-only so they go to the package cache.
        try? FS.makeDirectories(context.workspace + "/repository")
        s.bind(context.workspace + "/repository", "/var/cache/pacman/mkosi", readOnly: true)
        if FS.isDirectory(keyring) { s.bind(keyring, "/etc/pacman.d/gnupg", readOnly: true) }
        // The local database belongs to the image; in the build overlay, to its upper directory
        // (see `invoke`), so that the packages installed there stay out of the image's database.
        s.bind(Path.join(context.overlayUpper ?? context.root, "var/lib/pacman/local"), "/var/lib/pacman/local", optional: true)
        return s
    }

    public func environment() -> [String: String] { context.packageManagerEnvironment() }

    func command() throws -> [String] {
        ["pacman", "--root=/buildroot", "--logfile=/dev/null", "--dbpath=/var/lib/pacman",
         "--cachedir=/var/cache/pacman/mkosi", "--cachedir=/var/cache/pacman/pkg", "--hookdir=/buildroot/etc/pacman.d/hooks",
         "--arch", try context.distribution.architectureName(config.architecture), "--color", "auto", "--noconfirm"]
    }

    func invoke(_ operation: String, _ arguments: [String], apiVFS: Bool = true) throws {
        // pacman's local database is a bind mount, which overlayfs cannot see through: with
        // Overlay=yes the base tree's database is copied up into the root first, and in the build
        // overlay the image's database is copied up into the overlay.
        let local = "var/lib/pacman/local"
        if FS.lstat(Path.join(context.root, local)) == nil, let base = context.imagePath(local) {
            try FS.makeDirectories(Path.join(context.root, "var/lib/pacman"))
            try HostCommand.run(["cp", "-a", base, Path.join(context.root, local)])
        }
        for dir in [local, "etc/pacman.d/hooks"] { try FS.makeDirectories(Path.join(context.root, dir)) }
        if let upper = context.overlayUpper, !FS.isDirectory(Path.join(upper, "var/lib/pacman/local")) {
            try FS.makeDirectories(Path.join(upper, "var/lib/pacman"))
            try HostCommand.run(["cp", "-a", Path.join(context.root, "var/lib/pacman/local"), Path.join(upper, "var/lib/pacman/local")])
        }
        try FS.makeDirectories(packageDirectory)
        let lock = try context.lockPackageCache()
        defer { lock.release() }
        try context.run(try command() + [operation] + arguments, in: sandbox(apiVFS: apiVFS), environment: environment())
    }

    @discardableResult
    func syncMetadata() throws -> Bool {
        try context.syncMetadata(sources: context.fingerprint(of: ["etc/pacman.conf", "etc/pacman.d"]), cached: {
            ((try? FS.listDirectory(syncDirectory)) ?? []).contains { $0.hasSuffix(".db") && $0 != "mkosi.db" }
        }, location: syncDirectory, refresh: {
            do {
                try invoke("--sync", ["--refresh"], apiVFS: false)
            } catch var e as MkosiError where !e.isInterruption {
                e.hint = "Check that the mirror (Mirror=, LocalMirror=, or the servers in mkosi.sandbox/etc/pacman.conf) is reachable "
                    + "and its databases signed with a key of the keyring (archlinux-keyring, or mkosi.sandbox/usr/share/pacman/keyrings/)"
                throw e
            }
        })
    }

    /// `PackageDirectories=` and `$PACKAGEDIR`: their packages become the repository `mkosi`
    /// (unsigned, first), its database put straight into the sync directory, as pacman cannot
    /// sync a single repository.
    @discardableResult
    func buildLocalRepository() throws -> Bool {
        let conf = context.sandboxEtc + "/mkosi-local.conf"
        unlink(Path.join(syncDirectory, "mkosi.db"))
        let packages = try context.collectLocalPackages(suffixes: [".pkg.tar.zst", ".pkg.tar.xz", ".pkg.tar.gz", ".pkg.tar"])
        guard !packages.isEmpty else {
            try FS.writeAtomically(conf, "")
            return false
        }
        var s = context.bareToolsSandbox()
        s.bind(context.workspace + "/repository", "/repository")
        try context.run(["repo-add", "--quiet", "/repository/mkosi.db.tar"]
                        + packages.sorted { Version.compare($0, $1) < 0 }.map { "/repository/" + $0 }, in: s)
        try FS.writeAtomically(conf, "[mkosi]\nServer = file:///i/dont/exist\nSigLevel = Never\nUsage = Install Search Upgrade\n")
        try HostCommand.run(["mv", context.workspace + "/repository/mkosi.db.tar", Path.join(syncDirectory, "mkosi.db")])
        return true
    }

    public func refreshLocalRepository() throws { try buildLocalRepository() }

    public func bootstrap() throws {
        try install(context.distribution.bootstrapPackages(config), apiVFS: false)
    }

    public func install(_ packages: [String]) throws { try install(packages, apiVFS: true) }

    func install(_ packages: [String], apiVFS: Bool) throws {
        guard !packages.isEmpty else { return }
        try invoke("--sync", ["--needed", "--assume-installed", "initramfs"] + packages, apiVFS: apiVFS)
    }

    /// Removes those of `packages` that are installed (pacman fails on the others).
    public func remove(_ packages: [String]) throws {
        let installed = Set(installedDescriptions().map(\.name))
        let present = packages.filter { installed.contains($0) }
        guard !present.isEmpty else { return }
        try invoke("--remove", ["--nosave", "--recursive"] + present)
    }

    /// The `desc` files of the image's local database.
    func installedDescriptions() -> [InstalledPackage] {
        let local = Path.join(context.root, "var/lib/pacman/local")
        return ((try? FS.listDirectory(local)) ?? []).sorted().compactMap { entry -> InstalledPackage? in
            guard let text = try? FS.readText(Path.join(local, "\(entry)/desc")) else { return nil }
            var fields: [String: String] = [:]
            var key: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).map({ String($0).trimmed() }) {
                if line.hasPrefix("%") && line.hasSuffix("%") { key = line; continue }
                if let k = key, !line.isEmpty, fields[k] == nil { fields[k] = line }
            }
            guard let name = fields["%NAME%"] else { return nil }
            // Upstream records no size for pacman packages.
            return InstalledPackage(type: "pkg", name: name, version: fields["%VERSION%"] ?? "", architecture: fields["%ARCH%"] ?? "",
                                    size: 0, installTime: Int(fields["%INSTALLDATE%"] ?? ""), source: fields["%BASE%"])
        }
    }

    /// pacman keeps no changelogs.
    public func changelog(_ package: InstalledPackage) throws -> String? { nil }

    public func installedPackages() throws -> [InstalledPackage]? {
        guard context.imagePath("var/lib/pacman/local").map(FS.isDirectory) == true else { return nil }
        return installedDescriptions()
    }

    /// `pacman --sync --downloadonly` (dependencies assumed installed), then the package
    /// unpacked into `directory`.
    public func extract(_ package: String, into directory: String) throws {
        try invoke("--sync", ["--downloadonly", "--nodeps", "--nodeps", package], apiVFS: false)
        let files = ((try? FS.listDirectory(packageDirectory)) ?? [])
            .filter { $0.hasPrefix(package + "-") && $0.contains(".pkg.tar") && !$0.hasSuffix(".sig") }
            .filter { name in
                // name-VERSION-REL-ARCH: the package itself, not one whose name merely starts alike.
                let rest = name.dropFirst(package.count + 1)
                return rest.first?.isNumber == true || rest.first == ":" || rest.split(separator: "-").count == 3
            }
            .sorted { Version.compare($0, $1) < 0 }
        guard let file = files.last else { throw MkosiError(.invalidData, "pacman downloaded no \(package) package to \(packageDirectory)") }
        try FS.makeDirectories(directory)
        var x = context.bareToolsSandbox()
        x.bind(packageDirectory, "/work/pkg", readOnly: true)
        x.bind(directory, "/work/out")
        try context.run(["bsdtar", "-x", "-f", "/work/pkg/\(file)", "-C", "/work/out", "--exclude", ".*"], in: x)
    }
}
