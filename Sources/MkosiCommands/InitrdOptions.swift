import MkosiConfig
import MkosiCore

/// The command line of `mkosi-initrd` and `mkosi-addon`, upstream's options.
///
/// Both take `-k/--kernel-version`, `-O/--output-dir`, `--debug`, `--debug-shell`,
/// `--debug-sandbox`, `-D/--show-documentation`, `-S/--show-summary`, `--version` and `-h/--help`;
/// `-o/--output` names the output (default `initrd`, or `mkosi-local.addon.efi` for the addon).
/// `mkosi-initrd` also has `--kernel-image`, `-t/--format` (`cpio`, `uki` or `directory`),
/// `-g/--generic` and `--profile` (repeatable; lvm, network, nfs, pkcs11, plymouth, raid).
/// Values are given as `--opt VALUE`, `--opt=VALUE`, `-o VALUE` or `-oVALUE`; abbreviations and
/// positional arguments are refused, as upstream (argparse with `allow_abbrev=False`).
public struct InitrdOptions: Equatable, Sendable {
    public enum Tool: String, Sendable {
        case initrd = "mkosi-initrd"
        case addon = "mkosi-addon"
    }

    public static let formats = [OutputFormat.cpio, .uki, .directory].map(\.rawValue)
    public static let profiles = InitrdProfile.allCases.map(\.rawValue)

    public var tool: Tool
    public var output: String
    public var kernelVersion: String
    public var outputDirectory: String? = nil
    public var kernelImage: String? = nil
    public var format = "cpio"
    public var generic = false
    public var profiles: [String] = []
    public var debug = false
    public var debugShell = false
    public var debugSandbox = false
    public var showDocumentation = false
    public var showSummary = false
    public var help = false
    public var version = false

    public init(tool: Tool, kernelVersion: String) {
        self.tool = tool
        self.kernelVersion = kernelVersion
        output = tool == .initrd ? "initrd" : "mkosi-local.addon.efi"
    }

