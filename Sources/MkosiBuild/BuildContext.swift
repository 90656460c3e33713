#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiInstaller
import MkosiSandbox

extension Config {
    /// `WorkspaceDirectory=`, else upstream's default (the user's cache directory or /var/tmp).
    public var workspaceDirectoryOrDefault: String { self[.workspaceDirectory] ?? UserDirectories.defaultWorkspace() }
}

/// Everything one image build works with: its configuration, a private workspace (removed when
/// the build ends, whether it succeeds or not), and the caches it shares with other builds.
///
/// All mounts happen inside sandboxed child processes, so mkosi itself never holds a mount:
/// when a build stops for any reason, nothing stays mounted.
public final class BuildContext: InstallerContext {
    public let config: Config
    public let args: Args
    /// The invocation directory (after `-C`).
    public let cwd: String
    /// The workspace directory, locked while this build uses it (`Workspace`).
    public var workspace: String { ownedWorkspace.path }
    private let ownedWorkspace: Workspace
    /// The image's root directory while it is being built.
    public var root: String { workspace + "/root" }
    /// Outputs are assembled here and moved to the output directory at the end.
    public var staging: String { workspace + "/staging" }
    /// What every tool of this build sees on top of the tools: `SandboxTrees=` (mkosi.sandbox/)
    /// and the package manager's configuration in its `etc/` (see `installSandboxTrees`).
    public var sandboxTree: String { workspace + "/sandbox" }
    public let packageCache: String
    public let outputDirectory: String
    /// Runs every sandboxed tool of the build (its helper is this executable).
    public let runner = SandboxRunner.current
    public let unprivileged: Bool
    /// What the images of this build share (none for configure and clean scripts).
    public let session: BuildSession?
    /// `$PACKAGEDIR`: packages scripts leave here join the local repository; shared by the
    /// images of one build.
    public var packageDirectory: String? { session?.packageDirectory }
    /// `$ARTIFACTDIR`: files scripts leave for later steps of this image.
    public var artifacts: String { workspace + "/artifacts" }

    /// Whether the image started from a valid incremental cache (then the repository metadata
    /// was not refreshed, so packages fetched for the cached image are still current).
    public var restoredFromCache = false

    /// When this image's build started (seconds since the epoch).
    public let startTime = Int(time(nil))

    /// `EnvironmentFiles=`, read once when the context is made (every tool run uses them).
    let environmentFileVariables: [(String, String)]

    public init(config: Config, args: Args, cwd: String, session: BuildSession? = nil) throws {
        self.session = session
        self.config = config
        self.args = args
        self.cwd = cwd
        unprivileged = !Privileges.keepsOwnership
        outputDirectory = config.outputDirectoryOrDefault(cwd: cwd)
        packageCache = BuildContext.packageCacheDirectory(config)
        environmentFileVariables = try BuildContext.readEnvironmentFiles(config[.environmentFiles])

        ownedWorkspace = try Workspace.create(in: config.workspaceDirectoryOrDefault, prefix: "mkosi-workspace")
        do {
            try Subvolumes.makeTree(root, config[.useSubvolumes])
            for dir in [staging, sandboxTree + "/etc", artifacts] { try FS.makeDirectories(dir) }
            chmod(root, 0o755)
        } catch {
            ownedWorkspace.remove()
            throw error
        }
    }

    /// How long each step of the build took, in order (`step`).
    public private(set) var stepTimes: [(String, Double)] = []

    /// Runs one step of the build, titled for the log (`Installing packages`), and records its
    /// duration. The title is printed before the step's first tool runs, unless the step's own
    /// first message says what it does (`Log.inStep`); a step that took a second or more ends
    /// with `<title> took 12.3s`, every step does with `--debug-timing`, which also prints all
    /// durations at the end (`reportStepTimes`).
    public func step(_ title: String, _ body: () throws -> Void) throws {
        let start = BuildSummary.now()
        defer { stepTimes.append((title, BuildSummary.now() - start)) }
        try Log.inStep(title) {
            try body()
            let elapsed = BuildSummary.now() - start
            if elapsed >= 1 || args.debugTiming { Log.info(Log.stepTook(title, elapsed)) }
        }
    }

