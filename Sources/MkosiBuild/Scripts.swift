import MkosiConfig
import MkosiCore
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
        public init() {}
    }

    /// Runs `scripts` in order with `arguments` (e.g. `final`, or the command line after `--`).
    public static func run(_ scripts: [String], arguments: [String], context: BuildContext, extras: Extras = Extras()) throws {
        for script in scripts {
            try runOne(script, arguments: arguments, context: context, extras: extras)
        }
    }

    static func runOne(_ script: String, arguments: [String], context: BuildContext, extras: Extras) throws {
        let config = context.config
        if !FS.isExecutable(script) {
            guard config[.makeScriptsExecutable] else {
                throw MkosiError.config("\(script) is not executable", hint: "chmod +x it, or set MakeScriptsExecutable=yes")
            }
            guard let st = FS.stat(script), chmod(script, mode_t(st.permissions | 0o111)) == 0 else {
                throw FS.systemError("Cannot make \(script) executable")
            }
        }
        let name = Path.basename(script)
        let chroot = name.hasSuffix(".chroot")
        var s: Sandbox
        if chroot {
            s = context.imageSandbox()
            if config[.withNetwork] { s.bind("/etc/resolv.conf", readOnly: true, optional: true) }
        } else if config.distribution.isAptDistribution {
            // The package manager's sandbox, so that mkosi-install and friends work.
            s = Apt(context).sandbox()
        } else {
            s = context.toolsSandbox()
        }
        if !chroot {
            try HelperCommands.install(context)
            s.bind(context.workspace + "/helpers", "/work/helpers", readOnly: true)
            s.bind(context.helper, "/work/mkosi", readOnly: true)
            // A development build loads the Swift runtime from outside /usr.
            if let runtime = HelperCommands.swiftRuntimeDirectory { s.bind(runtime, readOnly: true) }
        }
        s.bind(script, "/work/\(name)", readOnly: true)
        for tree in config[.buildSources] {
            let target = tree.target.map { Path.join("/work/src", $0) } ?? "/work/src"
            s.bind(tree.source, target)
        }
        s.bind(context.staging, "/work/out")
        s.bind(context.artifacts, "/work/artifacts")
        if let packages = context.packageDirectory { s.bind(packages, "/work/packages") }
        for (source, target, readOnly) in extras.binds { s.bind(source, target, readOnly: readOnly) }
        s.workingDirectory = "/work/src"

        var env = chroot || !config.distribution.isAptDistribution ? context.baseEnvironment() : Apt(context).environment()
        if !chroot { env["PATH"] = "/work/helpers:" + (env["PATH"] ?? "/usr/bin:/bin") }
        env["DISTRIBUTION"] = config.distribution.rawValue
        env["RELEASE"] = config.release
        env["ARCHITECTURE"] = config.architecture.rawValue
        env["DISTRIBUTION_ARCHITECTURE"] = Apt.debianArchitecture(config.architecture)
        if let efi = config.architecture.efiName { env["EFI_ARCHITECTURE"] = efi }
        env["SRCDIR"] = "/work/src"
        env["CHROOT_SRCDIR"] = "/work/src"
        env["BUILDROOT"] = chroot ? "/" : "/buildroot"
        env["OUTPUTDIR"] = "/work/out"
        env["CHROOT_OUTPUTDIR"] = "/work/out"
        env["ARTIFACTDIR"] = "/work/artifacts"
        if context.packageDirectory != nil { env["PACKAGEDIR"] = "/work/packages" }
        env["SCRIPT"] = "/work/\(name)"
        env["CHROOT_SCRIPT"] = "/work/\(name)"
        env["MKOSI_UID"] = String(getuid())
        env["MKOSI_GID"] = String(getgid())
        env["MKOSI_DEBUG"] = Log.isDebug ? "1" : "0"
        env["WITH_NETWORK"] = config[.withNetwork] ? "1" : "0"
        if let id = config[.imageID] { env["IMAGE_ID"] = id }
        if let v = config[.imageVersion] { env["IMAGE_VERSION"] = v }
        if config.image != "main" { env["SUBIMAGE"] = config.image }
        let profiles = config[.profiles]
        if !profiles.isEmpty { env["PROFILES"] = profiles.joined(separator: " ") }
        for (k, v) in extras.environment { env[k] = v }
        for (k, v) in config[.environment].pairs { env[k] = v }

        Log.info("Running \(name)" + (arguments.isEmpty ? "" : " " + arguments.joined(separator: " ")))
        let argv = ["/work/\(name)"] + arguments
        do {
            try HostCommand.run(s.argv(for: argv, helper: context.helper), environment: env, display: [script] + argv.dropFirst())
        } catch var e as MkosiError {
            if case .command(let status) = e.code {
                e.message = "\(script) failed with exit status \(status)"
            }
            throw e
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
        let apt: [(String, String)] = [
            ("mkosi-install", "apt-get install"), ("mkosi-upgrade", "apt-get upgrade"), ("mkosi-remove", "apt-get purge"),
            ("mkosi-reinstall", "apt-get install --reinstall"),
        ]
        for (name, command) in apt where context.config.distribution.isAptDistribution {
            try FS.writeAtomically(dir + "/" + name, "#!/bin/sh\nexec \(command) \"$@\"\n", mode: 0o755)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
