import MkosiCore

/// `mkosi-sandbox`, upstream's stand-alone sandbox tool, on top of our sandbox helper.
///
/// `mkosi-sandbox [OPTIONS…] [--] [COMMAND [ARGUMENTS…]]`: the options describe the new root file
/// system as a list of operations (tmpfs, dev, dir, bind mounts, symlinks, written files, overlays)
/// plus the environment, working directory and namespaces of the command; without a command,
/// `bash` runs. Option parsing stops at `--` or at the first argument that is not an option.
/// Destinations (and `--chdir`) are made absolute against the current directory.
///
/// Operations run in upstream's order: by destination path (parents first), bind mounts after
/// other operations on the same destination, relative (`+SRC`) binds last; a bind mount that
/// another bind with the same flags already covers is dropped.
///
/// Options that need systemd-nsresourced or systemd-mountfsd (`--bind-foreign`,
/// `--ro-bind-foreign`, `--map-foreign`, `--map-delegate`) and `--bind-nofollow`/`--ro-bind-nofollow`
/// are refused by name. `--proc DST` (a fresh procfs), which upstream has since dropped, is kept.
public struct SandboxInvocation: Equatable, Sendable {
    public enum Action: Equatable, Sendable { case run, help, version }

    public enum Operation: Equatable, Sendable {
        case tmpfs(String)
        case dev(String)
        case proc(String)
        case directory(String)
        /// `relative`: the source is a path in the new root (written `+SRC`).
        case bind(source: String, target: String, readOnly: Bool, required: Bool, relative: Bool)
        case symlink(target: String, path: String)
        case write(data: String, path: String)
        /// `upper` is empty (read-only union), `tmpfs`, or a host directory.
        case overlay(lower: [String], upper: String, work: String, target: String)

        public var destination: String {
            switch self {
            case .tmpfs(let d), .dev(let d), .proc(let d), .directory(let d): return d
            case .bind(_, let d, _, _, _), .symlink(_, let d), .write(_, let d), .overlay(_, _, _, let d): return d
            }
        }

        var isBind: Bool { if case .bind = self { return true } else { return false } }
        var isRelative: Bool { if case .bind(_, _, _, _, true) = self { return true } else { return false } }
    }

    public struct Variable: Equatable, Sendable {
        public var name: String
        public var value: String
    }

    public var action: Action = .run
    public var operations: [Operation] = []
    public var setenv: [Variable] = []
    public var unsetenv: [String] = []
    public var workingDirectory: String? = nil
    public var becomeRoot = false
    public var suppressChown = false
    public var suppressSync = false
    public var unshareNetwork = false
    public var unshareIPC = false
    public var packFileDescriptors = false
    public var debug = false
    /// The command to run; `bash` when none was given.
    public var command: [String] = ["bash"]

    public init() {}
}

public enum SandboxCommand {
    /// Options upstream has that this implementation cannot honour, with the reason.
    static let refused: [String: (arguments: Int, reason: String)] = [
        "--bind-foreign": (2, "needs systemd-nsresourced and systemd-mountfsd to idmap the foreign UID range"),
        "--ro-bind-foreign": (2, "needs systemd-nsresourced and systemd-mountfsd to idmap the foreign UID range"),
        "--map-foreign": (0, "needs systemd-nsresourced to map the foreign UID range"),
        "--map-delegate": (1, "needs systemd-nsresourced to delegate UID ranges"),
        "--bind-nofollow": (2, "binding a symbolic link itself is not supported by this implementation"),
        "--ro-bind-nofollow": (2, "binding a symbolic link itself is not supported by this implementation"),
    ]

