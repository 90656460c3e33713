#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// One rpm-md repository as dnf and zypper configure it.
public struct RpmRepository: Sendable, Equatable {
    public var id: String
    /// The whole URL line: `baseurl=…`, `metalink=…` or `mirrorlist=…`.
    public var url: String
    /// The keys packages are checked against (URLs).
    public var gpgURLs: [String]
    public var enabled = true
    public var sslCACert: String? = nil
    public var sslClientKey: String? = nil
    public var sslClientCert: String? = nil
    public var priority: Int? = nil
    /// Whether the metadata (repomd.xml) is signed with a key we configure; package signatures
    /// are checked regardless.
    public var repoGPGCheck = true

    public init(_ id: String, _ url: String, _ gpgURLs: [String], enabled: Bool = true, priority: Int? = nil,
                repoGPGCheck: Bool = true) {
        self.id = id
        self.url = url
        self.gpgURLs = gpgURLs
        self.enabled = enabled
        self.priority = priority
        self.repoGPGCheck = repoGPGCheck
    }

    /// `key=first` then the others on continuation lines, as dnf and zypper read them.
    static func gpgKeyLines(_ urls: [String]) -> String {
        urls.enumerated().map { i, url in (i == 0 ? "gpgkey=" : String(repeating: " ", count: 7)) + url + "\n" }.joined()
    }
}

/// Finds the rpm keys a distribution's repositories are checked with, as upstream looks them
/// up: in the sandbox (the tools and `SandboxTrees=`), below `/usr/share/distribution-gpg-keys/*/`
/// or `/etc/pki/rpm-gpg/`, as `file://` URLs of the resolved file; else a remote fallback when
/// `RepositoryKeyFetch=` allows it. Beyond upstream, a key that `SandboxTrees=` puts into
/// `/etc/pki/rpm-gpg` comes first, so a user's key replaces the packaged one.
public struct RpmKeys {
    /// Returns the sandbox path of a key file named `name`, nil if there is none.
    public let locate: (String) -> String?
    /// `RepositoryKeyFetch=`.
    public let fetch: Bool
    /// The names of the files in a sandbox directory (`etc/pki/entitlement`), for RHEL's
    /// subscription certificates.
    public let listSandbox: (String) -> [String]
    /// Downloads a URL's contents (with `RepositoryKeyFetch=yes`).
    public let download: (String) throws -> String

    public init(fetch: Bool, listSandbox: @escaping (String) -> [String] = { _ in [] },
                download: @escaping (String) throws -> String = { url in
                    throw MkosiError(.unsupported, "Downloading \(url) is not possible here")
                }, locate: @escaping (String) -> String?) {
        self.fetch = fetch
        self.locate = locate
        self.listSandbox = listSandbox
        self.download = download
    }

    /// The lookup in the sandbox of `context`; downloads with curl from the tools.
    public init(_ context: any InstallerContext) {
        self.init(fetch: context.config[.repositoryKeyFetch], tools: context.toolsRoot, sandboxTree: context.sandboxTree) { url in
            try context.capture(["curl", "--fail", "--silent", "--show-error", "--location"]
                                + ProxyCertificates(context.config).curlOptions + [url], in: context.bareToolsSandbox(),
                                environment: nil)
        }
    }

    /// The lookup in the sandbox made of `tools` with `sandboxTree` on top.
    public init(fetch: Bool, tools: String, sandboxTree: String?,
                download: @escaping (String) throws -> String = { url in throw MkosiError(.unsupported, "Downloading \(url) is not possible here") }) {
        let list = { (dir: String) -> [String] in
            Set([sandboxTree, tools].compactMap { $0 }.flatMap { (try? FS.listDirectory(Path.join($0, dir))) ?? [] }).sorted()
        }
        self.init(fetch: fetch, listSandbox: list, download: download) { name in
            if let tree = sandboxTree, let path = RpmKeys.resolve(Path.join(tree, "etc/pki/rpm-gpg/\(name)"), in: tree) { return path }
            for root in [sandboxTree, tools].compactMap({ $0 }) {
                let keys = Path.join(root, "usr/share/distribution-gpg-keys")
                for dir in ((try? FS.listDirectory(keys)) ?? []).sorted() {
                    if let path = RpmKeys.resolve(Path.join(keys, "\(dir)/\(name)"), in: root) { return path }
                }
            }
            return RpmKeys.resolve(Path.join(tools, "etc/pki/rpm-gpg/\(name)"), in: tools)
        }
    }

