#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import MkosiSandbox

/// Upstream's companion commands, which our one binary provides when it is called by their name
/// (the install step makes `mkosi-initrd`, `mkosi-sandbox` and `mkosi-addon` symlinks to `mkosi`).
public enum Companions {
    public static let names = ["mkosi-initrd", "mkosi-sandbox", "mkosi-addon"]

    /// The companion `argv0` names (by its last path component), or nil for `mkosi` itself.
    public static func named(_ argv0: String) -> String? {
        let base = argv0.split(separator: "/").last.map(String.init) ?? argv0
        return names.contains(base) ? base : nil
    }

    /// Runs companion `name` with `args` and returns its exit status (`mkosi-sandbox` does not
    /// return when it runs a command). Called first in `main`, while the process has one thread:
    /// `mkosi-sandbox` unshares namespaces, `mkosi-initrd`/`mkosi-addon` may enter the build's
    /// user namespace.
    public static func run(_ name: String, _ args: [String]) -> Int32 {
        switch name {
        case "mkosi-sandbox": return sandbox(args)
        case "mkosi-addon": return initrd(.addon, args)
        default: return initrd(.initrd, args)
        }
    }

    static func sandbox(_ args: [String]) -> Int32 {
        let invocation: SandboxInvocation
        do {
            invocation = try SandboxCommand.parse(args, cwd: FS.currentDirectory())
        } catch {
            report(error, usage: "usage: mkosi-sandbox [OPTIONS...] [--] [COMMAND [ARGUMENTS...]]")
            return error.exitStatus
        }
        switch invocation.action {
        case .help:
            Terminal.writeStdout(SandboxCommand.usage)
            return 0
        case .version:
            return Mkosi.run(["--version"])
        case .run:
            let helperArgs = SandboxCommand.helperArguments(invocation, privileged: geteuid() == 0, singleUser: singleUserNamespace())
            SandboxHelper.main(helperArgs)
        }
    }

    /// Whether this process's user namespace maps a single user (then chown cannot work).
    static func singleUserNamespace() -> Bool {
        let map = Privileges.parseMap((try? FS.readText("/proc/self/uid_map")) ?? "")
        return map.count == 1 && map[0].count == 1
    }

    static func initrd(_ tool: InitrdOptions.Tool, _ args: [String]) -> Int32 {
        let options: InitrdOptions
        do {
            options = try InitrdOptions.parse(tool, args, kernelVersion: runningKernel())
        } catch {
            report(error, usage: "usage: \(tool.rawValue) [options...]")
            return error.exitStatus
        }
        if options.help {
            Terminal.writeStdout(InitrdOptions.helpText(tool))
            return 0
        }
        if options.version { return Mkosi.run(["--version"]) }
        if options.showDocumentation { return Mkosi.run(["documentation", tool.rawValue]) }
        var made: [String] = []
        defer { for dir in made { FS.removeTree(dir) } }
        do {
            let host = InitrdHost.read(kernelVersion: options.kernelVersion)
            let base = Env.get("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            let staging = try FS.makeTemporaryDirectory(in: base, prefix: "\(tool.rawValue)-staging")
            made.append(staging)
            var sandboxTree = ""
            if tool == .initrd {
                sandboxTree = try FS.makeTemporaryDirectory(in: base, prefix: "\(tool.rawValue)-sandbox")
                made.append(sandboxTree)
            }
            let plan = try InitrdPlan.make(options, host: host, staging: staging, sandboxTree: sandboxTree)
            for warning in plan.warnings { Log.warning(warning) }
            try prepare(plan, staging: staging, sandboxTree: sandboxTree, root: host.uid == 0)
            if let status = Mkosi.enterBuildNamespace(plan.arguments) { return status }
            let status = Mkosi.run(plan.arguments)
            guard status == 0, plan.finalize else { return status }
            try finalize(staging: staging, output: options.output, outputDirectory: options.outputDirectory, root: host.uid == 0)
            return 0
        } catch let error as MkosiError {
            report(error, usage: nil)
            return error.exitStatus
        } catch {
            Log.error("\(error)")
            return 1
        }
    }

    /// Writes the staging directory's crypttab and the sandbox tree: empty default repository
    /// files, then the host's package manager configuration (without gpg-agent sockets, and
    /// without pacman's keyring when not root, which may not be readable).
    static func prepare(_ plan: InitrdPlan, staging: String, sandboxTree: String, root: Bool) throws {
        if let crypttab = plan.crypttab { try FS.writeAtomically(staging + "/crypttab", crypttab) }
        for file in plan.emptyFiles {
            try FS.makeDirectories(Path.dirname(Path.join(sandboxTree, file)))
            try FS.writeAtomically(Path.join(sandboxTree, file), "")
        }
        for entry in plan.copies {
            let source = "/etc/" + entry, target = Path.join(sandboxTree, "etc/" + entry)
            try FS.makeDirectories(Path.dirname(target))
            if FS.isFile(source) {
                try HostCommand.run(["cp", "--dereference", "--preserve=mode,timestamps", source, target])
            } else {
                let exclude = root ? "S.*" : "gnupg"
                try HostCommand.run(["sh", "-c", "tar -C /etc --exclude='\(exclude)' -cf - \"$1\" | tar -C \"$2\" -xf -",
                                     "sh", entry, Path.join(sandboxTree, "etc")])
            }
        }
    }

    /// Copies the output (through the `Output=` symlink mkosi leaves) to `<dir>/<output>.new`,
    /// then replaces `<dir>/<output>` with it. `dir` is made (mode 0700 as root) if missing; it
    /// defaults to the current directory.
    static func finalize(staging: String, output: String, outputDirectory: String?, root: Bool) throws {
        let dir = outputDirectory.map { Path.join(FS.currentDirectory(), $0) } ?? FS.currentDirectory()
        if !FS.exists(dir) { try FS.makeDirectories(dir, mode: root ? 0o700 : 0o755) }
        let source = Path.resolve(Path.join(staging, output), cwd: "/")
        let temporary = Path.join(dir, output + ".new"), final = Path.join(dir, output)
        Log.info("Copying \(source) to \(temporary)")
        FS.removeTree(temporary)
        do {
            try HostCommand.run(["cp", "-a", "--reflink=auto", "--no-target-directory", source, temporary])
        } catch {
            FS.removeTree(temporary)
            throw error
        }
        Log.info("Moving \(temporary) to \(final)")
        FS.removeTree(final)
        guard rename(temporary, final) == 0 else { throw FS.systemError("Cannot move \(temporary) to \(final)") }
    }

    /// The running kernel's release (`uname -r`), upstream's default `--kernel-version`.
    static func runningKernel() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "" }
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func report(_ error: MkosiError, usage: String?) {
        if error.code == .usage, let usage { Terminal.writeStderr(usage + "\n") }
        Log.error(error.description)
        Mkosi.reportCause(error)
        if let hint = error.hint { Log.info("(\(hint))") }
    }
}
