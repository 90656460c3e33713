#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

extension DistributionDescription {
    /// postmarketOS's repositories (edge only, as upstream): Alpine's main, community and testing,
    /// then postmarketOS's systemd and main repositories from `Mirror=`.
    public func apkRepositories(_ config: Config) throws -> [String] {
        guard config.release == "edge" else {
            throw MkosiError(.config, "Only 'edge' release is currently supported, got '\(config.release)'")
        }
        if let local = config[.localMirror] { return [local] }
        var result = ["main", "community", "testing"].map { "https://dl-cdn.alpinelinux.org/alpine/\(config.release)/\($0)" }
        let mirror = config[.mirror] ?? "https://mirror.postmarketos.org/postmarketos"
        let subdir = config.release == "edge" ? "main" : "v\(config.release)"
        result += ["\(mirror)/extra-repos/systemd/\(subdir)", "\(mirror)/\(subdir)"]
        return result
    }
}

/// apk, for postmarketOS. Debian (bookworm, trixie) does not package apk-tools, so a Debian
/// tools tree cannot build postmarketOS: setup fails naming the missing tool before anything
/// is downloaded. With apk in the tools (`ExtraSearchPaths=`, or a postmarketOS tools tree) it
/// runs as upstream runs it.
public struct Apk: PackageManager {
    let context: any InstallerContext
    var config: Config { context.config }

    public init(_ context: any InstallerContext) { self.context = context }

    public static let name = "apk"
    public static let packageType = "apk"
    public let executable = "apk"
    public let stateDirectory = "apk"

    public static func removeMetadata(packageCache: String) {
        let dir = Path.join(packageCache, "cache/apk")
        for name in (try? FS.listDirectory(dir)) ?? [] where name.hasPrefix("APKINDEX.") { unlink(Path.join(dir, name)) }
    }

    public var helperCommands: [(name: String, command: String)] {
        [("apk", context.wrapper(command())),
         ("mkosi-install", "apk add --upgrade"), ("mkosi-upgrade", "apk upgrade"), ("mkosi-remove", "apk --remove del"),
         ("mkosi-reinstall", "apk fix --reinstall")]
    }

    var architecture: String { (try? context.distribution.architectureName(config.architecture)) ?? config.architecture.rawValue }
    var cacheDirectory: String { Path.join(context.packageCache, "cache/apk") }

    public func setup() throws {
        _ = try context.distribution.architectureName(config.architecture)
        let repositories = try context.distribution.apkRepositories(config)
        try writeConfiguration(repositories)
        try context.requireTool("apk", package: "apk-tools", for: "Building postmarketOS")
        try FS.makeDirectories(cacheDirectory)
        try context.syncMetadata(sources: context.fingerprint(of: ["etc/apk/repositories"]), cached: {
            ((try? FS.listDirectory(cacheDirectory)) ?? []).contains { $0.hasPrefix("APKINDEX.") }
        }, location: cacheDirectory, refresh: { try sync(force: true) })
    }

    /// The trusted keys (the tools' apk keys and distribution-gpg-keys' Alpine and postmarketOS
    /// keys, never replacing keys `SandboxTrees=` brought) and `/etc/apk/repositories`.
    func writeConfiguration(_ repositories: [String]) throws {
        let keys = Path.join(context.sandboxEtc, "apk/keys")
        try FS.makeDirectories(keys)
        let tools = context.toolsRoot
        for dir in ["usr/share/apk/keys/\(architecture)", "usr/share/apk/keys", "usr/share/distribution-gpg-keys/alpine-linux",
                    "usr/share/distribution-gpg-keys/postmarketos"] {
            let source = Path.join(tools, dir)
            for name in ((try? FS.listDirectory(source)) ?? []).sorted() where FS.isFile(Path.join(source, name)) {
                let target = Path.join(keys, name)
                if !FS.exists(target) { try FS.writeAtomically(target, try FS.readText(Path.join(source, name))) }
            }
        }
        let file = Path.join(context.sandboxEtc, "apk/repositories")
        if !FS.exists(file) { try FS.writeAtomically(file, Self.repositoriesFile(repositories)) }
    }

    /// `/etc/apk/repositories`, byte for byte as upstream writes it.
    public static func repositoriesFile(_ repositories: [String]) -> String { repositories.joined(separator: "\n") + "\n" }

    func command(cachedMetadata: Bool = true, allowUntrusted: Bool = false) -> [String] {
        var argv = ["apk", "--root", "/buildroot", "--cache-packages", "--cache-dir", "/var/cache/apk", "--cache-predownload",
                    "--arch", architecture, "--no-interactive", "--preserve-env", "--keys-dir", "/etc/apk/keys",
                    "--repositories-file", "/etc/apk/repositories"]
        if allowUntrusted || !config[.repositoryKeyCheck] { argv.append("--allow-untrusted") }
        if cachedMetadata { argv += ["--cache-max-age", "999999999"] }
        if config[.cacheOnly] == .always { argv.append("--no-network") }
        return argv
    }

