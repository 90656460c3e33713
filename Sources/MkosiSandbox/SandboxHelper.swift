#if canImport(Glibc)
import Glibc
#endif
import CLinux
import MkosiCore

/// The sandbox helper: `mkosi --internal-sandbox [--userns|--identity] [--unshare-net] [--unshare-ipc]
/// [--pack-fds] [--debug] OPERATIONS… [--chdir DIR] [--setenv K V]… [--unsetenv K]… -- COMMAND…`.
/// It runs first thing in `main` (or from `mkosi-sandbox`), while the process has a single
/// thread, uses only Glibc (and the option table `SandboxCommandLine.arity`), and ends in `execvp` (or exits 125 with a message on stderr, 127 when
/// the command is not found).
///
/// It unshares a mount namespace (and a user namespace mapping the caller to root with
/// `--userns`, or to itself with ambient capabilities with `--identity`; a network namespace with
/// only loopback up with `--unshare-net`; an IPC namespace with `--unshare-ipc`), makes every
/// mount a slave, moves to a tmpfs with the host root at `/oldroot`, builds the new root at
/// `/newroot` from the operations (sources are host paths; a bind source written `+/path` is a
/// path in the new root), pivots into it and drops the host root. `--pack-fds` moves inherited
/// descriptors to 3, 4, … and sets `LISTEN_FDS`/`LISTEN_PID`; `--debug` prints each operation.
public enum SandboxHelper {
    public static let flag = SandboxCommandLine.flag

