#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore
import MkosiInstaller
import MkosiSandbox

/// `mkosi build`: builds every image in order (subimages, then the main image). An existing
/// output is kept unless `-f` is given.
enum BuildCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        let start = BuildSummary.now()
        let lock = try lockOutputDirectory(loaded)
        defer { lock?.release() }
        try beforeToolsTree(loaded)
        // Configure scripts run in the tools tree: it comes first, as upstream.
        let toolsBuilt = loaded.tools.map { !ToolsTree.isCurrent($0, args: loaded.args, cwd: loaded.cwd) || loaded.args.force > 1 } ?? false
        try ToolsTree.prepare(loaded)
        let configured = try ConfigureScripts.run(loaded)
        let built = try build(configured)
        // The last line: what the whole run made, and how long it took.
        guard built > 0, let main = configured.main else { return }
        let output = Path.join(main.outputDirectoryOrDefault(cwd: loaded.cwd), main.outputWithCompression)
        let size = main.format == .none ? nil : BuildSummary.size(of: output)
        Log.$image.withValue(main.image) {
            Log.info(Terminal.bold(BuildSummary.finishedLine(images: built + (toolsBuilt ? 1 : 0),
                                                             output: size == nil ? nil : BuildSummary.displayPath(output, cwd: loaded.cwd),
                                                             size: size, seconds: BuildSummary.now() - start)))
        }
    }

    /// What every verb that builds does first, before the default tools tree is built:
    /// workspaces left by killed builds are reclaimed, and when images will be built, every file
    /// they need is checked (`InputCheck`; the tools are checked once the tools tree is ready).
    static func beforeToolsTree(_ loaded: LoadedConfiguration) throws {
        reclaimWorkspaces(loaded)
        var requirements = InputCheck.configureScripts(loaded.images, cwd: loaded.cwd)
        if let main = loaded.main, willBuild(loaded, outputExists: Output.exists(main, cwd: loaded.cwd)) {
            requirements += try InputCheck.plan(loaded.images, cwd: loaded.cwd, defaultToolsTree: loaded.tools != nil)
        }
        try InputCheck.verify(requirements.filter { !$0.isTool && $0.madeBy == nil }, facts: HostInputFacts())
    }

    /// Whether `build` builds images (rather than stopping at an existing output).
    static func willBuild(_ loaded: LoadedConfiguration, outputExists: Bool) -> Bool {
        guard let main = loaded.main else { return false }
        return !outputExists || loaded.args.force > 0 || loaded.args.rerunBuildScripts || main.format == .none
    }

    /// Removes the workspaces that builds killed earlier left in the workspace directories of
    /// this configuration (`Workspace.reclaim`), and says so in one line per directory.
    static func reclaimWorkspaces(_ loaded: LoadedConfiguration) {
        var seen: Set<String> = []
        for image in (loaded.tools.map { [$0] } ?? []) + loaded.images {
            let base = image.workspaceDirectoryOrDefault
            guard seen.insert(base).inserted else { continue }
            let reclaimed = Workspace.reclaim(in: base)
            if let line = Workspace.summary(reclaimed, in: base) { Log.info(line) }
        }
    }

    /// Two builds of one project do not run at once: the second waits for the first (and then
    /// finds its outputs, the tools tree among them). Taken once per process, before the tools
    /// tree, by every verb that builds.
    static func lockOutputDirectory(_ loaded: LoadedConfiguration) throws -> FileLock? {
        guard let main = loaded.main else { return nil }
        let directory = main.outputDirectoryOrDefault(cwd: loaded.cwd)
        try FS.makeDirectories(directory)
        Privileges.handOver(directory)
        return try FileLock.acquire(directory, waiting: "Waiting for the other mkosi building into \(directory) to finish")
    }

    /// Builds the images of `loaded`, whose configure scripts have run already; the caller holds
    /// `lockOutputDirectory`.
    ///
    /// - Returns: how many images were built.
    @discardableResult
    static func build(_ loaded: LoadedConfiguration) throws -> Int {
        guard let main = loaded.main else { return 0 }
        let args = loaded.args
        // Configure scripts may have asked for something refused since the first check.
        try SupportCheck.run(loaded, building: true, quiet: true)
        if let tools = loaded.tools { try ToolsTree.ensure(tools, args: args, cwd: loaded.cwd) }
        for image in loaded.images {
            if let tree = image.toolsTree, !FS.isDirectory(Path.join(tree, "usr")) {
                throw MkosiError.config("The tools tree \(tree) (ToolsTree=) has no /usr",
                                        hint: "Use ToolsTree=default to let mkosi build one")
            }
        }
        if !Privileges.isHostRoot, let image = loaded.images.first(where: { !$0[.repartOffline] && $0.format.isPartitionedImage }) {
            throw MkosiError.config("Must be root to build the \(image.image) image configured with RepartOffline=no",
                                    hint: "systemd-repart then works through loop devices; use RepartOffline=yes (the default) otherwise")
        }
        let exists = Output.exists(main, cwd: loaded.cwd)
        // An image that vm, shell or boot runs (without Ephemeral=) is not replaced under it.
        let imageLock = exists && (args.force > 0 || args.rerunBuildScripts) ? try Self.lockImage(main, cwd: loaded.cwd) : nil
        defer { imageLock?.release() }
        if !willBuild(loaded, outputExists: exists) {
            Log.info("Output path \(Path.join(main.outputDirectoryOrDefault(cwd: loaded.cwd), main.outputWithCompression)) exists already. (Use --force to rebuild.)")
            return 0
        }
        // The tools tree is ready: the files again (configure scripts may have changed
        // settings) and the tools, before the first package is downloaded.
        let facts = HostInputFacts()
        let requirements = try InputCheck.plan(loaded.images, cwd: loaded.cwd, defaultToolsTree: loaded.tools != nil)
        try InputCheck.verify(requirements.filter { $0.madeBy == nil }, facts: facts)
        if let reason = Privileges.flattenedBecause {
            Log.warningOnce("Building as a regular user without a subordinate ID range: ownership will be flattened, "
                            + "every file of the image will be owned by root (\(reason))")
        }
        try checkCaches(loaded, outputExists: exists)
        if args.wipeBuildDir {
            for image in loaded.images {
                if let dir = image[.buildDirectory] { FS.removeTree(image.buildSubdirectory(dir)) }
            }
        }
        // Earlier outputs are replaced only once the new ones are complete, so a failed build
        // leaves them as they were (upstream removes them first with -f).
        let packages = try Workspace.create(in: main.workspaceDirectoryOrDefault, prefix: "mkosi-packages")
        defer { packages.remove() }
        let packageDirectory = Path.join(packages.path, "packages")
        try FS.makeDirectories(packageDirectory)
        let session = BuildSession(images: loaded.images, args: args, packageDirectory: packageDirectory)
        var built = 0
        // Format=none images without build scripts have nothing to do (upstream skips them too).
        for image in loaded.images where InputCheck.builds(image) {
            // Inputs that an earlier image made.
            try InputCheck.verify(requirements.filter { $0.image == image.image && $0.madeBy != nil }, facts: facts)
            if InitrdReuse.canReuse(image, args: args, cwd: loaded.cwd) {
                Log.$image.withValue(image.image) {
                    Log.info("Reusing the default initrd \(image.outputWithCompression) (its configuration and cached packages are unchanged)")
                }
                continue
            }
            InitrdReuse.remember(image, args: args, built: false)
            try Pipeline.build(image, args: args, cwd: loaded.cwd, session: session)
            InitrdReuse.remember(image, args: args, built: true)
            built += 1
        }
        // -B: the bumped version is written back once every image is built, as upstream.
        if args.autoBump, main.origins(of: .imageVersion) == [.commandLine(option: "--auto-bump")] {
            try BumpCommand.write(main, cwd: loaded.cwd)
        }
        if main[.history] && History.wantsNew(args) {
            try History.write(loaded.commandLineSettings, to: History.directory(for: args, cwd: loaded.cwd))
        }
        return built
    }

    /// Locks the built image of `config` for as long as it is used (booted, or replaced by a
    /// build), as upstream does.
    ///
    /// - Throws: when another mkosi holds it, upstream's message and hint.
    static func lockImage(_ config: Config, cwd: String) throws -> FileLock? {
        let path = Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)
        guard FS.exists(path) else { return nil }
        guard let lock = try FileLock.tryAcquire(path) else {
            throw MkosiError(.busy, "Cannot lock \(path) as it is locked by another process",
                             hint: "Maybe another mkosi process is still using it? Use Ephemeral=yes to enable booting multiple instances of the same image")
        }
        return lock
    }

    /// What must hold before anything is built: distinct cache keys, and for `-R` and
    /// `Incremental=strict` caches that are up to date.
    static func checkCaches(_ loaded: LoadedConfiguration, outputExists: Bool) throws {
        guard let main = loaded.main else { return }
        let args = loaded.args
        let caches = loaded.images.map { ($0, IncrementalCache(config: $0, args: args)) }.filter { $0.1.enabled }
        var keys: [String: String] = [:]
        for (image, cache) in caches {
            guard let key = cache.key else { continue }
            if let other = keys[key] {
                throw MkosiError.config("Images \(other) and \(image.image) have the same cache key '\(key)'",
                                        hint: "Add the &I specifier to CacheKey= to tell them apart")
            }
            keys[key] = image.image
        }
        if args.rerunBuildScripts {
            if main.format != .none && !outputExists {
                throw MkosiError(.notBuilt, "Image '\(main.image)' must be built once before --rerun-build-scripts can be used",
                                 hint: "Build the image once with 'mkosi build'")
            }
            guard IncrementalCache(config: main, args: args).enabled else {
                throw MkosiError.config("Incremental= must be enabled to use --rerun-build-scripts")
            }
        }
        let strict = main[.incremental] == .strict
        guard args.rerunBuildScripts || strict else { return }
        if args.force > 1 {
            throw MkosiError.config("Cannot remove incremental caches when building with Incremental=strict",
                                    hint: "Build once with '-i yes' to update the image cache")
        }
        for (image, cache) in caches where !cache.isValid {
            throw MkosiError(.notBuilt, args.rerunBuildScripts
                             ? "Cannot use --rerun-build-scripts as the cache for image \(image.image) is out of date"
                             : "Strict incremental mode is enabled and the cache for image \(image.image) is out of date",
                             hint: args.rerunBuildScripts ? "Rebuild the image to update the image cache"
                                 : "Build once with '-i yes' to update the image cache")
        }
    }
}

