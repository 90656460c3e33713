import MkosiConfig
import MkosiCore

/// `mkosi --help`: verbs, global options, then every setting's option grouped by section,
/// generated from the settings table.
enum HelpText {
    static let verbs: [(String, String)] = [
        ("build [-- ARGS…]", "Build the image(s) (the default verb)"),
        ("summary", "Show the resolved configuration (--json for JSON)"),
        ("cat-config", "Show every configuration file that was read"),
        ("shell [-- CMD…]", "Run a shell or command in the image with systemd-nspawn"),
        ("boot [-- ARGS…]", "Boot the image with systemd-nspawn"),
        ("vm [-- ARGS…]", "Boot the image in a virtual machine (qemu is an old name)"),
        ("ssh [-- CMD…]", "Connect to a running virtual machine over ssh"),
        ("journalctl, coredumpctl", "Run journalctl/coredumpctl on the image"),
        ("sysupdate [-- ARGS…]", "Run systemd-sysupdate with the image's definitions"),
        ("box [-- CMD…]", "Run a command with the tools tree"),
        ("dependencies [-- ARGS…]", "List the packages of the default tools tree"),
        ("clean", "Remove build outputs (-f: caches too, -ff: package cache too)"),
        ("serve", "Serve the output directory over HTTP"),
        ("burn DEVICE", "Write the disk image to a block device"),
        ("bump", "Increase the version in mkosi.version"),
        ("genkey", "Generate a secure boot key and certificate"),
        ("documentation [MANUAL]", "Show the manual"),
        ("completion bash|zsh|fish", "Print a shell completion script"),
        ("init", "Install the tmpfiles.d drop-in that ages the package cache"),
        ("help", "Show this help"),
    ]

    static let globals: [(String, String)] = [
        ("-f, --force", "Remove existing outputs first (-ff: also caches, -fff: also repository metadata)"),
        ("-C, --directory DIR", "Run in DIR ('' ignores the configuration of the current directory)"),
        ("--debug", "Show debug output"),
        ("--debug-shell", "Open a shell in the image when a command in it fails"),
        ("--debug-workspace", "Keep the workspace directory after a failure"),
        ("--debug-sandbox", "Run the sandbox under strace"),
        ("--debug-timing", "Show how long each build step takes"),
        ("--no-pager", "Do not page long output"),
        ("--genkey-valid-days DAYS", "Validity of keys made by genkey (default: 730)"),
        ("--genkey-common-name CN", "Common name of keys made by genkey"),
        ("-B, --auto-bump", "Bump the version after a successful build"),
        ("--doc-format FORMAT", "Doc format: auto|markdown|man|pandoc|system, roff (not upstream)"),
        ("--json", "Show the summary as JSON"),
        ("--show-origin", "With summary: show where each setting's value came from"),
        ("-w, --wipe-build-dir", "Empty the build directory before building"),
        ("-R, --rerun-build-scripts", "Run only the build scripts again on top of the cached image"),
        ("-h, --help", "Show this help"),
        ("--version", "Show the version"),
    ]

    static func render() -> String {
        var out = "mkosi — build bespoke OS images\n\n"
        out += "Usage:\n  mkosi [options…] [verb] [-- args for the verb…]\n\n"
        out += "Options may come before or after the verb. Settings from mkosi.conf can be given as\n"
        out += "options too (an empty value, as in --package=, resets a list).\n\n"
        out += Terminal.bold("Verbs:") + "\n"
        for (v, h) in verbs { out += row(v, h) }
        out += "\n" + Terminal.bold("Global options:") + "\n"
        for (o, h) in globals { out += row(o, h) }
        var section: Section? = nil
        for s in Settings.all {
            if s.section != section {
                section = s.section
                out += "\n" + Terminal.bold("[\(s.section.rawValue)] settings:") + "\n"
            }
            var option = s.short.map { "\($0), \(s.long)" } ?? s.long
            if s.constant == nil || s.short == nil || s.long != option {
                option += " " + (s.metavar ?? placeholder(s))
            }
            out += row(option, "\(s.name)=: \(s.help)")
        }
        out += "\nSee `mkosi documentation` for the manual.\n"
        return out
    }

    static func placeholder(_ s: Setting) -> String {
        if let choices = s.choices { return choices.filter { !$0.isEmpty }.joined(separator: "|") }
        switch s.parser {
        case .boolean: return "BOOL"
        case .feature: return "yes|no|auto"
        case .path: return "PATH"
        default: return s.name.uppercased()
        }
    }

    /// Two columns; the right one is word-wrapped to 100 columns.
    static func row(_ left: String, _ right: String) -> String {
        let width = 34
        let indent = String(repeating: " ", count: width + 2)
        var lines: [String] = []
        var line = ""
        for word in right.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > 100 - width - 2 {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        var out = ""
        if left.count + 2 >= width {
            out = "  \(left)\n" + indent + lines[0] + "\n"
        } else {
            out = "  " + left + String(repeating: " ", count: width - left.count) + lines[0] + "\n"
        }
        for l in lines.dropFirst() { out += indent + l + "\n" }
        return out
    }
}
