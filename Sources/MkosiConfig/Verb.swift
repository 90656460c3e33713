/// The verbs of the command line (`mkosi [options…] VERB [args…]`).
public enum Verb: String, CaseIterable, Sendable {
    case build, clean, summary
    case catConfig = "cat-config"
    case shell, boot, vm, qemu, ssh, serve, bump, help, genkey, documentation, journalctl, coredumpctl, burn
    case dependencies, completion, sysupdate, box, sandbox, `init`
    case latestSnapshot = "latest-snapshot"

    /// Verbs that accept arguments after the verb.
    public var supportsCommandLine: Bool {
        switch self {
        case .build, .shell, .boot, .vm, .qemu, .ssh, .journalctl, .coredumpctl, .burn, .completion,
             .documentation, .sysupdate, .box, .sandbox, .dependencies:
            return true
        default:
            return false
        }
    }

    /// Verbs that run inside the tools tree environment.
    public var needsTools: Bool {
        [.box, .sandbox, .journalctl, .coredumpctl, .ssh, .latestSnapshot].contains(self)
    }

    /// Verbs that need a built image.
    public var needsBuild: Bool {
        [.build, .shell, .boot, .vm, .qemu, .serve, .burn, .sysupdate].contains(self)
    }

    /// Verbs that parse the configuration.
    public var needsConfig: Bool {
        ![.help, .genkey, .documentation, .dependencies, .completion, .`init`].contains(self)
    }
}

/// Global options: everything on the command line that is not a setting.
public struct Args: Sendable {
    public var verb: Verb = .build
    /// Arguments after the verb.
    public var cmdline: [String] = []
    /// `-f` count.
    public var force = 0
    /// The directory given with `-C` (or the current directory); nil for `-C ''`.
    public var directory: String?
    public var debug = false
    public var debugShell = false
    public var debugWorkspace = false
    public var debugSandbox = false
    public var debugTiming = false
    public var pager = true
    public var genkeyValidDays = "730"
    public var genkeyCommonName = ""
    public var autoBump = false
    public var docFormat = "auto"
    public var json = false
    public var wipeBuildDir = false
    public var rerunBuildScripts = false
    /// `--show-origin`: report where each setting's value came from (not in upstream).
    public var showOrigin = false
    public var help = false
    public var version = false

    public init() {}
}
