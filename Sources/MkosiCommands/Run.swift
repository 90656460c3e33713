#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore
import MkosiVM

/// The entry point of the `mkosi` command: parses everything, runs the verb, and turns errors
/// into a message and an exit status. Nothing below throws past this function.
public enum Mkosi {
    /// Verbs that work in this version: every verb upstream has (the manual's tests hold the
    /// manual to it).
    public static let implementedVerbs: Set<Verb> = Set(Verb.allCases)

    public static let usageLine = "usage: mkosi [options…] [verb] [-- args…]   (mkosi --help for details)"

    /// Run first in `main`, while the process has one thread: a regular user about to build (or
    /// clean) becomes root of a user namespace mapping their subordinate IDs, so that the image
    /// keeps its files' owners (see `Privileges`). Returns an exit status when that fails.
    public static func enterBuildNamespace(_ argv: [String]) -> Int32? {
        guard getuid() != 0, let parsed = try? CommandLineParser.parse(argv, cwd: FS.currentDirectory()),
              parsed.args.verb.needsBuild || parsed.args.verb == .clean, !parsed.args.help, !parsed.args.version else { return nil }
        do {
            _ = try Privileges.enterSubordinateRange()
            return nil
        } catch let error as MkosiError {
            report(error)
            return error.exitStatus
        } catch {
            Log.error("\(error)")
            return 1
        }
    }

    /// Runs `mkosi` with `argv` (without the program name) and returns the exit status.
    public static func run(_ argv: [String]) -> Int32 {
        let resources = BuiltinResources()
        do {
            let loaded = try ConfigLoader.load(argv, cwd: FS.currentDirectory(), resources: resources)
            if let dir = loaded.args.directory, chdir(dir) != 0 {
                throw MkosiError.config("Cannot change the directory to \(dir)")
            }
            return try dispatch(loaded, resources: resources)
        } catch var error as MkosiError {
            // Whatever failed after a Ctrl-C failed because of it: say so, nothing else.
            if let sig = Interrupt.pending, !error.isInterruption {
                error = Interrupt.error(sig)
            }
            report(error)
            return error.exitStatus
        } catch {
            Log.error("\(error)")
            return 1
        }
    }

    static func report(_ error: MkosiError) {
        if error.code == .usage { Terminal.writeStderr(usageLine + "\n") }
        for (n, line) in error.description.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            Log.error(n == 0 ? String(line) : String(line))
        }
        reportCause(error)
        if let hint = error.hint { Log.info("(\(hint))") }
    }

    /// The cause of `error`: an error it wraps is shown, since its message does not say it; a
    /// failed command or system call is already named in the message and shown with `--debug`.
    static func reportCause(_ error: MkosiError) {
        guard let cause = error.cause else { return }
        switch cause {
        case .error, .other: Log.error("Caused by: \(cause)")
        case .command, .system: Log.debug("Caused by: \(cause)")
        }
    }

    static func dispatch(_ loaded: LoadedConfiguration, resources: BuiltinResources) throws -> Int32 {
        let args = loaded.args
        if args.help {
            Pager.page(HelpText.render(), enabled: args.pager)
            return 0
        }
        if args.version {
            Terminal.writeStdout(MkosiVersion.versionLine() + "\n")
            return 0
        }
        try DebugOptions.apply(args)
        if args.verb.needsBuild {
            try SupportCheck.run(loaded, building: args.verb == .build || args.force > 0)
        }
        switch args.verb {
        case .help:
            Pager.page(HelpText.render(), enabled: args.pager)
        case .summary:
            SummaryCommand.run(loaded)
        case .catConfig:
            try CatConfigCommand.run(loaded)
        case .completion:
            try CompletionCommand.run(args.cmdline)
        case .dependencies:
            try DependenciesCommand.run(args.cmdline, resources: resources)
        case .documentation:
            try DocumentationCommand.run(args, resources: resources)
        case .bump:
            try BumpCommand.run(loaded)
        case .build:
            try BuildCommand.run(loaded)
        case .clean:
            try CleanCommand.run(loaded)
        case .shell, .boot, .vm, .qemu:
            return try MachineCommand.run(loaded)
        case .box, .sandbox:
            return try BoxCommand.run(loaded)
        case .genkey:
            try GenkeyCommand.run(loaded)
        case .ssh:
            guard let (_, runtime) = try prepareRuntime(loaded) else { return 0 }
            return try SshCommand.run(runtime, arguments: args.cmdline)
        case .journalctl, .coredumpctl:
            guard let (_, runtime) = try prepareRuntime(loaded) else { return 0 }
            return try InspectCommand.run(runtime, arguments: args.cmdline)
        case .serve:
            guard let (_, runtime) = try prepareRuntime(loaded) else { return 0 }
            return try ServeCommand.run(runtime)
        case .burn:
            guard let (_, runtime) = try prepareRuntime(loaded) else { return 0 }
            return try BurnCommand.run(runtime, arguments: args.cmdline)
        case .sysupdate:
            guard let (_, runtime) = try prepareRuntime(loaded) else { return 0 }
            return try SysupdateCommand.run(runtime, arguments: args.cmdline)
        case .`init`:
            try InitCommand.run(resources: resources)
        case .latestSnapshot:
            try LatestSnapshotCommand.run(loaded)
        }
        return 0
    }

    /// The preamble every verb that runs something from the image or the tools shares with
    /// `build`, as upstream orders it:
    /// - the tools tree is made current (`-f` builds it when missing or out of date; without it,
    ///   a stale default tools tree is an error);
    /// - for the verbs that use the image (`shell`, `boot`, `vm`, `serve`, `burn`, `sysupdate`):
    ///   `Format=none` is refused, the configure scripts run, and `-f` builds the images, under
    ///   the output directory's lock.
    /// `ssh`, `journalctl` and `coredumpctl` only need the tools. Returns nil without a main
    /// image (nothing to run).
    static func prepareRuntime(_ loaded: LoadedConfiguration) throws -> (loaded: LoadedConfiguration, context: RuntimeContext)? {
        let verb = loaded.args.verb
        let usesImage = ![.ssh, .journalctl, .coredumpctl].contains(verb)
        if usesImage, let main = loaded.main, main.format == .none {
            throw MkosiError(.unsupported, "Cannot run '\(verb.rawValue)' on an image with Format=none",
                             hint: "Build a bootable or inspectable format (Format=disk, directory, …)")
        }
        let buildLock = loaded.args.force > 0 ? try BuildCommand.lockOutputDirectory(loaded) : nil
        defer { buildLock?.release() }
        if loaded.args.force > 0 { try BuildCommand.beforeToolsTree(loaded) }
        try ToolsTree.prepare(loaded)
        guard usesImage else { return loaded.main.map { (loaded, RuntimeContext(config: $0, cwd: loaded.cwd, verb: verb)) } }
        let configured = try ConfigureScripts.run(loaded)
        if loaded.args.force > 0 { try BuildCommand.build(configured) }
        return configured.main.map { (configured, RuntimeContext(config: $0, cwd: configured.cwd, verb: verb)) }
    }
}