    /// Prints the step durations (see `step`).
    public func reportStepTimes() {
        guard args.debugTiming || Log.isDebug || Env.get("MKOSI_STEP_TIMES") == "1", !stepTimes.isEmpty else { return }
        let total = stepTimes.reduce(0) { $0 + $1.1 }
        func seconds(_ x: Double) -> String {
            let hundredths = Int((x * 100).rounded())
            let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
            return String(repeating: " ", count: max(0, 6 - text.count)) + text
        }
        Log.info("Step times of the \(config.image) image (\(String(seconds(total).drop(while: { $0 == " " }))) s):")
        for (name, time) in stepTimes where time >= 0.005 {
            Log.info("  \(seconds(time)) s  \(name)")
        }
    }

    /// `PackageCacheDirectory=`, else `mkosi/<distribution>~<release>~<architecture>` in the
    /// user's cache directory.
    public static func packageCacheDirectory(_ config: Config) -> String {
        let key = "\(config.distribution.rawValue)~\(config.release)~\(config.architecture.rawValue)"
        return config[.packageCacheDirectory] ?? Path.join(UserDirectories.cache(), "mkosi/\(key)")
    }

    /// Takes the package cache's lock (waiting for another mkosi that holds it), as upstream
    /// does around every package manager run.
    public func lockPackageCache() throws -> FileLock {
        try FS.makeDirectories(packageCache)
        return try FileLock.acquire(packageCache, waiting: "Waiting for another mkosi to release the package cache \(packageCache)")
    }

    /// The repository metadata this build shares with its other images.
    public var metadataSession: MetadataSession? { session }

    /// The image's package manager, nil for `Distribution=custom` (no packages are installed).
    public var packageManager: (any PackageManager)? {
        distribution.packageManager(findTool: { self.findTool($0) != nil }).map { $0.init(self) }
    }

    /// Removes the workspace, or with `--debug-workspace` keeps an image build's workspace for
    /// good and logs its path, as upstream does (also when the build failed). Configure and
    /// clean scripts' workspaces are always removed (upstream gives them no workspace).
    public func cleanup() {
        if args.debugWorkspace && session != nil {
            ownedWorkspace.keep()
            Log.info("Workspace: \(workspace)")
            return
        }
        ownedWorkspace.remove()
    }

    /// While set, the image is seen through an overlay whose changes go to `upper` (the build
    /// overlay: build packages and build scripts leave the image itself untouched).
    public var overlay: (upper: String, work: String)? = nil

    public var overlayUpper: String? { overlay?.upper }

    /// With `Overlay=yes`, while the image is being made: the base trees (directories, top first),
    /// seen below the root, which receives only what this image changes (`BaseTrees`).
    public var baseLayers: [String] = []

    public var imageLayers: [String] { [root] + baseLayers }

    /// How the image root is mounted at `target` in a sandbox: the root itself, with
    /// `Overlay=yes` the root over the base trees, and in the build overlay all of that below an
    /// upper directory of its own.
    public func rootOperation(at target: String) -> Sandbox.Operation {
        if let overlay {
            return .overlay(lower: imageLayers, upper: overlay.upper, work: overlay.work, target: target)
        }
        if !baseLayers.isEmpty {
            return .overlay(lower: baseLayers, upper: root, work: workspace + "/base-overlay-work", target: target)
        }
        return .bind(source: root, target: target, readOnly: false, optional: false)
    }

