import MkosiConfig
import MkosiCore
import MkosiSandbox

/// apt and dpkg, for Debian, Ubuntu and Kali. apt runs from the host (or tools tree) inside the
/// sandbox with the image at `/buildroot`; dpkg installs into it with `--root`.
public struct Apt: PackageManager {
    let context: any InstallerContext
    var config: Config { context.config }

    public init(_ context: any InstallerContext) { self.context = context }

    public static let name = "apt"
    public static let packageType = "deb"
    public static func removeMetadata(packageCache: String) { FS.removeTree(Path.join(packageCache, "lib/apt/lists")) }
    public let executable = "apt"
    public let stateDirectory = "apt"

    public var helperCommands: [(name: String, command: String)] {
        [("mkosi-install", "apt-get install"), ("mkosi-upgrade", "apt-get upgrade"), ("mkosi-remove", "apt-get purge"),
         ("mkosi-reinstall", "apt-get install --reinstall")]
    }

    /// Debian's name for the architecture.
    public static func debianArchitecture(_ a: Architecture) -> String {
        switch a {
        case .x86_64: return "amd64"
        case .x86: return "i386"
        case .arm64: return "arm64"
        case .arm: return "armhf"
        case .ppc64LE: return "ppc64el"
        case .mips64LE: return "mips64el"
        case .mipsLE: return "mipsel"
        case .loongarch64: return "loong64"
        default: return a.rawValue
        }
    }

    var architecture: String { Apt.debianArchitecture(config.architecture) }

    /// The deb822 sources of the distribution's repositories, or the single `LocalMirror=`.
    /// Unlike upstream, the debug-symbol suites are not among them (their archive is often
    /// unreachable, and nothing a build installs comes from there).
    func sources() -> String { Self.buildSources(context.distribution.aptRepositories(config)) }

    /// One stanza per suite, laid out as upstream's (its stanzas end in the `Snapshot:` line,
    /// empty without a snapshot, and a blank line; for building, upstream also adds `deb-src`
    /// and debug suites).
    public static func buildSources(_ repositories: [AptRepository]) -> String {
        repositories.flatMap { r in
            r.suites.map { suite in
                var one = r
                one.suites = [suite]
                return deb822(one) + (one.snapshot == nil ? "\n" : "") + "\n"
            }
        }.joined()
    }

    /// One deb822 stanza, ending in a newline; `Snapshot:` last when the repository has one.
    static func deb822(_ r: AptRepository) -> String {
        "Types: \(r.types.joined(separator: " "))\nURIs: \(r.url)\nSuites: \(r.suites.joined(separator: " "))\n"
            + "Components: \(r.components.joined(separator: " "))\n" + (r.keyring.map { "Signed-By: \($0)" } ?? "Trusted: yes") + "\n"
            + (r.snapshot.map { "Snapshot: \($0)\n" } ?? "")
    }

    /// Installing `apt` itself: the image gets `/etc/apt/sources.list.d/<release>.sources` with
    /// the public repositories (unless it has that file), byte for byte as upstream writes it.
    func installImageSources() throws {
        let path = Path.join(context.root, "etc/apt/sources.list.d/\(config.release).sources")
        guard FS.lstat(path) == nil else { return }
        try FS.makeDirectories(Path.dirname(path))
        try FS.writeAtomically(path, Self.buildSources(context.distribution.aptImageRepositories(config)), mode: 0o644)
    }

