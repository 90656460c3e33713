import MkosiConfig
import MkosiCore

/// What is known about the built image before a machine is planned: which artifacts exist
/// beside it, and what reading it (not changing it) told.
public struct ImageFacts: Sendable {
    /// The built output (which exists).
    public var output: String
    /// `<Output>.vmlinuz`, `<Output>.initrd` and `<Output>.efi` beside it, where they exist.
    public var vmlinuz: String? = nil
    public var initrd: String? = nil
    public var efi: String? = nil
    /// Whether `Linux=` is a UKI (nil when it is not set or could not be read).
    public var linuxIsUKI: Bool? = nil
    /// The output's size in bytes.
    public var size: UInt64 = 0
    /// `root=…` (or `roothash=`/`usrhash=`) from a disk's partitions, for direct kernel boot.
    public var rootArgument: String? = nil
    /// A disk's root partition (offset and size), for systemd-nspawn.
    public var rootPartition: (offset: UInt64, size: UInt64)? = nil
    /// A directory tree's `/sbin/init` and `/usr/lib/systemd/systemd`.
    public var hasSbinInit = false
    public var hasSystemd = false
    /// Whether the file `FirmwareVariables=` names exists (when it names one).
    public var firmwareVariablesExist = true

    public init(output: String) { self.output = output }
}

/// The rest of what a machine is planned from: the systemd credentials (collected from
/// `Credentials=` and `SshCertificate=`) and the arguments after the verb.
public struct MachineRequest: Sendable {
    public var verb: Verb
    public var cwd: String
    public var credentials: [(name: String, value: [UInt8])]
    public var arguments: [String]

    public init(verb: Verb, cwd: String, credentials: [(name: String, value: [UInt8])] = [], arguments: [String] = []) {
        self.verb = verb
        self.cwd = cwd
        self.credentials = credentials
        self.arguments = arguments
    }
}

extension Machine {
    /// Every decision about running `config`'s image for `request` on `host`, and every
    /// refusal, before anything is copied or started. `vm` takes qemu or systemd-vmspawn
    /// (`VirtualMachineMonitor=`), `shell` and `boot` systemd-nspawn.
    ///
    /// - Throws: a refusal naming the setting and where it was set: `.unsupported` (the
    ///   image's format, a combination no monitor offers), `.hostUnsupported` (KVM, vsock,
    ///   machined, root), `.missingTool` (qemu, firmware, virtiofsd, swtpm, …), `.notBuilt`
    ///   (a kernel beside the image), `.config` (settings that contradict each other).
    public static func plan(_ config: Config, image: ImageFacts, request: MachineRequest, host: RuntimeHost) throws -> Machine {
        let planner = Planner(config: config, image: image, request: request, host: host)
        switch request.verb {
        case .shell, .boot: return try planner.nspawn(boot: request.verb == .boot)
        default: return try config[.virtualMachineMonitor] == .vmspawn ? planner.vmspawn() : planner.qemu()
        }
    }

    /// The guest port `mkosi ssh` reaches through qemu's port forward where there is no vsock:
    /// systemd-ssh-generator in the guest listens there (`systemd.ssh_listen=`), apart from any
    /// sshd the image itself starts on port 22.
    public static let sshGuestPort: UInt16 = 2222

    /// Whether a direct kernel boot of `config`'s disk needs `ImageFacts.rootArgument`.
    public static func needsRootArgument(_ config: Config) -> Bool {
        config.format == .disk && config[.firmware].isLinux
            && !(config[.kernelCommandLineExtra] + config[.kernelCommandLine]).contains { $0.hasPrefix("root=") }
    }
}

/// The decisions, one function per subject; `Machine.plan` runs them in upstream's order.
struct Planner {
    let config: Config
    let image: ImageFacts
    let request: MachineRequest
    let host: RuntimeHost

    var toolsTree: String? { config.toolsTree }
    var outputDirectory: String { config.outputDirectoryOrDefault(cwd: request.cwd) }

    /// An error about `key`, located where it was set.
    func refuse<T>(_ code: MkosiError.Code, _ key: SettingKey<T>, _ message: String, hint: String? = nil) -> MkosiError {
        MkosiError(code, message, hint: hint, location: config.location(of: key, cwd: request.cwd))
    }

    func base(_ monitor: Machine.Monitor, boot: Machine.Boot) -> Machine {
        var m = Machine(monitor: monitor, name: config[.machine] ?? config.image, format: config.format, image: image.output,
                        boot: boot)
        m.ram = config[.ram]
        m.maxMem = config[.maxMem] ?? 0
        m.network = config[.runtimeNetwork]
        m.ephemeral = config[.ephemeral]
        m.diskType = config[.diskType]
        m.removable = config[.removable]
        m.console = config[.console]
        m.credentials = request.credentials
        m.shares = Self.shares(config)
        m.sshKey = config[.sshKey]
        m.privileged = host.isRoot
        m.verbArguments = request.arguments
        m.drives = Dictionary(grouping: config[.drives], by: \.fileId).sorted { $0.key < $1.key }.map(\.value)
        return m
    }

    /// What a booted image gets shared from the host besides its root: with
    /// `RuntimeBuildSources=`, the build sources at `/work/src/<target>` and the build directory
    /// at `/work/build` (where the build scripts saw them), then `RuntimeTrees=` at
    /// `/root/src/<target>`.
    static func shares(_ config: Config) -> [Machine.Share] {
        var shares: [Machine.Share] = []
        if config[.runtimeBuildSources] {
            for tree in config[.buildSources] {
                shares.append(.init(source: tree.source,
                                    target: tree.target.map { "/work/src/" + $0.drop(while: { $0 == "/" }) } ?? "/work/src"))
            }
            if let buildDir = config[.buildDirectory] {
                shares.append(.init(source: config.buildSubdirectory(buildDir), target: "/work/build"))
            }
        }
        for tree in config[.runtimeTrees] {
            shares.append(.init(source: tree.source, target: tree.target.map { $0.hasPrefix("/") ? $0 : Path.join("/root/src", $0) } ?? "/root/src"))
        }
        return shares
    }
}
