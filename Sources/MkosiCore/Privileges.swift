#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Who mkosi runs as, and what that allows.
///
/// A regular user who has a subordinate ID range (`/etc/subuid`, `/etc/subgid`) builds as root of
/// a user namespace that maps that range, as upstream does: package managers can then give files
/// their real owners, and a tar of the image records the same owners as a build by root. Without
/// a range, each sandbox maps the user alone as root and the chown family is a no-op, so every
/// file ends up owned by root (ownership is "flattened").
///
/// The namespace is entered once, first thing in `main` (`enterSubordinateRange`), for the verbs
/// that build; the process then sees itself as UID 0. Code that needs the host's root (loop
/// devices, systemd-nspawn, systemd-dissect, block devices, /run) asks `isHostRoot`, code that
/// needs the person who ran mkosi (their home, their runtime directory, their name) asks `hostUID`.
public enum Privileges {
    /// One line of `/proc/self/uid_map` or `gid_map`: `count` IDs from `inside` map to `outside`.
    public struct IDRange: Equatable, Sendable {
        public var inside: UInt32
        public var outside: UInt32
        public var count: UInt32

        public init(inside: UInt32, outside: UInt32, count: UInt32) {
            self.inside = inside
            self.outside = outside
            self.count = count
        }

        /// `newuidmap`/`newgidmap` arguments for this range.
        public var arguments: [String] { [String(inside), String(outside), String(count)] }
    }

    public enum Mode: Equatable, Sendable {
        /// Root of the host's (initial) user namespace.
        case hostRoot
        /// Root of a user namespace that maps a subordinate range: ownership is kept.
        case subordinateRange
        /// A regular user, or root of a namespace that maps one ID: ownership is flattened.
        case singleUser
    }

    /// The identity of this process, and of the user who ran mkosi as the host sees them.
    public struct Identity: Equatable, Sendable {
        public var mode: Mode
        public var hostUID: UInt32
        public var hostGID: UInt32
        /// The user who ran mkosi as seen in this namespace: where outputs are handed over to.
        public var invokingUID: UInt32
        public var invokingGID: UInt32
        /// The host's user namespace (overlayfs elsewhere needs `userxattr`).
        public var initialNamespace: Bool
    }

    /// IDs of a subordinate namespace. Upstream's layout: the range maps to 0…65535 except ID
    /// 65436, which is the invoking user (so that their files stay reachable); 65534 (nobody)
    /// stays a range ID because tests use it as a default.
    public static let rangeSize: UInt32 = 65536
    public static let invokingUserInside: UInt32 = rangeSize - 100

    /// The maps that give a namespace `start…start+65535` with `hostID` at 65436.
    public static func maps(start: UInt32, hostID: UInt32) -> [IDRange] {
        let u = invokingUserInside
        return [IDRange(inside: 0, outside: start, count: u),
                IDRange(inside: u, outside: hostID, count: 1),
                IDRange(inside: u + 1, outside: start + u + 1, count: rangeSize - u - 1)]
    }

