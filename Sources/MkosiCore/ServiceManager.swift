#if canImport(Glibc)
import Glibc
#endif

/// What the host's service manager offers to the programs mkosi starts.
public enum ServiceManager {
    /// Whether systemd can put a new process into a scope unit of its own, as systemd-nspawn and
    /// systemd-vmspawn do unless told `--keep-unit`: PID 1 is systemd and the bus of the manager
    /// that would hold the scope is up (the system bus for root, else the user's bus in
    /// `$XDG_RUNTIME_DIR`). Hosts without systemd as PID 1 (containers, CI machines) have neither.
    public static func canAllocateScope(system: Bool) -> Bool {
        guard FS.isDirectory("/run/systemd/system") else { return false }
        if system { return FS.exists("/run/dbus/system_bus_socket") }
        guard let runtime = Env.get("XDG_RUNTIME_DIR"), !runtime.isEmpty else { return false }
        return FS.exists(runtime + "/bus")
    }

    /// A cgroup whose path reads as a scope unit of a user's service manager
    /// (`…/user@UID.service/NAME.scope`), made by mkosi itself where PID 1 is not systemd, for
    /// programs that insist on knowing their unit: `systemd-vmspawn --keep-unit --user` takes its
    /// unit from its cgroup and gives up without one. Removing it kills what is left inside.
    public final class UserScope {
        /// The scope's cgroup directory; a process joins it by writing `0` to `procs`.
        public let path: String
        public var procs: String { path + "/cgroup.procs" }
        /// Directories mkosi made, innermost first.
        private let made: [String]

        private init(path: String, made: [String]) {
            self.path = path
            self.made = made
        }

        /// The directories to make below mkosi's cgroup `current` (as `/proc/self/cgroup` names
        /// it on its `0::` line), or nil when systemd could not read a unit from the result: it
        /// skips leading slices and takes the first other component for the user manager.
        static func components(current: String, uid: UInt32, name: String) -> [String]? {
            guard current.split(separator: "/").allSatisfy({ $0.hasSuffix(".slice") }) else { return nil }
            return ["user@\(uid).service", name + ".scope"]
        }

        /// Makes the scope `NAME.scope` in the unified (v2) cgroup hierarchy, or explains why it
        /// cannot be made here.
        public static func make(name: String) throws -> UserScope {
            let hint = "Run mkosi on a host whose PID 1 is systemd, or use VirtualMachineMonitor=qemu"
            let mountinfo = (try? FS.readText("/proc/self/mountinfo")) ?? ""
            // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS… - FSTYPE SOURCE SUPER
            let mount = mountinfo.split(separator: "\n").lazy.compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard let dash = fields.firstIndex(of: "-"), dash > 4, dash + 1 < fields.count,
                      fields[dash + 1] == "cgroup2" else { return nil }
                return String(fields[4])
            }.first
            guard let mount else {
                throw MkosiError(.unsupported, "No cgroup2 file system is mounted, so no unit can be made for systemd-vmspawn", hint: hint)
            }
            let cgroups = (try? FS.readText("/proc/self/cgroup")) ?? ""
            guard let line = cgroups.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else {
                throw MkosiError(.unsupported, "This process is in no cgroup2 cgroup, so no unit can be made for systemd-vmspawn", hint: hint)
            }
            let current = String(line.dropFirst(3))
            guard let components = components(current: current, uid: Privileges.hostUID, name: name) else {
                throw MkosiError(.unsupported, "mkosi's cgroup \(current) is not a slice, so systemd-vmspawn would find no unit below it", hint: hint)
            }
            var made: [String] = []
            var path = current == "/" ? mount : mount + current
            for component in components {
                path += "/" + component
                if mkdir(path, 0o755) == 0 { made.insert(path, at: 0) } else if errno != EEXIST {
                    let error = MkosiError(.unsupported, "Cannot create the cgroup \(path) for systemd-vmspawn: \(String(cString: strerror(errno)))",
                                           hint: hint)
                    for dir in made { rmdir(dir) }
                    throw error
                }
            }
            return UserScope(path: path, made: made)
        }

        /// Kills whatever still runs in the scope and removes the directories mkosi made; a
        /// parent that still holds another mkosi's scope is left to that mkosi. Returns whether
        /// the scope is gone.
        @discardableResult
        public func remove() -> Bool {
            try? FS.writeInPlace(path + "/cgroup.kill", "1")
            for dir in made {
                // The kernel empties a killed cgroup asynchronously.
                var tries = 0
                while rmdir(dir) != 0 && errno == EBUSY && dir == path && tries < 100 {
                    usleep(20_000)
                    tries += 1
                }
            }
            return !FS.exists(path)
        }
    }
}
