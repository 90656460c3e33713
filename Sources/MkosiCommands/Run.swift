#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore

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
        case .shell:
            return try ShellCommand.run(loaded, boot: false)
        case .boot:
            return try ShellCommand.run(loaded, boot: true)
        case .vm, .qemu:
            return try VMCommand.run(loaded)
        case .box, .sandbox:
            return try BoxCommand.run(loaded)
        case .genkey:
            try GenkeyCommand.run(loaded)
        case .ssh:
            return try SshCommand.run(loaded)
        case .journalctl:
            return try InspectCommand.run(loaded, tool: "journalctl")
        case .coredumpctl:
            return try InspectCommand.run(loaded, tool: "coredumpctl")
        case .serve:
            return try ServeCommand.run(try prepare(loaded))
        case .burn:
            return try BurnCommand.run(try prepare(loaded))
        case .sysupdate:
            return try SysupdateCommand.run(try prepare(loaded))
        case .`init`:
            try InitCommand.run(resources: resources)
        case .latestSnapshot:
            try LatestSnapshotCommand.run(loaded)
        }
        return 0
    }

    /// For verbs that use the built image (serve, burn, sysupdate): the tools tree is made
    /// current, configure scripts run, and with `-f` the images are built first.
    static func prepare(_ loaded: LoadedConfiguration) throws -> LoadedConfiguration {
        let buildLock = loaded.args.force > 0 ? try BuildCommand.lockOutputDirectory(loaded) : nil
        if loaded.args.force > 0 { try BuildCommand.beforeToolsTree(loaded) }
        defer { buildLock?.release() }
        try ToolsTree.prepare(loaded)
        let configured = try ConfigureScripts.run(loaded)
        if loaded.args.force > 0 { try BuildCommand.build(configured) }
        return configured
    }
}
