/// A sandbox for one command: a private mount namespace (and, when not root, a user namespace
/// mapping the caller to root) whose root file system is assembled from the operations below,
/// in order. Nothing of it outlives the command: the mounts vanish with the namespace.
///
/// `Sandbox` only describes; `argv(for:)` turns the description into the command line of the
/// sandbox helper (`mkosi --internal-sandbox …`), which `SandboxHelper` executes; `SandboxRunner`
/// runs it.
public struct Sandbox: Sendable {
    public enum Operation: Sendable, Equatable {
        /// An empty tmpfs.
        case tmpfs(String)
        /// A recursive bind mount of a host path (`optional`: skipped if the source is missing).
        case bind(source: String, target: String, readOnly: Bool, optional: Bool)
        /// A fresh procfs (or the host's, where a fresh one cannot be mounted).
        case proc(String)
        /// A minimal /dev: null, zero, full, random, urandom, tty, pts, shm.
        case dev(String)
        case directory(String)
        case symlink(target: String, path: String)
        /// An overlay file system: `lower` read-only below (the first on top), changes go to
        /// `upper`; with an empty `upper` (and `work`), a read-only union of `lower`.
        case overlay(lower: [String], upper: String, work: String, target: String)
    }

    public var operations: [Operation] = []
    /// Map the caller's user to root in a new user namespace (for unprivileged callers).
    public var userNamespace: Bool
    /// The working directory of the command, inside the sandbox.
    public var workingDirectory: String? = nil
    public var environment: [(String, String)] = []
    /// Make chown() and friends succeed without effect (a user namespace has only one user).
    public var suppressChown = false
    /// Make sync() and friends return at once (the image is written out at the end anyway).
    public var suppressSync = false
    /// Whether the command reaches the host's network; without it, it gets a network namespace
    /// of its own with only loopback (`WithNetwork=no` for scripts).
    public var network = true

    public init(userNamespace: Bool) {
        self.userNamespace = userNamespace
    }

    public mutating func add(_ op: Operation) { operations.append(op) }

    public mutating func bind(_ source: String, _ target: String? = nil, readOnly: Bool = false, optional: Bool = false) {
        operations.append(.bind(source: source, target: target ?? source, readOnly: readOnly, optional: optional))
    }

    /// The host's `/usr` (read-only) with the merged-/usr symlinks, `/etc` pieces needed to
    /// resolve names and verify TLS, a private `/tmp`, `/var/tmp`, `/run`, `/proc` and `/dev`.
    public static func withHostTools(userNamespace: Bool) -> Sandbox {
        withTools(tree: nil, userNamespace: userNamespace)
    }

    /// Like `withHostTools`, but with the `/usr` of a tools tree (`ToolsTree=`) when `tree` is
    /// set; then the tree's own certificate stores (unless `certificatesFromTree` is false),
    /// alternatives and linker cache are used too, and only name resolution, users and the time
    /// zone come from the host.
    public static func withTools(tree: String?, userNamespace: Bool, certificatesFromTree: Bool = true) -> Sandbox {
        var s = Sandbox(userNamespace: userNamespace)
        s.bind((tree ?? "") + "/usr", "/usr", readOnly: true)
        for (link, target) in [("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64")] {
            s.add(.symlink(target: target, path: link))
        }
        s.add(.tmpfs("/tmp"))
        s.add(.tmpfs("/var/tmp"))
        s.add(.tmpfs("/run"))
        s.add(.proc("/proc"))
        s.add(.dev("/dev"))
        s.add(.tmpfs("/etc"))
        for f in ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/localtime"] {
            s.bind(f, readOnly: true, optional: true)
        }
        let certificates = certificatesFromTree ? (tree ?? "") : ""
        for f in ["/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/var/lib/ca-certificates"] {
            s.bind(certificates + f, f, readOnly: true, optional: true)
        }
        for f in ["/etc/alternatives", "/etc/ld.so.cache"] {
            s.bind((tree ?? "") + f, f, readOnly: true, optional: true)
        }
        if let tree {
            // Tools that look for their configuration or data in /etc (qemu's firmware descriptors
            // live in /usr; crypto policies, OpenSSL configuration and kernel-install do not).
            for f in ["/etc/crypto-policies", "/etc/ssl/openssl.cnf", "/etc/kernel", "/etc/qemu"] {
                s.bind(tree + f, f, readOnly: true, optional: true)
            }
        }
        return s
    }

    /// The helper's command line for running `command` in this sandbox. Only `SandboxRunner`
    /// builds it: everything else runs sandboxed tools through a runner.
    func argv(for command: [String], helper: String) -> [String] {
        var a = [helper, SandboxHelper.flag]
        if userNamespace { a.append("--userns") }
        if !network { a.append("--unshare-net") }
        if suppressChown { a.append("--suppress-chown") }
        if suppressSync { a.append("--suppress-sync") }
        for op in operations {
            switch op {
            case .tmpfs(let t): a += ["--tmpfs", t]
            case .bind(let s, let t, let ro, let opt):
                a += [ro ? (opt ? "--ro-bind-try" : "--ro-bind") : (opt ? "--bind-try" : "--bind"), s, t]
            case .proc(let t): a += ["--proc", t]
            case .dev(let t): a += ["--dev", t]
            case .directory(let t): a += ["--dir", t]
            case .symlink(let target, let path): a += ["--symlink", target, path]
            case .overlay(let lower, let upper, let work, let target):
                a += ["--overlay", lower.joined(separator: ":"), upper, work, target]
            }
        }
        if let workingDirectory { a += ["--chdir", workingDirectory] }
        for (k, v) in environment { a += ["--setenv", k, v] }
        return a + ["--"] + command
    }
}
