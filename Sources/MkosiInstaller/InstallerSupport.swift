#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What the package managers share: finding tools, the environment and sandbox every package
/// manager runs with, the metadata sync policy, and the local repository's packages.
extension InstallerContext {
    /// The root of the tools (`ToolsTree=` or `/`).
    public var toolsRoot: String { toolsTree ?? "/" }

    /// Where `program` is in the tools (`ExtraSearchPaths=` first), nil if it is not.
    public func findTool(_ program: String) -> String? {
        for dir in config[.extraSearchPaths] where FS.isExecutable(Path.join(dir, program)) { return Path.join(dir, program) }
        for dir in ["usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin"] {
            let path = Path.join(toolsRoot, Path.join(dir, program))
            if FS.isExecutable(path) { return "/" + dir + "/" + program }
        }
        return nil
    }

    /// - Throws: `MkosiError` naming `program` and the package that has it when the tools lack it.
    public func requireTool(_ program: String, package: String, for purpose: String) throws {
        guard findTool(program) == nil else { return }
        let tools = toolsTree.map { "the tools tree \($0)" } ?? "this host"
        throw MkosiError(.missingTool, "\(purpose) needs \(program), which \(tools) does not have",
                         hint: toolsTree == nil
                            ? "Install the \(package) package, or use ToolsTree=default (its package-manager profile has it where Debian packages it)"
                            : "Add \(package) to the tools tree (ToolsTreePackages=\(package)), or use another tools tree")
    }

    /// The environment of every package manager run, as upstream sets it: packages' hwdb and
    /// kernel-install hooks are skipped (mkosi runs them once itself) unless `Environment=` says
    /// otherwise; a non-bootable image gets kernel-install's own work instead.
    public func packageManagerEnvironment() -> [String: String] {
        var env = baseEnvironment()
        let user = Set(userEnvironment().map(\.0))
        if !user.contains("SYSTEMD_HWDB_UPDATE_BYPASS") { env["SYSTEMD_HWDB_UPDATE_BYPASS"] = "1" }
        if !user.contains("KERNEL_INSTALL_BYPASS") && config[.bootable] != .disabled {
            env["KERNEL_INSTALL_BYPASS"] = "1"
        } else {
            env["BOOT_ROOT"] = "/boot"
            env["BOOT_MNT"] = "/boot"
            env["hostonly_l"] = "no"
        }
        return env
    }

    /// The sandbox package managers run in: the tools, the image at `/buildroot`, the image's
    /// `/etc/machine-id` protected from scriptlets, and with `apiVFS` the image's `/proc`,
    /// `/dev`, `/run` and `/tmp` (scriptlets run chrooted into the image) and its user
    /// databases in place of the sandbox's.
    public func packageManagerSandbox(apiVFS: Bool) -> Sandbox {
        var s = toolsSandbox()
        if let machineID = imagePath("etc/machine-id"), FS.isFile(machineID) {
            s.bind(machineID, "/buildroot/etc/machine-id", readOnly: true)
        }
        s.add(.directory("/run/user/0"))
        s.bind(workspace + "/repository", "/repository", readOnly: true, optional: true)
        if let mirror = config[.localMirror], mirror.hasPrefix("file://") {
            let path = String(mirror.dropFirst("file://".count))
            s.bind(path, path, readOnly: true)
        }
        if apiVFS {
            s.add(.proc("/buildroot/proc"))
            s.add(.dev("/buildroot/dev"))
            s.add(.tmpfs("/buildroot/run"))
            s.add(.tmpfs("/buildroot/tmp"))
            s.add(.symlink(target: "/buildroot/etc/passwd", path: "/etc/passwd"))
            s.add(.symlink(target: "/buildroot/etc/group", path: "/etc/group"))
        }
        s.suppressChown = unprivileged
        s.suppressSync = true
        return s
    }

