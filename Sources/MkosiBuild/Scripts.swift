import MkosiConfig
import MkosiCore
import MkosiInstaller
import MkosiSandbox

/// User scripts (`mkosi.postinst`, `mkosi.finalize`, …). A script whose name ends in `.chroot`
/// runs inside the image (the image is `/`); others run with the host's tools and the image at
/// `$BUILDROOT` (`/buildroot`). Either way the build sources are at `$SRCDIR` (`/work/src`, the
/// working directory) and the script at `/work/<name>`.
public enum Scripts {
    /// Extra mounts and variables of one kind of script (build scripts get `$DESTDIR`, …).
    public struct Extras {
        public var binds: [(String, String, Bool)] = []
        public var environment: [String: String] = [:]
        /// Whether the script reaches the network: nil follows `WithNetwork=` (build, postinst
        /// and finalize scripts); prepare and sync scripts always do, as upstream.
        public var network: Bool? = nil
        /// Which kind of script it is, for how it sees the build sources (`SourceMounts`).
        public var kind: SourceMounts.ScriptKind
        public init(_ kind: SourceMounts.ScriptKind, network: Bool? = nil) {
            self.kind = kind
            self.network = network
        }
    }

    /// Runs `scripts` in order with `arguments` (e.g. `final`, or the command line after `--`).
    public static func run(_ scripts: [String], arguments: [String], context: BuildContext, extras: Extras) throws {
        for script in scripts {
            try runOne(script, arguments: arguments, context: context, extras: extras)
        }
    }

    static func runOne(_ script: String, arguments: [String], context: BuildContext, extras: Extras) throws {
        let config = context.config
        try makeExecutable(script, config: config)
        let name = Path.basename(script)
        let chroot = name.hasSuffix(".chroot")
        var s: Sandbox
        let network = extras.network ?? config[.withNetwork]
        if chroot {
            s = context.imageSandbox()
            if network { s.bind("/etc/resolv.conf", readOnly: true, optional: true) }
        } else if let installer = context.packageManager {
            // The package manager's sandbox, so that mkosi-install and friends work. Sync scripts
            // run before the package manager is set up, so on a new machine the cache directories
            // it binds may not exist yet.
            s = installer.sandbox()
            for case .bind(let source, _, _, false) in s.operations
            where source.hasPrefix(context.packageCache + "/") && !FS.exists(source) {
                try FS.makeDirectories(source)
            }
        } else {
            s = context.toolsSandbox()
        }
        if !chroot {
            try HelperCommands.install(context)
            s.bind(context.workspace + "/helpers", "/work/helpers", readOnly: true)
            s.bind(context.runner.helper, "/work/mkosi", readOnly: true)
            // A development build loads the Swift runtime from outside /usr.
            if let runtime = HelperCommands.swiftRuntimeDirectory { s.bind(runtime, readOnly: true) }
        }
        s.bind(script, "/work/\(name)", readOnly: true)
        let sources = try prepareSources(context, kind: extras.kind)
        defer { sources.cleanup() }
        for mount in sources.mounts { s.add(mount.operation) }
        s.bind(context.staging, "/work/out")
        s.bind(context.artifacts, "/work/artifacts")
        if let packages = context.packageDirectory { s.bind(packages, "/work/packages") }
        for (source, target, readOnly) in extras.binds { s.bind(source, target, readOnly: readOnly) }
        s.workingDirectory = "/work/src"
        // WithNetwork=no: a network namespace of the script's own with only loopback.
        s.network = network
        try writeConfigJSON(context)
        s.bind(context.workspace + "/config.json", "/work/config.json", readOnly: true)

        var env = chroot ? context.baseEnvironment() : (context.packageManager?.environment() ?? context.baseEnvironment())
        if !chroot { env["PATH"] = "/work/helpers:" + (env["PATH"] ?? "/usr/bin:/bin") }
        for (k, v) in commonVariables(context) { env[k] = v }
        env["CHROOT_SRCDIR"] = "/work/src"
        env["BUILDROOT"] = chroot ? "/" : "/buildroot"
        env["OUTPUTDIR"] = "/work/out"
        env["CHROOT_OUTPUTDIR"] = "/work/out"
        env["ARTIFACTDIR"] = "/work/artifacts"
        if context.packageDirectory != nil { env["PACKAGEDIR"] = "/work/packages" }
        env["SCRIPT"] = "/work/\(name)"
        env["CHROOT_SCRIPT"] = "/work/\(name)"
        env["WITH_NETWORK"] = network ? "1" : "0"
        env["MKOSI_CONFIG"] = "/work/config.json"
        for (k, v) in extras.environment { env[k] = v }
        for (k, v) in context.userEnvironment() { env[k] = v }

        Log.info("Running \(name)" + (arguments.isEmpty ? "" : " " + arguments.joined(separator: " ")))
        let argv = ["/work/\(name)"] + arguments
        do {
            // The user's scripts are shown as they run: their output is the user's own.
            try ToolOutput.showing {
                try context.runner.run(argv, in: s, environment: env, display: [script] + argv.dropFirst())
            }
        } catch var e as MkosiError where !e.isInterruption {
            if case .command(let status) = e.code {
                e.message = "\(script) failed with exit status \(status)"
            }
            throw e
        }
    }
}

