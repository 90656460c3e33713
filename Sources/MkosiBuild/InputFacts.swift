#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What `InputCheck.verify` asks of the host: files, and the tools of a tools tree (or of the
/// host). Tests give their own answers.
public protocol InputFacts {
    /// `stat(2)` of `path`, following symbolic links; nil when it does not exist.
    func status(_ path: String) -> FS.Status?
    func isReadable(_ path: String) -> Bool
    func isExecutable(_ path: String) -> Bool
    /// Whether mkosi runs as root on the host (disk images can be read).
    var isHostRoot: Bool { get }
    /// The first of `names` found in the tools: a bare name on `searchPaths` and then in the
    /// tools' `/usr/{local/,}{sbin,bin}`, a path (`/usr/lib/systemd/ukify`) below the tools'
    /// root. Returns the path as the tools see it.
    func findTool(_ names: [String], toolsTree: String?, searchPaths: [String]) -> String?
    /// The systemd version of the tool at `path` (as `findTool` returned it), from its
    /// `--version`; nil when it cannot be told.
    func systemdVersion(_ path: String, toolsTree: String?, searchPaths: [String]) -> Int?
    /// What `systemd-keyutil validate` says against the key and certificate (host paths), nil
    /// when it accepts them or the tools have no systemd-keyutil.
    func keyPairProblem(key: String, certificate: String, toolsTree: String?, searchPaths: [String]) -> String?
}

/// The real host: files as they are, tools run in the tools' sandbox as the build runs them.
/// Each tool's version is asked once.
public final class HostInputFacts: InputFacts {
    private var versions: [String: Int?] = [:]

    public init() {}

    public func status(_ path: String) -> FS.Status? { FS.stat(path) }
    public func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }
    public func isExecutable(_ path: String) -> Bool { FS.isExecutable(path) }
    public var isHostRoot: Bool { Privileges.isHostRoot }

    public func findTool(_ names: [String], toolsTree: String?, searchPaths: [String]) -> String? {
        let root = toolsTree ?? "/"
        for name in names {
            if name.hasPrefix("/") {
                let path = Path.join(root, String(name.dropFirst()))
                if FS.isFile(path) && FS.isExecutable(path) { return name }
                continue
            }
            for dir in searchPaths where FS.isExecutable(Path.join(dir, name)) { return Path.join(dir, name) }
            for dir in ["usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin"] {
                let path = Path.join(root, Path.join(dir, name))
                if FS.isFile(path) && FS.isExecutable(path) { return "/" + dir + "/" + name }
            }
        }
        return nil
    }

    public func systemdVersion(_ path: String, toolsTree: String?, searchPaths: [String]) -> Int? {
        let key = (toolsTree ?? "/") + "\u{0}" + path
        if let known = versions[key] { return known }
        let s = sandbox(toolsTree: toolsTree, searchPaths: searchPaths)
        let output = try? SandboxRunner.current.capture([path, "--version"], in: s, environment: environment).output
        let version = output.flatMap(Self.parseSystemdVersion)
        versions[key] = version
        return version
    }

    public func keyPairProblem(key: String, certificate: String, toolsTree: String?, searchPaths: [String]) -> String? {
        guard let keyutil = findTool(["systemd-keyutil", "/usr/lib/systemd/systemd-keyutil"], toolsTree: toolsTree, searchPaths: searchPaths)
        else { return nil }
        var s = sandbox(toolsTree: toolsTree, searchPaths: searchPaths)
        s.bind(key, "/work/validate.key", readOnly: true)
        s.bind(certificate, "/work/validate.crt", readOnly: true)
        let argv = ["sh", "-c", "exec \"$0\" validate --private-key=/work/validate.key --certificate=/work/validate.crt 2>&1", keyutil]
        guard let result = try? SandboxRunner.current.capture(argv, in: s, environment: environment,
                                                              display: [keyutil, "validate"], check: false) else { return nil }
        guard result.status != 0 else { return nil }
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return last.isEmpty ? "systemd-keyutil validate failed with exit status \(result.status)" : last
    }

    private let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]

    private func sandbox(toolsTree: String?, searchPaths: [String]) -> Sandbox {
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: !Privileges.keepsOwnership)
        for dir in searchPaths { s.bind(dir, readOnly: true) }
        return s
    }

    /// The major version of `systemd 257 (257.9-1~deb13u1)` or `ukify 257.9`.
    static func parseSystemdVersion(_ output: String) -> Int? {
        let words = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count > 1 else { return nil }
        return Int(words[1].prefix(while: \.isNumber))
    }
}