    /// apt's configuration: everything is passed through one file so apt parses it first.
    func aptConf() -> String {
        var dpkgOptions = ["--root=/buildroot", "--force-unsafe-io", "--force-architecture", "--force-depends", "--no-debsig"]
        if !config[.withDocs] {
            dpkgOptions += ["--path-exclude=/usr/share/doc/*", "--path-include=/usr/share/doc/*/copyright",
                            "--path-exclude=/usr/share/man/*", "--path-exclude=/usr/share/groff/*",
                            "--path-exclude=/usr/share/gtk-doc/*", "--path-exclude=/usr/share/info/*"]
        }
        let recommends = config[.withRecommends] ? "true" : "false"
        var lines = [
            "APT::Architecture \"\(architecture)\";", "APT::Architectures \"\(architecture)\";",
            "APT::Install-Recommends \"\(recommends)\";", "APT::Immediate-Configure \"off\";",
            "APT::Get::Assume-Yes \"true\";", "APT::Get::AutomaticRemove \"true\";",
            "APT::Get::Allow-Change-Held-Packages \"true\";", "APT::Get::Allow-Remove-Essential \"true\";",
            "APT::Sandbox::User \"root\";", "Acquire::AllowReleaseInfoChange \"true\";",
            "Acquire::Check-Valid-Until \"false\";", "Dir::Cache \"/var/cache/apt\";",
            "Dir::State \"/buildroot/var/lib/apt\";", "Dir::State::lists \"/var/lib/apt/lists/\";",
            "Dir::State::Status \"/buildroot/var/lib/dpkg/status\";", "Dir::Log \"/var/log/apt\";",
            "Dir::Etc \"/etc/apt\";", "Dir::Bin::DPkg \"/usr/bin/dpkg\";", "Debug::NoLocking \"true\";",
            "DPkg::Use-Pty \"false\";", "DPkg::Install::Recursive::Minimum \"1000\";",
            "pkgCacheGen::ForceEssential \",\";",
        ]
        lines.append("DPkg::Options { " + dpkgOptions.map { "\"\($0)\";" }.joined(separator: " ") + " };")
        if let proxy = config[.proxyURL], !proxy.isEmpty {
            lines += ["Acquire::http::Proxy \"\(proxy)\";", "Acquire::https::Proxy \"\(proxy)\";"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the sandbox's apt configuration, builds the local repository and creates the
    /// cache directories; then makes the repository metadata available (see `syncMetadata`).
    public func setup() throws {
        try writeConfiguration()
        let local = try buildLocalRepository()
        let refreshed = try syncMetadata()
        if local && !refreshed { try updateLocalRepository() }
    }

    /// Whether the default repositories go to `sources.list.d/mkosi.sources`, given what the
    /// sandbox trees (`SandboxTrees=`, `mkosi.sandbox/`) brought: not when they bring a
    /// `mkosi.sources` of their own (kept as it is, as upstream), nor when they bring other
    /// sources (`sources.list`, `*.sources`, `*.list`), which replace the default ones.
    public static func writesDefaultSources(sourcesList: Bool, sourcesParts: [String]) -> Bool {
        if sourcesParts.contains("mkosi.sources") { return false }
        return !sourcesList && !sourcesParts.contains {
            ($0.hasSuffix(".sources") || $0.hasSuffix(".list")) && !$0.hasPrefix("mkosi")
        }
    }

    func writeConfiguration() throws {
        let etc = context.sandboxEtc + "/apt"
        try FS.makeDirectories(etc + "/sources.list.d")
        try FS.makeDirectories(etc + "/apt.conf.d")
        try FS.makeDirectories(etc + "/preferences.d")
        // Not apt.conf: apt would read that again through Dir::Etc and repeat every list option.
        try FS.writeAtomically(etc + "/mkosi.conf", aptConf())
        if Self.writesDefaultSources(sourcesList: FS.exists(etc + "/sources.list"),
                                     sourcesParts: (try? FS.listDirectory(etc + "/sources.list.d")) ?? []) {
            try FS.writeAtomically(etc + "/sources.list.d/mkosi.sources", sources())
        }
        for dir in ["cache/apt/archives/partial", "lib/apt/lists/partial"] {
            try FS.makeDirectories(Path.join(context.packageCache, dir))
        }
        // Below the root only when no base tree has them (Overlay=yes), so they are not part of
        // what the image adds.
        for dir in ["var/lib/apt", "var/lib/dpkg/info", "var/lib/dpkg/updates", "etc/apt"] where context.imagePath(dir) == nil {
            try FS.makeDirectories(Path.join(context.root, dir))
        }
        for file in ["var/lib/dpkg/status", "var/lib/dpkg/available"] where context.imagePath(file) == nil {
            try FS.writeAtomically(Path.join(context.root, file), "")
        }
    }

    /// Picks up packages that scripts left in `$PACKAGEDIR` since `setup()`.
    public func refreshLocalRepository() throws {
        if try buildLocalRepository() { try updateLocalRepository() }
    }

    /// Reads the local repository's index into apt's lists without touching the others.
    func updateLocalRepository() throws {
        try invoke("update", ["-o", "Dir::Etc::SourceList=sources.list.d/mkosi-local.sources", "-o", "Dir::Etc::SourceParts=-",
                              "-o", "APT::Get::List-Cleanup=0"])
    }

    /// `PackageDirectories=` (and `mkosi.packages/`, `$PACKAGEDIR`): their `.deb` files become a
    /// local repository at `/repository`, trusted and pinned above every other source. Returns
    /// whether there is one.
    @discardableResult
    func buildLocalRepository() throws -> Bool {
        let etc = context.sandboxEtc + "/apt"
        unlink(etc + "/sources.list.d/mkosi-local.sources")
        unlink(etc + "/preferences.d/mkosi-local.pref")
        guard try !context.collectLocalPackages(suffixes: [".deb"]).isEmpty else { return false }
        let repo = context.workspace + "/repository"
        var s = context.toolsSandbox()
        s.bind(repo, "/repository")
        s.workingDirectory = "/repository"
        try context.run(["sh", "-c", "apt-ftparchive packages . > Packages"], in: s)
        try FS.writeAtomically(etc + "/sources.list.d/mkosi-local.sources",
                               "Types: deb\nURIs: file:///repository\nSuites: ./\nTrusted: yes\n")
        try FS.writeAtomically(etc + "/preferences.d/mkosi-local.pref",
                               "Package: *\nPin: origin \"\"\nPin-Priority: 1100\n")
        return true
    }

    /// The sandbox apt and dpkg run in.
    public func sandbox() -> Sandbox {
        // /etc/apt is the sandbox tree's, like every entry of its /etc.
        var s = context.packageManagerSandbox(apiVFS: true)
        s.bind(Path.join(context.packageCache, "cache/apt"), "/var/cache/apt")
        s.bind(Path.join(context.packageCache, "lib/apt/lists"), "/var/lib/apt/lists")
        s.add(.directory("/var/log/apt"))
        return s
    }

    public func environment() -> [String: String] {
        var env = context.packageManagerEnvironment()
        env["APT_CONFIG"] = "/etc/apt/mkosi.conf"
        env["DEBIAN_FRONTEND"] = "noninteractive"
        env["DEBCONF_INTERACTIVE_SEEN"] = "true"
        // A bootable image gets its initrd from mkosi, not from initramfs-tools.
        let user = Set(context.userEnvironment().map(\.0))
        if !user.contains("INITRD") && config[.bootable] != .disabled { env["INITRD"] = "No" }
        return env
    }

    func invoke(_ operation: String, _ arguments: [String] = [], sandbox extra: [Sandbox.Operation] = []) throws {
        // One package manager at a time per package cache, also across mkosi processes.
        let lock = try context.lockPackageCache()
        defer { lock.release() }
        var s = sandbox()
        s.operations += extra
        var options: [String] = []
        // CacheOnly=always: only packages that are in the package cache already.
        if operation == "install" && config[.cacheOnly] == .always { options.append("--no-download") }
        try context.run(["apt-get", operation] + options + arguments, in: s, environment: environment())
    }

    var lists: String { Path.join(context.packageCache, "lib/apt/lists") }

    /// Makes the repository metadata available (`InstallerContext.syncMetadata`); returns
    /// whether it was refreshed.
    @discardableResult
    func syncMetadata() throws -> Bool {
        try context.syncMetadata(sources: context.fingerprint(of: ["etc/apt/sources.list", "etc/apt/sources.list.d"]),
                                 cached: { ((try? FS.listDirectory(lists)) ?? []).contains { $0.contains("_Packages") } },
                                 location: lists, refresh: refreshMetadata)
    }

    /// Downloads the repository metadata (`apt-get update`).
    func refreshMetadata() throws {
        // Without --error-on=any, apt-get update only warns about sources it could not fetch
        // and the build fails later with a confusing "Unable to locate package".
        do {
            try invoke("update", ["--error-on=any"])
        } catch var e as MkosiError where !e.isInterruption {
            e.hint = "Check that the mirror (Mirror=, LocalMirror=, or the sources in mkosi.sandbox/) is reachable and signed with a known key"
            throw e
        }
    }

    /// Bootstraps a Debian root without debootstrap: merged-/usr symlinks, the essential
    /// packages unpacked first (so maintainer scripts find their tools), then installed by dpkg.
    public func bootstrap() throws {
        let root = context.root
        var dirs = ["bin", "sbin", "lib"]
        if architecture == "amd64" { dirs += ["lib32", "lib64", "libx32"] } else if architecture == "i386" { dirs += ["lib64", "libx32"] } else { dirs += ["lib64"] }
        for d in dirs where FS.lstat(Path.join(root, d)) == nil {
            try FS.makeDirectories(Path.join(root, "usr/\(d)"))
            guard symlink("usr/\(d)", Path.join(root, d)) == 0 else { throw FS.systemError("Cannot create \(root)/\(d)") }
        }

        // With Debug::pkgDPkgPm=1 apt downloads the essential set but runs no dpkg command; the
        // Pre-Install-Pkgs hook writes the paths of the downloaded debs.
        let listDir = context.workspace + "/essential"
        try FS.makeDirectories(listDir)
        try invoke("install", ["-oDebug::pkgDPkgPm=1", "-oDPkg::Pre-Install-Pkgs::=cat >/work/essential/list",
                               "?essential ?architecture(\(architecture))", "base-files"],
                   sandbox: [.bind(source: listDir, target: "/work/essential", readOnly: false, optional: false)])
        let debs = try FS.readText(listDir + "/list").split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !debs.isEmpty else { throw MkosiError(.invalidData, "apt found no essential packages to bootstrap \(config.release)") }

        var s = context.toolsSandbox()
        s.bind(Path.join(context.packageCache, "cache/apt"), "/var/cache/apt", readOnly: true)
        var excludes: [String] = []
        if !config[.withDocs] {
            excludes = ["usr/share/doc/*", "usr/share/man/*", "usr/share/groff/*", "usr/share/gtk-doc/*", "usr/share/info/*"]
                .map { "--exclude=./\($0)" }
        }
        let script = debs.map { deb in
            "dpkg-deb --fsys-tarfile \(ShellLexer.quote(deb)) | tar -x --keep-directory-symlink --no-same-owner -C /buildroot "
                + excludes.joined(separator: " ")
        }.joined(separator: " && ")
        do {
            try context.run(["sh", "-e", "-c", script], in: s)
        } catch var e as MkosiError where !e.isInterruption {
            if case .command(let status) = e.code {
                e.message = "Unpacking the \(debs.count) essential packages (dpkg-deb --fsys-tarfile DEB | tar -x -C /buildroot) "
                    + "failed with exit status \(status)"
            }
            throw e
        }

        let names = debs.map { String(Path.basename($0).prefix(while: { $0 != "_" })) }
        try install(names)
    }

    /// Installs packages into the image (with `policy-rc.d` keeping services from starting).
    public func install(_ packages: [String]) throws {
        guard !packages.isEmpty else { return }
        let policy = Path.join(context.root, "usr/sbin/policy-rc.d")
        try FS.makeDirectories(Path.dirname(policy))
        try FS.writeAtomically(policy, "#!/bin/sh\nexit 101\n", mode: 0o755)
        defer { unlink(policy) }
        try invoke("install", packages)
        if packages.contains("apt") { try installImageSources() }
    }

    /// Purges packages from the image.
    public func remove(_ packages: [String]) throws {
        guard !packages.isEmpty else { return }
        try invoke("purge", packages)
    }

    /// `apt-get download`, then `dpkg-deb -x` into `directory`.
    public func extract(_ package: String, into directory: String) throws {
        let debs = context.workspace + "/downloads-\(package)"
        try FS.makeDirectories(debs)
        defer { FS.removeTree(debs) }
        let lock = try context.lockPackageCache()
        var s = sandbox()
        s.bind(debs, "/work/debs")
        s.workingDirectory = "/work/debs"
        try context.run(["apt-get", "download", package], in: s, environment: environment())
        lock.release()
        guard let deb = try FS.listDirectory(debs).first(where: { $0.hasSuffix(".deb") }) else {
            throw MkosiError(.invalidData, "apt-get download \(package) left no .deb")
        }
        try FS.makeDirectories(directory)
        var x = context.bareToolsSandbox()
        x.bind(debs, "/work/debs", readOnly: true)
        x.bind(directory, "/work/out")
        try context.run(["dpkg-deb", "-x", "/work/debs/\(deb)", "/work/out"], in: x)
    }

    /// The packages in dpkg's database (with the time their file list changed as install time).
    public func installedPackages() throws -> [InstalledPackage]? {
        guard context.imagePath("var/lib/dpkg/status") != nil else { return nil }
        var s = context.toolsSandbox()
        s.bind(context.workspace, "/work/ws")
        try context.run(["sh", "-c", "dpkg-query --admindir=/buildroot/var/lib/dpkg --show --showformat="
                         + "'${Package}\\t${source:Package}\\t${Version}\\t${Architecture}\\t${Installed-Size}\\t${db-fsys:Last-Modified}\\n'"
                         + " > /work/ws/packages.list"], in: s)
        return try FS.readText(context.workspace + "/packages.list").split(separator: "\n").map(String.init).sorted().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) + Array(repeating: "", count: 6)
            return InstalledPackage(type: "deb", name: f[0], version: f[2], architecture: f[3], size: (Int(f[4]) ?? 0) * 1024,
                                    installTime: Int(f[5]), source: f[1].isEmpty ? f[0] : f[1])
        }
    }

    /// `apt-get changelog` (fetched from the distribution's changelog server, as upstream
    /// does); when that server cannot be reached, the changelog the image has in
    /// /usr/share/doc, if any.
    public func changelog(_ package: InstalledPackage) throws -> String? {
        var s = sandbox()
        s.bind(context.workspace, "/work/ws")
        let fetched = (try? context.run(["sh", "-c", "apt-get changelog --quiet --quiet -o Dir=/buildroot \"$0\" > /work/ws/changelog",
                                         package.name], in: s, environment: environment())) != nil
        if fetched, let text = try? FS.readText(context.workspace + "/changelog"), !text.trimmed().isEmpty { return text.trimmed() }
        for name in ["changelog.Debian.gz", "changelog.gz"] {
            let path = "/buildroot/usr/share/doc/\(package.name)/\(name)"
            guard context.imagePath(String(path.dropFirst("/buildroot/".count))) != nil else { continue }
            try context.run(["sh", "-c", "gzip -dc \"$0\" > /work/ws/changelog", path], in: s)
            return try FS.readText(context.workspace + "/changelog").trimmed()
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
