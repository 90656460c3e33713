#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// What the host (and the tools mkosi runs from it) offers a machine, read once by `read` before
/// anything is planned. Every decision about a machine is made from this value and the
/// configuration (`Machine.plan`); tests build it by hand.
public struct RuntimeHost: Sendable {
    /// The terminal mkosi runs in.
    public struct Terminal: Sendable, Equatable {
        /// Whether standard error is a terminal.
        public var isTTY: Bool
        /// `$TERM`, when set.
        public var term: String?
        public var columns: Int
        public var rows: Int

        public init(isTTY: Bool = false, term: String? = nil, columns: Int = 80, rows: Int = 24) {
            self.isTTY = isTTY
            self.term = term
            self.columns = columns
            self.rows = rows
        }

        /// The terminal type the guest's console gets: `dumb` without a terminal, `vt220` for an
        /// unknown one.
        public var guestTerm: String {
            guard isTTY else { return "dumb" }
            guard let term, !term.isEmpty, term != "unknown" else { return "vt220" }
            return term
        }
    }

    /// What the tools (the tools tree's, or the host's without one) provide; paths as the
    /// sandbox sees them.
    public struct Tools: Sendable {
        /// The qemu binaries present (`qemu-system-x86_64`, …).
        public var qemu: Set<String> = []
        public var virtiofsd: String? = nil
        /// swtpm and swtpm_setup.
        public var swtpm = false
        public var vmspawn = false
        public var ptyForward: String? = nil
        public var journalRemote: String? = nil
        /// qemu's UEFI firmware descriptors, and where they were looked for.
        public var firmware: [FirmwareDescriptor] = []
        public var firmwareDirectories: [String] = []

        public init() {}
    }

    /// `/dev/kvm` opens read-write.
    public var kvmDevice = false
    /// The CPU offers hardware virtualization (vmx or svm in /proc/cpuinfo).
    public var cpuVirtualization = false
    /// `/dev/vhost-vsock` opens; when not, why (`vhostVsockError`).
    public var vhostVsock = false
    public var vhostVsockError: String? = nil
    /// systemd-machined's varlink socket (`Register=`), nil where machined does not run.
    public var machinedSocket: String? = nil
    /// Whether systemd can make a scope unit in the system manager, and in the user's.
    public var systemScope = false
    public var userScope = false
    public var isRoot = false
    /// The user who invoked mkosi (through sudo, the sudoer).
    public var invokingUser: String? = nil
    public var terminal = Terminal()
    public var cpus = 1
    public var pageSize = 4096
    /// `$DISPLAY` or `$WAYLAND_DISPLAY` is set.
    public var graphicalDisplay = false
    /// `/run` is a tmpfs (not where PID 1 is not systemd, in some containers).
    public var runOnTmpfs = true
    /// `$SYSTEMD_TINT_BACKGROUND` and `$SYSTEMD_ADJUST_TERMINAL_TITLE` (unset: yes).
    public var tintBackground = true
    public var adjustTitle = true
    public var tools = Tools()

    public init() {}

    /// KVM can be used: the device opens and the CPU offers it (a `/dev/kvm` without vmx/svm
    /// hangs its guests).
    public var kvm: Bool { kvmDevice && cpuVirtualization }

    /// Whether the scope manager mkosi's privileges use (the system's as root) can make a scope.
    public var canAllocateScope: Bool { isRoot ? systemScope : userScope }

    /// Reads the host and the tools of `toolsTree` (the host's when nil).
    public static func read(toolsTree: String?) -> RuntimeHost {
        var host = RuntimeHost()
        host.kvmDevice = opens("/dev/kvm")
        host.cpuVirtualization = cpuOffersVirtualization((try? FS.readText("/proc/cpuinfo")) ?? "")
        let fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC)
        if fd >= 0 { close(fd) } else { host.vhostVsockError = String(cString: strerror(errno)) }
        host.vhostVsock = fd >= 0
        host.isRoot = Privileges.isHostRoot
        let runtime = host.isRoot ? "/run" : (Env.get("XDG_RUNTIME_DIR") ?? "/run/user/\(Privileges.hostUID)")
        let machined = runtime + "/systemd/machine/io.systemd.Machine"
        host.machinedSocket = FS.stat(machined)?.isSocket ?? false ? machined : nil
        host.systemScope = ServiceManager.canAllocateScope(system: true)
        host.userScope = ServiceManager.canAllocateScope(system: false)
        host.invokingUser = Privileges.invokingUserName
        host.terminal = Terminal(isTTY: isatty(2) != 0, term: Env.get("TERM"), columns: Int(Env.get("COLUMNS") ?? "") ?? 80,
                                 rows: Int(Env.get("LINES") ?? "") ?? 24)
        host.cpus = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        host.pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        host.graphicalDisplay = !(Env.get("DISPLAY") ?? "").isEmpty || !(Env.get("WAYLAND_DISPLAY") ?? "").isEmpty
        host.runOnTmpfs = FS.isOnTmpfs("/run")
        host.tintBackground = Env.get("SYSTEMD_TINT_BACKGROUND").map(isTrue) ?? true
        host.adjustTitle = Env.get("SYSTEMD_ADJUST_TERMINAL_TITLE").map(isTrue) ?? true
        host.tools = readTools(toolsTree)
        return host
    }

    static func readTools(_ toolsTree: String?) -> Tools {
        let root = toolsTree ?? ""
        func first(_ candidates: [String]) -> String? { candidates.first { FS.isExecutable(root + $0) } }
        var tools = Tools()
        for name in (try? FS.listDirectory(root + "/usr/bin")) ?? []
        where name.hasPrefix("qemu-system-") && FS.isExecutable(root + "/usr/bin/" + name) {
            tools.qemu.insert(name)
        }
        tools.virtiofsd = first(["/usr/libexec/virtiofsd", "/usr/lib/virtiofsd", "/usr/bin/virtiofsd"])
        tools.swtpm = first(["/usr/bin/swtpm"]) != nil && first(["/usr/bin/swtpm_setup"]) != nil
        tools.vmspawn = first(["/usr/bin/systemd-vmspawn"]) != nil
        tools.ptyForward = first(["/usr/bin/systemd-pty-forward"])
        tools.journalRemote = first(["/usr/lib/systemd/systemd-journal-remote"])
        tools.firmwareDirectories = (toolsTree == nil ? ["/etc/qemu/firmware"] : []) + [root + "/usr/share/qemu/firmware"]
        tools.firmware = FirmwareDescriptor.read(directories: tools.firmwareDirectories)
        return tools
    }

    static func opens(_ device: String) -> Bool {
        let fd = open(device, O_RDWR | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Whether a `/proc/cpuinfo` text has the vmx or svm flag.
    public static func cpuOffersVirtualization(_ cpuinfo: String) -> Bool {
        cpuinfo.split(separator: "\n").contains { line in
            line.hasPrefix("flags") && line.split(separator: " ").contains { $0 == "vmx" || $0 == "svm" }
        }
    }

    static func isTrue(_ value: String) -> Bool { !["0", "no", "false", "off", "n", "f"].contains(value.lowercased()) }
}