    /// Parses `argv` (without the program name). `kernelVersion` is the default of
    /// `--kernel-version` (the running kernel's release); relative paths stay relative (they are
    /// resolved against the directory the command runs in, as upstream's `Path` does).
    public static func parse(_ tool: Tool, _ argv: [String], kernelVersion: String) throws(MkosiError) -> InitrdOptions {
        var o = InitrdOptions(tool: tool, kernelVersion: kernelVersion)
        let valued: [String: String] = [
            "-o": "--output", "--output": "--output", "-k": "--kernel-version", "--kernel-version": "--kernel-version",
            "-O": "--output-dir", "--output-dir": "--output-dir",
        ].merging(tool == .initrd ? ["--kernel-image": "--kernel-image", "-t": "--format", "--format": "--format",
                                     "--profile": "--profile"] : [:]) { a, _ in a }
        let flags: [String: String] = [
            "--debug": "--debug", "--debug-shell": "--debug-shell", "--debug-sandbox": "--debug-sandbox",
            "-D": "--show-documentation", "--show-documentation": "--show-documentation",
            "-S": "--show-summary", "--show-summary": "--show-summary", "--version": "--version",
            "-h": "--help", "--help": "--help",
        ].merging(tool == .initrd ? ["-g": "--generic", "--generic": "--generic"] : [:]) { a, _ in a }
        var i = 0
        while i < argv.count {
            let arg = argv[i]
            var name = arg, value: String? = nil
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
            } else if !arg.hasPrefix("--"), arg.hasPrefix("-"), arg.count > 2, valued[String(arg.prefix(2))] != nil {
                name = String(arg.prefix(2))
                value = String(arg.dropFirst(2))
            }
            if let flag = flags[name] {
                guard value == nil else { throw usage(tool, "argument \(name): ignored explicit argument '\(value ?? "")'") }
                switch flag {
                case "--debug": o.debug = true
                case "--debug-shell": o.debugShell = true
                case "--debug-sandbox": o.debugSandbox = true
                case "--show-documentation": o.showDocumentation = true
                case "--show-summary": o.showSummary = true
                case "--generic": o.generic = true
                case "--version": o.version = true
                default: o.help = true
                }
            } else if let option = valued[name] {
                if value == nil {
                    guard i + 1 < argv.count, !argv[i + 1].hasPrefix("-") || argv[i + 1] == "-" else {
                        throw usage(tool, "argument \(name): expected one argument")
                    }
                    i += 1
                    value = argv[i]
                }
                let v = value ?? ""
                switch option {
                case "--output": o.output = v
                case "--kernel-version": o.kernelVersion = v
                case "--output-dir": o.outputDirectory = v
                case "--kernel-image": o.kernelImage = v
                case "--format":
                    guard formats.contains(v) else {
                        throw usage(tool, "argument \(name): invalid choice: '\(v)' (choose from \(formats.joined(separator: ", ")))")
                    }
                    o.format = v
                default:
                    guard profiles.contains(v) else {
                        throw usage(tool, "argument --profile: invalid choice: '\(v)' (choose from \(profiles.joined(separator: ", ")))")
                    }
                    o.profiles.append(v)
                }
            } else if arg.hasPrefix("-") && arg != "-" {
                throw usage(tool, "unrecognized arguments: \(arg)")
            } else {
                throw usage(tool, "unrecognized arguments: \(arg)")
            }
            i += 1
        }
        if o.output.isEmpty || o.output.contains("/") {
            throw usage(tool, "argument --output: '\(o.output)' must be a file name (use --output-dir for the directory)")
        }
        return o
    }

    static func usage(_ tool: Tool, _ message: String) -> MkosiError {
        .usage("\(tool.rawValue): error: \(message)", hint: "see \(tool.rawValue) --help")
    }

    /// The options `mkosi-initrd` and `mkosi-addon` share, as `--help` lists them.
    static let commonOptions = """
          -k, --kernel-version KERNEL_VERSION
                                kernel version (default: the running kernel's)
          -O, --output-dir DIR  output directory (default: the current directory)
          --debug               turn on debugging output
          --debug-shell         spawn a debug shell if a sandboxed command fails
          --debug-sandbox       run the sandbox helper with strace
          -D, --show-documentation
                                show the man page
          -S, --show-summary    show the summary of the configuration
          --version             show the version and exit
        """

    /// `--help`'s text, upstream's options in our words.
    public static func helpText(_ tool: Tool) -> String {
        switch tool {
        case .initrd:
            return """
                usage: mkosi-initrd [options...]

                Build an initrd, a unified kernel image or a directory tree for this system's
                kernel with mkosi, from the host's distribution and package manager configuration.

                options:
                  -h, --help            show this help message and exit
                  -o, --output NAME     output name (default: initrd)
                  --kernel-image KERNEL_IMAGE
                                        kernel image (for -t uki)
                  -t, --format {\(formats.joined(separator: ","))}
                                        output format (default: cpio)
                  -g, --generic         build a generic initrd without host-specific kernel modules
                  --profile {\(profiles.joined(separator: ","))}
                                        enable an initrd profile (repeatable)
                \(commonOptions)

                Configuration from /usr/lib/mkosi-initrd, /usr/local/lib/mkosi-initrd,
                /run/mkosi-initrd and /etc/mkosi-initrd is included, in that order.

                """
        case .addon:
            return """
                usage: mkosi-addon [options...]

                Build a UKI addon (a PE file) with this system's kernel command line, the
                crypttab entries marked x-initrd.attach and local configuration, with mkosi.

                options:
                  -h, --help            show this help message and exit
                  -o, --output NAME     output name (default: mkosi-local.addon.efi)
                \(commonOptions)

                Configuration from /usr/lib/mkosi-addon, /usr/local/lib/mkosi-addon,
                /run/mkosi-addon and /etc/mkosi-addon is included, in that order.

                """
        }
    }
}