/// A fresh directory below the workspace directory, for the duration of one build.
func temporaryDirectory(for config: Config, prefix: String) throws -> String {
    try FS.makeTemporaryDirectory(in: config.workspaceDirectoryOrDefault, prefix: prefix)
}

/// `mkosi clean`, as upstream's: for every image its outputs (then its `CleanScripts=`) and the
/// saved history; with `-f` (or `-w`) also the contents of its build directory
/// (`BuildDirectory=`/`BuildKey=`); with `-f` its incremental cache and the default tools tree
/// (`mkosi.tools` and its manifest); with `-ff` also the downloaded repository metadata of the
/// main image and the tools tree (downloaded packages are kept, as upstream keeps them).
enum CleanCommand {
    /// What is removed for one image, decided from the arguments alone.
    struct Plan: Equatable {
        var buildDirectoryContents: Bool
        var imageCache: Bool
        var repositoryMetadata: Bool

        init(args: Args, image: String) {
            buildDirectoryContents = args.force > 0 || args.wipeBuildDir
            imageCache = args.force > 0
            repositoryMetadata = args.force > 1 && (image == "main" || image == "tools")
        }
    }

    /// The images `clean` visits: the default tools tree only with `-f`, then the others.
    static func images(_ loaded: LoadedConfiguration) -> [Config] {
        (loaded.args.force > 0 ? [loaded.tools].compactMap { $0 } : []) + loaded.images
    }

