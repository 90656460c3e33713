#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// dnf (dnf5 when the tools have it, else dnf 4, as upstream chooses; `$MKOSI_DNF` in
/// `Environment=` overrides) for Fedora, CentOS Stream and its rebuilds, Azure Linux, Mageia,
/// OpenMandriva, and openSUSE when the tools have no zypper. dnf runs from the tools with
/// `--installroot=/buildroot`; its configuration lives in the sandbox tree, its caches in the
/// package cache.
public struct Dnf: PackageManager {
    let context: any InstallerContext
    var config: Config { context.config }

    /// `dnf5` or `dnf`, chosen once.
    public let executable: String

    public init(_ context: any InstallerContext) {
        self.context = context
        let chosen = context.userEnvironment().last(where: { $0.0 == "MKOSI_DNF" })?.1 ?? ""
        executable = !chosen.isEmpty ? Path.basename(chosen) : context.findTool("dnf5") != nil ? "dnf5" : "dnf"
    }

    public static let name = "dnf"
    public static let packageType = "rpm"

    /// dnf keeps each repository's metadata and packages in `<id>-<hash>/`; only `packages/`
    /// stays.
    public static func removeMetadata(packageCache: String) {
        for subdir in ["cache/dnf", "cache/libdnf5"] {
            let dir = Path.join(packageCache, subdir)
            for repo in (try? FS.listDirectory(dir)) ?? [] {
                let path = Path.join(dir, repo)
                guard FS.isDirectory(path) else { unlink(path); continue }
                for entry in (try? FS.listDirectory(path)) ?? [] where entry != "packages" { FS.removeTree(Path.join(path, entry)) }
            }
        }
    }

    var dnf5: Bool { executable == "dnf5" }

    /// The cache directory's name (`/var/cache/<subdir>`).
    var subdir: String { dnf5 ? "libdnf5" : "dnf" }
    public var stateDirectory: String { subdir }

    public var helperCommands: [(name: String, command: String)] {
        [("dnf", context.wrapper((try? command()) ?? [executable])), ("rpm", "env HOME=/ " + context.wrapper(["rpm", "--root=/buildroot"])),
         ("mkosi-install", "dnf install"), ("mkosi-upgrade", "dnf upgrade"), ("mkosi-remove", "dnf remove"),
         ("mkosi-reinstall", "dnf reinstall")]
    }

    // MARK: Configuration

    public func setup() throws {
        try context.requireTool(executable, package: dnf5 ? "dnf5" : "dnf", for: "Building \(config.distribution.prettyName)")
        let description = context.distribution
        try Rpm.writeConfiguration(context, dbpath: description.rpmDatabase(config),
                                   dbBackend: config.distribution == .opensuse ? "ndb" : nil)
        let repositories = try description.rpmRepositories(config, keys: RpmKeys(context))
        try writeConfiguration(repositories)
        if description.distribution.isCentOSVariant {
            try FS.writeAtomically(Path.join(context.sandboxEtc, "dnf/vars/stream"), "\(description.majorRelease(config))-stream\n")
        }
        try FS.makeDirectories(Path.join(context.packageCache, "cache/\(subdir)"))
        let local = try buildLocalRepository()
        let refreshed = try syncMetadata()
        if local && !refreshed { try syncLocalRepository() }
    }

    /// Whether the repository metadata signature can be checked: only when the tools are the
    /// distribution's own (librepo rejects valid signatures with newer gpgme elsewhere, see
    /// rpm-software-management/librepo#376), as upstream decides.
    var repoGPGCheckWorks: Bool { HostDistribution.detect(root: context.toolsRoot).distribution == config.distribution }

    /// The files upstream writes below `/etc/dnf` and `/etc/yum.repos.d` (what `SandboxTrees=`
    /// brings stays): dnf.conf, the reflink and versionlock plugin settings, and mkosi.repo.
    func writeConfiguration(_ repositories: [RpmRepository]) throws {
        let etc = context.sandboxEtc
        try FS.makeDirectories(etc + "/dnf/vars")
        try FS.makeDirectories(etc + "/yum.repos.d")
        try FS.makeDirectories(etc + "/dnf/plugins")
        func create(_ path: String, _ text: String) throws {
            if !FS.exists(Path.join(etc, path)) { try FS.writeAtomically(Path.join(etc, path), text) }
        }
        // dnf5 leaves out the file lists unless told; dependencies on files need them.
        let filelists = ![.fedora, .azure, .mageia, .openmandriva].contains(config.distribution)
        try create("dnf/dnf.conf", dnf5 && filelists ? "[main]\noptional_metadata_types=filelists\n" : "")
        try create("dnf/plugins/reflink.conf", "[main]\nenabled=1\n")
        try create("dnf/plugins/versionlock.conf", "[main]\nenabled=0\nlocklist=/dev/null\n")
        if !repoGPGCheckWorks && repositories.contains(where: \.repoGPGCheck) {
            Log.info("Disabling repository metadata GPG signature check: https://github.com/rpm-software-management/librepo/issues/376")
        }
        try create("yum.repos.d/mkosi.repo", Self.repoFile(repositories, repoGPGCheck: repoGPGCheckWorks,
                                                          metadataExpire: metadataExpire))
    }