extension Scripts {
    /// `$MKOSI_CONFIG`: the image's configuration as `--json summary` prints it.
    static func writeConfigJSON(_ context: BuildContext) throws {
        let path = context.workspace + "/config.json"
        if !FS.exists(path) { try FS.writeAtomically(path, context.config.json.serialized() + "\n") }
    }

    /// `PostOutputScripts=` (`mkosi.postoutput`): after the outputs are complete in the staging
    /// directory (checksums, signature and manifest included) and before they are moved to the
    /// output directory, each script runs without arguments in the tools sandbox, without the
    /// image and without network, with the outputs at `$OUTPUTDIR` (`/work/out`), the build
    /// sources at `$SRCDIR` (the working directory) and upstream's variables. Files it adds to
    /// `$OUTPUTDIR` are moved out with the others.
    public static func runPostOutput(_ context: BuildContext) throws {
        let config = context.config
        for script in config[.postOutputScripts] {
            try makeExecutable(script, config: config)
            var s = context.bareToolsSandbox()
            s.bind(script, "/work/postoutput", readOnly: true)
            try writeConfigJSON(context)
            s.bind(context.workspace + "/config.json", "/work/config.json", readOnly: true)
            s.add(.directory("/work/src"))
            let sources = try prepareSources(context, kind: .postOutput)
            defer { sources.cleanup() }
            for mount in sources.mounts { s.add(mount.operation) }
            s.bind(context.staging, "/work/out")
            s.workingDirectory = "/work/src"
            s.network = false
            var env = context.baseEnvironment()
            for (k, v) in commonVariables(context) { env[k] = v }
            env["OUTPUTDIR"] = "/work/out"
            env["MKOSI_CONFIG"] = "/work/config.json"
            for (k, v) in context.userEnvironment() { env[k] = v }
            Log.info("Running post-output script \(script)")
            do {
                try ToolOutput.showing {
                    try context.runner.run(["/work/postoutput"], in: s, environment: env, display: [script])
                }
            } catch var e as MkosiError where !e.isInterruption {
                if case .command(let status) = e.code { e.message = "\(script) failed with exit status \(status)" }
                throw e
            }
        }
    }

    /// The build sources' mounts for one script of `kind` (see `SourceMounts`), with the
    /// overlays' directories created; `cleanup` removes those that do not outlive the script.
    static func prepareSources(_ context: BuildContext, kind: SourceMounts.ScriptKind)
        throws -> (mounts: [SourceMounts.Mount], cleanup: () -> Void)
    {
        let config = context.config
        let trees = config[.buildSources]
        let mode = SourceMounts.mode(for: kind, ephemeral: config[.buildSourcesEphemeral])
        guard mode != .bind, !trees.isEmpty else {
            return (try SourceMounts.plan(trees, mode: .bind, scratch: "", buildSubdirectory: nil), {})
        }
        let scratch = mode == .volatile ? try FS.makeTemporaryDirectory(in: context.workspace, prefix: "volatile-sources") : ""
        let mounts = try SourceMounts.plan(trees, mode: mode, scratch: scratch,
                                           buildSubdirectory: config[.buildDirectory].map { config.buildSubdirectory($0) })
        let cleanup = {
            if mode == .volatile { FS.removeTree(scratch) } else { for m in mounts { if let w = m.work { FS.removeTree(w) } } }
        }
        do {
            for m in mounts {
                guard let upper = m.upper, let work = m.work else { continue }
                // The overlay's top directory takes the upper directory's mode: the source's.
                let mode = FS.stat(m.source)?.permissions ?? 0o755
                if !FS.isDirectory(upper) {
                    try FS.makeDirectories(upper)
                    chmod(upper, mode_t(mode))
                }
                FS.removeTree(work)
                try FS.makeDirectories(work)
            }
        } catch {
            cleanup()
            throw error
        }
        return (mounts, cleanup)
    }