    /// The path of `file` (following relative symlinks) below `root`, as the sandbox sees it.
    static func resolve(_ file: String, in root: String) -> String? {
        guard FS.isFile(file) else { return nil }
        let real = Path.resolve(file, cwd: "/")
        let base = Path.resolve(root, cwd: "/")
        return Path.relative(real, to: base).map { "/" + $0 } ?? Path.relative(file, to: root).map { "/" + $0 }
    }

    /// The URL of key `name`: found, else `fallback` with `RepositoryKeyFetch=yes`, else nil
    /// when not `required`.
    ///
    /// - Throws: `MkosiError` when a required key is missing.
    public func find(_ name: String, fallback: String? = nil, required: Bool = true) throws -> String? {
        if let path = locate(name) { return "file://" + path }
        if let fallback, fetch { return fallback }
        guard required else { return nil }
        throw MkosiError(.missingTool, "\(name) GPG key not found in /usr/share/distribution-gpg-keys or /etc/pki/rpm-gpg",
                         hint: "Make sure the distribution-gpg-keys package is installed (in the tools tree or on the host), "
                            + "put the key into mkosi.sandbox/etc/pki/rpm-gpg/, or allow fetching it with RepositoryKeyFetch=yes")
    }
}

/// rpm's configuration and database, shared by dnf and zypper.
enum Rpm {
    /// The macros upstream writes into the sandbox's `/etc/rpm` (those `SandboxTrees=` brings
    /// stay): languages, the database location and backend, and package verification by digest
    /// (signatures are checked by the package manager, per repository).
    static func writeConfiguration(_ context: any InstallerContext, dbpath: String, dbBackend: String? = nil) throws {
        let config = context.config
        let dir = Path.join(context.sandboxEtc, "rpm")
        try FS.makeDirectories(dir)
        func write(_ name: String, _ text: String, always: Bool = false) throws {
            let path = Path.join(dir, name)
            if always || !FS.exists(path) { try FS.writeAtomically(path, text) }
        }
        if let locale = config[.locale] { try write("macros.lang", "%_install_langs \(locale)") }
        try write("macros.dbpath", "%_dbpath \(dbpath)")
        if let dbBackend { try write("macros.db_backend", "%_db_backend \(dbBackend)", always: true) }
        try write("macros.pkgverify_level", "%_pkgverify_level digest")

        // openSUSE's and CentOS Stream 9's keys need SHA-1 accepted by rpm-sequoia.
        guard config.distribution == .opensuse || (config.distribution.isCentOSVariant && config.release == "9") else { return }
        let policy = Path.join(context.sandboxEtc, "crypto-policies/back-ends/rpm-sequoia.config")
        try FS.makeDirectories(Path.dirname(policy))
        let previous = (try? FS.readText(policy)) ?? ""
        var lines = previous.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var text = lines.map { $0.hasPrefix("sha1.second_preimage_resistance") ? "sha1.second_preimage_resistance = \"always\"" : $0 }
            .map { $0 + "\n" }.joined()
        if !lines.contains(where: { $0.hasPrefix("[hash_algorithms]") }) {
            text += "\n[hash_algorithms]\nsha1.second_preimage_resistance = \"always\"\nsha224 = \"always\"\nsha256 = \"always\"\n"
                + "sha384 = \"always\"\nsha512 = \"always\"\ndefault_disposition = \"never\"\n"
        }
        try FS.writeAtomically(policy, text)
    }

