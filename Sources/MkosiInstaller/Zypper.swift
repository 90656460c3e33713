#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// zypper, for openSUSE. It runs from the tools with `--installroot=/buildroot` (repositories
/// and caches stay the sandbox's); the repositories' keys are imported into the image's rpm
/// database first, which is where zypper trusts keys from.
public struct Zypper: PackageManager {
    let context: any InstallerContext
    var config: Config { context.config }

    public init(_ context: any InstallerContext) { self.context = context }

    public static let name = "zypper"
    public static let packageType = "rpm"
    public let executable = "zypper"
    public let stateDirectory = "zypp"

    public static func removeMetadata(packageCache: String) {
        for dir in ["raw", "solv"] { FS.removeTree(Path.join(packageCache, "cache/zypp/\(dir)")) }
    }

    var installOptions: [String] {
        ["--download", "in-advance", config[.withRecommends] ? "--recommends" : "--no-recommends", "--force-resolution"]
    }

    public var helperCommands: [(name: String, command: String)] {
        let install = "zypper install " + installOptions.joined(separator: " ")
        return [("zypper", context.wrapper(command())), ("rpm", "env HOME=/ " + context.wrapper(["rpm", "--root=/buildroot"])),
                ("mkosi-install", install), ("mkosi-upgrade", "zypper update"),
                ("mkosi-remove", "zypper --ignore-unknown remove --clean-deps"), ("mkosi-reinstall", install + " --force")]
    }

    public func setup() throws {
        try context.requireTool("zypper", package: "zypper", for: "Building openSUSE")
        try Rpm.writeConfiguration(context, dbpath: context.distribution.rpmDatabase(config), dbBackend: "ndb")
        let repositories = try context.distribution.rpmRepositories(config, keys: RpmKeys(context), zypper: true)
        try writeConfiguration(repositories)
        try FS.makeDirectories(Path.join(context.packageCache, "cache/zypp"))
        try importKeys()
        let local = try buildLocalRepository()
        let refreshed = try syncMetadata()
        if local && !refreshed { try refresh(force: true, repositories: ["mkosi"]) }
    }

    /// zypp.conf gets upstream's lines appended (documentation, refresh delay), and mkosi.repo
    /// is written unless `SandboxTrees=` brought one.
    func writeConfiguration(_ repositories: [RpmRepository]) throws {
        let dir = Path.join(context.sandboxEtc, "zypp")
        try FS.makeDirectories(dir + "/repos.d")
        let conf = dir + "/zypp.conf"
        let previous = (try? FS.readText(conf)) ?? ""
        try FS.writeAtomically(conf, previous + "\n[main]\nrpm.install.excludedocs = \(config[.withDocs] ? "no" : "yes")\n"
                               + "repo.refresh.delay = \(48 * 60)\n")
        let repo = dir + "/repos.d/mkosi.repo"
        if !FS.exists(repo) { try FS.writeAtomically(repo, Self.repoFile(repositories)) }
    }

    /// mkosi.repo, byte for byte as upstream writes it.
    public static func repoFile(_ repositories: [RpmRepository]) -> String {
        repositories.map { r in
            var text = "[\(r.id)]\nname=\(r.id)\n\(r.url)\ngpgcheck=1\nenabled=\(r.enabled ? 1 : 0)\nautorefresh=0\nkeeppackages=1\n"
            if let v = r.priority { text += "priority=\(v)\n" }
            return text + RpmRepository.gpgKeyLines(r.gpgURLs) + "\n"
        }.joined()
    }

    /// The local keys the repository files name (`gpgkey=file://…`), imported into the image's
    /// rpm database; a remote key needs `RepositoryKeyFetch=yes` (zypper then imports it).
    func importKeys() throws {
        var keys: [String] = []
        let dir = Path.join(context.sandboxEtc, "zypp/repos.d")
        for file in ((try? FS.listDirectory(dir)) ?? []).sorted() {
            // Keys are separated by blanks or continuation lines.
            let values = try IniFile.read(Path.join(dir, file)).filter { $0.key == "gpgkey" }.map(\.value)
            for key in values.flatMap({ $0.split(whereSeparator: { $0 == "\n" || $0 == " " }).map(String.init) }) {
                if key.hasPrefix("file://") {
                    let path = String(key.dropFirst(7))
                    if keys.contains(path) { continue }
                    // Absolute: below the sandbox tree or the tools (never Path.join, which returns `path`).
                    guard FS.exists(context.sandboxTree + path) || FS.exists(Path.normalize(context.toolsRoot + "/" + path)) else {
                        throw MkosiError(.config, "Local GPG key specified (\(key)) in \(file) but not found at \(path)")
                    }
                    keys.append(path)
                } else if !config[.repositoryKeyFetch] {
                    throw MkosiError(.config, "Remote GPG key specified (\(key)) in \(file) but RepositoryKeyFetch= is disabled",
                                     hint: "Enable RepositoryKeyFetch= or provide local keys")
                }
            }
        }
        guard !keys.isEmpty else { return }
        Log.info("Importing GPG keys into RPM database")
        try context.run(["rpm", "--root=/buildroot", "--import"] + keys, in: sandbox(apiVFS: false), environment: environment())
    }

