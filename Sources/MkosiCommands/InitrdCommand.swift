#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// What `mkosi-initrd` and `mkosi-addon` look at on the host, read once before anything is done.
public struct InitrdHost: Equatable, Sendable {
    public var uid: UInt32
    /// The paths below that exist (upstream adds each of them only when present).
    public var existing: Set<String>
    /// `/etc/crypttab`'s text; nil when it is missing or unreadable (`crypttabUnreadable`).
    public var crypttab: String?
    public var crypttabUnreadable = false
    /// `/etc/kernel/cmdline`'s text.
    public var kernelCommandLine: String?
    /// Resolved paths of the symlinked modules under `/usr/lib/modules/<version>/weak-updates`.
    public var weakModules: [String] = []

    public init(uid: UInt32, existing: Set<String>, crypttab: String? = nil, kernelCommandLine: String? = nil) {
        self.uid = uid
        self.existing = existing
        self.crypttab = crypttab
        self.kernelCommandLine = kernelCommandLine
    }

    static let configurationPaths = [
        "/usr/lib/firmware",
        "/etc/systemd/network", "/etc/systemd/networkd.conf", "/etc/systemd/networkd.conf.d",
        "/etc/systemd/resolved.conf", "/etc/systemd/resolved.conf.d",
        "/etc/idmapd.conf", "/etc/idmapd.conf.d",
        "/etc/mdadm.conf", "/etc/mdadm.conf.d", "/etc/mdadm/mdadm.conf", "/etc/mdadm/mdadm.conf.d",
        "/etc/default/keyboard", "/etc/vconsole.conf",
    ]
    static let packageManagerConfiguration = ["dnf", "yum.repos.d", "pki/rpm-gpg", "apt", "zypp", "pacman.conf", "pacman.d"]

    static func systemConfigurations(_ name: String) -> [String] {
        ["/usr/lib", "/usr/local/lib", "/run", "/etc"].map { "\($0)/\(name)" }
    }

    /// Reads the host's facts for `kernelVersion`.
    public static func read(kernelVersion: String) -> InitrdHost {
        let modules = "/usr/lib/modules/\(kernelVersion)"
        var probe = configurationPaths + [modules, modules + "/modules.dep", modules + "/modules.dep.bin"]
        probe += systemConfigurations("mkosi-initrd") + systemConfigurations("mkosi-addon")
        probe += packageManagerConfiguration.map { "/etc/" + $0 }
        var host = InitrdHost(uid: getuid(), existing: [])
        if FS.exists("/etc/crypttab") {
            if let text = try? FS.readText("/etc/crypttab") {
                host.crypttab = text
                for line in InitrdPlan.initrdCrypttabLines(text) {
                    let entry = InitrdPlan.crypttabFields(line)
                    probe += ["/etc/cryptsetup-keys.d/\(entry[0]).key", entry[2]]
                }
            } else {
                host.crypttabUnreadable = true
            }
        }
        host.kernelCommandLine = try? FS.readText("/etc/kernel/cmdline")
        host.existing = Set(probe.filter { FS.exists($0) })
        host.weakModules = weakModules(modules + "/weak-updates")
        return host
    }

    static func weakModules(_ dir: String) -> [String] {
        guard let names = try? FS.listDirectory(dir) else { return [] }
        var found: [String] = []
        for name in names.sorted() {
            let path = dir + "/" + name
            guard let st = FS.lstat(path) else { continue }
            if st.isSymlink, name.contains(".ko") {
                found.append(Path.resolve(path, cwd: "/"))
            } else if st.isDirectory {
                found += weakModules(path)
            }
        }
        return found
    }
}

/// What `mkosi-initrd` or `mkosi-addon` does, decided from its options and the host's facts
/// before anything is written: the mkosi command line (upstream's, setting for setting), the
/// files to prepare in the staging directory and the sandbox tree, and where the output goes.
public struct InitrdPlan: Equatable, Sendable {
    /// mkosi's arguments (without the program name).
    public var arguments: [String] = []
    /// Written to `<staging>/crypttab`: the host's entries marked `x-initrd.attach`.
    public var crypttab: String? = nil
    /// Empty files made in the sandbox tree (relative to it) so that mkosi's default
    /// repositories are not used.
    public var emptyFiles: [String] = []
    /// Entries of the host's `/etc` copied into the sandbox tree's `etc/`.
    public var copies: [String] = []
    /// Warnings to show before the build.
    public var warnings: [String] = []
    /// Copy the output out of the staging directory (not with `--show-summary`).
    public var finalize = true