    /// The packages in the image's rpm database.
    static func installedPackages(_ context: any InstallerContext, sandbox: Sandbox) throws -> [InstalledPackage]? {
        let dbpath = context.distribution.rpmDatabase(context.config)
        guard context.imagePath(String(dbpath.dropFirst())).map(FS.isDirectory) == true else { return nil }
        var s = sandbox
        s.bind(context.workspace, "/work/ws")
        try context.run(["sh", "-c", "rpm --root=/buildroot -qa --queryformat "
                         + "'%{NEVRA}\\t%{SOURCERPM}\\t%{NAME}\\t%{ARCH}\\t%{LONGSIZE}\\t%{INSTALLTIME}\\n' > /work/ws/packages.list"],
                        in: s, environment: ["HOME": "/", "PATH": "/usr/bin:/usr/sbin"])
        return try FS.readText(context.workspace + "/packages.list").split(separator: "\n").map(String.init).sorted().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { return nil }
            // As upstream: the version is NEVRA without name and architecture ([EPOCH:]VERSION-RELEASE);
            // packages without an architecture (gpg-pubkey) have an empty one.
            let (nevra, name) = (f[0], f[2])
            var arch = f[3]
            var version = String(nevra.dropFirst(name.count + 1))
            if arch != "(none)", version.hasSuffix(".\(arch)") { version = String(version.dropLast(arch.count + 1)) } else if arch == "(none)" { arch = "" }
            return InstalledPackage(type: "rpm", name: name, version: version, architecture: arch, size: Int(f[4]) ?? 0,
                                    installTime: Int(f[5]), source: f[1], query: nevra)
        }
    }

    /// `rpm --query --changelog NEVRA`.
    static func changelog(_ context: any InstallerContext, _ package: InstalledPackage, sandbox: Sandbox) throws -> String? {
        var s = sandbox
        s.bind(context.workspace, "/work/ws")
        try context.run(["sh", "-c", "rpm --root=/buildroot --query --changelog \"$0\" > /work/ws/changelog 2>/dev/null || true",
                         package.query ?? package.name], in: s, environment: ["HOME": "/", "PATH": "/usr/bin:/usr/sbin"])
        let text = ((try? FS.readText(context.workspace + "/changelog")) ?? "").trimmed()
        return text.isEmpty ? nil : text
    }

    /// The rpms of `PackageDirectories=` and `$PACKAGEDIR` as a repository (createrepo_c) at
    /// `/repository`, defined by `definition` in `file`. Returns whether there is one (else the
    /// file is removed).
    static func localRepository(_ context: any InstallerContext, file: String, definition: String) throws -> Bool {
        unlink(file)
        guard try !context.collectLocalPackages(suffixes: [".rpm"]).isEmpty else { return false }
        var s = context.bareToolsSandbox()
        s.bind(context.workspace + "/repository", "/repository")
        try context.run(["createrepo_c", "--quiet", "/repository"], in: s)
        try FS.writeAtomically(file, definition)
        return true
    }

    /// `rpm2cpio PACKAGE | cpio -idm` into `directory`, for every rpm in `packages`.
    static func unpack(_ context: any InstallerContext, packages: String, into directory: String) throws {
        let rpms = try FS.listDirectory(packages).filter { $0.hasSuffix(".rpm") }.sorted()
        guard !rpms.isEmpty else { throw MkosiError(.invalidData, "The download left no .rpm in \(packages)") }
        try FS.makeDirectories(directory)
        var x = context.bareToolsSandbox()
        x.bind(packages, "/work/rpms", readOnly: true)
        x.bind(directory, "/work/out")
        x.workingDirectory = "/work/out"
        try context.run(["sh", "-e", "-c", rpms.map { "rpm2cpio /work/rpms/\(ShellLexer.quote($0)) | cpio -idm --quiet" }
                            .joined(separator: "\n")], in: x)
    }
}
