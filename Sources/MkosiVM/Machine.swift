import MkosiConfig
import MkosiCore

/// Everything decided about one run of a built image, before anything is copied or started:
/// made by `Machine.plan` from the configuration, facts about the built image and the host, and
/// rendered into a command line by a `MachineMonitor` (qemu, systemd-vmspawn, systemd-nspawn).
/// The launch only adds what exists once it runs (sockets, a vsock CID, file paths).
public struct Machine: Sendable {
    public enum Monitor: String, Sendable { case qemu, vmspawn, nspawn }

    /// How the machine starts.
    public enum Boot: Sendable, Equatable {
        /// UEFI firmware boots the disk (or ESP), or a UKI handed over as the kernel.
        case uefi(secureBoot: Bool)
        /// The kernel is started directly (`-kernel`/`--linux`), with `initrd` when given.
        case linux
        /// A container boots the image's init (`mkosi boot`).
        case container
        /// A container runs a shell or the verb's command (`mkosi shell`).
        case shell
    }

    /// A host directory the machine sees at `target` (a virtiofs tag, the same string, under qemu).
    public struct Share: Sendable, Equatable {
        public var source: String
        public var target: String
    }

    /// `FirmwareVariables=` resolved: the firmware's template, a file of the user's, or the
    /// template with a certificate enrolled (`custom`: PK, KEK and db; `mok`: shim's MOK list).
    public enum Variables: Sendable, Equatable {
        case template
        case file(String)
        case enrol(certificate: String, mok: Bool)
    }

    public var monitor: Monitor
    /// `Machine=`, else the image's name.
    public var name: String
    public var format: OutputFormat
    /// The built output (a disk, a directory tree, a UKI, a cpio).
    public var image: String
    public var boot: Boot
    /// The firmware qemu loads (UEFI only), and what vmspawn is asked for.
    public var firmware: FirmwareDescriptor? = nil
    public var firmwareFeatures: [String] = []
    public var variables: Variables = .template
    /// The kernel started directly, or the UKI handed over as the kernel under UEFI.
    public var kernel: String? = nil
    public var initrds: [String] = []
    /// qemu's binary (`qemu-system-x86_64`), and whether its machine is arm's `virt`.
    public var qemuBinary = "qemu-system-x86_64"
    public var arm = false
    public var kvm = false
    public var cpus = 1
    public var ram = 0
    public var maxMem = 0
    public var cxl = false
    /// The host's page size (a disk whose size is a multiple of it gets direct I/O).
    public var pageSize = 4096
    public var tpm = false
    /// A vhost-vsock device (qemu), or vmspawn's `--vsock` as set.
    public var vsock = false
    public var vsockSetting: ConfigFeature = .auto
    /// `VSockCID=`: a number, -1 for `auto`, -2 for `hash`; the CID itself is taken at launch.
    public var vsockCID = -1
    public var console: ConsoleMode = .native
    /// systemd-pty-forward and its options, wrapping the monitor (`Console=interactive|read-only`).
    public var ptyForward: [String]? = nil
    public var network: Network = .user
    /// A port on the host's 127.0.0.1 forwarded to the guest's sshd (no vsock for `mkosi ssh`).
    public var sshForward = false
    /// The image's directory tree shared as the root file system (virtiofs under qemu).
    public var rootShare = false
    public var shares: [Share] = []
    public var credentials: [(name: String, value: [UInt8])] = []
    /// The kernel command line as the monitor passes it (qemu: `-append` for direct boot, else
    /// SMBIOS; vmspawn: trailing arguments; nspawn: the init's arguments and environment).
    public var kernelArguments: [String] = []
    /// `Drives=`, grouped by file.
    public var drives: [[Drive]] = []
    public var diskType: DiskType = .virtioBlk
    public var removable = false
    /// Boot a copy of the image, removed afterwards (`Ephemeral=`).
    public var ephemeral = false
    /// The size the (copy of the) disk is grown to first (`RuntimeSize=`).
    public var runtimeSize: Int? = nil
    /// Register with machined; `keepUnit`: no scope unit of the monitor's own; `userScope`: the
    /// monitor in the user's manager (vmspawn without a scope to have).
    public var register = false
    /// machined's varlink socket mkosi registers a qemu machine through.
    public var machinedSocket: String? = nil
    public var keepUnit = false
    public var userScope = false
    public var forwardJournal: String? = nil
    public var bindUser: String? = nil
    /// Arguments for the monitor's emulator from `QemuArgs=`, then the verb's (qemu and vmspawn).
    public var qemuArguments: [String] = []
    /// The verb's arguments (qemu: appended; vmspawn: first kernel arguments; nspawn: the command).
    public var verbArguments: [String] = []
    /// systemd-nspawn only: the root partition of a disk (byte offset and size), `--settings=`,
    /// a tmpfs of its own on /run/systemd/nspawn, and the core limit for `shell`.
    public var rootPartition: (offset: UInt64, size: UInt64)? = nil
    public var nspawnSettings: String? = nil
    public var privateNspawnRun = false
    public var sshKey: String? = nil
    /// mkosi runs as the host's root (virtiofsd then keeps file handles and capabilities).
    public var privileged = false
    /// Said before the machine starts.
    public var notes: [String] = []
    public var warnings: [String] = []

    public init(monitor: Monitor, name: String, format: OutputFormat, image: String, boot: Boot) {
        self.monitor = monitor
        self.name = name
        self.format = format
        self.image = image
        self.boot = boot
    }

    public var uefi: Bool { if case .uefi = boot { return true } else { return false } }
    public var secureBoot: Bool { if case .uefi(let sb) = boot { return sb } else { return false } }
    /// The name as a host name (machined, nspawn): underscores become dashes.
    public var hostName: String { name.replacingOccurrences(of: "_", with: "-") }
}