    /// Parses `/proc/self/uid_map` text.
    public static func parseMap(_ text: String) -> [IDRange] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt32($0) }
            return f.count == 3 ? IDRange(inside: f[0], outside: f[1], count: f[2]) : nil
        }
    }

    /// What the maps of this process say about it (pure, for tests): `uid`/`gid` are its IDs.
    public static func identity(uidMap: [IDRange], gidMap: [IDRange], uid: UInt32, gid: UInt32) -> Identity {
        func outside(_ id: UInt32, _ map: [IDRange]) -> UInt32 {
            for r in map where id >= r.inside && id - r.inside < r.count { return r.outside + (id - r.inside) }
            return id
        }
        let initial = uidMap == [IDRange(inside: 0, outside: 0, count: UInt32.max)]
        if initial {
            return Identity(mode: uid == 0 ? .hostRoot : .singleUser, hostUID: uid, hostGID: gid,
                            invokingUID: uid, invokingGID: gid, initialNamespace: true)
        }
        let mapped = uidMap.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        // In a subordinate namespace the invoking user is the one ID mapped on its own.
        if mapped > 1, let user = uidMap.first(where: { $0.count == 1 && $0.inside != 0 }) {
            let group = gidMap.first(where: { $0.count == 1 && $0.inside != 0 })
            return Identity(mode: .subordinateRange, hostUID: user.outside, hostGID: group?.outside ?? outside(gid, gidMap),
                            invokingUID: user.inside, invokingGID: group?.inside ?? gid, initialNamespace: false)
        }
        return Identity(mode: .singleUser, hostUID: outside(uid, uidMap), hostGID: outside(gid, gidMap),
                        invokingUID: uid, invokingGID: gid, initialNamespace: false)
    }

    /// This process, as `/proc/self` says now (not cached: entering the namespace changes it, and
    /// reading two small files costs microseconds).
    public static var current: Identity {
        let uidMap = parseMap((try? FS.readText("/proc/self/uid_map")) ?? "")
        let gidMap = parseMap((try? FS.readText("/proc/self/gid_map")) ?? "")
        return identity(uidMap: uidMap.isEmpty ? [IDRange(inside: 0, outside: 0, count: UInt32.max)] : uidMap,
                        gidMap: gidMap, uid: getuid(), gid: getgid())
    }

    /// Root of the host: loop devices, systemd-nspawn, block devices, mounts of disk images.
    public static var isHostRoot: Bool { current.mode == .hostRoot }
    /// Files can be given any owner (host root, or a subordinate range).
    public static var keepsOwnership: Bool { current.mode != .singleUser }
    /// Sandboxes need a user namespace of their own to mount anything.
    public static var sandboxNeedsUserNamespace: Bool { getuid() != 0 }
    /// The user who ran mkosi, as the host knows them (their home, runtime directory and name).
    public static var hostUID: UInt32 { current.hostUID }

    /// The name of the user mkosi acts for: `$SUDO_USER` when set, else the host user's name.
    public static var invokingUserName: String? {
        if let user = Env.get("SUDO_USER"), !user.isEmpty { return user }
        guard let pw = getpwuid(hostUID), let name = pw.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// Why ownership will be flattened, when a regular user has no usable subordinate range; set
    /// by `enterSubordinateRange` (single-threaded, before anything reads it).
    nonisolated(unsafe) public private(set) static var flattenedBecause: String?

    /// The first entry of `/etc/subuid`-style `text` for `user` (by name or UID) with at least
    /// 65536 IDs: its first ID.
    public static func subordinateStart(in text: String, user: String, id: UInt32) -> UInt32? {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == user || f[0] == Substring(String(id)),
                  let start = UInt32(f[1]), let count = UInt32(f[2]), count >= rangeSize,
                  start <= UInt32.max - rangeSize else { continue }
            return start
        }
        return nil
    }

    public enum Outcome: Equatable, Sendable {
        /// Root already, or now root of a subordinate namespace.
        case ready
        /// No usable range: the reason, for the warning that ownership will be flattened.
        case flattened(String)
    }

    /// Becomes root of a user namespace that maps the caller's subordinate ranges, unless the
    /// caller is root or has none (then `flattenedBecause` says why). Must run while the
    /// process has one thread. Throws when the mapping helpers fail, naming their command line.
    public static func enterSubordinateRange() throws -> Outcome {
        let uid = getuid(), gid = getgid()
        guard uid != 0 else { return .ready }
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? Env.get("USER") ?? String(uid)
        let uidArgs: [String], gidArgs: [String]
        switch mapperCommands(user: name, uid: uid, gid: gid) {
        case .failure(let unavailable):
            flattenedBecause = unavailable.reason
            return .flattened(unavailable.reason)
        case .success(let commands):
            (uidArgs, gidArgs) = commands
        }
        let rc = withCStrings(uidArgs) { u in withCStrings(gidArgs) { g in mkosi_become_root_in_user_namespace(u, g) } }
        if rc < 0 {
            let e = errno
            // Kernels or containers that forbid user namespaces: the single-ID sandboxes would
            // fail the same way, so this is an error, not a fallback.
            throw MkosiError(.hostUnsupported, "Cannot enter a user namespace for \(name)'s subordinate IDs: \(String(cString: strerror(e)))",
                             hint: "Check that unprivileged user namespaces are allowed (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)",
                             cause: .system("unshare(CLONE_NEWUSER)", errno: e))
        }
        if rc > 0 {
            let which = ([uidArgs[0], String(getpid())] + uidArgs.dropFirst()).map(ShellLexer.quote).joined(separator: " ")
            throw MkosiError(.command(status: rc), "\(which) or its newgidmap counterpart failed with exit status \(rc)",
                             hint: "Check \(name)'s entries in /etc/subuid and /etc/subgid (NAME:FIRST:COUNT, at least \(rangeSize) IDs)")
        }
        return .ready
    }

    struct Unavailable: Error {
        let reason: String
    }

    /// The `newuidmap` and `newgidmap` command lines (without the target PID) that give `user`
    /// their subordinate namespace, or why there is none.
    static func mapperCommands(user: String, uid: uid_t, gid: gid_t) -> Result<([String], [String]), Unavailable> {
        var commands: [[String]] = []
        for (file, helper, hostID) in [("/etc/subuid", "newuidmap", uid), ("/etc/subgid", "newgidmap", gid)] {
            guard let path = tool(helper) else { return .failure(Unavailable(reason: "\(helper) is not installed (Debian package uidmap)")) }
            // Both files are keyed by the user's name or UID.
            guard let start = subordinateStart(in: (try? FS.readText(file)) ?? "", user: user, id: uid) else {
                return .failure(Unavailable(reason: "\(file) has no range of at least \(rangeSize) IDs for \(user)"))
            }
            commands.append([path] + maps(start: start, hostID: hostID).flatMap(\.arguments))
        }
        return .success((commands[0], commands[1]))
    }

    /// The setuid helper's path (they must not come from a tools tree: only the host's are setuid).
    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].map { $0 + name }.first(where: FS.isExecutable)
    }

    /// Gives `path` (not what is below it) to the user who ran mkosi, when it belongs to the
    /// namespace's root: outputs of a subordinate-range build stay the user's to replace and delete.
    public static func handOver(_ path: String) {
        let me = current
        var st = stat()
        guard me.mode == .subordinateRange, lstat(path, &st) == 0, st.st_uid == 0 else { return }
        _ = lchown(path, me.invokingUID, me.invokingGID)
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