    /// Parses `argv` (without the program name). Throws a usage error naming the option that is
    /// unknown, refused, or missing arguments, or a destination that is not absolute.
    public static func parse(_ argv: [String], cwd: String) throws(MkosiError) -> SandboxInvocation {
        var inv = SandboxInvocation()
        var lower: [String] = [], upper = "", work = ""
        var i = 0
        func take(_ option: String, _ n: Int) throws(MkosiError) -> [String] {
            guard i + n < argv.count else {
                throw .usage("mkosi-sandbox: \(option) needs \(n == 1 ? "an argument" : "\(n) arguments")",
                             hint: "see mkosi-sandbox --help")
            }
            let r = Array(argv[(i + 1)...(i + n)])
            i += n
            return r
        }
        let abs = { (p: String) in absolute(p, cwd: cwd) }
        parsing: while i < argv.count {
            let arg = argv[i]
            switch arg {
            case "--": i += 1; break parsing
            case "-h", "--help": inv.action = .help; return inv
            case "--version": inv.action = .version; return inv
            case "--tmpfs": inv.operations.append(.tmpfs(abs(try take(arg, 1)[0])))
            case "--dev": inv.operations.append(.dev(abs(try take(arg, 1)[0])))
            case "--proc": inv.operations.append(.proc(abs(try take(arg, 1)[0])))
            case "--dir": inv.operations.append(.directory(abs(try take(arg, 1)[0])))
            case "--bind", "--ro-bind", "--bind-try", "--ro-bind-try":
                let v = try take(arg, 2)
                inv.operations.append(.bind(source: abs(v[0].hasPrefix("+") ? String(v[0].dropFirst()) : v[0]),
                                            target: abs(v[1]), readOnly: arg.hasPrefix("--ro"),
                                            required: !arg.hasSuffix("-try"), relative: v[0].hasPrefix("+")))
            case "--symlink":
                let v = try take(arg, 2)
                inv.operations.append(.symlink(target: v[0], path: abs(v[1])))
            case "--write":
                let v = try take(arg, 2)
                inv.operations.append(.write(data: v[0], path: abs(v[1])))
            case "--overlay-lowerdir": lower.append(abs(try take(arg, 1)[0]))
            case "--overlay-upperdir":
                let v = try take(arg, 1)[0]
                upper = v == "tmpfs" ? v : abs(v)
            case "--overlay-workdir": work = abs(try take(arg, 1)[0])
            case "--overlay":
                inv.operations.append(.overlay(lower: lower, upper: upper, work: work, target: abs(try take(arg, 1)[0])))
                lower = []
                upper = ""
                work = ""
            case "--unsetenv": inv.unsetenv.append(try take(arg, 1)[0])
            case "--setenv":
                let v = try take(arg, 2)
                inv.setenv.append(.init(name: v[0], value: v[1]))
            case "--chdir": inv.workingDirectory = abs(try take(arg, 1)[0])
            case "--same-dir": inv.workingDirectory = cwd
            case "--become-root": inv.becomeRoot = true
            case "--suppress-chown": inv.suppressChown = true
            case "--suppress-sync": inv.suppressSync = true
            case "--unshare-net": inv.unshareNetwork = true
            case "--unshare-ipc": inv.unshareIPC = true
            case "--pack-fds": inv.packFileDescriptors = true
            case "--debug": inv.debug = true
            default:
                if let refusal = refused[arg] {
                    throw .usage("mkosi-sandbox: \(arg) is not supported: \(refusal.reason)")
                }
                if arg.hasPrefix("-") {
                    throw .usage("mkosi-sandbox: unrecognized option \(arg)", hint: "see mkosi-sandbox --help")
                }
                break parsing
            }
            i += 1
        }
        if i < argv.count { inv.command = Array(argv[i...]) }
        if let overlay = inv.operations.first(where: {
            if case .overlay(let lower, _, _, _) = $0 { return lower.isEmpty } else { return false }
        }) {
            throw .usage("mkosi-sandbox: --overlay \(overlay.destination) has no --overlay-lowerdir before it")
        }
        inv.operations = optimize(inv.operations)
        return inv
    }