    /// The variables every kind of script gets, as upstream: the distribution, release and
    /// architecture (in mkosi's and the distribution's spelling, and the EFI one), `$SRCDIR`,
    /// the caller's IDs, the debug flag, the image's ID, version and subimage name, and the
    /// profiles.
    static func commonVariables(_ context: BuildContext) -> [String: String] {
        let config = context.config
        var env: [String: String] = [
            "DISTRIBUTION": config.distribution.rawValue, "RELEASE": config.release,
            "ARCHITECTURE": config.architecture.rawValue, "SRCDIR": "/work/src",
            "MKOSI_UID": String(Privileges.hostUID), "MKOSI_GID": String(Privileges.current.hostGID), "MKOSI_DEBUG": Log.isDebug ? "1" : "0",
        ]
        if let name = try? context.distribution.architectureName(config.architecture), config.distribution != .custom {
            env["DISTRIBUTION_ARCHITECTURE"] = name
        }
        if let efi = config.architecture.efiName { env["EFI_ARCHITECTURE"] = efi }
        if let id = config[.imageID] { env["IMAGE_ID"] = id }
        if let v = config[.imageVersion] { env["IMAGE_VERSION"] = v }
        if config.image != "main" { env["SUBIMAGE"] = config.image }
        let profiles = config[.profiles]
        if !profiles.isEmpty { env["PROFILES"] = profiles.joined(separator: " ") }
        return env
    }

    /// Refuses a script that is not executable, or makes it so with `MakeScriptsExecutable=yes`.
    static func makeExecutable(_ script: String, config: Config) throws {
        guard !FS.isExecutable(script) else { return }
        guard config[.makeScriptsExecutable] else {
            throw MkosiError.config("\(script) is not executable", hint: "chmod +x it, or set MakeScriptsExecutable=yes")
        }
        guard let st = FS.stat(script), chmod(script, mode_t(st.permissions | 0o111)) == 0 else {
            throw FS.systemError("Cannot make \(script) executable")
        }
    }
}

/// Commands on `$PATH` of scripts that run outside the image: `mkosi-chroot` enters the image
/// (with its API file systems, `/work` and the sources), `mkosi-install`, `mkosi-upgrade`,
/// `mkosi-remove` and `mkosi-reinstall` run the package manager on the image.
enum HelperCommands {
    /// The directory of the Swift runtime libraries this process loaded, if not under /usr.
    static let swiftRuntimeDirectory: String? = {
        guard let maps = try? FS.readText("/proc/self/maps") else { return nil }
        for line in maps.split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let dir = Path.dirname(String(line[slash...]))
            return dir.hasPrefix("/usr/") ? nil : dir
        }
        return nil
    }()

    static func install(_ context: BuildContext) throws {
        let dir = context.workspace + "/helpers"
        if FS.isDirectory(dir) { return }
        try FS.makeDirectories(dir)
        let chroot = """
            #!/bin/sh
            # Runs a command (default: a shell) inside the image being built.
            [ $# -gt 0 ] || set -- sh
            exec /work/mkosi \(SandboxHelper.flag) --bind /buildroot / --proc /proc --dev /dev --tmpfs /tmp \
                --tmpfs /run --tmpfs /var/tmp --bind /work /work --ro-bind-try /etc/resolv.conf /etc/resolv.conf \
                --chdir /work/src -- "$@"

            """
        try FS.writeAtomically(dir + "/mkosi-chroot", chroot, mode: 0o755)
        for (name, command) in context.packageManager?.helperCommands ?? [] {
            try FS.writeAtomically(dir + "/" + name, "#!/bin/sh\nexec \(command) \"$@\"\n", mode: 0o755)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