    public static func main(_ args: [String]) -> Never {
        var userns = false, identity = false, privateNetwork = false, privateIPC = false
        var suppressChown = false, suppressSync = false, packFDs = false, debug = false
        var unset: [String] = []
        var ops: [[String]] = []
        var chdirTo: String? = nil
        var env: [(String, String)] = []
        var i = 0
        func take(_ n: Int) -> [String] {
            if n == 0 { return [] }
            guard i + n < args.count else { fail("missing argument for \(args[i])", errno: 0) }
            let r = Array(args[(i + 1)...(i + n)])
            i += n
            return r
        }
        while i < args.count {
            let a = args[i]
            if a == "--" {
                i += 1
                break
            }
            guard let n = SandboxCommandLine.arity[a] else { fail("unknown option \(a)", errno: 0) }
            let values = take(n)
            switch a {
            case "--userns": userns = true
            case "--identity": identity = true
            case "--unshare-net": privateNetwork = true
            case "--unshare-ipc": privateIPC = true
            case "--pack-fds": packFDs = true
            case "--debug": debug = true
            case "--unsetenv": unset.append(values[0])
            case "--suppress-chown": suppressChown = true
            case "--suppress-sync": suppressSync = true
            case "--chdir": chdirTo = values[0]
            case "--setenv": env.append((values[0], values[1]))
            default: ops.append([a] + values)
            }
            i += 1
        }
        let command = Array(args[i...])
        guard !command.isEmpty else { fail("no command given", errno: 0) }

        let uid = getuid(), gid = getgid()
        // Overlayfs outside the host's user namespace (our own, or the subordinate-range one
        // mkosi builds in) keeps its metadata in user.* xattrs.
        let userXattr = userns || identity || !inInitialUserNamespace()
        let ipc = privateIPC ? MKOSI_CLONE_NEWIPC : 0
        if userns || identity {
            check(mkosi_unshare(MKOSI_CLONE_NEWUSER | MKOSI_CLONE_NEWNS | ipc), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
            writeFile("/proc/self/setgroups", "deny\n")
            writeFile("/proc/self/uid_map", "\(identity ? uid : 0) \(uid) 1\n")
            writeFile("/proc/self/gid_map", "\(identity ? gid : 0) \(gid) 1\n")
        } else {
            check(mkosi_unshare(MKOSI_CLONE_NEWNS | ipc), "unshare(CLONE_NEWNS)")
        }
        if privateNetwork { check(mkosi_unshare_network(), "unsharing the network namespace (loopback only)") }
        check(mount(nil, "/", nil, UInt(MS_SLAVE | MS_REC), nil), "making / a slave mount")
        check(mount("tmpfs", "/tmp", "tmpfs", 0, "mode=0755"), "mounting the staging tmpfs")
        check(chdir("/tmp"), "chdir /tmp")
        mkdir("newroot", 0o755)
        mkdir("oldroot", 0o755)
        check(mount("newroot", "newroot", nil, UInt(MS_BIND | MS_REC), nil), "bind-mounting newroot")
        check(mkosi_pivot_root(".", "oldroot"), "pivot_root")
        check(chdir("/"), "chdir /")

        for op in ops {
            if debug { say("+ " + op.joined(separator: " ")) }
            apply(op, userXattr: userXattr)
        }

        check(chdir("/newroot"), "chdir /newroot")
        check(mkosi_pivot_root(".", "."), "pivot_root into the new root")
        check(umount2(".", Int32(MNT_DETACH)), "detaching the host root")
        check(chdir(chdirTo ?? "/"), "chdir \(chdirTo ?? "/")")
        for (k, v) in env { setenv(k, v, 1) }
        for k in unset { unsetenv(k) }
        _ = mkosi_set_parent_death_signal(SIGKILL)
        if identity && uid != 0 {
            check(mkosi_raise_ambient_capabilities(), "raising ambient capabilities")
        }
        if packFDs {
            let n = packFileDescriptors()
            if n > 0 {
                setenv("LISTEN_FDS", String(n), 1)
                setenv("LISTEN_PID", String(getpid()), 1)
            }
        }
        if suppressChown || suppressSync {
            check(mkosi_install_syscall_filter(suppressChown ? 1 : 0, suppressSync ? 1 : 0), "installing the syscall filter")
        }

        var cargv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        execvp(command[0], &cargv)
        fail("executing \(command[0])", errno: errno, status: 127)
    }

    /// Whether `/proc/self/uid_map` is the identity map of the host's user namespace.
    static func inInitialUserNamespace() -> Bool {
        let fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return true }
        let fields = String(decoding: buf[0..<n], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields == ["0", "0", "4294967295"]
    }

    static func apply(_ op: [String], userXattr: Bool) {
        let dst = { (p: String) in "/newroot" + (p.hasPrefix("/") ? p : "/" + p) }
        switch op[0] {
        case "--tmpfs":
            mkdirs(dst(op[1]))
            // As upstream: a temporary directory gets tmpfs's default mode (1777).
            check(mount("tmpfs", dst(op[1]), "tmpfs", 0, isTemporary(op[1]) ? "" : "mode=0755"), "tmpfs on \(op[1])")
        case "--dir":
            mkdirs(parent(dst(op[1])))
            if mkdir(dst(op[1]), 0o755) == 0, isTemporary(op[1]) { chmod(dst(op[1]), 0o1777) }
        case "--write":
            mkdirs(parent(dst(op[2])))
            let fd = open(dst(op[2]), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { fail("writing \(op[2])", errno: errno) }
            let n = op[1].utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            if n < 0 { fail("writing \(op[2])", errno: errno) }
            close(fd)
        case "--symlink":
            mkdirs(parent(dst(op[2])))
            if symlink(op[1], dst(op[2])) != 0 && errno != EEXIST { fail("symlink \(op[2])", errno: errno) }
        case "--proc":
            mkdirs(dst(op[1]))
            if mount("proc", dst(op[1]), "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil) != 0 {
                check(mount("/oldroot/proc", dst(op[1]), nil, UInt(MS_BIND | MS_REC), nil), "binding /proc")
            }
        case "--dev":
            let d = dst(op[1])
            mkdirs(d)
            check(mount("tmpfs", d, "tmpfs", UInt(MS_NOSUID), "mode=0755"), "tmpfs on \(op[1])")
            for node in ["null", "zero", "full", "random", "urandom", "tty"] {
                let fd = open(d + "/" + node, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 { close(fd) }
                check(mount("/oldroot/dev/" + node, d + "/" + node, nil, UInt(MS_BIND), nil), "binding /dev/\(node)")
            }
            mkdirs(d + "/pts")
            if mount("devpts", d + "/pts", "devpts", UInt(MS_NOSUID | MS_NOEXEC), "newinstance,ptmxmode=0666,mode=620") == 0 {
                symlink("pts/ptmx", d + "/ptmx")
            }
            mkdirs(d + "/shm")
            _ = mount("tmpfs", d + "/shm", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=1777")
            for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                                   ("stderr", "/proc/self/fd/2")] {
                symlink(target, d + "/" + name)
            }
        case "--bind", "--ro-bind", "--bind-try", "--ro-bind-try":
            // `+/path`: a path in the new root (mkosi-sandbox's relative sources).
            let src = op[1].hasPrefix("+") ? dst(String(op[1].dropFirst())) : "/oldroot" + op[1]
            let target = dst(op[2])
            var st = stat()
            guard stat(src, &st) == 0 else {
                if op[0].hasSuffix("-try") { return }
                fail("bind source \(op[1])", errno: errno)
            }
            if st.st_mode & S_IFMT == S_IFDIR {
                mkdirs(target)
            } else {
                mkdirs(parent(target))
                var file = target
                // A dangling symlink at the target (an image's /etc/resolv.conf pointing into
                // /run): the file is created where it points, inside the new root, and the mount
                // goes there through the link.
                var lst = stat()
                if lstat(target, &lst) == 0 && lst.st_mode & S_IFMT == S_IFLNK {
                    var buf = [CChar](repeating: 0, count: 4096)
                    let n = readlink(target, &buf, buf.count - 1)
                    if n > 0 {
                        let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        file = link.hasPrefix("/") ? "/newroot" + link : parent(target) + "/" + link
                        mkdirs(parent(file))
                    }
                }
                let fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 { close(fd) }
            }
            check(mount(src, target, nil, UInt(MS_BIND | MS_REC), nil), "binding \(op[1]) to \(op[2])")
            if op[0].hasPrefix("--ro") {
                check(mount(nil, target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil), "making \(op[2]) read-only")
            }
        case "--overlay":
            let lower = op[1].split(separator: ":").map { "/oldroot" + $0 }.joined(separator: ":")
            let target = dst(op[4])
            mkdirs(target)
            // No upper directory: a read-only union of the lower directories; `tmpfs`: changes go
            // to a fresh tmpfs mounted at the target first.
            var options = "lowerdir=\(lower)"
            if op[2] == "tmpfs" {
                check(mount("tmpfs", target, "tmpfs", 0, "mode=0755"), "tmpfs for the overlay on \(op[4])")
                mkdir(target + "/upper", 0o755)
                mkdir(target + "/work", 0o755)
                options += ",upperdir=\(target)/upper,workdir=\(target)/work"
            } else if !op[2].isEmpty {
                options += ",upperdir=/oldroot\(op[2]),workdir=/oldroot\(op[3])"
            }
            if userXattr { options += ",userxattr" }
            check(mount("overlay", target, "overlay", 0, options), "overlay on \(op[4])")
        default:
            fail("unknown operation \(op[0])", errno: 0)
        }
    }

    /// Paths upstream gives mode 1777: those ending in `/tmp` or `/var/tmp`.
    static func isTemporary(_ p: String) -> Bool { p.hasSuffix("/tmp") || p == "tmp" }

    /// Moves the inherited descriptors (3 and up, without close-on-exec; those with it are closed)
    /// to 3, 4, … in order, as systemd's socket activation expects. Returns how many there are.
    static func packFileDescriptors() -> Int {
        var fds: [Int32] = []
        guard let dir = opendir("/proc/self/fd") else { fail("listing /proc/self/fd", errno: errno) }
        let own = dirfd(dir)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name), fd >= 3, fd != own { fds.append(fd) }
        }
        closedir(dir)
        fds = fds.sorted().filter { fd in
            let flags = fcntl(fd, F_GETFD)
            if flags < 0 { return false }
            if flags & FD_CLOEXEC != 0 { close(fd); return false }
            return true
        }
        // Sorted and distinct, so fds[i] >= 3 + i and every lower target is free by the time it is used.
        for (i, fd) in fds.enumerated() where fd != Int32(3 + i) {
            check(dup2(fd, Int32(3 + i)) < 0 ? -1 : 0, "moving descriptor \(fd)")
            close(fd)
        }
        return fds.count
    }

    static func say(_ line: String) {
        _ = (line + "\n").utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    static func parent(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/"), i != p.startIndex else { return "/" }
        return String(p[..<i])
    }

    static func mkdirs(_ p: String) {
        var st = stat()
        if stat(p, &st) == 0 { return }
        mkdirs(parent(p))
        if mkdir(p, 0o755) != 0 && errno != EEXIST { fail("creating \(p)", errno: errno) }
    }

    static func writeFile(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("opening \(path)", errno: errno) }
        let n = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        if n < 0 { fail("writing \(path)", errno: errno) }
        close(fd)
    }

    static func check(_ rc: Int32, _ what: String) {
        if rc != 0 { fail(what, errno: errno) }
    }

    static func fail(_ what: String, errno e: Int32, status: Int32 = 125) -> Never {
        let message = e != 0 ? "mkosi-sandbox: \(what): \(String(cString: strerror(e)))\n" : "mkosi-sandbox: \(what)\n"
        _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        _exit(status)
    }
}