    /// Upstream's ordering: drops bind mounts another bind mount with the same flags already
    /// covers (the same relative position below both source and destination), then sorts
    /// stably by (relative, destination components), binds after other operations.
    static func optimize(_ ops: [SandboxInvocation.Operation]) -> [SandboxInvocation.Operation] {
        var binds: [SandboxInvocation.Operation] = []
        var rest: [SandboxInvocation.Operation] = []
        for op in ops {
            if op.isBind { if !binds.contains(op) { binds.append(op) } } else { rest.append(op) }
        }
        let kept = binds.filter { m in
            guard case .bind(let ms, let md, let mro, let mreq, let mrel) = m else { return true }
            return !binds.contains { n in
                guard n != m, case .bind(let ns, let nd, let nro, let nreq, let nrel) = n,
                      nro == mro, nreq == mreq, nrel == mrel,
                      let rs = Path.relative(ms, to: ns), let rd = Path.relative(md, to: nd) else { return false }
                return rs == rd
            }
        }
        func key(_ op: SandboxInvocation.Operation) -> (Bool, [Substring]) {
            (op.isRelative, op.destination.split(separator: "/"))
        }
        return (rest + kept).enumerated().sorted { a, b in
            let ka = key(a.element), kb = key(b.element)
            if ka.0 != kb.0 { return !ka.0 }
            if ka.1 != kb.1 { return ka.1.lexicographicallyPrecedes(kb.1) }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// The sandbox helper's arguments (after its flag) for `inv`. `privileged`: the caller has
    /// CAP_SYS_ADMIN in its user namespace (as root), so no user namespace is made and
    /// `--become-root` has nothing to do; otherwise the caller is mapped to root
    /// (`--become-root`) or to itself with ambient capabilities. `singleUser`: the caller's user
    /// namespace maps one ID, so a chown cannot work and `--suppress-chown` applies even then.
    public static func helperArguments(_ inv: SandboxInvocation, privileged: Bool, singleUser: Bool) -> [String] {
        var a: [String] = []
        if !privileged { a.append(inv.becomeRoot ? "--userns" : "--identity") }
        if inv.unshareNetwork { a.append("--unshare-net") }
        if inv.unshareIPC { a.append("--unshare-ipc") }
        if inv.suppressChown && (!privileged || singleUser) { a.append("--suppress-chown") }
        if inv.suppressSync { a.append("--suppress-sync") }
        if inv.packFileDescriptors { a.append("--pack-fds") }
        if inv.debug { a.append("--debug") }
        for op in inv.operations {
            switch op {
            case .tmpfs(let d): a += ["--tmpfs", d]
            case .dev(let d): a += ["--dev", d]
            case .proc(let d): a += ["--proc", d]
            case .directory(let d): a += ["--dir", d]
            case .bind(let s, let d, let ro, let req, let rel):
                a += [ro ? (req ? "--ro-bind" : "--ro-bind-try") : (req ? "--bind" : "--bind-try"), (rel ? "+" : "") + s, d]
            case .symlink(let t, let p): a += ["--symlink", t, p]
            case .write(let data, let p): a += ["--write", data, p]
            case .overlay(let lower, let upper, let work, let d): a += ["--overlay", lower.joined(separator: ":"), upper, work, d]
            }
        }
        if let dir = inv.workingDirectory { a += ["--chdir", dir] }
        for v in inv.setenv { a += ["--setenv", v.name, v.value] }
        for name in inv.unsetenv { a += ["--unsetenv", name] }
        return a + ["--"] + inv.command
    }

    /// `p` made absolute against `cwd` with `.` and `..` resolved lexically (Python's
    /// `os.path.abspath`).
    static func absolute(_ p: String, cwd: String) -> String {
        var parts: [Substring] = []
        for c in ((p.hasPrefix("/") ? "" : cwd + "/") + p).split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    public static let usage = """
        mkosi-sandbox [OPTIONS...] [--] [COMMAND [ARGUMENTS...]]

        Run COMMAND (bash if none is given) in a sandbox whose root file system is
        assembled from the operations below.

          -h --help                       Show this help
             --version                    Show the version
             --tmpfs DST                  Mount a new tmpfs on DST
             --dev DST                    Mount a minimal /dev on DST
             --proc DST                   Mount a new procfs on DST
             --dir DST                    Create a directory at DST
             --bind SRC DST               Bind mount the host path SRC on DST
             --bind-try SRC DST           Like --bind, if SRC exists
             --ro-bind SRC DST            Bind mount the host path SRC on DST read-only
             --ro-bind-try SRC DST        Like --ro-bind, if SRC exists
                                          (SRC written +PATH is a path in the sandbox)
             --symlink SRC DST            Create a symlink at DST pointing to SRC
             --write DATA DST             Write DATA to the file DST
             --overlay-lowerdir DIR       Add a lower directory for the next --overlay
             --overlay-upperdir DIR       Set the upper directory (or tmpfs) for the next --overlay
             --overlay-workdir DIR        Set the work directory for the next --overlay
             --overlay DST                Mount an overlay file system on DST
             --setenv NAME VALUE          Set an environment variable
             --unsetenv NAME              Unset an environment variable
             --chdir DIR                  Run the command in DIR
             --same-dir                   Run the command in the current directory
             --become-root                Be root in the sandbox (when not root already)
             --suppress-chown             Make chown() and friends do nothing
             --suppress-sync              Make sync() and friends do nothing
             --unshare-net                Give the command its own network (loopback only)
             --unshare-ipc                Give the command its own IPC namespace
             --pack-fds                   Pass inherited descriptors from 3 on, with $LISTEN_FDS
             --debug                      Print each operation before it is done

        Not supported here: --bind-foreign, --ro-bind-foreign, --bind-nofollow,
        --ro-bind-nofollow, --map-foreign, --map-delegate.

        See the mkosi-sandbox(1) man page for details.

        """
}
