#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// Runs tools in sandboxes: the one place that turns a `Sandbox` and a command into the sandbox
/// helper's command line (`mkosi --internal-sandbox … -- command`) and hands it to `HostCommand`.
///
/// The helper is this very executable, read once from `/proc/self/exe` (`current`). Every
/// message, `--debug` trace and error names the command as the user would read it (`display`,
/// else the command itself), never the helper's line.
public struct SandboxRunner: Sendable {
    /// The executable that applies a sandbox's operations and then runs the command.
    public let helper: String

    public init(helper: String) {
        self.helper = helper
    }

    /// The runner whose helper is this executable.
    public static let current = SandboxRunner(helper: FS.readlink("/proc/self/exe") ?? CommandLine.arguments[0])

    /// The host command line that runs `command` in `sandbox`, started through `prefix` (host
    /// commands that end by executing their arguments, such as a shell that moves itself into a
    /// cgroup first) when one is given.
    public func commandLine(_ command: [String], in sandbox: Sandbox, through prefix: [String] = []) -> [String] {
        prefix + sandbox.argv(for: command, helper: helper)
    }

    /// Runs `command` in `sandbox` with mkosi's standard streams (or the build's tool output);
    /// returns its exit status. See `HostCommand.run` for `check` and `started`.
    @discardableResult
    public func run(_ command: [String], in sandbox: Sandbox, through prefix: [String] = [],
                    environment: [String: String]? = nil, display: [String]? = nil, check: Bool = true,
                    started: ((pid_t) throws -> Void)? = nil) throws -> Int32 {
        try HostCommand.run(commandLine(command, in: sandbox, through: prefix), environment: environment,
                            display: display ?? command, check: check, started: started)
    }

    /// Runs `command` in `sandbox` and returns its status and standard output.
    @discardableResult
    public func capture(_ command: [String], in sandbox: Sandbox, environment: [String: String]? = nil,
                        inputFile: String? = nil, display: [String]? = nil, check: Bool = true) throws -> HostCommand.Result {
        try HostCommand.capture(commandLine(command, in: sandbox), environment: environment, inputFile: inputFile,
                                display: display ?? command, check: check)
    }

    /// Starts `command` in `sandbox` in the background; the caller owns the process (a
    /// `Teardown` stops it).
    public func start(_ command: [String], in sandbox: Sandbox, environment: [String: String]? = nil,
                      display: [String]? = nil) throws -> HostCommand.Background {
        try HostCommand.start(commandLine(command, in: sandbox), environment: environment, display: display ?? command)
    }
}