    static func run(_ loaded: LoadedConfiguration) throws {
        for image in images(loaded) {
            let plan = Plan(args: loaded.args, image: image.image)
            Output.remove(image, cwd: loaded.cwd)
            try Pipeline.runCleanScripts(image, args: loaded.args, cwd: loaded.cwd)
            if plan.buildDirectoryContents, let dir = image[.buildDirectory] {
                let sub = image.buildSubdirectory(dir)
                for name in (try? FS.listDirectory(sub)) ?? [] { FS.removeTree(Path.join(sub, name)) }
            }
            if plan.imageCache {
                if image.image == "tools" {
                    let tree = ToolsTree.path(image, cwd: loaded.cwd)
                    for path in [tree, tree + ".manifest", tree + ".build.cache"] { FS.removeTree(path) }
                } else {
                    IncrementalCache(config: image, args: loaded.args).removeAll()
                }
            }
            if plan.repositoryMetadata, let manager = DistributionDescription.of(image.distribution).packageManager {
                manager.removeMetadata(packageCache: BuildContext.packageCacheDirectory(image))
            }
        }
        FS.removeTree(History.directory(for: loaded.args, cwd: loaded.cwd))
    }
}

/// `mkosi box -- COMMAND`: runs a command with mkosi's tools and `MKOSI_IN_BOX=1` in its
/// environment: with a tools tree, inside the sandbox with the tree's `/usr` while the rest of
/// the host's file system (home directories, /var, /tmp, /run, /dev, the current directory)
/// stays reachable; without one, directly on the host.
enum BoxCommand {
    static func run(_ loaded: LoadedConfiguration) throws -> Int32 {
        guard !loaded.args.cmdline.isEmpty else {
            throw MkosiError.usage("Please specify a command to run in the box", hint: "mkosi box -- COMMAND [ARGS…]")
        }
        var env = Dictionary(Env.all(), uniquingKeysWith: { _, last in last })
        env["MKOSI_IN_BOX"] = "1"
        if let d = HostDistribution.current.distribution { env["MKOSI_HOST_DISTRIBUTION"] = d.rawValue }
        if let r = HostDistribution.current.release { env["MKOSI_HOST_RELEASE"] = r }
        guard let tree = loaded.main?.toolsTree else {
            return try HostCommand.run(loaded.args.cmdline, environment: env, check: false)
        }
        // `mkosi -f box` builds the default tools tree when it is missing or out of date.
        let buildLock = loaded.args.force > 0 ? try BuildCommand.lockOutputDirectory(loaded) : nil
        try ToolsTree.prepare(loaded)
        buildLock?.release()
        env["MKOSI_DEFAULT_TOOLS_TREE_PATH"] = tree
        var s = Sandbox.withTools(tree: tree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        for dir in ["/home", "/root", "/srv", "/mnt", "/media", "/opt", "/var", "/tmp", "/run", "/dev"] {
            s.bind(dir, readOnly: false, optional: true)
        }
        s.bind(loaded.cwd, optional: true)
        s.workingDirectory = loaded.cwd
        return try SandboxRunner.current.run(loaded.args.cmdline, in: s, environment: env, check: false)
    }
}