    var metadataExpire: String? { Self.metadataExpire(config) }

    /// Fedora's rawhide and ELN move quickly: their metadata expires after 6 hours.
    public static func metadataExpire(_ config: Config) -> String? {
        // Mageia and OpenMandriva are set up as Fedora is, upstream.
        [.fedora, .mageia, .openmandriva].contains(config.distribution) && ["eln", "rawhide"].contains(config.release) ? "6h" : nil
    }

    /// mkosi.repo, byte for byte as upstream writes it.
    public static func repoFile(_ repositories: [RpmRepository], repoGPGCheck: Bool, metadataExpire: String?) -> String {
        repositories.map { r in
            var text = "[\(r.id)]\nname=\(r.id)\n\(r.url)\ngpgcheck=1\nrepo_gpgcheck=\(r.repoGPGCheck && repoGPGCheck ? 1 : 0)\n"
                + "enabled=\(r.enabled ? 1 : 0)\n"
            if let v = r.sslCACert { text += "sslcacert=\(v)\n" }
            if let v = r.sslClientCert { text += "sslclientcert=\(v)\n" }
            if let v = r.sslClientKey { text += "sslclientkey=\(v)\n" }
            if let v = r.priority { text += "priority=\(v)\n" }
            if let metadataExpire { text += "metadata_expire=\(metadataExpire)\n" }
            return text + RpmRepository.gpgKeyLines(r.gpgURLs) + "\n"
        }.joined()
    }

    // MARK: Running dnf

    /// dnf's command line (without the operation), as upstream builds it.
    func command(cachedMetadata: Bool = true) throws -> [String] {
        var argv = [executable, "--assumeyes", "--best", "--releasever=\(config.release)", "--installroot=/buildroot",
                    "--setopt=keepcache=1", "--setopt=logdir=/var/log", "--setopt=cachedir=/var/cache/\(subdir)",
                    "--setopt=install_weak_deps=\(config[.withRecommends] ? 1 : 0)", "--setopt=check_config_file_age=0",
                    "--setopt=persistdir=/buildroot/var/lib/dnf"]
        let env = Dictionary(config[.environment].pairs, uniquingKeysWith: { _, last in last })
        if let plugins = env["MKOSI_DNF_DISABLE_PLUGINS"] { argv.append("--disableplugin=\(plugins)") }
        if let plugins = env["MKOSI_DNF_ENABLE_PLUGINS"] { argv.append("--enableplugin=\(plugins)") }
        if Log.isDebug { argv.append("--setopt=debuglevel=10") }
        if !config[.repositoryKeyCheck] { argv.append("--nogpgcheck") }
        argv += config[.repositories].map { "\(dnf5 ? "--enable-repo" : "--enablerepo")=\($0)" }
        if config[.cacheOnly] == .always {
            argv.append("--cacheonly")
        } else if cachedMetadata {
            argv.append("--setopt=metadata_expire=never")
            if dnf5 { argv.append("--setopt=cacheonly=metadata") }
        }
        if config.architecture != Architecture.native {
            argv.append("--forcearch=\(try context.distribution.architectureName(config.architecture))")
        }
        if !config[.withDocs] { argv.append(dnf5 ? "--no-docs" : "--nodocs") }
        if dnf5 {
            argv.append("--use-host-config")
        } else {
            argv += ["--config=/etc/dnf/dnf.conf", "--setopt=reposdir=/etc/yum.repos.d", "--setopt=varsdir=/etc/dnf/vars"]
        }
        if let proxy = config[.proxyURL], !proxy.isEmpty { argv.append("--setopt=proxy=\(proxy)") }
        argv += ProxyCertificates(config).dnfOptions
        return argv
    }

    public func sandbox() -> Sandbox { sandbox(apiVFS: true) }