    /// The lines of `crypttab` that name `x-initrd.attach` among their options (the fields of
    /// each line: name, device, key file, options).
    static func initrdCrypttabLines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { line in
            let fields = crypttabFields(line)
            return fields.count >= 4 && !fields[0].hasPrefix("#") && fields[3].contains("x-initrd.attach")
        }
    }

    static func crypttabFields(_ line: String) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Throws when `mkosi-initrd`'s kernel module directory is missing or has no `modules.dep`.
    public static func make(_ o: InitrdOptions, host: InitrdHost, staging: String, sandboxTree: String) throws(MkosiError) -> InitrdPlan {
        var plan = InitrdPlan()
        let modules = "/usr/lib/modules/\(o.kernelVersion)"
        let present = { (p: String) in host.existing.contains(p) }
        func trees(_ paths: [String]) -> [String] { paths.filter(present).map { "--extra-tree=\($0):\($0)" } }
        var a: [String]
        switch o.tool {
        case .initrd:
            guard present(modules), present(modules + "/modules.dep") || present(modules + "/modules.dep.bin") else {
                throw MkosiError(.missingTool, "Invalid kernel directory: \(modules)",
                                 hint: "install the kernel's modules there (its package), or pick another version with --kernel-version")
            }
            a = ["--force", "--directory=", "--format=\(o.format)", "--output=\(o.output)", "--output-directory=\(staging)",
                 "--extra-tree=\(modules):\(modules)"]
            // Upstream always adds the firmware tree; a host without one simply has none to add.
            a += trees(["/usr/lib/firmware"])
            a += ["--remove-files=/usr/lib/firmware/*-ucode", "--build-sources=", "--include=mkosi-initrd"]
            if !o.generic { a.append("--kernel-modules=host") }
            a += host.weakModules.map { "--extra-tree=\($0):\($0)" }
            for p in o.profiles {
                a += ["--profile", p]
                switch p {
                case "network":
                    a += trees(["/etc/systemd/network", "/etc/systemd/networkd.conf", "/etc/systemd/networkd.conf.d",
                                "/etc/systemd/resolved.conf", "/etc/systemd/resolved.conf.d"])
                case "nfs": a += trees(["/etc/idmapd.conf", "/etc/idmapd.conf.d"])
                case "raid": a += trees(["/etc/mdadm.conf", "/etc/mdadm.conf.d", "/etc/mdadm/mdadm.conf", "/etc/mdadm/mdadm.conf.d"])
                default: break
                }
            }
            if let image = o.kernelImage { a.append("--extra-tree=\(image):\(modules)/vmlinuz") }
        case .addon:
            a = ["--force", "--directory", "", "--output", o.output, "--output-directory", staging, "--build-sources", "",
                 "--include=mkosi-addon", "--extra-tree", "\(modules):\(modules)"]
            a += trees(["/usr/lib/firmware"])
        }
        if o.debug { a.append("--debug") }
        if o.debugShell { a.append("--debug-shell") }
        if o.debugSandbox { a.append("--debug-sandbox") }
        if host.uid == 0 {
            if o.tool == .initrd { a += ["--package-cache-dir=/var", "--cache-only=metadata"] }
            if o.tool == .addon || o.format != "directory" { a.append("--output-mode=600") }
        }
        for p in InitrdHost.systemConfigurations(o.tool.rawValue) where present(p) { a += ["--include", p] }
        if o.tool == .initrd {
            // The host's repositories, not mkosi's defaults: empty default repository files, then
            // the host's package manager configuration on top.
            plan.emptyFiles = ["etc/yum.repos.d/mkosi.repo", "etc/apt/sources.list.d/mkosi.sources", "etc/zypp/repos.d/mkosi.repo",
                               "etc/pacman.conf"]
            plan.copies = InitrdHost.packageManagerConfiguration.filter { present("/etc/" + $0) }
            a.append("--sandbox-tree=\(sandboxTree)")
        }
        if host.crypttabUnreadable {
            plan.warnings.append("Permission denied to access /etc/crypttab, the initrd may be unbootable")
        } else if let text = host.crypttab {
            let lines = initrdCrypttabLines(text)
            if !lines.isEmpty {
                plan.crypttab = "# Automatically generated by mkosi-initrd\n" + lines.joined(separator: "\n")
                a += ["--extra-tree", "\(staging)/crypttab:/etc/crypttab"]
                for e in lines.map(crypttabFields) {
                    let named = "/etc/cryptsetup-keys.d/\(e[0]).key"
                    if (e[2] == "-" || e[2] == "none") && present(named) {
                        a += ["--extra-tree", "\(named):\(named)"]
                    } else if present(e[2]) {
                        a += ["--extra-tree", "\(e[2]):\(e[2])"]
                    }
                }
            }
        }
        if let cmdline = host.kernelCommandLine { a += ["--kernel-command-line", cmdline] }
        if o.tool == .initrd { a += trees(["/etc/default/keyboard", "/etc/vconsole.conf"]) }
        if o.showSummary {
            a.append("summary")
            plan.finalize = false
        }
        plan.arguments = a
        return plan
    }
}