    public func sandbox() -> Sandbox { sandbox(apiVFS: true) }

    func sandbox(apiVFS: Bool) -> Sandbox {
        var s = context.packageManagerSandbox(apiVFS: apiVFS)
        s.bind(cacheDirectory, "/var/cache/apk")
        return s
    }

    public func environment() -> [String: String] {
        var env = context.packageManagerEnvironment()
        // apk's signatures are SHA-1, which some crypto policies disable.
        env["OPENSSL_ENABLE_SHA1_SIGNATURES"] = "1"
        return env
    }

    func invoke(_ operation: String, _ arguments: [String], apiVFS: Bool = true) throws {
        let lock = try context.lockPackageCache()
        defer { lock.release() }
        try context.run(command() + [operation] + arguments, in: sandbox(apiVFS: apiVFS), environment: environment())
    }

    /// `apk update` against a throwaway root (it needs an initialised database).
    func sync(force: Bool) throws {
        let scratch = context.workspace + "/apk-sync-root"
        try FS.makeDirectories(scratch)
        defer { FS.removeTree(scratch) }
        var s = context.packageManagerSandbox(apiVFS: false)
        s.bind(scratch, "/buildroot")
        s.bind(cacheDirectory, "/var/cache/apk")
        let untrusted = config[.repositoryKeyFetch]
        try context.run(command(allowUntrusted: untrusted) + ["add", "--initdb"], in: s, environment: environment())
        try context.run(command(cachedMetadata: false, allowUntrusted: untrusted) + ["update"] + (force ? ["--update-cache"] : []),
                        in: s, environment: environment())
    }

    public func refreshLocalRepository() throws {
        guard !(try context.collectLocalPackages(suffixes: [".apk"])).isEmpty else { return }
        throw MkosiError(.unsupported, "Local apk packages (PackageDirectories=, $PACKAGEDIR) are not supported by this mkosi yet",
                         hint: "Serve them from a signed repository and add it to mkosi.sandbox/etc/apk/repositories")
    }

    public func bootstrap() throws {
        // Alpine is not merged-/usr yet: the links are made first.
        for dir in ["lib", "bin", "sbin"] {
            try FS.makeDirectories(Path.join(context.root, "usr/\(dir)"))
            if FS.lstat(Path.join(context.root, dir)) == nil, symlink("usr/\(dir)", Path.join(context.root, dir)) != 0 {
                throw FS.systemError("Cannot create \(context.root)/\(dir)")
            }
        }
        try invoke("add", ["--initdb", "--upgrade"] + context.distribution.bootstrapPackages(config), apiVFS: false)
    }

    public func install(_ packages: [String]) throws {
        guard !packages.isEmpty else { return }
        try invoke("add", ["--initdb", "--upgrade"] + packages)
    }

    public func remove(_ packages: [String]) throws {
        let installed = Set((try installedPackages() ?? []).map(\.name))
        let present = packages.filter { installed.contains($0) }
        guard !present.isEmpty else { return }
        try invoke("del", present)
    }

    public func extract(_ package: String, into directory: String) throws {
        let downloads = context.workspace + "/downloads-\(package)"
        try FS.makeDirectories(downloads)
        defer { FS.removeTree(downloads) }
        var s = sandbox(apiVFS: false)
        s.bind(downloads, "/work/downloads")
        try context.run(command(allowUntrusted: true) + ["fetch", "-o", "/work/downloads", package], in: s, environment: environment())
        try FS.makeDirectories(directory)
        var x = context.bareToolsSandbox()
        x.bind(downloads, "/work/downloads", readOnly: true)
        x.bind(directory, "/work/out")
        let files = try FS.listDirectory(downloads).filter { $0.hasSuffix(".apk") }.map { "/work/downloads/" + $0 }
        try context.run(["apk", "extract", "--allow-untrusted", "--no-chown", "--destination", "/work/out"] + files, in: x)
    }

    /// apk keeps no changelogs.
    public func changelog(_ package: InstalledPackage) throws -> String? { nil }

    /// The installed database (`lib/apk/db/installed`: `P:` name, `V:` version, `A:` arch,
    /// `I:` installed size, `t:` build time).
    public func installedPackages() throws -> [InstalledPackage]? {
        guard let text = try? FS.readText(Path.join(context.root, "lib/apk/db/installed")) else { return nil }
        var result: [InstalledPackage] = []
        var f: [String: String] = [:]
        func flush() {
            if let name = f["P"] {
                result.append(InstalledPackage(type: "apk", name: name, version: f["V"] ?? "", architecture: f["A"] ?? "",
                                               size: Int(f["I"] ?? "") ?? 0, installTime: nil))
            }
            f = [:]
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { flush() } else if line.count > 2 && line.dropFirst().first == ":" {
                f[String(line.prefix(1))] = String(line.dropFirst(2))
            }
        }
        flush()
        return result
    }
}