    func sandbox(apiVFS: Bool) -> Sandbox {
        var s = context.packageManagerSandbox(apiVFS: apiVFS)
        s.bind(Path.join(context.packageCache, "cache/\(subdir)"), "/var/cache/\(subdir)")
        s.add(.directory("/var/log"))
        return s
    }

    public func environment() -> [String: String] {
        var env = context.packageManagerEnvironment()
        // Debian's rpm refuses to install into a root unless told it is meant to.
        env["RPM_FORCE_DEBIAN"] = "1"
        return env
    }

    func invoke(_ operation: String, _ arguments: [String] = [], apiVFS: Bool = true, cachedMetadata: Bool = true) throws {
        let lock = try context.lockPackageCache()
        defer { lock.release() }
        // dnf writes its logs relative to the install root.
        defer { context.removeLogs(prefixes: ["dnf", "hawkey", "yum"]) }
        try context.run(try command(cachedMetadata: cachedMetadata) + [operation] + arguments, in: sandbox(apiVFS: apiVFS),
                        environment: environment())
    }

    // MARK: Metadata and the local repository

    var cacheDirectory: String { Path.join(context.packageCache, "cache/\(subdir)") }

    @discardableResult
    func syncMetadata() throws -> Bool {
        try context.syncMetadata(sources: context.fingerprint(of: ["etc/yum.repos.d", "etc/dnf/vars"]), cached: {
            ((try? FS.listDirectory(cacheDirectory)) ?? []).contains { FS.isDirectory(Path.join(cacheDirectory, "\($0)/repodata")) }
        }, location: cacheDirectory, refresh: { try makeCache(refresh: true) })
    }

    /// `dnf makecache`; a repository that cannot be fetched is an error here (some
    /// distributions set skip_if_unavailable, and the install would fail later instead).
    func makeCache(refresh: Bool, arguments: [String] = []) throws {
        do {
            try invoke("makecache", (refresh ? ["--refresh"] : []) + ["--setopt=skip_if_unavailable=0"] + arguments,
                       apiVFS: false, cachedMetadata: false)
        } catch var e as MkosiError where !e.isInterruption {
            e.hint = "Check that the mirror (Mirror=, LocalMirror=, or the repositories in mkosi.sandbox/etc/yum.repos.d) "
                + "is reachable and its metadata valid"
            throw e
        }
    }

    /// `PackageDirectories=` and `$PACKAGEDIR`: their rpms become the repository `mkosi`, unsigned
    /// and preferred (priority 10). Returns whether there is one.
    @discardableResult
    func buildLocalRepository() throws -> Bool {
        try Rpm.localRepository(context, file: Path.join(context.sandboxEtc, "yum.repos.d/mkosi-local.repo"),
                                definition: "[mkosi]\nname=mkosi\nbaseurl=file:///repository\ngpgcheck=0\nmetadata_expire=never\npriority=10\n")
    }

    func syncLocalRepository() throws {
        try makeCache(refresh: true, arguments: ["--disablerepo=*", "--enablerepo=mkosi"])
    }

    public func refreshLocalRepository() throws {
        if try buildLocalRepository() { try syncLocalRepository() }
    }

    // MARK: Packages

    public func bootstrap() throws {
        try install(context.distribution.bootstrapPackages(config), apiVFS: false)
    }

    public func install(_ packages: [String]) throws { try install(packages, apiVFS: true) }

    func install(_ packages: [String], apiVFS: Bool) throws {
        guard !packages.isEmpty else { return }
        try invoke("install", packages, apiVFS: apiVFS)
    }

    public func remove(_ packages: [String]) throws {
        guard !packages.isEmpty else { return }
        try invoke("remove", packages)
    }

    /// `dnf download`, then the rpms unpacked into `directory`.
    public func extract(_ package: String, into directory: String) throws {
        let downloads = context.workspace + "/downloads-\(package)"
        try FS.makeDirectories(downloads)
        defer { FS.removeTree(downloads) }
        let lock = try context.lockPackageCache()
        var s = sandbox(apiVFS: false)
        s.bind(downloads, "/work/downloads")
        try context.run(try command() + ["download", "--destdir=/work/downloads", package], in: s, environment: environment())
        lock.release()
        try Rpm.unpack(context, packages: downloads, into: directory)
    }

    public func installedPackages() throws -> [InstalledPackage]? {
        try Rpm.installedPackages(context, sandbox: sandbox(apiVFS: false))
    }

    public func changelog(_ package: InstalledPackage) throws -> String? {
        try Rpm.changelog(context, package, sandbox: sandbox(apiVFS: false))
    }
}
