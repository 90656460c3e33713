import MkosiConfig
import MkosiCore

/// `ToolsTree=default`: the tools mkosi runs (systemd-repart, ukify, bootctl, mkfs.*, qemu,
/// OVMF, …) come from a Debian (or other) tree built from the built-in `mkosi-tools`
/// configuration, not from the host. The tree is `<OutputDirectory>/mkosi.tools`, with
/// `mkosi.tools.manifest` beside it recording what it was built from (the same inputs as an
/// incremental cache). It is reused while the manifest matches, and rebuilt when it does not
/// or with `-ff`.
public enum ToolsTree {
    /// The path of the tools tree of `tools` (the `tools` image's configuration).
    public static func path(_ tools: Config, cwd: String) -> String {
        Path.join(tools.outputDirectoryOrDefault(cwd: cwd), tools.output)
    }

    /// Whether the tools tree exists and was built from the current configuration.
    public static func isCurrent(_ tools: Config, args: Args, cwd: String) -> Bool {
        let tree = path(tools, cwd: cwd)
        return FS.isDirectory(Path.join(tree, "usr")) && (try? FS.readText(tree + ".manifest")) == manifest(tools, args: args)
    }

    static func manifest(_ tools: Config, args: Args) -> String {
        IncrementalCache(config: tools, args: args).manifest
    }

    /// Builds the tools tree unless it is current; returns its path.
    @discardableResult
    public static func ensure(_ tools: Config, args: Args, cwd: String) throws -> String {
        let tree = path(tools, cwd: cwd)
        if args.force < 2 && isCurrent(tools, args: args, cwd: cwd) { return tree }
        // Its inputs and the host's tools it is built with, before anything is downloaded.
        try InputCheck.verify(InputCheck.plan([tools], cwd: cwd, defaultToolsTree: false), facts: HostInputFacts())
        Log.$image.withValue(tools.image) { Log.info("Building the tools tree \(tree)") }
        FS.removeTree(tree + ".manifest")
        let session = BuildSession(images: [tools], args: args, packageDirectory: nil)
        try Pipeline.build(tools, args: args, cwd: cwd, session: session)
        // Tools resolve names through the host's resolv.conf, bound over this one.
        let resolv = Path.join(tree, "etc/resolv.conf")
        if FS.lstat(resolv) == nil { try FS.writeAtomically(resolv, "") }
        try FS.writeAtomically(tree + ".manifest", manifest(tools, args: args))
        return tree
    }

    /// Before a verb uses the default tools tree (and before configure scripts, which run in
    /// it): `build` and any verb with `-f` build it unless it is current, as upstream; other
    /// verbs need it current.
    public static func prepare(_ loaded: LoadedConfiguration) throws {
        guard let tools = loaded.tools else { return }
        if loaded.args.verb == .build || loaded.args.force > 0 {
            try ensure(tools, args: loaded.args, cwd: loaded.cwd)
        } else {
            try requireCurrent(tools, args: loaded.args, cwd: loaded.cwd)
        }
    }

    /// For verbs that use the tools tree without building it: it must be current.
    public static func requireCurrent(_ tools: Config, args: Args, cwd: String) throws {
        guard !isCurrent(tools, args: args, cwd: cwd) else { return }
        throw MkosiError(.notBuilt, "The default tools tree \(path(tools, cwd: cwd)) is missing or out of date",
                         hint: "Build it with 'mkosi build' (or add -f to this command)")
    }
}