    public func sandbox() -> Sandbox { sandbox(apiVFS: true) }

    func sandbox(apiVFS: Bool) -> Sandbox {
        var s = context.packageManagerSandbox(apiVFS: apiVFS)
        s.bind(Path.join(context.packageCache, "cache/zypp"), "/var/cache/zypp")
        return s
    }

    public func environment() -> [String: String] {
        var env = context.packageManagerEnvironment()
        env["ZYPP_CONF"] = "/etc/zypp/zypp.conf"
        env["RPM_FORCE_DEBIAN"] = "1"
        return env
    }

    func command() -> [String] {
        var argv = ["zypper", "--installroot=/buildroot", "--cache-dir=/var/cache/zypp", "--non-interactive", "--no-refresh",
                    "--releasever=\(config.release)"]
        if !config[.repositoryKeyCheck] { argv.append("--no-gpg-checks") }
        argv += config[.repositories].map { "--plus-content=\($0)" }
        if Log.isDebug { argv.append("-vv") }
        return argv
    }

    func invoke(_ operation: String, _ arguments: [String], options: [String] = [], apiVFS: Bool = true) throws {
        let lock = try context.lockPackageCache()
        defer { lock.release() }
        try context.run(command() + options + [operation] + arguments, in: sandbox(apiVFS: apiVFS), environment: environment())
    }

    var cacheDirectory: String { Path.join(context.packageCache, "cache/zypp") }

    @discardableResult
    func syncMetadata() throws -> Bool {
        try context.syncMetadata(sources: context.fingerprint(of: ["etc/zypp/repos.d"]),
                                 cached: { FS.isDirectory(Path.join(cacheDirectory, "raw")) }, location: cacheDirectory,
                                 refresh: { try refresh(force: true) })
    }

    func refresh(force: Bool, repositories: [String] = []) throws {
        do {
            try invoke("refresh", (force ? ["--force"] : []) + repositories,
                       options: config[.repositoryKeyFetch] ? ["--gpg-auto-import-keys"] : [], apiVFS: false)
        } catch var e as MkosiError where !e.isInterruption {
            e.hint = "Check that the mirror (Mirror=, LocalMirror=, or the repositories in mkosi.sandbox/etc/zypp/repos.d) "
                + "is reachable and signed with a key the image's rpm database has"
            throw e
        }
    }

    @discardableResult
    func buildLocalRepository() throws -> Bool {
        try Rpm.localRepository(context, file: Path.join(context.sandboxEtc, "zypp/repos.d/mkosi-local.repo"),
                                definition: "[mkosi]\nname=mkosi\nbaseurl=file:///repository\ngpgcheck=0\nautorefresh=0\nkeeppackages=0\npriority=10\n")
    }

    public func refreshLocalRepository() throws {
        if try buildLocalRepository() { try refresh(force: true, repositories: ["mkosi"]) }
    }

    public func bootstrap() throws {
        try install(context.distribution.bootstrapPackages(config), apiVFS: false)
    }

    public func install(_ packages: [String]) throws { try install(packages, apiVFS: true) }

    func install(_ packages: [String], apiVFS: Bool) throws {
        guard !packages.isEmpty else { return }
        try invoke("install", installOptions + packages, apiVFS: apiVFS)
    }

    public func remove(_ packages: [String]) throws {
        guard !packages.isEmpty else { return }
        try invoke("remove", ["--clean-deps"] + packages, options: ["--ignore-unknown"])
    }

    /// `zypper download` into the cache, then the rpm unpacked into `directory`.
    public func extract(_ package: String, into directory: String) throws {
        let downloads = context.workspace + "/downloads-\(package)"
        try FS.makeDirectories(downloads)
        defer { FS.removeTree(downloads) }
        let lock = try context.lockPackageCache()
        var s = sandbox(apiVFS: false)
        s.bind(downloads, "/work/downloads")
        try context.run(command() + ["--pkg-cache-dir=/work/downloads", "download", package], in: s, environment: environment())
        lock.release()
        // zypper files packages below <repo>/<arch>/.
        var x = context.bareToolsSandbox()
        x.bind(downloads, "/work/downloads")
        try context.run(["sh", "-c", "find /work/downloads -mindepth 2 -name '*.rpm' -exec mv -t /work/downloads {} +"], in: x)
        try Rpm.unpack(context, packages: downloads, into: directory)
    }

    public func installedPackages() throws -> [InstalledPackage]? {
        try Rpm.installedPackages(context, sandbox: sandbox(apiVFS: false))
    }

    public func changelog(_ package: InstalledPackage) throws -> String? {
        try Rpm.changelog(context, package, sandbox: sandbox(apiVFS: false))
    }
}