    /// A sandbox inside the image (its own tools, as in a chroot): the image at `/`, with `/proc`,
    /// `/dev` and private `/tmp`, `/run` and `/var/tmp`.
    public func imageSandbox() -> Sandbox {
        var s = Sandbox(userNamespace: unprivileged)
        s.add(rootOperation(at: "/"))
        s.add(.proc("/proc"))
        s.add(.dev("/dev"))
        s.add(.tmpfs("/tmp"))
        s.add(.tmpfs("/run"))
        s.add(.tmpfs("/var/tmp"))
        return s
    }

    /// The tools tree the image's tools come from (`ToolsTree=`), or nil for the host's.
    public var toolsTree: String? { config[.toolsTree] }

    /// A sandbox with the tools (the tools tree's, else the host's) and no image; the
    /// certificate stores are the tools tree's unless `ToolsTreeCertificates=no`, and
    /// `ExtraSearchPaths=` are mounted where they are on the host (`baseEnvironment` puts them
    /// first on `$PATH`).
    public func bareToolsSandbox() -> Sandbox {
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: unprivileged,
                                  certificatesFromTree: config[.toolsTreeCertificates])
        for path in config[.extraSearchPaths] { s.bind(path, readOnly: true) }
        for m in ProxyCertificates(config, cwd: cwd).mounts { s.bind(m.source, m.target, readOnly: true) }
        s.operations += sandboxTreeOperations()
        return s
    }

    /// The sandbox tree on top of the tools, as upstream layers it: its `/usr` (and `/opt`)
    /// over the tools' in a read-only union, and each entry of its `/etc` in place of the
    /// tools' (certificate stores were merged with the tools' when the trees were installed).
    func sandboxTreeOperations() -> [Sandbox.Operation] {
        var ops: [Sandbox.Operation] = []
        for dir in ["usr", "opt"] where FS.isDirectory(Path.join(sandboxTree, dir)) {
            ops.append(.overlay(lower: [Path.join(sandboxTree, dir), Path.join(toolsTree ?? "/", dir)], upper: "", work: "",
                                target: "/" + dir))
        }
        for entry in (try? FS.listDirectory(sandboxEtc))?.sorted() ?? [] {
            ops.append(.bind(source: Path.join(sandboxEtc, entry), target: "/etc/" + entry, readOnly: true, optional: false))
        }
        return ops
    }

    /// Copies `SandboxTrees=` into the sandbox tree (once per build, before any script or
    /// package manager runs). Certificate stores a tree changes are merged with the tools' first,
    /// so that a tree adding one CA does not hide the others.
    public func installSandboxTrees() throws {
        let trees = config[.sandboxTrees]
        guard !trees.isEmpty else { return }
        Log.info("Copying in sandbox trees")
        let tools = toolsTree ?? "/"
        for store in ["pki", "ssl", "ca-certificates"] {
            let touched = trees.contains { tree in
                let target = tree.target ?? "/"
                if Path.relative(target, to: "/etc/" + store) != nil || !FS.isDirectory(tree.source) { return true }
                return Path.relative("/etc/" + store, to: target).map { FS.exists(Path.join(tree.source, $0)) } ?? false
            }
            let source = Path.join(tools, "etc/" + store)
            if touched && FS.isDirectory(source) {
                try HostCommand.run(["cp", "-a", "--no-target-directory", source, Path.join(sandboxEtc, store)])
            }
        }
        // As upstream's install_tree, which also copies skeleton and extra trees.
        try TreeCopy.install(trees, into: self, destination: sandboxTree)
        let used: Set<String> = ["etc", "usr", "opt"]
        for entry in (try? FS.listDirectory(sandboxTree)) ?? [] where !used.contains(entry) {
            Log.warning("SandboxTrees=: /\(entry) of the sandbox trees is not used by this mkosi (only /etc, /usr and /opt are)")
        }
    }

    /// A sandbox with the tools (the tools tree's, else the host's) and the image at `/buildroot`.
    public func toolsSandbox() -> Sandbox {
        var s = bareToolsSandbox()
        s.add(rootOperation(at: "/buildroot"))
        return s
    }

    /// Runs `argv` in `sandbox` through `runner` with the build's environment (unless
    /// `environment` is given); failures name `display` (default: `argv`).
    public func run(_ argv: [String], in sandbox: Sandbox, environment: [String: String]? = nil,
                    display: [String]? = nil) throws {
        try runner.run(argv, in: sandbox, environment: environment ?? baseEnvironment(), display: display)
    }

    /// Runs `argv` in `sandbox` through `runner` and returns its standard output; failures name `argv`.
    public func capture(_ argv: [String], in sandbox: Sandbox, environment: [String: String]? = nil) throws -> String {
        try runner.capture(argv, in: sandbox, environment: environment ?? baseEnvironment()).output
    }

    /// The environment of every tool: a clean one with a sane PATH (`ExtraSearchPaths=` first),
    /// the proxy settings, mkosi's own `SYSTEMD_LOG_*` (`forwardedVariables`), then the user's
    /// variables (`userEnvironment`).
    public func baseEnvironment() -> [String: String] {
        let path = config[.extraSearchPaths] + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        var env: [String: String] = [
            "PATH": path.joined(separator: ":"),
            "HOME": "/", "LANG": "C.UTF-8", "TERM": Env.get("TERM") ?? "dumb",
            "SYSTEMD_IN_CHROOT": "1",
        ]
        if let sde = config[.sourceDateEpoch] { env["SOURCE_DATE_EPOCH"] = String(sde) }
        if let proxy = config[.proxyURL], !proxy.isEmpty {
            for k in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"] { env[k] = proxy }
        }
        env.merge(ProxyCertificates(config, cwd: cwd).gitEnvironment) { _, new in new }
        let exclude = config[.proxyExclude]
        if !exclude.isEmpty {
            for k in ["no_proxy", "NO_PROXY"] { env[k] = exclude.joined(separator: ",") }
        }
        for (k, v) in BuildContext.forwardedVariables(Env.get) { env[k] = v }
        for (k, v) in userEnvironment() { env[k] = v }
        return env
    }

    /// The variables of mkosi's own environment every tool gets, as upstream passes them:
    /// `SYSTEMD_LOG_LEVEL` and `SYSTEMD_LOG_LOCATION`, when set (`--debug` does not set them:
    /// it is about mkosi's output, not the tools').
    public static func forwardedVariables(_ lookup: (String) -> String?) -> [String: String] {
        var env: [String: String] = [:]
        for name in ["SYSTEMD_LOG_LEVEL", "SYSTEMD_LOG_LOCATION"] { env[name] = lookup(name) }
        return env
    }

    /// The variables the user asks for, in the order they apply: `EnvironmentFiles=`
    /// (`mkosi.env` first), read when this image's build starts, then `Environment=`, which wins.
    public func userEnvironment() -> [(String, String)] { environmentFileVariables + config[.environment].pairs }

    /// The variables of `EnvironmentFiles=`, in order.
    ///
    /// A file holds `NAME=VALUE` lines, taken literally as upstream does (no quotes or `export`
    /// removed); `NAME` alone copies mkosi's own variable. Beyond upstream, blank lines and lines
    /// starting with `#` are skipped instead of becoming variables with odd names.
    ///
    /// - Throws: `MkosiError` naming a file that cannot be read.
    static func readEnvironmentFiles(_ files: [String]) throws -> [(String, String)] {
        var result: [(String, String)] = []
        for file in files {
            let text: String
            do { text = try FS.readText(file) } catch var e as MkosiError {
                e.hint = "EnvironmentFiles= (or mkosi.env) names it"
                throw e
            }
            for raw in text.split(separator: "\n") {
                let line = String(raw).trimmed()
                if line.isEmpty || line.hasPrefix("#") { continue }
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).trimmed()
                guard !name.isEmpty else { continue }
                result.append((name, parts.count == 1 ? (Env.get(name) ?? "") : String(parts[1]).trimmed()))
            }
        }
        return result
    }
}
