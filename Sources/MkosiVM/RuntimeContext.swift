import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What every verb that uses a built image, a running machine or mkosi's tools shares (`vm`,
/// `shell`, `boot`, `ssh`, `serve`, `burn`, `sysupdate`, `journalctl`, `coredumpctl`): the main
/// image's configuration, the directory mkosi runs in, the verb, and the one runner of sandboxed
/// tools. Made by the verb preamble (`Mkosi.prepareRuntime`) once the tools tree is current and,
/// for image verbs, the configure scripts ran and `-f` built the image.
public struct RuntimeContext: Sendable {
    public let config: Config
    public let cwd: String
    public let verb: Verb
    public let runner: SandboxRunner

    public init(config: Config, cwd: String, verb: Verb, runner: SandboxRunner = .current) {
        self.config = config
        self.cwd = cwd
        self.verb = verb
        self.runner = runner
    }

    public var toolsTree: String? { config.toolsTree }
    public var outputDirectory: String { config.outputDirectoryOrDefault(cwd: cwd) }
    /// Where the built output is, built or not.
    public var outputPath: String { Path.join(outputDirectory, config.outputWithCompression) }

    /// The built output.
    ///
    /// - Throws: `.notBuilt`, naming the path and how to build it.
    public func builtOutput() throws -> String {
        guard FS.exists(outputPath) else {
            throw MkosiError(.notBuilt, "Image '\(config.image)' has not been built yet (\(outputPath) does not exist)",
                             hint: "Run 'mkosi build' first, or use 'mkosi -f \(verb.rawValue)' to build it")
        }
        return outputPath
    }

    /// The path of the first of `candidates` (absolute paths as the sandbox sees them) that is
    /// an executable of the tools tree, or of the host without one.
    public func tool(_ candidates: String...) -> String? {
        candidates.first { FS.isExecutable((toolsTree ?? "") + $0) }
    }

    /// A hint for a tool that is missing: where to install it from.
    public func installHint(_ packages: String) -> String { MkosiError.installHint(packages, toolsTree: toolsTree) }

    /// `.missingTool` for `what`, saying where it was looked for.
    public func missingTool(_ what: String, packages: String) -> MkosiError {
        MkosiError.missingTool(what, packages: packages, toolsTree: toolsTree)
    }

    /// The sandbox with the tools of the configuration (the tools tree's, which must have been
    /// built, or the host's), the current directory as working directory, and with `devices`,
    /// the host's /dev and a read-only /sys (loop and block devices).
    ///
    /// - Throws: `.notBuilt` when the tools tree has not been built.
    public func toolsSandbox(devices: Bool = false) throws -> Sandbox {
        if let tree = toolsTree, !FS.isDirectory(tree + "/usr") {
            throw MkosiError(.notBuilt, "The tools tree \(tree) has not been built yet",
                             hint: "Run 'mkosi build' first (ToolsTree=default builds it)")
        }
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        if devices {
            s.bind("/dev", "/dev")
            s.bind("/sys", "/sys", readOnly: true)
        }
        s.bind(cwd, optional: true)
        s.workingDirectory = cwd
        return s
    }

    /// Runs `argv` in `sandbox` with the terminal; returns its exit status (a failure is the
    /// tool's own, passed on as mkosi's exit status, not an error).
    public func runInteractive(_ argv: [String], in sandbox: Sandbox, environment: [String: String]? = nil,
                               display: [String]? = nil) throws -> Int32 {
        try runner.run(argv, in: sandbox, environment: environment, display: display, check: false)
    }

    /// - Throws: `.hostUnsupported` unless mkosi runs as the host's root, saying `why`.
    public func requireRoot(_ why: String) throws {
        guard Privileges.isHostRoot else {
            throw MkosiError(.hostUnsupported, "'\(verb.rawValue)' \(why) and needs root", hint: "Run it with sudo or as root")
        }
    }
}

extension MkosiError {
    /// Where to get `packages` from: the host's package manager without a tools tree, else the
    /// tools tree's packages (`ToolsTreePackages=`).
    static func installHint(_ packages: String, toolsTree: String?) -> String {
        toolsTree == nil ? "Install \(packages), or use ToolsTree=default" : "Add \(packages) to ToolsTreePackages="
    }

    /// `.missingTool` for `what`, saying where it was looked for (the tools tree, or the host).
    static func missingTool(_ what: String, packages: String, toolsTree: String?) -> MkosiError {
        MkosiError(.missingTool, "\(what) is not installed\(toolsTree.map { " in the tools tree \($0)" } ?? "")",
                   hint: installHint(packages, toolsTree: toolsTree))
    }
}