    /// Makes the repository metadata available and returns whether it was refreshed: once per
    /// build when the build session asks for it (`BuildSession.refreshMetadata`); otherwise the
    /// cached metadata is used, and fetched only when there is none and `CacheOnly=` allows it.
    ///
    /// - Parameters:
    ///   - sources: what the repositories are (the configuration files), so that changed
    ///     sources are refreshed again within one build.
    ///   - cached: whether the package cache has metadata for them.
    ///   - location: where that metadata lives, for the error.
    ///   - refresh: downloads it.
    @discardableResult
    public func syncMetadata(sources: String, cached: () -> Bool, location: String, refresh: () throws -> Void) throws -> Bool {
        let key = packageCache + "\0" + sources
        let session = metadataSession
        if session?.refreshMetadata ?? true {
            if session?.refreshed.contains(key) == true { return false }
        } else {
            if cached() { return false }
            let policy = config[.cacheOnly]
            if policy == .always || policy == .metadata {
                throw MkosiError(.notBuilt, "CacheOnly=\(policy.rawValue), but there is no cached repository metadata in \(location)",
                                 hint: "Build once with CacheOnly=auto (the default) to download it")
            }
        }
        Log.info("Syncing the repository metadata")
        try refresh()
        session?.refreshed.insert(key)
        return true
    }

    /// The packages of `PackageDirectories=`, `VolatilePackageDirectories=` and `$PACKAGEDIR`
    /// whose names end in one of `suffixes`, hard-linked (or copied) into a fresh
    /// `workspace/repository`, which package managers see at `/repository`. Returns their
    /// names, empty (and no directory) when there are none.
    public func collectLocalPackages(suffixes: [String]) throws -> [String] {
        let dirs = config[.packageDirectories] + config[.volatilePackageDirectories] + (packageDirectory.map { [$0] } ?? [])
        let repo = workspace + "/repository"
        FS.removeTree(repo)
        var files: [String] = []
        for dir in dirs {
            for name in ((try? FS.listDirectory(dir)) ?? []).sorted() where suffixes.contains(where: { name.hasSuffix($0) }) {
                files.append(Path.join(dir, name))
            }
        }
        guard !files.isEmpty else { return [] }
        try FS.makeDirectories(repo)
        for file in files {
            let target = Path.join(repo, Path.basename(file))
            unlink(target)
            if link(file, target) != 0 { try HostCommand.run(["cp", "--reflink=auto", file, target]) }
        }
        return files.map { Path.basename($0) }
    }

    /// The files in the sandbox tree's `directory` (relative to it), read for a fingerprint.
    func fingerprint(of paths: [String]) -> String {
        paths.map { path -> String in
            let full = Path.join(sandboxTree, path)
            if FS.isDirectory(full) {
                return ((try? FS.listDirectory(full)) ?? []).sorted().map { (try? FS.readText(Path.join(full, $0))) ?? "" }
                    .joined(separator: "\0")
            }
            return (try? FS.readText(full)) ?? ""
        }.joined(separator: "\0\0")
    }

    /// A helper command that runs `argv` (the package manager's full command line, its program
    /// by absolute path so that the helper named like it does not call itself): upstream puts
    /// such `dnf`, `rpm`, `zypper`, `pacman` and `apk` wrappers on scripts' `$PATH`, and
    /// `mkosi-install` & co. call them.
    func wrapper(_ argv: [String]) -> String {
        guard let program = argv.first else { return "true" }
        let path = program.hasPrefix("/") ? program : (findTool(program) ?? "/usr/bin/\(program)")
        return ([path] + argv.dropFirst()).map { ShellLexer.quote($0) }.joined(separator: " ")
    }

    /// Removes the log files package managers write into the image's `/var/log`.
    func removeLogs(prefixes: [String]) {
        let dir = Path.join(root, "var/log")
        for name in (try? FS.listDirectory(dir)) ?? [] where prefixes.contains(where: { name.hasPrefix($0) }) {
            FS.removeTree(Path.join(dir, name))
        }
    }
}
