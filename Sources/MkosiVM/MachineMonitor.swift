import MkosiCore

/// What exists once a machine is being launched, besides its plan: made by the launch, read by
/// the renderers. Paths are as the monitor's sandbox sees them unless said otherwise.
public struct LaunchResources: Sendable {
    /// The machine's temporary directory on the host.
    public var temp: String
    /// The image booted: the output, or its ephemeral copy (host path).
    public var image: String
    /// Its size in bytes, after `RuntimeSize=`.
    public var imageSize: UInt64 = 0
    public var cid: UInt32? = nil
    /// The host port forwarded to the guest's sshd.
    public var sshPort: UInt16? = nil
    /// virtiofsd's sockets: the root's (a directory image), then one per share.
    public var rootSocket: String? = nil
    public var shareSockets: [String] = []
    public var tpmSocket: String? = nil
    /// The credentials' files (qemu: SMBIOS type 11 records; others: the value).
    public var credentials: [(name: String, path: String)] = []
    /// One file per `Drives=` group (host path).
    public var driveFiles: [String] = []
    /// The firmware's variables for this boot (host path), and the initrd (host path).
    public var variables: String? = nil
    public var initrd: String? = nil
    /// systemd-journal-remote's socket for a container (host path).
    public var journalSocket: String? = nil
    /// Where a disk's root partition is mounted for nspawn (host path).
    public var mountpoint: String? = nil
    /// The core dump limit for `shell` (`cur:max`).
    public var coreLimit: String? = nil
    /// Whether each share's source is owned by someone other than root (nspawn maps its IDs).
    public var shareOwnedByUser: [Bool] = []
    /// A scope-named cgroup's `cgroup.procs` the monitor is moved into first (vmspawn
    /// `--keep-unit` where PID 1 is not systemd).
    public var scopeProcs: String? = nil

    public init(temp: String, image: String) {
        self.temp = temp
        self.image = image
    }
}

/// A monitor's command line for a machine: what runs in the tools' sandbox, what the sandbox
/// binds and sets for it, and host commands it is started through.
public struct MonitorCommand: Sendable {
    public var argv: [String] = []
    /// Host paths bound into the sandbox (at `target`, the same path when nil).
    public var binds: [(source: String, target: String?, readOnly: Bool)] = []
    /// Host paths bound at the same path where they exist (devices).
    public var optionalBinds: [String] = []
    public var environment: [(String, String)] = []
    public var workingDirectory: String? = nil
    /// Host commands that end by executing their arguments (a shell that mounts first).
    public var prefix: [String] = []
    /// Run on the host rather than in the tools' sandbox (nspawn must see the host's devices
    /// and machined).
    public var onHost = false

    public init() {}

    mutating func bind(_ source: String, _ target: String? = nil, readOnly: Bool = false) {
        binds.append((source, target, readOnly))
    }
}

/// Renders a `Machine` into a command line; pure, so each monitor's rendering of the same
/// machine can be compared in tests.
public protocol MachineMonitor {
    static func commandLine(for machine: Machine, launch: LaunchResources) -> MonitorCommand
}
