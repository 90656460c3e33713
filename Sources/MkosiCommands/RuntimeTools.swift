#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What the verbs that work on a built image or a running machine share: the tools sandbox
/// (the tools tree's, which must have been built, or the host's).
enum RuntimeTools {
    /// The sandbox with the tools of `config` plus the host's devices and sysfs (loop devices,
    /// block devices), its network, and the current directory.
    static func sandbox(_ config: Config, cwd: String, devices: Bool = false) throws -> Sandbox {
        if let tree = config.toolsTree, !FS.isDirectory(tree + "/usr") {
            throw MkosiError(.failed, "The tools tree \(tree) has not been built yet",
                             hint: "Run 'mkosi build' first (ToolsTree=default builds it)")
        }
        var s = Sandbox.withTools(tree: config.toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        if devices {
            s.bind("/dev", "/dev")
            s.bind("/sys", "/sys", readOnly: true)
        }
        s.bind(cwd, optional: true)
        s.workingDirectory = cwd
        return s
    }

    /// The built output of `config`, or an error saying how to build it.
    static func output(_ config: Config, cwd: String, verb: Verb) throws -> String {
        let output = Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)
        guard FS.exists(output) else {
            throw MkosiError(.failed, "Image '\(config.image)' has not been built yet (\(output) does not exist)",
                             hint: "Run 'mkosi build' first, or use 'mkosi -f \(verb.rawValue)' to build it")
        }
        return output
    }

    /// Runs `argv` in `sandbox` with the terminal, returning its exit status.
    static func run(_ sandbox: Sandbox, _ argv: [String], environment: [String: String]? = nil) throws -> Int32 {
        try SandboxRunner.current.run(argv, in: sandbox, environment: environment, check: false)
    }
}
