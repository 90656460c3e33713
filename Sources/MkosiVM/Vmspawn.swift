#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// systemd-vmspawn's command line (`VmspawnMonitor` renders a `Machine` into a `Plan`), and
/// how a kernel is told to be a UKI.
public enum Vmspawn {
    /// What the command line is made of, worked out from the configuration and the host.
    struct Plan {
        var cpus: Int
        var ram: Int
        var kvm: Bool
        var vsock: ConfigFeature
        var tpm: Bool
        var console: ConsoleMode
        var register: Bool
        /// No scope unit of vmspawn's own (`--keep-unit`), where systemd cannot make one.
        var keepUnit: Bool = false
        /// vmspawn in the user's scope (`--user`), which opens no bus with `--keep-unit` and
        /// `--register=no`: root's default, the system scope, always opens the system bus.
        var userScope: Bool = false
        var firmwareFeatures: [String] = []
        var nvramTemplate: String? = nil
        var growImage: Int? = nil
        var bindUser: String? = nil
        var network: Network
        var credentials: [(name: String, path: String)] = []
        var ephemeral: Bool
        var binds: [(source: String, target: String)] = []
        var linux: String? = nil
        var initrd: String? = nil
        var directory: String? = nil
        var image: String? = nil
        var diskType: DiskType
        var forwardJournal: String? = nil
        var kernelArguments: [String] = []
    }

    /// systemd-vmspawn's command line for `plan`, in upstream's order.
    static func arguments(_ plan: Plan) -> [String] {
        func tristate(_ f: ConfigFeature) -> String { f == .enabled ? "yes" : f == .disabled ? "no" : "auto" }
        var argv = ["systemd-vmspawn", "--cpus", String(plan.cpus), "--ram", String(plan.ram), "--kvm", plan.kvm ? "yes" : "no",
                    "--vsock", tristate(plan.vsock), "--tpm", plan.tpm ? "yes" : "no", "--tpm-state=off",
                    "--console", plan.console.rawValue, "--register", plan.register ? "yes" : "no"]
        if plan.keepUnit { argv.append("--keep-unit") }
        if plan.userScope { argv.append("--user") }
        if !plan.firmwareFeatures.isEmpty { argv += ["--firmware-features", plan.firmwareFeatures.joined(separator: ",")] }
        if let size = plan.growImage { argv += ["--grow-image", String(size)] }
        if let user = plan.bindUser { argv += ["--bind-user", user, "--bind-user-group=wheel"] }
        switch plan.network {
        case .user: argv.append("--network-user-mode")
        case .interface: argv.append("--network-tap")
        case .none: break
        }
        if let template = plan.nvramTemplate { argv += ["--efi-nvram-template", template] }
        for c in plan.credentials { argv.append("--load-credential=\(c.name):\(c.path)") }
        if plan.ephemeral { argv.append("--ephemeral") }
        for b in plan.binds { argv += ["--bind", "\(b.source):\(b.target)"] }
        if let linux = plan.linux {
            argv += ["--linux", linux]
            if let initrd = plan.initrd { argv += ["--initrd", initrd] }
        }
        if let directory = plan.directory { argv += ["--directory", directory] }
        if let image = plan.image { argv += ["--image", image] }
        if plan.diskType != .virtioBlk { argv += ["--image-disk-type", plan.diskType.rawValue] }
        if let journal = plan.forwardJournal {
            argv += ["--forward-journal", journal, "--forward-journal-max-use=1T", "--forward-journal-keep-free=1G",
                     "--forward-journal-max-file-size=4G", "--forward-journal-max-files=\(journal.hasSuffix(".journal") ? 1 : 100)"]
        }
        return argv + plan.kernelArguments
    }

    /// Whether `bytes` (the start of a file, at least its PE headers) are a unified kernel
    /// image: a PE binary with a `.linux` section.
    static func isUKI(_ bytes: [UInt8]) -> Bool {
        func le(_ at: Int, _ n: Int) -> Int? {
            guard at >= 0, at + n <= bytes.count else { return nil }
            return (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        guard bytes.count > 0x40, bytes[0] == 0x4d, bytes[1] == 0x5a, let pe = le(0x3c, 4),
              le(pe, 4) == 0x0000_4550, let sections = le(pe + 6, 2), let optional = le(pe + 20, 2) else { return false }
        let table = pe + 24 + optional
        for i in 0..<sections {
            let at = table + i * 40
            guard at + 8 <= bytes.count else { return false }
            let name = bytes[at..<(at + 8)].prefix { $0 != 0 }
            if Array(name) == Array(".linux".utf8) { return true }
        }
        return false
    }

    /// The first 4 KiB of `path` (enough for a PE binary's headers and section table).
    static func head(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MkosiError(.system(errno: errno), "Cannot open \(path): \(String(cString: strerror(errno)))", cause: .system("open", errno: errno))
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return Array(buffer.prefix(max(0, n)))
    }
}
