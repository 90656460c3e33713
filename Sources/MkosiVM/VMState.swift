#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// The state file a running `mkosi vm` leaves for `mkosi ssh`, as upstream:
/// `$XDG_RUNTIME_DIR/mkosi/machine/<Machine>.json` (`/run/mkosi/machine` for root) with the keys
/// `Machine`, `Pid`, `ProxyCommand` and `SshKey`. `ProxyCommand` reaches the guest's sshd: over
/// vsock (`socat - VSOCK-CONNECT:CID:%p`, upstream's) or, where there is no vsock, over the port
/// qemu forwards from 127.0.0.1 (`socat - TCP:127.0.0.1:PORT`), which upstream's `mkosi ssh`
/// can use as well.
public struct VMState: Equatable, Sendable {
    public var machine: String
    public var pid: Int
    public var proxyCommand: String
    public var sshKey: String?

    public init(machine: String, pid: Int, proxyCommand: String, sshKey: String?) {
        self.machine = machine
        self.pid = pid
        self.proxyCommand = proxyCommand
        self.sshKey = sshKey
    }

    /// The directory of the state files (upstream's `INVOKING_USER.runtime_dir()/mkosi/machine`).
    public static var directory: String {
        let runtime = Env.get("XDG_RUNTIME_DIR").flatMap { $0.isEmpty ? nil : $0 }
            ?? Env.get("RUNTIME_DIRECTORY").flatMap { $0.isEmpty ? nil : $0 }
            ?? (Privileges.isHostRoot ? "/run" : "/run/user/\(Privileges.hostUID)")
        return runtime + "/mkosi/machine"
    }

    public static func path(machine: String) -> String { directory + "/\(machine).json" }

    public var json: String {
        JSON.object([("Machine", .string(machine)), ("Pid", .int(pid)), ("ProxyCommand", .string(proxyCommand)),
                     ("SshKey", sshKey.map { JSON.string($0) } ?? .null)]).serialized(indent: 4) + "\n"
    }

    public static func parse(_ text: String) throws -> VMState {
        let json = try JSON.parse(text)
        guard case .string(let machine)? = json["Machine"], case .string(let proxy)? = json["ProxyCommand"] else {
            throw MkosiError(.invalidData, "The VM state file has no Machine or ProxyCommand")
        }
        var pid = 0
        if case .int(let p)? = json["Pid"] { pid = p }
        var key: String? = nil
        if case .string(let k)? = json["SshKey"] { key = k }
        return VMState(machine: machine, pid: pid, proxyCommand: proxy, sshKey: key)
    }

    /// Writes the state of a VM starting now, refusing when another live VM has the name.
    /// Returns a function that removes the file again.
    public func register() throws -> () -> Void {
        let dir = VMState.directory
        try FS.makeDirectories(dir)
        let lock = try FileLock.acquire(dir, waiting: "Waiting for the lock on \(dir)")
        defer { lock.release() }
        let file = VMState.path(machine: machine)
        if let text = try? FS.readText(file), let other = try? VMState.parse(text),
           other.pid == 0 || FS.exists("/proc/\(other.pid)") {
            throw MkosiError(.busy, "Another virtual machine named \(machine) is already running",
                             hint: "Use --machine to specify a different virtual machine name")
        }
        try FS.writeAtomically(file, json)
        return {
            if let lock = try? FileLock.acquire(dir, waiting: "Waiting for the lock on \(dir)") {
                unlink(file)
                lock.release()
            }
        }
    }

    /// The state of the running VM `machine`.
    public static func load(machine: String) throws -> VMState {
        let file = path(machine: machine)
        guard let text = try? FS.readText(file) else {
            throw MkosiError(.unsupported, "\(file) not found, cannot SSH into virtual machine \(machine)",
                             hint: "Is the machine running ('mkosi vm') with an SSH key (SshKey=, e.g. from 'mkosi genkey')?")
        }
        return try parse(text)
    }
}
